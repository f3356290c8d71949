/**
 * Reciprocal rank fusion (Cormack et al., 2009): each list contributes
 * 1 / (k + rank) for every item it ranks (rank starting at 1), and items are
 * ordered by the sum. It needs no score calibration between lists, which is why
 * it suits fusing cosine distances with full-text ranks.
 */
export const RRF_K = 60;

export interface Fused<Id> {
  id: Id;
  score: number;
  /** 1-based rank of the item in each input list, or undefined where it was absent. */
  ranks: (number | undefined)[];
}

/** Fuses ranked lists of ids (best first). Ties keep the order of first appearance. */
export function reciprocalRankFusion<Id>(lists: readonly (readonly Id[])[], k = RRF_K): Fused<Id>[] {
  const fused = new Map<Id, Fused<Id>>();
  lists.forEach((list, listIndex) => {
    list.forEach((id, position) => {
      let entry = fused.get(id);
      if (!entry) {
        entry = { id, score: 0, ranks: lists.map(() => undefined) };
        fused.set(id, entry);
      }
      // A list may repeat an id; only its best rank counts.
      if (entry.ranks[listIndex] !== undefined) return;
      entry.ranks[listIndex] = position + 1;
      entry.score += 1 / (k + position + 1);
    });
  });
  // Array.prototype.sort is stable, so equal scores keep insertion order.
  return [...fused.values()].sort((a, b) => b.score - a.score);
}

/**
 * Fuses ranked lists of rows that carry an `id`, returning the best `limit` rows
 * with their fused score and per-list ranks.
 */
export function fuseRankedRows<Row extends { id: string }>(
  lists: readonly (readonly Row[])[],
  limit: number,
): { row: Row; score: number; ranks: (number | undefined)[] }[] {
  const rows = new Map<string, Row>();
  for (const list of lists) for (const row of list) if (!rows.has(row.id)) rows.set(row.id, row);
  return reciprocalRankFusion(lists.map((list) => list.map((row) => row.id)))
    .slice(0, limit)
    .map(({ id, score, ranks }) => ({ row: rows.get(id) as Row, score, ranks }));
}
