import pgvector from 'pgvector';
import type pg from 'pg';
import type { Queryable } from '../connection.ts';
import { transaction } from '../transaction.ts';

export interface NewChunk {
  pageStart: number | null;
  pageEnd: number | null;
  heading: string | null;
  text: string;
  embedding: readonly number[] | null;
  /** A recording's passage: where it starts and ends (ms) and who speaks at its start; absent for documents. */
  startMs?: number | null | undefined;
  endMs?: number | null | undefined;
  speaker?: string | null | undefined;
}

export interface NewDocument {
  /** null: a shared document every user can search. */
  ownerId: string | null;
  title: string;
  /** Where it came from (file path or upload name); a new version with the same source replaces the old one. */
  sourceName: string | null;
  mimeType: string;
  sha256: string;
  byteSize: number;
  pageCount: number | null;
  /** A recording's length in ms; null or absent for documents. */
  durationMs?: number | null;
  /** Model that made the chunks' embeddings; null when they have none. */
  embeddingModel: string | null;
  chunks: readonly NewChunk[];
  /** Pages that had no text and were not transcribed (default none). */
  unreadablePages?: readonly number[];
  /**
   * Replace a stored document with the same bytes instead of answering 'unchanged':
   * for a re-ingest that reads more than the stored version did (a vision model or
   * an embedding model configured since).
   */
  replaceSameBytes?: boolean;
}

export type SaveOutcome = 'created' | 'unchanged' | 'replaced';

/**
 * Writes a document and all its chunks in one transaction, ready for search.
 * The same bytes for the same owner are not stored twice ('unchanged'); new bytes
 * from the same source replace the old document's chunks atomically ('replaced').
 */
export async function saveDocument(
  pool: pg.Pool,
  document: NewDocument,
): Promise<{ documentId: string; outcome: SaveOutcome }> {
  return transaction(pool, async (client) => {
    const same = await client.query<{ id: string }>(
      `select id from documents where owner_id is not distinct from $1 and sha256 = $2 and status = 'ready' for update`,
      [document.ownerId, document.sha256],
    );
    if (same.rows[0] && !document.replaceSameBytes)
      return { documentId: same.rows[0].id, outcome: 'unchanged' as const };

    const previous = document.sourceName
      ? await client.query<{ id: string }>(
          `select id from documents where owner_id is not distinct from $1 and source_name = $2
            order by created_at desc limit 1 for update`,
          [document.ownerId, document.sourceName],
        )
      : { rows: [] };
    // A failed earlier attempt with the same bytes is replaced too.
    const failed = await client.query<{ id: string }>(
      `select id from documents where owner_id is not distinct from $1 and sha256 = $2 for update`,
      [document.ownerId, document.sha256],
    );
    const existingId = previous.rows[0]?.id ?? failed.rows[0]?.id;
    let documentId: string;
    if (existingId) {
      if (failed.rows[0] && failed.rows[0].id !== existingId) {
        await client.query('delete from documents where id = $1', [failed.rows[0].id]);
      }
      await client.query('delete from chunks where document_id = $1', [existingId]);
      await client.query(
        `update documents set title = $2, source_name = $3, mime_type = $4, sha256 = $5, byte_size = $6,
                page_count = $7, unreadable_pages = $8, duration_ms = $9, status = 'ready', error = null,
                updated_at = now()
          where id = $1`,
        [
          existingId,
          document.title,
          document.sourceName,
          document.mimeType,
          document.sha256,
          document.byteSize,
          document.pageCount,
          document.unreadablePages ?? [],
          document.durationMs ?? null,
        ],
      );
      documentId = existingId;
    } else {
      const { rows } = await client.query<{ id: string }>(
        `insert into documents (owner_id, title, source_name, mime_type, sha256, byte_size, page_count,
                                unreadable_pages, duration_ms, status)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'ready') returning id`,
        [
          document.ownerId,
          document.title,
          document.sourceName,
          document.mimeType,
          document.sha256,
          document.byteSize,
          document.pageCount,
          document.unreadablePages ?? [],
          document.durationMs ?? null,
        ],
      );
      documentId = (rows[0] as { id: string }).id;
    }
    await insertChunks(client, documentId, document);
    return { documentId, outcome: existingId ? ('replaced' as const) : ('created' as const) };
  });
}

