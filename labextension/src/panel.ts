/**
 * The Readiness side panel: score, counts per category (which filter the list), and the
 * findings of the active notebook grouped by cell.
 */
import { Widget } from '@lumino/widgets';

import { readinessIcon } from './icon';
import { fixKind } from './fixes';
import {
  ICellGroup,
  IFinding,
  ReadinessModel,
  scoreBand,
  scoreExplanation,
  shortWhy
} from './model';

/** What the panel asks its owner to do. */
export interface IPanelActions {
  /** Make the finding's cell active, scroll to it and highlight the line. */
  jump(finding: IFinding): void;
  /** Add `# readiness: ignore[CODE]` on the finding's line. */
  ignore(finding: IFinding): void;
  /** Check the active notebook now. */
  check(): void;
  /** Export the active notebook as a package. */
  export(): void;
  /** Apply the finding's fix to the open notebook (unsafe fixes are confirmed first). */
  fix(finding: IFinding): void;
  /** Apply every safe fix to the open notebook. */
  fixAllSafe(): void;
}

/** The id of the panel in the shell (galata's `sidebar.openTab` uses it). */
export const PANEL_ID = 'readiness-magics-panel';

const SEVERITY_WORDS: { [severity: string]: [string, string] } = {
  error: ['error', 'errors'],
  warning: ['warning', 'warnings'],
  info: ['note', 'notes']
};

