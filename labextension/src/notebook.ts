/**
 * What the panel does to a notebook: take the user to a finding, highlight its line,
 * mark the cells that have findings, and add an ignore comment.
 */
import { Cell } from '@jupyterlab/cells';
import { CodeMirrorEditor } from '@jupyterlab/codemirror';
import { NotebookPanel } from '@jupyterlab/notebook';
import { StateEffect, StateField } from '@codemirror/state';
import { Decoration, DecorationSet, EditorView } from '@codemirror/view';

import { chooseFixes, planFixes } from './fixes';
import { ICellGroup, IFinding, IFix, ignoreInSource } from './model';

/** Sets (a 1-based line number) or clears (null) the highlighted line of one editor. */
const setHighlightedLine = StateEffect.define<number | null>();

const highlightedLineDecoration = Decoration.line({
  class: 'jp-readiness-lineHighlight'
});

/** The highlighted line; it goes away on the next edit of the cell. */
const highlightedLine = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(value, transaction) {
    if (transaction.docChanged) {
      value = Decoration.none;
    }
    for (const effect of transaction.effects) {
      if (effect.is(setHighlightedLine)) {
        if (effect.value === null) {
          value = Decoration.none;
        } else {
          const doc = transaction.state.doc;
          const line = doc.line(Math.min(Math.max(effect.value, 1), doc.lines));
          value = Decoration.set([highlightedLineDecoration.range(line.from)]);
        }
      }
    }
    return value;
  },
  provide: field => EditorView.decorations.from(field)
});

function editorView(cell: Cell): EditorView | null {
  const editor = cell.editor;
  if (editor instanceof CodeMirrorEditor) {
    return editor.editor;
  }
  const view = (editor as any)?.editor;
  return view instanceof EditorView ? view : null;
}

function highlightLine(cell: Cell, line: number | null): void {
  const view = editorView(cell);
  if (!view) {
    return;
  }
  const effects: StateEffect<unknown>[] = [setHighlightedLine.of(line)];
  if (view.state.field(highlightedLine, false) === undefined) {
    effects.unshift(StateEffect.appendConfig.of(highlightedLine));
  }
  view.dispatch({ effects });
}

/** The index of the finding's cell now: by id when the cell moved, else by index. */
export function findCellIndex(panel: NotebookPanel, finding: IFinding): number {
  const cells = panel.content.model?.cells;
  if (!cells || finding.cell_index === null) {
    return -1;
  }
  if (finding.cell_id) {
    if (
      finding.cell_index < cells.length &&
      cells.get(finding.cell_index).id === finding.cell_id
    ) {
      return finding.cell_index;
    }
    for (let i = 0; i < cells.length; i++) {
      if (cells.get(i).id === finding.cell_id) {
        return i;
      }
    }
  }
  return finding.cell_index < cells.length ? finding.cell_index : -1;
}

let lastHighlighted: Cell | null = null;

/**
 * Make the finding's cell active, scroll it into view (windowed notebooks too), put the
 * cursor on the finding and highlight its line.
 */
export async function jumpToFinding(panel: NotebookPanel, finding: IFinding): Promise<void> {
  const notebook = panel.content;
  const index = findCellIndex(panel, finding);
  if (index < 0) {
    return;
  }
  notebook.activeCellIndex = index;
  notebook.deselectAll();
  await notebook.scrollToItem(index, 'center');
  const cell = notebook.widgets[index];
  if (!cell) {
    return;
  }
  await cell.ready;
  if (lastHighlighted && lastHighlighted !== cell && !lastHighlighted.isDisposed) {
    highlightLine(lastHighlighted, null);
  }
  lastHighlighted = cell;
  const editor = cell.editor;
  if (editor) {
    const lineCount = editor.lineCount;
    const line = Math.min(Math.max(finding.line, 1), Math.max(lineCount, 1)) - 1;
    const position = { line, column: Math.max(finding.column - 1, 0) };
    editor.setCursorPosition(position);
    editor.revealPosition(position);
    highlightLine(cell, line + 1);
  }
  cell.node.classList.remove('jp-readiness-flash');
  // Restart the animation even when the same cell is picked twice.
  void cell.node.offsetWidth;
  cell.node.classList.add('jp-readiness-flash');
  notebook.activate();
}

/** The sources of the notebook's cells now, in order. */
export function cellSources(panel: NotebookPanel): string[] {
  const cells = panel.content.model?.cells;
  const sources: string[] = [];
  for (let i = 0; cells && i < cells.length; i++) {
    sources.push(cells.get(i).sharedModel.getSource());
  }
  return sources;
}

/** Replace a cell's source by changing only the part that differs (keeps the cursor and undo sensible). */
function replaceSource(shared: { getSource(): string; updateSource(s: number, e: number, v: string): void },
                       after: string): void {
  const before = shared.getSource();
  if (before === after) {
    return;
  }
  let start = 0;
  while (start < before.length && before[start] === after[start]) {
    start++;
  }
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  shared.updateSource(start, endBefore, after.slice(start, endAfter));
}