async function insertChunks(client: Queryable, documentId: string, document: NewDocument): Promise<void> {
  if (document.chunks.length === 0) return;
  const chunks = document.chunks;
  // One statement for all chunks: arrays unnested server-side.
  await client.query(
    `insert into chunks (document_id, owner_id, ordinal, page_start, page_end, heading, text, embedding, embedding_model,
                         start_ms, end_ms, speaker)
     select $1, $2, ordinal, page_start, page_end, heading, text, embedding, case when embedding is null then null else $3 end,
            start_ms, end_ms, speaker
       from unnest($4::int[], $5::int[], $6::int[], $7::text[], $8::text[], $9::vector[], $10::int[], $11::int[], $12::text[])
         as t(ordinal, page_start, page_end, heading, text, embedding, start_ms, end_ms, speaker)`,
    [
      documentId,
      document.ownerId,
      document.embeddingModel,
      chunks.map((_, index) => index),
      chunks.map((chunk) => chunk.pageStart),
      chunks.map((chunk) => chunk.pageEnd),
      chunks.map((chunk) => chunk.heading),
      chunks.map((chunk) => chunk.text),
      chunks.map((chunk) => (chunk.embedding ? pgvector.toSql(chunk.embedding) : null)),
      chunks.map((chunk) => chunk.startMs ?? null),
      chunks.map((chunk) => chunk.endMs ?? null),
      chunks.map((chunk) => chunk.speaker ?? null),
    ],
  );
}

/** A stored document found by its content, with what decides whether a re-ingest can skip it. */
export interface StoredDocument {
  id: string;
  title: string;
  status: 'processing' | 'ready' | 'failed';
  pageCount: number | null;
  /** A recording's length in ms; null for documents. */
  durationMs: number | null;
  unreadablePages: number[];
  chunkCount: number;
  /** Chunks stored without an embedding (embedded without a model, or dropped by `--reset-embeddings`). */
  chunksWithoutEmbedding: number;
  /** The distinct models that made the stored embeddings. */
  embeddingModels: string[];
}

/**
 * The document with these bytes (by SHA-256) among the owner's (null: the shared
 * ones), or undefined. Cheap: lets an ingest answer 'unchanged' before parsing.
 */
export async function findDocumentByContent(
  db: Queryable,
  ownerId: string | null,
  sha256: string,
): Promise<StoredDocument | undefined> {
  const { rows } = await db.query<StoredDocument>(
    `select d.id, d.title, d.status, d.page_count as "pageCount", d.duration_ms as "durationMs",
            d.unreadable_pages as "unreadablePages",
            count(c.id)::int as "chunkCount",
            count(c.id) filter (where c.embedding is null)::int as "chunksWithoutEmbedding",
            coalesce(array_agg(distinct c.embedding_model) filter (where c.embedding_model is not null), '{}')
              as "embeddingModels"
       from documents d left join chunks c on c.document_id = d.id
      where d.owner_id is not distinct from $1 and d.sha256 = $2
      group by d.id`,
    [ownerId, sha256],
  );
  return rows[0];
}

export interface DocumentSummary {
  id: string;
  ownerId: string | null;
  title: string;
  mimeType: string;
  pageCount: number | null;
  status: 'processing' | 'ready' | 'failed';
  chunkCount: number;
  createdAt: Date;
}

/** Documents a user can search: their own and the shared ones, newest first. */
export async function listDocuments(db: Queryable, userId: string): Promise<DocumentSummary[]> {
  const { rows } = await db.query<DocumentSummary>(
    `select d.id, d.owner_id as "ownerId", d.title, d.mime_type as "mimeType", d.page_count as "pageCount",
            d.status, (select count(*)::int from chunks c where c.document_id = d.id) as "chunkCount",
            d.created_at as "createdAt"
       from documents d where d.owner_id = $1 or d.owner_id is null order by d.created_at desc, d.id`,
    [userId],
  );
  return rows;
}

/** Deletes one of the user's own documents (not a shared one). Returns whether it existed. */
export async function deleteDocument(db: Queryable, userId: string, documentId: string): Promise<boolean> {
  const result = await db.query('delete from documents where id = $1 and owner_id = $2', [
    documentId,
    userId,
  ]);
  return (result.rowCount ?? 0) > 0;
}
