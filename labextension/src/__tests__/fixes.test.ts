import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { applyTextEdits, chooseFixes, describeEdits, fixKind, offsetOf, planFixes } from '../fixes';
import { IEdit, IFinding, IFix } from '../model';

function edit(cell: number, line: number, column: number, endLine: number, endColumn: number,
              content: string): IEdit {
  return { cell_index: cell, line, column, end_line: endLine, end_column: endColumn, content };
}

describe('fixes', () => {
  it('finds offsets as the CLI does, the line after the last one included', () => {
    assert.equal(offsetOf('ab\ncd', 2, 2), 4);
    assert.equal(offsetOf('ab\ncd', 3, 1), 5);
    assert.equal(offsetOf('ab\n', 2, 1), 3);
    assert.equal(offsetOf('ab\ncd', 4, 1), null);
    assert.equal(offsetOf('ab', 1, 9), null);
  });

  it('applies text edits from the end, keeping a last line without newline so', () => {
    assert.equal(applyTextEdits('!pip install x\n', [edit(0, 1, 1, 1, 5, '%pip')]), '%pip install x\n');
    assert.equal(applyTextEdits('import a', [edit(0, 2, 1, 2, 1, 'import b\n')]), 'import a\nimport b');
    assert.equal(
      applyTextEdits('f(a)\n', [edit(0, 1, 4, 1, 4, ', s=1'), edit(0, 1, 1, 1, 1, 'x = ')]),
      'x = f(a, s=1)\n'
    );
  });

  it('takes fixes in order and leaves the ones that overlap for the next check', () => {
    const one: IFix = { description: '1', applicability: 'safe', edits: [edit(0, 1, 1, 1, 2, 'b')] };
    const two: IFix = { description: '2', applicability: 'safe', edits: [edit(0, 1, 1, 1, 6, 'c = 2')] };
    const three: IFix = { description: '3', applicability: 'safe', edits: [edit(0, 2, 1, 2, 1, 'd\n')] };
    const advice: IFix = { description: 'advice', applicability: 'unsafe' };
    assert.deepEqual(chooseFixes([one, two, three, advice], ['a = 1\n']), [one, three]);
  });

  it('plans added and deleted cells by the indices the check saw', () => {
    const title: IFix = {
      description: 'title',
      applicability: 'safe',
      edits: [{ ...edit(0, 1, 1, 1, 1, '# T'), insert_cell: { before: 0, cell_type: 'markdown', source: '# T', tags: ['readiness-fix'] } }]
    };
    const empty: IFix = {
      description: 'empty',
      applicability: 'safe',
      edits: [{ ...edit(1, 1, 1, 1, 1, ''), delete_cell: true }]
    };
    const plan = planFixes(chooseFixes([title, empty], ['x = 1\n', '']), ['x = 1\n', '']);
    assert.deepEqual(plan, {
      sources: new Map(),
      deletes: [1],
      inserts: [{ index: 0, cell_type: 'markdown', source: '# T', tags: ['readiness-fix'] }]
    });
  });

  it('says what an unsafe fix changes, and which findings can be fixed', () => {
    const fix: IFix = {
      description: 'Move the path',
      applicability: 'unsafe',
      edits: [
        { ...edit(0, 1, 1, 1, 1, 'P = "/x"\n'), insert_cell: { after: 0, cell_type: 'code', source: 'P = "/x"\n', tags: ['parameters'] } },
        edit(1, 1, 5, 1, 9, 'P')
      ]
    };
    assert.deepEqual(describeEdits(fix, ['import os\n', 'f = "/x"\n']), [
      'Adds a code cell after cell 1:\nP = "/x"\n',
      'In cell 2, line 1: "\\"/x\\"" becomes "P"'
    ]);
    const finding = { fix } as IFinding;
    assert.equal(fixKind(finding), 'unsafe');
    assert.equal(fixKind({ fix: { description: 'x', applicability: 'safe' } } as IFinding), null);
  });
});