function plural(count: number, severity: string): string {
  const [one, many] = SEVERITY_WORDS[severity];
  return `${count} ${count === 1 ? one : many}`;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) {
    node.className = className;
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

/** The side panel widget; it renders whatever its model holds. */
export class ReadinessPanel extends Widget {
  constructor(
    readonly model: ReadinessModel,
    private readonly _actions: IPanelActions
  ) {
    super();
    this.id = PANEL_ID;
    this.addClass('jp-readiness-panel');
    this.title.icon = readinessIcon;
    this.title.caption = 'Readiness';
    this.node.setAttribute('role', 'region');
    this.node.setAttribute('aria-label', 'Readiness findings');
    this._stopListening = model.onChange(() => this.update());
    this.update();
  }

  /** The name of the notebook shown in the header. */
  set notebookName(value: string) {
    this._notebookName = value;
    this.update();
  }

  /** Whether the export button is offered. */
  set exportAvailable(value: boolean) {
    this._exportAvailable = value;
    this.update();
  }

  dispose(): void {
    this._stopListening();
    super.dispose();
  }

  protected onUpdateRequest(): void {
    const focusKey = (document.activeElement as HTMLElement | null)?.dataset?.focusKey;
    this.node.replaceChildren(
      this._renderHeader(),
      this._renderSummary(),
      this._renderStatus(),
      this._renderGroups()
    );
    if (focusKey && this.node.contains(document.activeElement) === false) {
      const again = this.node.querySelector<HTMLElement>(
        `[data-focus-key="${CSS.escape(focusKey)}"]`
      );
      again?.focus();
    }
  }

  private _renderHeader(): HTMLElement {
    const header = el('div', 'jp-readiness-header');
    const title = el('div', 'jp-readiness-title');
    title.appendChild(el('h2', 'jp-readiness-heading', 'Readiness'));
    const name = this._notebookName;
    const notebook = el(
      'span',
      'jp-readiness-notebook',
      name ? name.split('/').pop() : 'No notebook'
    );
    notebook.title = name;
    title.appendChild(notebook);
    header.appendChild(title);

    const actions = el('div', 'jp-readiness-actions');
    const check = el('button', 'jp-readiness-button jp-readiness-checkButton', 'Check');
    check.type = 'button';
    check.title = 'Check the notebook now';
    check.dataset.focusKey = 'check';
    check.disabled = this.model.key === null;
    check.addEventListener('click', () => this._actions.check());
    actions.appendChild(check);
    if (this._exportAvailable) {
      const exportButton = el(
        'button',
        'jp-readiness-button jp-readiness-exportButton',
        'Export'
      );
      exportButton.type = 'button';
      exportButton.title = 'Export the notebook as a tested Python package';
      exportButton.dataset.focusKey = 'export';
      exportButton.disabled = this.model.key === null;
      exportButton.addEventListener('click', () => this._actions.export());
      actions.appendChild(exportButton);
    }
    const safe = this.model.allowedFindings().filter(f => fixKind(f) === 'safe').length;
    if (safe > 0) {
      const fixAll = el('button', 'jp-readiness-button jp-readiness-fixAllButton', `Fix all safe (${safe})`);
      fixAll.type = 'button';
      fixAll.title = 'Apply every safe fix to the notebook (Ctrl+Z undoes them)';
      fixAll.dataset.focusKey = 'fix-all';
      fixAll.addEventListener('click', () => this._actions.fixAllSafe());
      actions.appendChild(fixAll);
    }
    header.appendChild(actions);
    return header;
  }

  private _renderSummary(): HTMLElement {
    const summary = el('div', 'jp-readiness-summary');
    const report = this.model.report;
    if (!report || report.error) {
      return summary;
    }
    const allowed = this.model.allowedFindings();
    const counts = { error: 0, warning: 0, info: 0 };
    for (const finding of allowed) {
      counts[finding.severity] += 1;
    }
    const scoreRow = el('div', 'jp-readiness-scoreRow');
    const score = report.summary.score;
    const badge = el('div', 'jp-readiness-score', String(score));
    badge.dataset.level = scoreBand(score);
    const explained = scoreExplanation(report.summary.score_breakdown ?? {});
    badge.setAttribute('role', 'img');
    badge.setAttribute('aria-label', `Readiness score ${score} out of 100: ${explained}`);
    badge.title = `Readiness score (100 is ready): ${explained}`;
    scoreRow.appendChild(badge);
    const severities = el('div', 'jp-readiness-severities');
    for (const severity of ['error', 'warning', 'info'] as const) {
      const count = el(
        'span',
        `jp-readiness-severityCount jp-mod-${severity}`,
        plural(counts[severity], severity)
      );
      severities.appendChild(count);
    }
    scoreRow.appendChild(severities);
    summary.appendChild(scoreRow);

    const categories = this.model.categoryCounts();
    if (categories.length > 0) {
      const group = el('div', 'jp-readiness-categories');
      group.setAttribute('role', 'group');
      group.setAttribute('aria-label', 'Filter findings by category');
      for (const { category, count } of categories) {
        const pressed = this.model.filters.has(category);
        const chip = el('button', 'jp-readiness-category');
        chip.type = 'button';
        chip.dataset.category = category;
        chip.dataset.focusKey = `category:${category}`;
        chip.setAttribute('aria-pressed', String(pressed));
        chip.title = pressed
          ? `Show all categories again`
          : `Show only ${category} findings`;
        chip.appendChild(el('span', 'jp-readiness-categoryName', category));
        chip.appendChild(el('span', 'jp-readiness-categoryCount', String(count)));
        chip.addEventListener('click', () => this.model.toggleFilter(category));
        group.appendChild(chip);
      }
      if (this.model.filters.size > 0) {
        const clear = el('button', 'jp-readiness-clearFilters', 'Show all');
        clear.type = 'button';
        clear.dataset.focusKey = 'clear-filters';
        clear.addEventListener('click', () => this.model.clearFilters());
        group.appendChild(clear);
      }
      summary.appendChild(group);
    }
    return summary;
  }

  private _renderStatus(): HTMLElement {
    const status = el('div', 'jp-readiness-status');
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
    const model = this.model;
    if (model.key === null) {
      status.textContent = 'Open a notebook to see what keeps it from production.';
      return status;
    }
    switch (model.status) {
      case 'failed': {
        status.classList.add('jp-readiness-failure');
        status.setAttribute('role', 'alert');
        status.textContent = model.failure;
        return status;
      }
      case 'checking':
        status.textContent = model.report ? 'Checking again…' : 'Checking…';
        return status;
      case 'idle':
        status.textContent = 'Not checked yet.';
        return status;
      default:
        break;
    }
    if (model.allowedFindings().length === 0) {
      status.classList.add('jp-readiness-clean');
      status.textContent = 'Clean: nothing keeps this notebook from production.';
    } else if (model.visibleFindings().length === 0) {
      status.textContent = 'No findings in the selected categories.';
    } else {
      const n = model.visibleFindings().length;
      status.textContent = `${n} finding${n === 1 ? '' : 's'}`;
    }
    return status;
  }

  private _renderGroups(): HTMLElement {
    const list = el('ul', 'jp-readiness-groups');
    list.setAttribute('aria-label', 'Findings by cell');
    if (this.model.status === 'failed' && !this.model.report) {
      return list;
    }
    for (const group of this.model.groups()) {
      list.appendChild(this._renderGroup(group));
    }
    return list;
  }

  private _renderGroup(group: ICellGroup): HTMLElement {
    const item = el('li', `jp-readiness-group jp-mod-${group.worst}`);
    const label =
      group.cellIndex === null ? 'Notebook' : `Cell ${group.cellIndex + 1}`;
    item.dataset.cellIndex = group.cellIndex === null ? '' : String(group.cellIndex);
    const header = el('div', 'jp-readiness-groupHeader');
    header.appendChild(el('span', 'jp-readiness-groupName', label));
    header.appendChild(
      el('span', 'jp-readiness-groupCount', String(group.findings.length))
    );
    item.appendChild(header);
    const findings = el('ul', 'jp-readiness-findings');
    findings.setAttribute('aria-label', `Findings in ${label.toLowerCase()}`);
    group.findings.forEach((finding, n) => {
      findings.appendChild(this._renderFinding(finding, label, n));
    });
    item.appendChild(findings);
    return item;
  }

  private _renderFinding(finding: IFinding, where: string, n: number): HTMLElement {
    const row = el('li', `jp-readiness-finding jp-mod-${finding.severity}`);
    row.dataset.code = finding.code;
    row.dataset.category = finding.category;
    row.dataset.cellIndex = finding.cell_index === null ? '' : String(finding.cell_index);
    row.dataset.line = String(finding.line);
    const key = `${finding.cell_index}:${finding.line}:${finding.column}:${finding.code}:${n}`;

    const jump = el('button', 'jp-readiness-jump');
    jump.type = 'button';
    jump.dataset.focusKey = `jump:${key}`;
    const place = finding.cell_index === null ? where : `${where}, line ${finding.line}`;
    jump.setAttribute(
      'aria-label',
      `${finding.severity} ${finding.code} in ${place.toLowerCase()}: ${finding.message}`
    );
    jump.title = finding.cell_index === null ? finding.message : 'Go to the cell and line';
    const top = el('span', 'jp-readiness-findingTop');
    top.appendChild(el('span', 'jp-readiness-severityDot'));
    top.appendChild(el('span', 'jp-readiness-code', finding.code));
    if (finding.cell_index !== null) {
      top.appendChild(el('span', 'jp-readiness-line', `line ${finding.line}`));
    }
    jump.appendChild(top);
    jump.appendChild(el('span', 'jp-readiness-message', finding.message));
    const why = shortWhy(this.model.rules.get(finding.code));
    if (why) {
      const whyNode = el('span', 'jp-readiness-why', why);
      whyNode.title = why;
      jump.appendChild(whyNode);
    }
    if (finding.cell_index !== null) {
      jump.addEventListener('click', () => this._actions.jump(finding));
    } else {
      jump.setAttribute('aria-disabled', 'true');
    }
    row.appendChild(jump);

    if (finding.cell_index !== null) {
      const ignore = el('button', 'jp-readiness-ignore', 'ignore here');
      ignore.type = 'button';
      ignore.dataset.focusKey = `ignore:${key}`;
      ignore.title = `Add "# readiness: ignore[${finding.code}]" to line ${finding.line}`;
      ignore.setAttribute(
        'aria-label',
        `Ignore ${finding.code} on line ${finding.line} of ${where.toLowerCase()}`
      );
      ignore.addEventListener('click', () => this._actions.ignore(finding));
      row.appendChild(ignore);
    }
    const kind = fixKind(finding);
    if (kind !== null) {
      const fix = el('button', `jp-readiness-fix jp-mod-${kind}`, kind === 'safe' ? 'Fix' : 'Fix…');
      fix.type = 'button';
      fix.dataset.focusKey = `fix:${key}`;
      fix.title = `${finding.fix!.description}${kind === 'unsafe' ? ' (unsafe: changes what the notebook does)' : ''}`;
      fix.setAttribute('aria-label', `Fix ${finding.code} on line ${finding.line} of ${where.toLowerCase()}: ${fix.title}`);
      fix.addEventListener('click', () => this._actions.fix(finding));
      row.appendChild(fix);
    }
    return row;
  }

  private _notebookName = '';
  private _exportAvailable = true;
  private _stopListening: () => void;
}
