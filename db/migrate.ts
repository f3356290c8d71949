import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { DatabaseSetupError } from './errors.ts';
import { transaction } from './transaction.ts';

const MIGRATIONS_DIRECTORY = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

/** An arbitrary constant: the advisory lock that serialises migrations across processes. */
const MIGRATION_LOCK_KEY = 7_406_213_911;

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export interface MigrateOptions {
  /** Substituted for `{{embedding_dimensions}}` in the SQL files. */
  embeddingDimensions: number;
}

/** Reads `db/migrations/NNNN_name.sql`, ordered by version. */
export function readMigrations(directory = MIGRATIONS_DIRECTORY): Migration[] {
  const migrations = readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .map((file) => {
      const match = /^(\d+)_([\w-]+)\.sql$/.exec(file);
      if (!match) throw new Error(`Migration file ${file} must be named NNNN_name.sql`);
      return {
        version: Number(match[1]),
        name: match[2] ?? file,
        sql: readFileSync(path.join(directory, file), 'utf8'),
      };
    })
    .sort((a, b) => a.version - b.version);
  const versions = new Set(migrations.map((migration) => migration.version));
  if (versions.size !== migrations.length)
    throw new Error(`Two migrations in ${directory} share a version number`);
  return migrations;
}

/**
 * Applies every migration not yet recorded in `schema_migrations`, in order, each in
 * its own transaction. Safe to run concurrently from several processes (an advisory
 * lock serialises them) and idempotent. Returns the versions it applied.
 */
export async function migrate(
  pool: pg.Pool,
  options: MigrateOptions,
  migrations: Migration[] = readMigrations(),
): Promise<number[]> {
  const client = await pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await client.query(`create table if not exists schema_migrations (
        version integer primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`);
      const { rows } = await client.query<{ version: number }>('select version from schema_migrations');
      const applied = new Set(rows.map((row) => row.version));
      const newlyApplied: number[] = [];
      for (const migration of migrations) {
        if (applied.has(migration.version)) continue;
        await applyOne(client, migration, options);
        newlyApplied.push(migration.version);
      }
      return newlyApplied;
    } finally {
      await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    client.release();
  }
}

async function applyOne(client: pg.PoolClient, migration: Migration, options: MigrateOptions): Promise<void> {
  const sql = migration.sql.replaceAll('{{embedding_dimensions}}', String(options.embeddingDimensions));
  try {
    await client.query('begin');
    await client.query(sql);
    await client.query('insert into schema_migrations (version, name) values ($1, $2)', [
      migration.version,
      migration.name,
    ]);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    const message = (error as Error).message;
    if (/permission denied to create extension|must be superuser|must be owner/.test(message)) {
      throw new DatabaseSetupError(
        `Migration ${migration.version} (${migration.name}) needs the pgvector extension, and this database user may not ` +
          `create it. Run \`CREATE EXTENSION vector;\` once as a superuser in this database, then start again.`,
        { cause: error },
      );
    }
    throw new DatabaseSetupError(`Migration ${migration.version} (${migration.name}) failed: ${message}`, {
      cause: error,
    });
  }
}

/**
 * Switches the embedding columns to a new dimension count. Existing embeddings are
 * dropped (they cannot be converted), so search runs on full text alone until the
 * documents are ingested again and new memories are written. Done in one transaction.
 */
export async function resetEmbeddings(pool: pg.Pool, dimensions: number): Promise<void> {
  if (!Number.isInteger(dimensions) || dimensions < 2)
    throw new RangeError(`Invalid dimension count ${dimensions}`);
  await transaction(pool, async (client) => {
    for (const table of ['chunks', 'memories']) {
      await client.query(`drop index if exists ${table}_embedding`);
      await client.query(`alter table ${table} alter column embedding type vector(${dimensions}) using null`);
      await client.query(`update ${table} set embedding_model = null`);
      await client.query(
        `create index ${table}_embedding on ${table} using hnsw (embedding vector_cosine_ops)`,
      );
    }
  });
}