/**
 * Apply fixes to the open notebook's model, never to the file: text edits as edits of each cell
 * (Ctrl+Z in the cell undoes them), added and deleted cells as notebook operations (undone by
 * the notebook's undo). Fixes that overlap one already applied wait for the next check.
 * Returns how many fixes were applied.
 */
export function applyFixes(panel: NotebookPanel, fixes: readonly IFix[]): number {
  const model = panel.content.model;
  if (!model) {
    return 0;
  }
  const sources = cellSources(panel);
  const chosen = chooseFixes(fixes, sources);
  const plan = planFixes(chosen, sources);
  if (!plan || chosen.length === 0) {
    return 0;
  }
  for (const [index, source] of plan.sources) {
    replaceSource(model.cells.get(index).sharedModel, source);
  }
  // From the last index to the first, so the indices still to do are those the check saw.
  const operations = [
    ...plan.deletes.map(index => ({ index, order: 0, insert: null as any })),
    ...plan.inserts.map(insert => ({ index: insert.index, order: 1, insert }))
  ].sort((a, b) => b.index - a.index || a.order - b.order);
  const shared = model.sharedModel;
  for (const operation of operations) {
    if (operation.insert === null) {
      shared.deleteCell(operation.index);
    } else {
      const cell = operation.insert;
      shared.insertCell(Math.min(operation.index, shared.cells.length), {
        cell_type: cell.cell_type,
        source: cell.source,
        metadata: cell.tags.length ? { tags: cell.tags } : {}
      });
    }
  }
  return chosen.length;
}

/** Add `# readiness: ignore[CODE]` to the finding's line, as one undoable edit. */
export function ignoreFinding(panel: NotebookPanel, finding: IFinding): boolean {
  const index = findCellIndex(panel, finding);
  const cells = panel.content.model?.cells;
  if (index < 0 || !cells) {
    return false;
  }
  const shared = cells.get(index).sharedModel;
  const before = shared.getSource();
  const after = ignoreInSource(before, finding.line, finding.code);
  if (after === before) {
    return false;
  }
  // Replace only the changed line so the cursor and undo history stay sensible.
  let start = 0;
  while (start < before.length && before[start] === after[start]) {
    start++;
  }
  let endBefore = before.length;
  let endAfter = after.length;
  while (endBefore > start && endAfter > start && before[endBefore - 1] === after[endAfter - 1]) {
    endBefore--;
    endAfter--;
  }
  shared.updateSource(start, endBefore, after.slice(start, endAfter));
  return true;
}

const MARKER_CLASS = 'jp-readiness-cellMarker';
const MARKED_CLASS = 'jp-readiness-marked';

/** Remove every marker from a notebook. */
export function clearMarkers(panel: NotebookPanel): void {
  for (const cell of panel.content.widgets) {
    cell.removeClass(MARKED_CLASS);
    cell.node.querySelectorAll(`:scope > .${MARKER_CLASS}`).forEach(node => node.remove());
  }
}

/**
 * Put a small marker on each cell that has findings (its count, coloured by the worst
 * severity); clicking it runs `onClick` with the cell's findings.
 */
export function showMarkers(
  panel: NotebookPanel,
  groups: ICellGroup[],
  onClick: (finding: IFinding) => void
): void {
  clearMarkers(panel);
  for (const group of groups) {
    if (group.cellIndex === null) {
      continue;
    }
    const index = findCellIndex(panel, group.findings[0]);
    const cell = index >= 0 ? panel.content.widgets[index] : undefined;
    if (!cell) {
      continue;
    }
    const count = group.findings.length;
    const marker = document.createElement('button');
    marker.type = 'button';
    marker.className = `${MARKER_CLASS} jp-mod-${group.worst}`;
    marker.textContent = String(count);
    const codes = [...new Set(group.findings.map(f => f.code))].join(', ');
    marker.title = `${count} readiness finding${count === 1 ? '' : 's'} (${codes}): open in the Readiness panel`;
    marker.setAttribute('aria-label', marker.title);
    marker.addEventListener('click', event => {
      event.stopPropagation();
      onClick(group.findings[0]);
    });
    cell.addClass(MARKED_CLASS);
    cell.node.appendChild(marker);
  }
}

/**
 * The notebook as JSON for a check, without rich outputs: the rules read execution
 * counts, errors and plain text, never images, so the request stays small.
 */
export function contentForCheck(panel: NotebookPanel): unknown {
  const json = panel.content.model?.toJSON() as any;
  if (!json || !Array.isArray(json.cells)) {
    return json;
  }
  for (const cell of json.cells) {
    if (!Array.isArray(cell.outputs)) {
      continue;
    }
    cell.outputs = cell.outputs.map((output: any) => {
      if (output && output.data && typeof output.data === 'object') {
        const data: { [mime: string]: unknown } = {};
        if ('text/plain' in output.data) {
          data['text/plain'] = output.data['text/plain'];
        }
        return { ...output, data };
      }
      return output;
    });
  }
  return json;
}
