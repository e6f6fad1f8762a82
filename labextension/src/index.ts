/**
 * readiness-magics in JupyterLab: a side panel with the findings of the active notebook,
 * re-checked as it is edited, saved and switched.
 */
import {
  ILabShell,
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Dialog, ICommandPalette, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Widget } from '@lumino/widgets';

import { readinessIcon } from './icon';
import { CATEGORIES, IFinding, IRuleDoc, ReadinessModel } from './model';
import { describeEdits, fixKind } from './fixes';
import {
  applyFixes,
  cellSources,
  clearMarkers,
  contentForCheck,
  ignoreFinding,
  jumpToFinding,
  showMarkers
} from './notebook';
import { PANEL_ID, ReadinessPanel } from './panel';
import {
  ReadinessRequestError,
  checkNotebook,
  exportNotebook,
  fetchRules
} from './request';

const PLUGIN_ID = 'readiness-magics:plugin';

/** Command ids, for keyboard shortcuts and other extensions. */
export namespace CommandIDs {
  export const check = 'readiness:check';
  export const open = 'readiness:open-panel';
  export const exportPackage = 'readiness:export';
}

/** The settings of `schema/plugin.json`. */
interface ISettings {
  autoCheck: boolean;
  debounceMs: number;
  categories: string[];
  useRuff: boolean;
  cellMarkers: boolean;
}

const DEFAULT_SETTINGS: ISettings = {
  autoCheck: true,
  debounceMs: 300,
  categories: [...CATEGORIES],
  useRuff: true,
  cellMarkers: true
};

/**
 * Follows the active notebook: checks it when it changes (debounced), when it is saved and
 * when the user switches to it, and applies answers that are still current.
 */
class NotebookFollower {
  constructor(
    private readonly _app: JupyterFrontEnd,
    private readonly _model: ReadinessModel,
    private readonly _panel: ReadinessPanel
  ) {}

  settings: ISettings = { ...DEFAULT_SETTINGS };

  get notebook(): NotebookPanel | null {
    return this._notebook;
  }

  /** Follow `notebook` (or nothing). */
  follow(notebook: NotebookPanel | null): void {
    if (notebook === this._notebook) {
      return;
    }
    this._disconnect();
    this._notebook = notebook;
    this._model.setKey(notebook ? this._key(notebook) : null);
    this._panel.notebookName = notebook ? notebook.context.localPath : '';
    if (!notebook) {
      return;
    }
    notebook.context.model.contentChanged.connect(this._onContentChanged, this);
    notebook.context.saveState.connect(this._onSaveState, this);
    notebook.context.pathChanged.connect(this._onPathChanged, this);
    notebook.disposed.connect(this._onDisposed, this);
    // A notebook is always checked when the panel starts following it; `autoCheck` is about edits.
    void notebook.context.ready.then(() => {
      if (this._notebook === notebook) {
        void this.check();
      }
    });
  }

  /** Check the followed notebook now, as it is in the editor (saved or not). */
  async check(): Promise<void> {
    this._cancelTimer();
    const notebook = this._notebook;
    if (!notebook || !notebook.context.isReady) {
      return;
    }
    const ticket = this._model.begin(this._key(notebook));
    try {
      const report = await checkNotebook(
        notebook.context.localPath,
        contentForCheck(notebook),
        this.settings.useRuff
      );
      // Markers follow the model's change signal; a stale answer changes nothing.
      this._model.accept(ticket, report);
    } catch (error) {
      const message =
        error instanceof ReadinessRequestError ? error.message : String(error);
      this._model.reject(ticket, message);
    }
  }

  /** Check after the user pauses typing. */
  schedule(): void {
    this._cancelTimer();
    this._timer = window.setTimeout(() => {
      this._timer = 0;
      void this.check();
    }, Math.max(0, this.settings.debounceMs));
  }

  refreshMarkers(): void {
    const notebook = this._notebook;
    if (!notebook) {
      return;
    }
    if (!this.settings.cellMarkers || this._model.status === 'failed') {
      clearMarkers(notebook);
      return;
    }
    showMarkers(notebook, this._model.groups(), finding => {
      this._app.shell.activateById(PANEL_ID);
      void this.jump(finding);
    });
  }

