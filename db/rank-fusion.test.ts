import { describe, expect, it } from 'vitest';
import { fuseRankedRows, reciprocalRankFusion } from './rank-fusion.ts';

describe('reciprocalRankFusion', () => {
  it('ranks items found by both lists above items found by one', () => {
    const fused = reciprocalRankFusion([
      ['a', 'b', 'c'],
      ['d', 'c', 'a'],
    ]);
    expect(fused.map((entry) => entry.id)).toEqual(['a', 'c', 'd', 'b']);
    expect(fused[0]?.score).toBeCloseTo(1 / 61 + 1 / 63);
    expect(fused[0]?.ranks).toEqual([1, 3]);
    expect(fused.find((entry) => entry.id === 'b')?.ranks).toEqual([2, undefined]);
  });

  it('handles empty lists and counts a repeated id once per list', () => {
    expect(reciprocalRankFusion([[], []])).toEqual([]);
    const fused = reciprocalRankFusion([['x', 'x'], []]);
    expect(fused).toEqual([{ id: 'x', score: 1 / 61, ranks: [1, undefined] }]);
  });

  it('keeps the first appearance first on equal scores', () => {
    expect(reciprocalRankFusion([['p'], ['q']]).map((entry) => entry.id)).toEqual(['p', 'q']);
  });
});

describe('fuseRankedRows', () => {
  it('returns the rows themselves, best first, up to the limit', () => {
    const rows = fuseRankedRows(
      [
        [
          { id: '1', text: 'one' },
          { id: '2', text: 'two' },
        ],
        [{ id: '2', text: 'two' }],
      ],
      1,
    );
    expect(rows).toEqual([{ row: { id: '2', text: 'two' }, score: 1 / 62 + 1 / 61, ranks: [2, 1] }]);
  });
});
