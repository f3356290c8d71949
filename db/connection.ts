import { existsSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { vector } from '@electric-sql/pglite-pgvector';
import pg from 'pg';
import { acquireEmbeddedLock, type EmbeddedLock } from './embedded-lock.ts';
import { ensureTemplate, seedFromTemplate } from './embedded-template.ts';
import { DatabaseSetupError } from './errors.ts';
import { migrate } from './migrate.ts';
import { analyzeStaleTables, tuneEmbeddedPlanner } from './planner-statistics.ts';

/** Anything that runs a query: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.Pool | pg.PoolClient, 'query'>;

/** An open database: Postgres or embedded, behind the same node-postgres pool. */
export interface Database {
  readonly kind: 'postgres' | 'embedded';
  readonly pool: pg.Pool;
  /** The `vector` extension's version, e.g. "0.8.0". */
  readonly vectorVersion: string;
  /** Whether pgvector supports iterative index scans (>= 0.8), used for filtered search. */
  readonly iterativeScans: boolean;
  readonly embeddingDimensions: number;
  /**
   * Brings the planner's statistics up to date after bulk changes (see
   * planner-statistics.ts): ANALYZEs the embedded database's stale tables, which no
   * autovacuum visits; a no-op on Postgres, whose autovacuum does it. Returns the tables.
   */
  refreshStatistics(): Promise<string[]>;
  close(): Promise<void>;
}

export interface OpenDatabaseOptions {
  /** Postgres URL; undefined opens the embedded database in `dataDir`. */
  url?: string | undefined;
  /** Folder of the embedded database (it lives in `<dataDir>/pglite`). */
  dataDir: string;
  embeddingDimensions: number;
  /** Apply pending migrations (default true). */
  migrate?: boolean;
  /** Refuse a schema whose embedding size differs from `embeddingDimensions` (default true). */
  checkDimensions?: boolean;
}

const MINIMUM_VECTOR_VERSION = '0.5.0';

/**
 * Opens the database, checks pgvector, applies migrations and checks that the
 * schema's embedding dimensions match the configuration. Every failure a user can
 * fix is a {@link DatabaseSetupError} that says how.
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const opened = options.url
    ? await openPostgres(options.url)
    : await openEmbedded(options.dataDir, options.embeddingDimensions);
  try {
    const vectorVersion = await checkVectorAvailable(opened.pool, opened.kind);
    if (options.migrate !== false)
      await migrate(opened.pool, { embeddingDimensions: options.embeddingDimensions });
    if (options.checkDimensions !== false)
      await checkEmbeddingDimensions(opened.pool, options.embeddingDimensions);
    if (opened.kind === 'embedded') await tuneEmbeddedPlanner(opened.pool);
    const iterativeScans = compareVersions(vectorVersion, '0.8.0') >= 0;
    return {
      kind: opened.kind,
      pool: opened.pool,
      vectorVersion,
      iterativeScans,
      embeddingDimensions: options.embeddingDimensions,
      refreshStatistics: () =>
        opened.kind === 'embedded' ? analyzeStaleTables(opened.pool) : Promise.resolve([]),
      close: opened.close,
    };
  } catch (error) {
    await opened.close();
    throw error;
  }
}

interface Opened {
  kind: Database['kind'];
  pool: pg.Pool;
  close(): Promise<void>;
}

/**
 * Session setting for every connection. With pgvector >= 0.8, filtered HNSW search
 * keeps scanning the index until enough rows pass the per-user filter instead of
 * returning fewer than k rows. On older versions it is an inert placeholder.
 */
const ITERATIVE_SCAN_SETTING = { name: 'hnsw.iterative_scan', value: 'relaxed_order' } as const;

async function openPostgres(url: string): Promise<Opened> {
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    options: `-c ${ITERATIVE_SCAN_SETTING.name}=${ITERATIVE_SCAN_SETTING.value}`,
  });
  // An idle client that errors (server restart) must not crash the process.
  pool.on('error', () => undefined);
  try {
    await pool.query('select 1');
  } catch (error) {
    await pool.end();
    throw new DatabaseSetupError(
      `Could not connect to Postgres at ${redactUrl(url)}: ${(error as Error).message}. ` +
        `Check DATABASE_URL, or unset it to use the embedded database.`,
      { cause: error },
    );
  }
  return { kind: 'postgres', pool, close: () => pool.end() };
}