  async jump(finding: IFinding): Promise<void> {
    const notebook = this._notebook;
    if (!notebook) {
      return;
    }
    this._app.shell.activateById(notebook.id);
    await jumpToFinding(notebook, finding);
  }

  ignore(finding: IFinding): void {
    const notebook = this._notebook;
    if (notebook && ignoreFinding(notebook, finding)) {
      // The edit itself schedules a check when auto-check is on; check at once otherwise.
      if (!this.settings.autoCheck) {
        void this.check();
      }
    }
  }

  /**
   * Apply a finding's fix to the open notebook, as the findings are now: the notebook is checked
   * again first (the user may have typed since), and an unsafe fix says what it changes first.
   */
  async fix(finding: IFinding): Promise<void> {
    const notebook = this._notebook;
    if (!notebook) {
      return;
    }
    await this.check();
    const same = (this._model.report?.findings ?? []).find(
      f => f.code === finding.code && f.cell_index === finding.cell_index && f.line === finding.line &&
        f.column === finding.column && fixKind(f) !== null
    );
    if (!same || !same.fix) {
      return;
    }
    if (same.fix.applicability !== 'safe') {
      const body = new Widget();
      body.addClass('jp-readiness-fixPreview');
      const intro = document.createElement('p');
      intro.textContent = `${same.fix.description}. This fix is unsafe: it changes what the notebook does.`;
      const details = document.createElement('pre');
      details.textContent = describeEdits(same.fix, cellSources(notebook)).join('\n\n');
      body.node.append(intro, details);
      const answer = await showDialog({
        title: `Apply the fix for ${same.code}?`,
        body,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Apply' })]
      });
      if (!answer.button.accept) {
        return;
      }
    }
    this._afterFix(applyFixes(notebook, [same.fix]));
  }

  /** Apply every safe fix that fits with the others; the rest come with the next check. */
  async fixAllSafe(): Promise<void> {
    const notebook = this._notebook;
    if (!notebook) {
      return;
    }
    await this.check();
    const fixes = this._model.allowedFindings().filter(f => fixKind(f) === 'safe').map(f => f.fix!);
    this._afterFix(applyFixes(notebook, fixes));
  }

  private _afterFix(applied: number): void {
    if (applied === 0) {
      void showErrorMessage('Readiness', 'The fix no longer fits the notebook; it was checked again.');
    } else if (!this.settings.autoCheck) {
      void this.check();
    }
  }

  private _key(notebook: NotebookPanel): string {
    return `${notebook.id}:${notebook.context.localPath}`;
  }

  private _onContentChanged(): void {
    if (this.settings.autoCheck) {
      this.schedule();
    }
  }

  private _onSaveState(_: unknown, state: string): void {
    if (state === 'completed') {
      void this.check();
    }
  }

  private _onPathChanged(): void {
    const notebook = this._notebook;
    if (notebook) {
      this._model.setKey(this._key(notebook));
      this._panel.notebookName = notebook.context.localPath;
      void this.check();
    }
  }

  private _onDisposed(): void {
    this.follow(null);
  }

  private _disconnect(): void {
    this._cancelTimer();
    const notebook = this._notebook;
    if (!notebook) {
      return;
    }
    if (!notebook.isDisposed) {
      clearMarkers(notebook);
      notebook.context.model?.contentChanged.disconnect(this._onContentChanged, this);
      notebook.context.saveState.disconnect(this._onSaveState, this);
      notebook.context.pathChanged.disconnect(this._onPathChanged, this);
    }
    notebook.disposed.disconnect(this._onDisposed, this);
  }

  private _cancelTimer(): void {
    if (this._timer) {
      window.clearTimeout(this._timer);
      this._timer = 0;
    }
  }

  private _notebook: NotebookPanel | null = null;
  private _timer = 0;
}

