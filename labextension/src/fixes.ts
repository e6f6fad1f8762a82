/**
 * Fixes as plain data: which fixes apply together, and the text of a cell once its edits are
 * made. Kept free of JupyterLab imports so that it runs under `node --test`; notebook.ts applies
 * the result to the open notebook's model.
 */
import { IEdit, IFinding, IFix } from './model';

/** Whether a finding's fix can be applied (it has edits), and how. */
export function fixKind(finding: IFinding): 'safe' | 'unsafe' | null {
  const fix = finding.fix;
  if (!fix || !fix.edits || fix.edits.length === 0) {
    return null;
  }
  return fix.applicability === 'safe' ? 'safe' : 'unsafe';
}

/** A cell's source split after each newline, as Python's `splitlines(keepends=True)` splits it. */
function linesOf(source: string): string[] {
  const lines = source.match(/[^\n]*\n|[^\n]+$/g);
  return lines ? lines : [];
}

/**
 * Offset in `source` of a 1-based line and column (end exclusive); the line after the last
 * one is the end of the text. Null when the position is not in the source.
 */
export function offsetOf(source: string, line: number, column: number): number | null {
  const lines = linesOf(source);
  if (line < 1 || column < 1) {
    return null;
  }
  let start = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) {
    start += lines[i].length;
  }
  if (line === lines.length + 1) {
    return column === 1 ? start : null;
  }
  if (line > lines.length || column - 1 > lines[line - 1].length) {
    return null;
  }
  return start + column - 1;
}

/** The source of a cell after its text edits (they must not overlap); null when one does not fit. */
export function applyTextEdits(source: string, edits: readonly IEdit[]): string | null {
  const placed: [number, number, string][] = [];
  for (const edit of edits) {
    const start = offsetOf(source, edit.line, edit.column);
    const end = offsetOf(source, edit.end_line, edit.end_column);
    if (start === null || end === null || end < start) {
      return null;
    }
    let content = edit.content;
    if (start === source.length && content && source && !source.endsWith('\n')) {
      // After a last line without newline: the newline moves to the front (as the CLI writes it).
      content = content.endsWith('\n') ? '\n' + content.slice(0, -1) : '\n' + content;
    }
    placed.push([start, end, content]);
  }
  placed.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
  let result = source;
  for (const [start, end, content] of placed) {
    result = result.slice(0, start) + content + result.slice(end);
  }
  return result;
}

/**
 * The fixes that apply together, in order: each whose edits overlap none already taken (the
 * others wait for the next check, as `readiness check --fix` does).
 */
export function chooseFixes(fixes: readonly IFix[], sources: readonly string[]): IFix[] {
  const ranges = new Map<number, [number, number][]>();
  const deleted = new Set<number>();
  const inserted = new Set<string>();
  const chosen: IFix[] = [];
  for (const fix of fixes) {
    const edits = fix.edits ?? [];
    if (edits.length === 0) {
      continue;
    }
    const planned: [number, [number, number]][] = [];
    const deletes: number[] = [];
    const inserts: string[] = [];
    let fits = true;
    for (const edit of edits) {
      if (edit.insert_cell) {
        const where = edit.insert_cell.before !== undefined ? 'before' : 'after';
        const key = `${where}:${edit.insert_cell.before ?? edit.insert_cell.after}`;
        if (inserted.has(key) || inserts.includes(key)) {
          fits = false;
        }
        inserts.push(key);
        continue;
      }
      const index = edit.cell_index;
      if (index < 0 || index >= sources.length || deleted.has(index)) {
        fits = false;
        continue;
      }
      if (edit.delete_cell) {
        if ((ranges.get(index) ?? []).length > 0) {
          fits = false;
        }
        deletes.push(index);
        continue;
      }
      const start = offsetOf(sources[index], edit.line, edit.column);
      const end = offsetOf(sources[index], edit.end_line, edit.end_column);
      if (start === null || end === null || end < start || deletes.includes(index)) {
        fits = false;
        continue;
      }
      const taken = [...(ranges.get(index) ?? []), ...planned.filter(p => p[0] === index).map(p => p[1])];
      for (const [s, e] of taken) {
        if ((start < e && s < end) || start === s || (start === end && s < start && start < e) ||
            (s === e && start < s && s < end)) {
          fits = false;
        }
      }
      planned.push([index, [start, end]]);
    }
    if (!fits) {
      continue;
    }
    for (const [index, range] of planned) {
      ranges.set(index, [...(ranges.get(index) ?? []), range]);
    }
    deletes.forEach(index => deleted.add(index));
    inserts.forEach(key => inserted.add(key));
    chosen.push(fix);
  }
  return chosen;
}

/** A cell the fixes add, and where: before the cell that is now at `index`. */
export interface ICellInsert {
  index: number;
  cell_type: 'code' | 'markdown' | 'raw';
  source: string;
  tags: string[];
}

/** What applying some fixes does to a notebook of `sources`, cell by cell. */
export interface IFixPlan {
  /** Cell index -> its new source. */
  sources: Map<number, string>;
  /** Cells to delete, by their index before any change. */
  deletes: number[];
  /** Cells to add: `index` counts the cells before any change (inserts after deletes are applied
   * from the last index to the first, so earlier indices stay valid). */
  inserts: ICellInsert[];
}

/** Turn chosen fixes into one plan; null when an edit does not fit the sources. */
export function planFixes(fixes: readonly IFix[], sources: readonly string[]): IFixPlan | null {
  const byCell = new Map<number, IEdit[]>();
  const deletes: number[] = [];
  const inserts: ICellInsert[] = [];
  for (const fix of fixes) {
    for (const edit of fix.edits ?? []) {
      if (edit.insert_cell) {
        const cell = edit.insert_cell;
        const index = cell.before !== undefined ? cell.before : (cell.after ?? 0) + 1;
        inserts.push({ index, cell_type: cell.cell_type, source: cell.source, tags: cell.tags });
      } else if (edit.delete_cell) {
        deletes.push(edit.cell_index);
      } else {
        byCell.set(edit.cell_index, [...(byCell.get(edit.cell_index) ?? []), edit]);
      }
    }
  }
  const result = new Map<number, string>();
  for (const [index, edits] of byCell) {
    const after = applyTextEdits(sources[index] ?? '', edits);
    if (after === null) {
      return null;
    }
    result.set(index, after);
  }
  return { sources: result, deletes, inserts };
}

/** What an unsafe fix changes, in words for the confirm dialog. */
export function describeEdits(fix: IFix, sources: readonly string[]): string[] {
  const lines: string[] = [];
  for (const edit of fix.edits ?? []) {
    if (edit.insert_cell) {
      const where = edit.insert_cell.before !== undefined
        ? `before cell ${edit.insert_cell.before + 1}`
        : `after cell ${(edit.insert_cell.after ?? 0) + 1}`;
      lines.push(`Adds a ${edit.insert_cell.cell_type} cell ${where}:\n${edit.insert_cell.source}`);
    } else if (edit.delete_cell) {
      lines.push(`Deletes cell ${edit.cell_index + 1}`);
    } else {
      const source = sources[edit.cell_index] ?? '';
      const start = offsetOf(source, edit.line, edit.column);
      const end = offsetOf(source, edit.end_line, edit.end_column);
      const old = start !== null && end !== null ? source.slice(start, end) : '';
      const where = `cell ${edit.cell_index + 1}, line ${edit.line}`;
      lines.push(
        old
          ? `In ${where}: ${JSON.stringify(old)} becomes ${JSON.stringify(edit.content)}`
          : `In ${where}: adds ${JSON.stringify(edit.content)}`
      );
    }
  }
  return lines;
}
