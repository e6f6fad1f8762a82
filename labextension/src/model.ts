/**
 * What the panel shows, without any JupyterLab UI: the latest report of the active notebook,
 * the category filters, findings grouped by cell, and which answers are stale.
 *
 * Kept free of JupyterLab imports so that it runs under `node --test`.
 */

/** Severity of a finding, as the server sends it. */
export type Severity = 'error' | 'warning' | 'info';

/** One edit of a fix: a range of a cell's source, or a cell added or deleted (see fixes.ts). */
export interface IEdit {
  cell_index: number;
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  content: string;
  insert_cell?: {
    before?: number;
    after?: number;
    cell_type: 'code' | 'markdown' | 'raw';
    source: string;
    tags: string[];
  };
  delete_cell?: boolean;
}

/** A suggested change attached to a finding; with `edits` it can be applied, else it is advice. */
export interface IFix {
  description: string;
  applicability: 'safe' | 'unsafe';
  edits?: IEdit[];
}

/** One finding of the JSON contract (DESIGN.md). */
export interface IFinding {
  code: string;
  name: string;
  category: string;
  severity: Severity;
  message: string;
  /** 0-based among all cells; null for notebook- or project-level findings. */
  cell_index: number | null;
  cell_id: string | null;
  /** 1-based within the cell's own source. */
  line: number;
  column: number;
  end_line: number;
  end_column: number;
  fix: IFix | null;
}

/** How a category fares in the readiness score's rubric (docs/score.md). */
export type CategoryStatus = 'pass' | 'partial' | 'fail';

/** The summary of one notebook's report. */
export interface ISummary {
  error: number;
  warning: number;
  info: number;
  /** The server's score: the panel shows it as sent, never computes its own. */
  score: number;
  /** Each category's status in the rubric; absent from older servers. */
  score_breakdown?: { [category: string]: CategoryStatus };
  by_category: { [category: string]: number };
}

/**
 * What the score is made of, in the words the magics and the reports use
 * (`readiness_magics.report.score_explanation`).
 */
export function scoreExplanation(breakdown: {
  [category: string]: CategoryStatus;
}): string {
  const failed = Object.keys(breakdown).filter(c => breakdown[c] === 'fail');
  const partial = Object.keys(breakdown).filter(c => breakdown[c] === 'partial');
  const parts: string[] = [];
  if (failed.length > 0) {
    parts.push('fails ' + failed.join(', '));
  }
  if (partial.length > 0) {
    parts.push('partly ' + partial.join(', '));
  }
  return parts.length > 0 ? parts.join('; ') : 'every category passes';
}

/** good / fair / poor, the bands of `readiness_magics.report.score_band`. */
export function scoreBand(score: number): 'good' | 'fair' | 'poor' {
  return score >= 90 ? 'good' : score >= 70 ? 'fair' : 'poor';
}

/** One notebook entry of the contract: what `POST /readiness/check` answers. */
export interface INotebookReport {
  path: string | null;
  error: { kind: string; message: string } | null;
  summary: ISummary;
  findings: IFinding[];
}

/** A rule's docs, from `GET /readiness/rules`. */
export interface IRuleDoc {
  code: string;
  name: string;
  category: string;
  severity: Severity;
  summary: string;
  why: string;
  example?: string;
  use_instead?: string;
}

/** The findings of one cell (or of the notebook as a whole, when `cellIndex` is null). */
export interface ICellGroup {
  cellIndex: number | null;
  cellId: string | null;
  findings: IFinding[];
  /** The worst severity in the group, for the cell marker's colour. */
  worst: Severity;
}

/** A check in flight, returned by `begin` and handed back to `accept`. */
export interface ICheckTicket {
  readonly key: string;
  readonly seq: number;
}

/** Every category of the contract, in the order the panel lists them. */
export const CATEGORIES: readonly string[] = [
  'hardcoded-path',
  'unpinned-dependency',
  'missing-data-check',
  'untestable-code',
  'hidden-state',
  'hardcoded-secret',
  'code-quality',
  'notebook-format',
  'notebook-hygiene',
  'data-leakage'
];

