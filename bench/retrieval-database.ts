import { randomUUID, createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../db/index.ts';
import { SyntheticCorpus } from './corpus.ts';

/**
 * Throwaway databases for the retrieval benchmark and a bulk loader for them. Loading
 * goes around `saveDocument` on purpose: 100k chunks through one transaction per
 * document and an HNSW index maintained row by row would take most of an hour. The
 * schema is the app's own (migrations run), the indexes are dropped before the load
 * and built again after it, as one would for a bulk import.
 */

export type Backend = 'postgres' | 'embedded';

export const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

/** The Postgres server for the benchmark cannot be reached or used. */
export class BenchDatabaseUnavailable extends Error {}

export interface BenchDatabase {
  backend: Backend;
  database: Database;
  cleanup(): Promise<void>;
}

/** A fresh, migrated database: a new database on the Postgres server, or PGlite in a temporary folder. */
export async function createBenchDatabase(
  backend: Backend,
  dimensions: number,
  serverUrl = process.env.BENCH_DATABASE_URL ?? DEFAULT_SERVER_URL,
): Promise<BenchDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assistant-bench-'));
  if (backend === 'embedded') {
    const database = await openDatabase({ dataDir, embeddingDimensions: dimensions });
    return {
      backend,
      database,
      async cleanup() {
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const name = `bench_${randomUUID().replaceAll('-', '')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: serverUrl });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  try {
    await admin(`create database ${name}`);
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw new BenchDatabaseUnavailable(
      `Could not create a throwaway database on ${redact(serverUrl)} (${(error as Error).message}). ` +
        'Set BENCH_DATABASE_URL to a Postgres server with pgvector where this user may create databases.',
      { cause: error },
    );
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let database: Database;
  try {
    database = await openDatabase({ url: url.toString(), dataDir, embeddingDimensions: dimensions });
  } catch (error) {
    // Typically no pgvector on that server: say so, and leave nothing behind.
    await admin(`drop database if exists ${name} with (force)`);
    await rm(dataDir, { recursive: true, force: true });
    throw new BenchDatabaseUnavailable((error as Error).message, { cause: error });
  }
  return {
    backend,
    database,
    async cleanup() {
      await database.close();
      await admin(`drop database if exists ${name} with (force)`);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

export interface LoadedCorpus {
  /** Users in order; each owns the same share of the chunks. */
  userIds: string[];
  chunks: number;
  loadMs: number;
}

const CHUNKS_PER_DOCUMENT = 20;
const ROWS_PER_STATEMENT = 250;

/**
 * Loads `chunks` generated chunks, documents of 20 chunks owned round-robin by `users`
 * users (so each owns 1/users of the chunks), with multi-row inserts.
 */
export async function loadCorpus(
  database: Database,
  corpus: SyntheticCorpus,
  options: { chunks: number; users: number },
): Promise<LoadedCorpus> {
  const pool = database.pool;
  const started = performance.now();
  await pool.query('drop index if exists chunks_embedding');
  await pool.query('drop index if exists chunks_tsv');
  const { rows: users } = await pool.query<{ id: string }>(
    `insert into users (display_name) select 'bench user ' || n from generate_series(1, $1) n returning id`,
    [options.users],
  );
  const userIds = users.map((row) => row.id);
  const documents = Math.ceil(options.chunks / CHUNKS_PER_DOCUMENT);
  const documentIds: string[] = [];
  const owners: string[] = [];
  for (let index = 0; index < documents; index++) {
    documentIds.push(randomUUID());
    owners.push(userIds[index % userIds.length] as string);
  }
  await pool.query(
    `insert into documents (id, owner_id, title, mime_type, sha256, byte_size, page_count, status)
     select id, owner, 'Document ' || ordinality, 'text/plain', $3 || lpad(ordinality::text, 24, '0'), 1000, 10, 'ready'
       from unnest($1::uuid[], $2::uuid[]) with ordinality as d(id, owner)`,
    [documentIds, owners, createHash('sha256').update('bench').digest('hex').slice(0, 40)],
  );
  // Two statements in flight: the server parses one batch while the next is generated.
  const inFlight = new Set<Promise<unknown>>();
  for (let first = 0; first < options.chunks; first += ROWS_PER_STATEMENT) {
    const batch = { document: [] as string[], owner: [] as string[], ordinal: [] as number[] };
    const texts: string[] = [];
    const vectors: string[] = [];
    for (let index = first; index < Math.min(options.chunks, first + ROWS_PER_STATEMENT); index++) {
      const documentIndex = Math.floor(index / CHUNKS_PER_DOCUMENT);
      const chunk = corpus.chunk();
      batch.document.push(documentIds[documentIndex] as string);
      batch.owner.push(owners[documentIndex] as string);
      batch.ordinal.push(index % CHUNKS_PER_DOCUMENT);
      texts.push(chunk.text);
      vectors.push(SyntheticCorpus.vectorLiteral(chunk.vector));
    }
    if (inFlight.size >= 2) await Promise.race(inFlight);
    const insert = pool.query(
      `insert into chunks (document_id, owner_id, ordinal, page_start, page_end, text, embedding, embedding_model)
       select d, o, n, n + 1, n + 1, t, e::vector, 'bench'
         from unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[]) as c(d, o, n, t, e)`,
      [batch.document, batch.owner, batch.ordinal, texts, vectors],
    );
    inFlight.add(insert);
    void insert.finally(() => inFlight.delete(insert)).catch(() => undefined);
  }
  await Promise.all(inFlight);
  return { userIds, chunks: options.chunks, loadMs: performance.now() - started };
}

/** Builds the indexes the migration defines (HNSW, then GIN), with memory for a fast build. */
export async function buildIndexes(
  database: Database,
): Promise<{ hnswMs: number; ginMs: number; maintenanceWorkMem: string }> {
  const client = await database.pool.connect();
  try {
    // 100k x 1536 float4 is 600 MB; a graph that does not fit is built far more slowly.
    const maintenanceWorkMem = database.kind === 'postgres' ? '2GB' : '512MB';
    await client.query(`set maintenance_work_mem = '${maintenanceWorkMem}'`);
    if (database.kind === 'postgres') await client.query('set max_parallel_maintenance_workers = 1');
    let started = performance.now();
    await client.query('create index chunks_embedding on chunks using hnsw (embedding vector_cosine_ops)');
    const hnswMs = performance.now() - started;
    started = performance.now();
    await client.query('create index chunks_tsv on chunks using gin (tsv)');
    const ginMs = performance.now() - started;
    await client.query('analyze chunks');
    await client.query('analyze documents');
    return { hnswMs, ginMs, maintenanceWorkMem };
  } finally {
    client.release();
  }
}

/** Runs `work` on one client inside a transaction with planner settings (`enable_indexscan = off`...). */
export async function withSettings<T>(
  database: Database,
  settings: readonly string[],
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await database.pool.connect();
  try {
    await client.query('begin');
    for (const setting of settings) await client.query(`set local ${setting}`);
    const result = await work(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/** The vector half of hybrid search (db/queries/search.ts): its filter and its order. */
const VECTOR_QUERY = `select id from chunks
  where (owner_id = $1 or owner_id is null) and embedding is not null
  order by embedding <=> $2::vector limit $3`;

/** The exact top-k under the per-user filter: the same ordering with index scans switched off. */
export async function exactNeighbours(
  database: Database,
  userId: string,
  vector: Float32Array,
  k: number,
): Promise<string[]> {
  return withSettings(database, ['enable_indexscan = off'], async (client) => {
    const { rows } = await client.query<{ id: string }>(VECTOR_QUERY, [
      userId,
      SyntheticCorpus.vectorLiteral(vector),
      k,
    ]);
    return rows.map((row) => row.id);
  });
}

/** Whether the planner answers a user's filtered vector query from the HNSW index. */
export async function plannerUsesHnsw(
  database: Database,
  userId: string,
  vector: Float32Array,
): Promise<boolean> {
  const { rows } = await database.pool.query<Record<string, unknown>>(
    `explain (format json) ${VECTOR_QUERY}`,
    [userId, SyntheticCorpus.vectorLiteral(vector), 40],
  );
  return JSON.stringify(rows).includes('chunks_embedding');
}
