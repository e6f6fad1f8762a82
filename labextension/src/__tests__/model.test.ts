import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import {
  IFinding,
  INotebookReport,
  ReadinessModel,
  addIgnoreComment,
  groupByCell,
  ignoreInSource,
  scoreBand,
  scoreExplanation,
  shortWhy
} from '../model';

function finding(overrides: Partial<IFinding>): IFinding {
  return {
    code: 'RP101',
    name: 'hardcoded-absolute-path',
    category: 'hardcoded-path',
    severity: 'error',
    message: 'Absolute path',
    cell_index: 0,
    cell_id: 'a',
    line: 1,
    column: 1,
    end_line: 1,
    end_column: 2,
    fix: null,
    ...overrides
  };
}

function report(findings: IFinding[], path = 'nb.ipynb'): INotebookReport {
  return {
    path,
    error: null,
    summary: { error: 0, warning: 0, info: 0, score: 100, by_category: {} },
    findings
  };
}

describe('groupByCell', () => {
  it('groups by cell in notebook order, notebook-level first, lines in order', () => {
    const groups = groupByCell([
      finding({ cell_index: 3, line: 5, code: 'RP2' }),
      finding({ cell_index: 1, line: 2, severity: 'info' }),
      finding({ cell_index: 3, line: 1, code: 'RP1', severity: 'warning' }),
      finding({ cell_index: null, cell_id: null, category: 'notebook-hygiene' })
    ]);
    assert.deepEqual(
      groups.map(g => g.cellIndex),
      [null, 1, 3]
    );
    assert.deepEqual(
      groups[2].findings.map(f => f.line),
      [1, 5]
    );
    assert.equal(groups[2].worst, 'error');
    assert.equal(groups[1].worst, 'info');
  });
});

describe('ReadinessModel filters', () => {
  it('counts by category and filters by the clicked ones', () => {
    const model = new ReadinessModel();
    const ticket = model.begin('nb');
    model.accept(
      ticket,
      report([
        finding({ category: 'hardcoded-path' }),
        finding({ category: 'hidden-state', cell_index: 2 }),
        finding({ category: 'hidden-state', cell_index: 4 })
      ])
    );
    assert.deepEqual(model.categoryCounts(), [
      { category: 'hardcoded-path', count: 1 },
      { category: 'hidden-state', count: 2 }
    ]);
    model.toggleFilter('hidden-state');
    assert.deepEqual(
      model.groups().map(g => g.cellIndex),
      [2, 4]
    );
    model.toggleFilter('hardcoded-path');
    assert.equal(model.visibleFindings().length, 3);
    model.clearFilters();
    assert.equal(model.filters.size, 0);
  });

  it('leaves out categories the settings hide, from counts and list', () => {
    const model = new ReadinessModel();
    model.accept(
      model.begin('nb'),
      report([finding({ category: 'code-quality' }), finding({ category: 'hardcoded-path' })])
    );
    model.shownCategories = ['hardcoded-path'];
    assert.deepEqual(
      model.categoryCounts().map(c => c.category),
      ['hardcoded-path']
    );
    assert.equal(model.visibleFindings().length, 1);
  });
});

describe('ReadinessModel stale answers', () => {
  it('drops an answer to an older check of the same notebook', () => {
    const model = new ReadinessModel();
    const first = model.begin('nb');
    const second = model.begin('nb');
    assert.equal(model.accept(second, report([finding({ code: 'NEW' })])), true);
    assert.equal(model.accept(first, report([finding({ code: 'OLD' })])), false);
    assert.deepEqual(
      model.visibleFindings().map(f => f.code),
      ['NEW']
    );
  });

  it('drops an answer for a notebook the user has left', () => {
    const model = new ReadinessModel();
    const a = model.begin('a');
    model.setKey('b');
    assert.equal(model.accept(a, report([finding({})])), false);
    assert.equal(model.report, null);
    assert.equal(model.reject(a, 'boom'), false);
    assert.equal(model.status, 'idle');
  });

  it('keeps the old list while re-checking, and reports failures', () => {
    const model = new ReadinessModel();
    model.accept(model.begin('nb'), report([finding({})]));
    const again = model.begin('nb');
    assert.equal(model.status, 'checking');
    assert.equal(model.visibleFindings().length, 1);
    model.reject(again, 'server gone');
    assert.equal(model.status, 'failed');
    assert.equal(model.failure, 'server gone');
  });

  it('shows an unreadable notebook as a failure', () => {
    const model = new ReadinessModel();
    const bad = report([]);
    bad.error = { kind: 'invalid-json', message: 'not JSON' };
    model.accept(model.begin('nb'), bad);
    assert.equal(model.status, 'failed');
    assert.equal(model.failure, 'not JSON');
  });

  it('tells listeners about changes', () => {
    const model = new ReadinessModel();
    let calls = 0;
    const stop = model.onChange(() => calls++);
    model.begin('nb');
    stop();
    model.begin('nb');
    assert.equal(calls, 1);
  });
});

describe('ignore comments', () => {
  it('appends the comment to the line', () => {
    assert.equal(
      addIgnoreComment("df = pd.read_csv('/home/a.csv')   ", 'RP101'),
      "df = pd.read_csv('/home/a.csv')  # readiness: ignore[RP101]"
    );
  });

  it('merges into an existing ignore comment once', () => {
    const line = 'x = 1  # readiness: ignore[RP101]';
    assert.equal(addIgnoreComment(line, 'RP102'), 'x = 1  # readiness: ignore[RP101,RP102]');
    assert.equal(addIgnoreComment(line, 'RP101'), line);
  });

  it('edits only the finding line of a cell', () => {
    assert.equal(
      ignoreInSource('a = 1\nb = 2\nc = 3', 2, 'X1'),
      'a = 1\nb = 2  # readiness: ignore[X1]\nc = 3'
    );
    assert.equal(ignoreInSource('a = 1', 9, 'X1'), 'a = 1  # readiness: ignore[X1]');
  });
});

describe('shortWhy', () => {
  it('takes the first sentence of the rule docs', () => {
    assert.equal(
      shortWhy({
        code: 'X',
        name: 'x',
        category: 'hardcoded-path',
        severity: 'error',
        summary: 's',
        why: 'It breaks on other machines. Also more.'
      }),
      'It breaks on other machines.'
    );
    assert.equal(shortWhy(undefined), '');
  });
});

describe('score', () => {
  it('explains the server\'s breakdown in the words of the magics and reports', () => {
    assert.equal(
      scoreExplanation({
        'hardcoded-path': 'fail',
        'untestable-code': 'partial',
        'unpinned-dependency': 'fail',
        'hidden-state': 'pass'
      }),
      'fails hardcoded-path, unpinned-dependency; partly untestable-code'
    );
    assert.equal(scoreExplanation({ 'hidden-state': 'pass' }), 'every category passes');
    assert.equal(scoreExplanation({}), 'every category passes');
  });

  it('bands the score as the reports do', () => {
    assert.deepEqual([100, 90, 89, 70, 69, 0].map(scoreBand), [
      'good',
      'good',
      'fair',
      'fair',
      'poor',
      'poor'
    ]);
  });
});