const SEVERITY_RANK: { [key in Severity]: number } = {
  info: 0,
  warning: 1,
  error: 2
};

/** The more severe of two severities. */
export function worse(a: Severity, b: Severity): Severity {
  return SEVERITY_RANK[a] >= SEVERITY_RANK[b] ? a : b;
}

/**
 * Group findings by cell, cells in notebook order and notebook-level findings first;
 * within a cell by line, column and code.
 */
export function groupByCell(findings: readonly IFinding[]): ICellGroup[] {
  const groups = new Map<string, ICellGroup>();
  const sorted = [...findings].sort(compareFindings);
  for (const finding of sorted) {
    const key = finding.cell_index === null ? 'notebook' : String(finding.cell_index);
    let group = groups.get(key);
    if (!group) {
      group = {
        cellIndex: finding.cell_index,
        cellId: finding.cell_id,
        findings: [],
        worst: finding.severity
      };
      groups.set(key, group);
    }
    group.findings.push(finding);
    group.worst = worse(group.worst, finding.severity);
  }
  return [...groups.values()];
}

function compareFindings(a: IFinding, b: IFinding): number {
  const cellA = a.cell_index === null ? -1 : a.cell_index;
  const cellB = b.cell_index === null ? -1 : b.cell_index;
  return (
    cellA - cellB ||
    a.line - b.line ||
    a.column - b.column ||
    (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)
  );
}

/** The first sentence of a rule's "why", short enough for one line under a finding. */
export function shortWhy(rule: IRuleDoc | undefined): string {
  if (!rule) {
    return '';
  }
  const text = (rule.why || rule.summary || '').replace(/\s+/g, ' ').trim();
  const match = /^(.+?[.!?])(\s|$)/.exec(text);
  return match ? match[1] : text;
}

/**
 * The comment that silences `code` on one line, merged into an existing
 * `# readiness: ignore[...]` comment when the line already has one.
 */
export function addIgnoreComment(line: string, code: string): string {
  const existing = /#\s*readiness:\s*ignore\[([^\]]*)\]/.exec(line);
  if (existing) {
    const codes = existing[1]
      .split(',')
      .map(c => c.trim())
      .filter(c => c.length > 0);
    if (codes.includes(code)) {
      return line;
    }
    codes.push(code);
    const start = existing.index;
    return (
      line.slice(0, start) +
      `# readiness: ignore[${codes.join(',')}]` +
      line.slice(start + existing[0].length)
    );
  }
  const body = line.replace(/\s+$/, '');
  return body.length > 0
    ? `${body}  # readiness: ignore[${code}]`
    : `# readiness: ignore[${code}]`;
}

/**
 * Insert the ignore comment for `code` on 1-based `line` of a cell's source;
 * a line past the end gets the comment on the last line.
 */
export function ignoreInSource(source: string, line: number, code: string): string {
  const lines = source.split('\n');
  const index = Math.min(Math.max(line, 1), lines.length) - 1;
  lines[index] = addIgnoreComment(lines[index], code);
  return lines.join('\n');
}

/** What the panel is showing, in words for the status line. */
export type PanelStatus = 'idle' | 'checking' | 'ready' | 'failed';

/**
 * The state behind the panel. Checks are numbered: an answer is shown only when it is the
 * answer to the latest check of the notebook now active, so a slow answer to an older
 * version (or to the notebook the user just left) never overwrites a newer one.
 */
export class ReadinessModel {
  /** Categories the settings allow; findings of others are never shown. */
  get shownCategories(): readonly string[] {
    return this._shownCategories;
  }
  set shownCategories(value: readonly string[]) {
    this._shownCategories = [...value];
    this._emit();
  }

  /** Categories the user picked by clicking the counts; empty means all. */
  get filters(): ReadonlySet<string> {
    return this._filters;
  }

  /** The notebook the panel is following (its path), or null when none is active. */
  get key(): string | null {
    return this._key;
  }

  get report(): INotebookReport | null {
    return this._report;
  }

  get status(): PanelStatus {
    return this._status;
  }

