import pgvector from 'pgvector';
import type { Queryable } from '../connection.ts';
import { fuseRankedRows } from '../rank-fusion.ts';

export type MemoryKind = 'fact' | 'summary';

export interface Memory {
  id: string;
  kind: MemoryKind;
  text: string;
  createdAt: Date;
  conversationId: string | null;
}

export interface StoreMemoryParameters {
  userId: string;
  kind: MemoryKind;
  text: string;
  embedding: readonly number[] | null;
  embeddingModel: string | null;
  conversationId?: string | null;
}

/** A memory as one ranking (vector or full text) found it, before fusion. */
export interface MemoryRow {
  id: string;
  kind: MemoryKind;
  text: string;
  created_at: Date;
  conversation_id: string | null;
}

const toMemory = (row: MemoryRow): Memory => ({
  id: row.id,
  kind: row.kind,
  text: row.text,
  createdAt: row.created_at,
  conversationId: row.conversation_id,
});

/** Stores a fact or a conversation summary about a user. */
export async function storeMemory(db: Queryable, parameters: StoreMemoryParameters): Promise<Memory> {
  const { rows } = await db.query<MemoryRow>(
    `insert into memories (user_id, kind, text, embedding, embedding_model, conversation_id)
     values ($1, $2, $3, $4::vector, $5, $6)
     returning id, kind, text, created_at, conversation_id`,
    [
      parameters.userId,
      parameters.kind,
      parameters.text,
      parameters.embedding ? pgvector.toSql(parameters.embedding) : null,
      parameters.embedding ? parameters.embeddingModel : null,
      parameters.conversationId ?? null,
    ],
  );
  return toMemory(rows[0] as MemoryRow);
}

export interface RecallParameters {
  userId: string;
  text: string;
  embedding?: readonly number[] | null | undefined;
  /** Memories to return (default 5). */
  limit?: number;
  kinds?: readonly MemoryKind[];
  /**
   * The vector ranking, when an earlier recall with the same embedding, user, kinds and
   * limit already made it ({@link nearestMemories}); else it is made here.
   */
  nearest?: Promise<MemoryRow[]>;
}

const recallCandidates = (limit: number) => Math.max(20, limit * 4);
const RECALLED_KINDS: readonly MemoryKind[] = ['fact', 'summary'];

/** The vector half of {@link recallMemories}: the user's memories nearest the embedding. */
export async function nearestMemories(
  db: Queryable,
  parameters: { userId: string; embedding: readonly number[]; limit?: number; kinds?: readonly MemoryKind[] },
): Promise<MemoryRow[]> {
  const { rows } = await db.query<MemoryRow>(
    `select id, kind, text, created_at, conversation_id from memories
      where user_id = $1 and kind = any($4) and embedding is not null
      order by embedding <=> $2::vector, id limit $3`,
    [
      parameters.userId,
      pgvector.toSql(parameters.embedding),
      recallCandidates(parameters.limit ?? 5),
      parameters.kinds ?? RECALLED_KINDS,
    ],
  );
  return rows;
}

/**
 * The user's memories most relevant to `text`: vector and full-text rankings fused
 * by reciprocal rank fusion, scoped to the one user. Without an embedding, full text only.
 */
export async function recallMemories(db: Queryable, parameters: RecallParameters): Promise<Memory[]> {
  const limit = parameters.limit ?? 5;
  const candidates = recallCandidates(limit);
  const kinds = parameters.kinds ?? RECALLED_KINDS;
  const embedding = parameters.embedding && parameters.embedding.length > 0 ? parameters.embedding : null;
  const [vectorRows, textRows] = await Promise.all([
    embedding
      ? (parameters.nearest ?? nearestMemories(db, { userId: parameters.userId, embedding, limit, kinds }))
      : [],
    db.query<MemoryRow>(
      `select id, kind, text, created_at, conversation_id from memories m, or_tsquery('english', $2) q
        where user_id = $1 and kind = any($4) and tsv @@ q
        order by ts_rank_cd(tsv, q) desc, created_at desc limit $3`,
      [parameters.userId, parameters.text, candidates, kinds],
    ),
  ]);
  return fuseRankedRows([vectorRows, textRows.rows], limit).map(({ row }) => toMemory(row));
}

/** The user's most recent memories of the given kinds, newest first. */
export async function listMemories(
  db: Queryable,
  userId: string,
  options: { kinds?: readonly MemoryKind[]; limit?: number } = {},
): Promise<Memory[]> {
  const { rows } = await db.query<MemoryRow>(
    `select id, kind, text, created_at, conversation_id from memories
      where user_id = $1 and kind = any($2) order by created_at desc, id limit $3`,
    [userId, options.kinds ?? ['fact', 'summary'], options.limit ?? 50],
  );
  return rows.map(toMemory);
}

/** Deletes memories by id, only if they belong to the user. Returns how many were deleted. */
export async function deleteMemories(
  db: Queryable,
  userId: string,
  memoryIds: readonly string[],
): Promise<number> {
  if (memoryIds.length === 0) return 0;
  const result = await db.query('delete from memories where user_id = $1 and id = any($2::uuid[])', [
    userId,
    memoryIds,
  ]);
  return result.rowCount ?? 0;
}