async function exportActive(follower: NotebookFollower): Promise<void> {
  const notebook = follower.notebook;
  if (!notebook) {
    return;
  }
  if (notebook.context.model.dirty) {
    await notebook.context.save();
  }
  const path = notebook.context.localPath;
  let force = false;
  for (;;) {
    let result;
    try {
      result = await exportNotebook(path, { force });
    } catch (error) {
      if (error instanceof ReadinessRequestError && error.status === 409 && !force) {
        const answer = await showDialog({
          title: 'Replace the earlier export?',
          body: error.message,
          buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Replace' })]
        });
        if (!answer.button.accept) {
          return;
        }
        force = true;
        continue;
      }
      await showErrorMessage(
        'Export failed',
        error instanceof Error ? error.message : String(error)
      );
      return;
    }
    if (result.status === 'refused' && !force) {
      const codes = [...new Set(result.blocking.map(f => f.code))].join(', ');
      const answer = await showDialog({
        title: 'Not ready to export',
        body:
          `${result.blocking.length} finding(s) block the export (${codes}). ` +
          'Fix them first, or export anyway: they are listed in the package README as known issues.',
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Export anyway' })]
      });
      if (!answer.button.accept) {
        return;
      }
      force = true;
      continue;
    }
    await showDialog({
      title: 'Exported',
      body: `${path} is now a package in ${result.output_dir} (${result.files.length} files).`,
      buttons: [Dialog.okButton()]
    });
    return;
  }
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Findings that keep the active notebook from production, beside it.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ISettingRegistry, ICommandPalette, ILayoutRestorer, ILabShell],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    labShell: ILabShell | null
  ) => {
    const model = new ReadinessModel();
    let follower: NotebookFollower;
    const panel = new ReadinessPanel(model, {
      jump: finding => void follower.jump(finding),
      ignore: finding => follower.ignore(finding),
      check: () => void follower.check(),
      export: () => void exportActive(follower),
      fix: finding => void follower.fix(finding),
      fixAllSafe: () => void follower.fixAllSafe()
    });
    follower = new NotebookFollower(app, model, panel);

    // JupyterLab's left sidebar; Notebook 7 keeps side panels on the right of the notebook.
    app.shell.add(panel, labShell ? 'left' : 'right', { rank: 900 });
    if (restorer) {
      restorer.add(panel, PANEL_ID);
    }

    model.onChange(() => {
      // Filters and allowed categories change which cells carry markers.
      follower.refreshMarkers();
    });

    void fetchRules()
      .then(rules => {
        model.rules = new Map<string, IRuleDoc>(rules.map(rule => [rule.code, rule]));
      })
      .catch(error => {
        console.warn('readiness-magics: the rules could not be loaded', error);
      });

    tracker.currentChanged.connect((_, notebook) => follower.follow(notebook));
    // In JupyterLab the current notebook stays current while another panel (the file
    // browser, a console) has focus, which is what the sidebar should keep following.
    follower.follow(tracker.currentWidget);

    app.commands.addCommand(CommandIDs.check, {
      label: 'Readiness: Check notebook',
      caption: 'Check the active notebook for what keeps it from production',
      icon: readinessIcon,
      isEnabled: () => tracker.currentWidget !== null,
      execute: async () => {
        follower.follow(tracker.currentWidget);
        app.shell.activateById(PANEL_ID);
        await follower.check();
      }
    });
    app.commands.addCommand(CommandIDs.open, {
      label: 'Readiness: Open panel',
      caption: 'Show the Readiness panel',
      icon: readinessIcon,
      execute: () => app.shell.activateById(PANEL_ID)
    });
    app.commands.addCommand(CommandIDs.exportPackage, {
      label: 'Readiness: Export notebook as package',
      caption: 'Write the active notebook out as a tested Python package beside it',
      isEnabled: () => tracker.currentWidget !== null,
      execute: () => exportActive(follower)
    });
    if (palette) {
      for (const command of [CommandIDs.check, CommandIDs.open, CommandIDs.exportPackage]) {
        palette.addItem({ command, category: 'Readiness' });
      }
    }

    if (settingRegistry) {
      void settingRegistry
        .load(PLUGIN_ID)
        .then(settings => {
          const apply = () => {
            const composite = settings.composite as unknown as Partial<ISettings>;
            follower.settings = { ...DEFAULT_SETTINGS, ...composite };
            model.shownCategories = follower.settings.categories;
            follower.refreshMarkers();
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(error => {
          console.warn('readiness-magics: settings could not be loaded', error);
        });
    }
  }
};

export default plugin;
