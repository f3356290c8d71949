import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { openDatabase, type Database } from '../../db/index.ts';

export type Backend = 'embedded' | 'postgres';

/**
 * The database backends tests run on: always the embedded one, and real Postgres
 * too when TEST_DATABASE_URL is set (`.ci/run` sets it). Use with `describe.each`.
 */
export const backends: Backend[] = process.env.TEST_DATABASE_URL ? ['embedded', 'postgres'] : ['embedded'];

export interface TestDatabase {
  database: Database;
  /** Postgres URL of the throwaway database (postgres backend only). */
  url: string | undefined;
  /** Temporary folder: the embedded database lives in it, uploads can go under it. */
  dataDir: string;
  cleanup(): Promise<void>;
}

/**
 * A fresh, migrated, empty database for one test file: an embedded database in a
 * temporary folder, or a new database created on the TEST_DATABASE_URL server.
 */
export async function createTestDatabase(backend: Backend, embeddingDimensions = 8): Promise<TestDatabase> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assistant-test-'));
  if (backend === 'embedded') {
    const database = await openDatabase({ dataDir, embeddingDimensions });
    return {
      database,
      url: undefined,
      dataDir,
      async cleanup() {
        await database.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  }
  const url = await createThrowawayDatabase();
  const database = await openDatabase({ url, dataDir, embeddingDimensions });
  return {
    database,
    url,
    dataDir,
    async cleanup() {
      await database.close();
      await dropThrowawayDatabase(url);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates an empty database on the TEST_DATABASE_URL server and returns its URL. */
export async function createThrowawayDatabase(): Promise<string> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `test_${randomUUID().replaceAll('-', '')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** A Postgres server URL for a test that runs programs needing DATABASE_URL. */
export interface PostgresServer {
  url: string;
  /** Where it comes from, for the test's own messages. */
  kind: 'TEST_DATABASE_URL' | 'embedded over a socket';
  close(): Promise<void>;
}

/**
 * A throwaway database on the TEST_DATABASE_URL server, or, without one (a fresh clone
 * with only Node and npm), an in-memory embedded database served over the Postgres wire
 * protocol on 127.0.0.1 (pglite-socket). The embedded one is one backend session that
 * the server shares among its clients, queueing their queries and keeping a transaction
 * to the client that opened it: enough for a few processes that each open a pool, not
 * a stand-in for Postgres's concurrency.
 */
export async function startPostgresServer(embeddingDimensions: number): Promise<PostgresServer> {
  if (process.env.TEST_DATABASE_URL) {
    const url = await createThrowawayDatabase();
    return { url, kind: 'TEST_DATABASE_URL', close: () => dropThrowawayDatabase(url) };
  }
  // Made as the app makes an embedded database (from the migrated template: no initdb), then served.
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assistant-postgres-'));
  await (await openDatabase({ dataDir, embeddingDimensions })).close();
  const database = await PGlite.create(path.join(dataDir, 'pglite'), { extensions: { vector } });
  // Each app process opens a pool of up to 10 connections.
  const server = new PGLiteSocketServer({ db: database, host: '127.0.0.1', port: 0, maxConnections: 40 });
  await server.start();
  return {
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    kind: 'embedded over a socket',
    async close() {
      await server.stop();
      await database.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export async function dropThrowawayDatabase(url: string): Promise<void> {
  const serverUrl = process.env.TEST_DATABASE_URL as string;
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${name} with (force)`);
  } finally {
    await admin.end();
  }
}

/** A deterministic unit vector pointing mostly along `axis`, with a little of `mix`. */
export function axisVector(
  dimensions: number,
  axis: number,
  mix?: { axis: number; weight: number },
): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  vector[axis % dimensions] = 1;
  if (mix) vector[mix.axis % dimensions] = (vector[mix.axis % dimensions] ?? 0) + mix.weight;
  const norm = Math.hypot(...vector);
  return vector.map((value) => value / norm);
}

/** Deterministic pseudo-random unit vectors (mulberry32), for search tests that need realistic spreads. */
export function seededVectors(seed: number, dimensions: number): () => number[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => {
    const vector = Array.from({ length: dimensions }, () => next() * 2 - 1);
    const norm = Math.hypot(...vector);
    return vector.map((value) => value / norm);
  };
}

/** Cosine distance of two unit vectors. */
export function cosineDistance(left: readonly number[], right: readonly number[]): number {
  let dot = 0;
  for (let index = 0; index < left.length; index++) dot += (left[index] ?? 0) * (right[index] ?? 0);
  return 1 - dot;
}