  /** The last failure's message, when `status` is 'failed'. */
  get failure(): string {
    return this._failure;
  }

  get rules(): ReadonlyMap<string, IRuleDoc> {
    return this._rules;
  }

  set rules(value: ReadonlyMap<string, IRuleDoc>) {
    this._rules = value;
    this._emit();
  }

  /** Follow another notebook (or none): forget the report and any check in flight. */
  setKey(key: string | null): void {
    if (key === this._key) {
      return;
    }
    this._key = key;
    this._report = null;
    this._status = 'idle';
    this._failure = '';
    this._emit();
  }

  /** Start a check of `key`; hand the ticket back to `accept` or `reject`. */
  begin(key: string): ICheckTicket {
    if (key !== this._key) {
      this._key = key;
      this._report = null;
    }
    this._seq += 1;
    this._failure = '';
    this._status = 'checking';
    this._emit();
    return { key, seq: this._seq };
  }

  /** Whether an answer to this ticket would still be shown. */
  isCurrent(ticket: ICheckTicket): boolean {
    return ticket.key === this._key && ticket.seq === this._seq;
  }

  /** Show an answer; returns false (and changes nothing) when the answer is stale. */
  accept(ticket: ICheckTicket, report: INotebookReport): boolean {
    if (!this.isCurrent(ticket)) {
      return false;
    }
    this._report = report;
    if (report.error) {
      this._status = 'failed';
      this._failure = report.error.message;
    } else {
      this._status = 'ready';
      this._failure = '';
    }
    this._emit();
    return true;
  }

  /** Show a failure; ignored when it answers a stale check. */
  reject(ticket: ICheckTicket, message: string): boolean {
    if (!this.isCurrent(ticket)) {
      return false;
    }
    this._status = 'failed';
    this._failure = message;
    this._emit();
    return true;
  }

  /** Add or remove one category filter. */
  toggleFilter(category: string): void {
    if (this._filters.has(category)) {
      this._filters.delete(category);
    } else {
      this._filters.add(category);
    }
    this._emit();
  }

  clearFilters(): void {
    if (this._filters.size > 0) {
      this._filters.clear();
      this._emit();
    }
  }

  /** Findings of the allowed categories (before the user's filters): what the counts count. */
  allowedFindings(): IFinding[] {
    if (!this._report) {
      return [];
    }
    const allowed = new Set(this._shownCategories);
    return this._report.findings.filter(f => allowed.has(f.category));
  }

  /** Findings after settings and filters. */
  visibleFindings(): IFinding[] {
    const allowed = this.allowedFindings();
    if (this._filters.size === 0) {
      return allowed;
    }
    return allowed.filter(f => this._filters.has(f.category));
  }

  /** Count per allowed category, in the contract's order, categories without findings left out. */
  categoryCounts(): Array<{ category: string; count: number }> {
    const counts = new Map<string, number>();
    for (const finding of this.allowedFindings()) {
      counts.set(finding.category, (counts.get(finding.category) || 0) + 1);
    }
    const order = [...CATEGORIES, ...[...counts.keys()].filter(c => !CATEGORIES.includes(c))];
    return order
      .filter(category => counts.has(category))
      .map(category => ({ category, count: counts.get(category) as number }));
  }

  /** Visible findings grouped by cell. */
  groups(): ICellGroup[] {
    return groupByCell(this.visibleFindings());
  }

  /** Call `listener` after every change; returns a function that stops it. */
  onChange(listener: () => void): () => void {
    this._listeners.add(listener);
    return () => this._listeners.delete(listener);
  }

  private _emit(): void {
    for (const listener of [...this._listeners]) {
      listener();
    }
  }

  private _key: string | null = null;
  private _seq = 0;
  private _report: INotebookReport | null = null;
  private _status: PanelStatus = 'idle';
  private _failure = '';
  private _filters = new Set<string>();
  private _shownCategories: string[] = [...CATEGORIES];
  private _rules: ReadonlyMap<string, IRuleDoc> = new Map();
  private _listeners = new Set<() => void>();
}
