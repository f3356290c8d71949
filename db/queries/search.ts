import pgvector from 'pgvector';
import type { Queryable } from '../connection.ts';
import { fuseRankedRows } from '../rank-fusion.ts';

/** A chunk found by hybrid search, with what a citation needs. */
export interface SearchHit {
  chunkId: string;
  documentId: string;
  title: string;
  pageStart: number | null;
  pageEnd: number | null;
  /** Of a recording's passage: where it starts and ends (ms), who speaks at its start; null for documents. */
  startMs: number | null;
  endMs: number | null;
  speaker: string | null;
  heading: string | null;
  text: string;
  /** Reciprocal rank fusion score; higher is better. */
  score: number;
  matchedBy: ('vector' | 'text')[];
}

export interface HybridSearchParameters {
  /** Search this user's documents plus the shared ones, never anyone else's. */
  userId: string;
  text: string;
  /** The query's embedding; null or absent means full-text search only. */
  embedding?: readonly number[] | null | undefined;
  /** Hits to return (default 6). */
  limit?: number;
  /** Candidates taken from each of the two rankings before fusion (default 4x limit, at least 20). */
  candidates?: number;
  /**
   * The vector ranking, when an earlier search with the same embedding, user and
   * candidates already made it ({@link nearestChunks}); else it is made here.
   */
  nearest?: Promise<ChunkRow[]>;
}

/** A chunk as one ranking (vector or full text) found it, before fusion. */
export interface ChunkRow {
  id: string;
  document_id: string;
  title: string;
  page_start: number | null;
  page_end: number | null;
  start_ms: number | null;
  end_ms: number | null;
  speaker: string | null;
  heading: string | null;
  text: string;
}

const CHUNK_COLUMNS = `c.id, c.document_id, d.title, c.page_start, c.page_end, c.start_ms, c.end_ms, c.speaker,
  c.heading, c.text`;

/** Candidates each ranking gives for `limit` hits. */
export const searchCandidates = (limit = 6) => Math.max(20, limit * 4);

/** The vector half of hybrid search: the user's and shared chunks nearest the embedding. */
export async function nearestChunks(
  db: Queryable,
  parameters: { userId: string; embedding: readonly number[]; candidates: number },
): Promise<ChunkRow[]> {
  const { rows } = await db.query<ChunkRow>(
    `with nearest as materialized (
       select id, embedding <=> $2::vector as distance
         from chunks
        where (owner_id = $1 or owner_id is null) and embedding is not null
        order by embedding <=> $2::vector
        limit $3
     )
     select ${CHUNK_COLUMNS}
       from nearest n join chunks c on c.id = n.id join documents d on d.id = c.document_id
      where d.status = 'ready'
      order by n.distance, c.id`,
    [parameters.userId, pgvector.toSql(parameters.embedding), parameters.candidates],
  );
  return rows;
}

/**
 * Hybrid search over document chunks: pgvector HNSW cosine top-k and Postgres
 * full-text top-k, both under the per-user filter, fused by reciprocal rank fusion.
 * The vector ranking is materialised and re-sorted because iterative index scans
 * (pgvector >= 0.8, relaxed order) may return rows slightly out of order.
 */
export async function hybridSearch(db: Queryable, parameters: HybridSearchParameters): Promise<SearchHit[]> {
  const limit = parameters.limit ?? 6;
  const candidates = parameters.candidates ?? searchCandidates(limit);
  const embedding = parameters.embedding && parameters.embedding.length > 0 ? parameters.embedding : null;

  const [vectorRows, textRows] = await Promise.all([
    embedding
      ? (parameters.nearest ?? nearestChunks(db, { userId: parameters.userId, embedding, candidates }))
      : [],
    db.query<ChunkRow>(
      `with matches as materialized (
         select c.id, ts_rank_cd(c.tsv, q) as rank
           from chunks c, or_tsquery('english', $2) q
          where (c.owner_id = $1 or c.owner_id is null) and c.tsv @@ q
          order by rank desc, c.id
          limit $3
       )
       select ${CHUNK_COLUMNS}
         from matches m join chunks c on c.id = m.id join documents d on d.id = c.document_id
        where d.status = 'ready'
        order by m.rank desc, c.id`,
      [parameters.userId, parameters.text, candidates],
    ),
  ]);

  return fuseRankedRows([vectorRows, textRows.rows], limit).map(({ row, score, ranks }) => ({
    chunkId: row.id,
    documentId: row.document_id,
    title: row.title,
    pageStart: row.page_start,
    pageEnd: row.page_end,
    startMs: row.start_ms,
    endMs: row.end_ms,
    speaker: row.speaker,
    heading: row.heading,
    text: row.text,
    score,
    matchedBy: [...(ranks[0] ? (['vector'] as const) : []), ...(ranks[1] ? (['text'] as const) : [])],
  }));
}