async function openEmbedded(dataDir: string, embeddingDimensions: number): Promise<Opened> {
  const directory = path.join(dataDir, 'pglite');
  const lock: EmbeddedLock = acquireEmbeddedLock(directory);
  let database: PGlite;
  try {
    // A new database starts as a copy of a migrated empty one (db/embedded-template.ts).
    if (!existsSync(path.join(directory, 'PG_VERSION')))
      await seedFromTemplate(directory, embeddingDimensions, (template) =>
        buildEmbeddedTemplate(template, embeddingDimensions),
      );
    database = await PGlite.create(directory, { extensions: { vector } });
  } catch (error) {
    lock.release();
    throw new DatabaseSetupError(
      `The embedded database in ${directory} could not be opened (${(error as Error).message}). ` +
        `If it is damaged, move that folder away and start again (its data is lost unless you have a copy), ` +
        `or set DATABASE_URL to use Postgres.`,
      { cause: error },
    );
  }
  // PGlite is one backend session shared by every pooled "connection": set it once.
  await database.exec(`set ${ITERATIVE_SCAN_SETTING.name} = '${ITERATIVE_SCAN_SETTING.value}'`);
  const pool = new pg.Pool(createPgConfig(database));
  return {
    kind: 'embedded',
    pool,
    async close() {
      await pool.end();
      await database.close();
      lock.release();
    },
  };
}

/** Builds the template new embedded databases start from, if missing (`npm install` does). */
export async function prepareEmbeddedTemplate(embeddingDimensions: number): Promise<void> {
  await ensureTemplate(embeddingDimensions, (template) =>
    buildEmbeddedTemplate(template, embeddingDimensions),
  );
}

/** A new embedded database in `directory`, migrated, then closed: the template for new ones. */
async function buildEmbeddedTemplate(directory: string, embeddingDimensions: number): Promise<void> {
  const database = await PGlite.create(directory, { extensions: { vector } });
  const pool = new pg.Pool(createPgConfig(database));
  try {
    await migrate(pool, { embeddingDimensions });
  } finally {
    await pool.end();
    await database.close();
  }
}

/**
 * Returns the version of pgvector the server offers, or throws a {@link DatabaseSetupError}
 * that says how to install or upgrade it.
 */
export async function checkVectorAvailable(db: Queryable, kind: Database['kind']): Promise<string> {
  const { rows } = await db.query<{ installed: string | null; available: string | null }>(
    `select (select extversion from pg_extension where extname = 'vector') as installed,
            (select default_version from pg_available_extensions where name = 'vector') as available`,
  );
  const version = rows[0]?.installed ?? rows[0]?.available ?? null;
  if (version === null) {
    throw new DatabaseSetupError(
      kind === 'embedded'
        ? 'The embedded database has no pgvector extension; reinstall dependencies with `npm ci`.'
        : 'The Postgres server has no pgvector extension. Install it on the database server ' +
            '(Debian/Ubuntu: `apt install postgresql-<major>-pgvector`, or build it from source: ' +
            "https://github.com/pgvector/pgvector#installation; this repository's `.ci/install-pgvector.sh` " +
            'does that on Debian 12), or use a Postgres image that ships it (pgvector/pgvector).',
    );
  }
  if (compareVersions(version, MINIMUM_VECTOR_VERSION) < 0) {
    throw new DatabaseSetupError(
      `pgvector ${version} is too old: version ${MINIMUM_VECTOR_VERSION} or newer is needed for HNSW indexes. ` +
        'Upgrade the extension on the server, then run `ALTER EXTENSION vector UPDATE;`.',
    );
  }
  return version;
}

async function checkEmbeddingDimensions(pool: pg.Pool, configured: number): Promise<void> {
  // For a vector column, atttypmod is its declared dimension count.
  const { rows } = await pool.query<{ table: string; dimensions: number }>(
    `select c.relname as table, a.atttypmod as dimensions
       from pg_attribute a join pg_class c on c.oid = a.attrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relname in ('chunks', 'memories') and a.attname = 'embedding'`,
  );
  const mismatch = rows.find((row) => row.dimensions !== configured);
  if (mismatch) {
    throw new DatabaseSetupError(
      `The database stores ${mismatch.dimensions}-dimensional embeddings but EMBEDDING_DIMENSIONS is ${configured}. ` +
        `Either set EMBEDDING_DIMENSIONS=${mismatch.dimensions} (and an embedding model that produces that size), ` +
        `or switch the database to the new size with \`npm run db:migrate -- --reset-embeddings\` and re-ingest ` +
        `your documents (see "Changing the embedding model" in the README).`,
    );
  }
}

/** Compares dotted version strings numerically: "0.10.0" > "0.8.7". */
export function compareVersions(left: string, right: string): number {
  const a = left.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  const b = right.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0);
  for (let index = 0; index < Math.max(a.length, b.length); index++) {
    const difference = (a[index] ?? 0) - (b[index] ?? 0);
    if (difference !== 0) return Math.sign(difference);
  }
  return 0;
}

function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(unparseable URL)';
  }
}
