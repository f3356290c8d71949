import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  checkVectorAvailable,
  compareVersions,
  DatabaseSetupError,
  migrate,
  openDatabase,
  readMigrations,
  resetEmbeddings,
  type Queryable,
} from './index.ts';
import {
  backends,
  createTestDatabase,
  createThrowawayDatabase,
  dropThrowawayDatabase,
} from '../test/support/database.ts';

const temporaryFolders: string[] = [];
function temporaryFolder(): string {
  const folder = mkdtempSync(path.join(tmpdir(), 'assistant-connection-'));
  temporaryFolders.push(folder);
  return folder;
}
afterAll(() => {
  for (const folder of temporaryFolders) rmSync(folder, { recursive: true, force: true });
});

describe.each(backends)('database setup on %s', (backend) => {
  it('applies migrations once and records them; running again changes nothing', async () => {
    const test = await createTestDatabase(backend, 8);
    try {
      const pool = test.database.pool;
      const { rows } = await pool.query('select version from schema_migrations order by version');
      const versions = readMigrations().map((migration) => migration.version);
      expect(versions.length).toBeGreaterThan(1);
      expect(rows.map((row) => row.version)).toEqual(versions);
      expect(await migrate(pool, { embeddingDimensions: 8 })).toEqual([]);
      const { rows: counted } = await pool.query('select count(*)::int as count from schema_migrations');
      expect(counted[0].count).toBe(versions.length);
    } finally {
      await test.cleanup();
    }
  });

  it('refuses a database created with other embedding dimensions, and can be switched', async () => {
    const test = await createTestDatabase(backend, 8);
    const options = { url: test.url, dataDir: test.dataDir, embeddingDimensions: 12 };
    await test.database.close();
    try {
      const error = await openDatabase(options).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(DatabaseSetupError);
      expect((error as Error).message).toMatch(
        /stores 8-dimensional embeddings but EMBEDDING_DIMENSIONS is 12/,
      );
      expect((error as Error).message).toContain('--reset-embeddings');

      const switching = await openDatabase({ ...options, checkDimensions: false });
      await resetEmbeddings(switching.pool, 12);
      await switching.close();
      const reopened = await openDatabase(options);
      expect(reopened.embeddingDimensions).toBe(12);
      await reopened.close();
    } finally {
      if (test.url) await dropThrowawayDatabase(test.url);
      rmSync(test.dataDir, { recursive: true, force: true });
    }
  });
});

describe('embedded database', () => {
  it('refuses a second opener in the same process with a clear error', async () => {
    const dataDir = temporaryFolder();
    const first = await openDatabase({ dataDir, embeddingDimensions: 8 });
    try {
      const error = await openDatabase({ dataDir, embeddingDimensions: 8 }).catch(
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(DatabaseSetupError);
      expect((error as Error).message).toMatch(/in use by another process/);
    } finally {
      await first.close();
    }
    // Closed: it can be opened again.
    const again = await openDatabase({ dataDir, embeddingDimensions: 8 });
    await again.close();
  });

  it('refuses a second process with a clear message and no stack trace', async () => {
    const dataDir = temporaryFolder();
    const first = await openDatabase({ dataDir, embeddingDimensions: 8 });
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'app/migrate.ts'], {
        env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', EMBEDDING_DIMENSIONS: '8' },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toMatch(/in use by another process \(pid \d+/);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await first.close();
    }
  });

  it('takes over a lock left by a process that died', async () => {
    const dataDir = temporaryFolder();
    mkdirSync(path.join(dataDir, 'pglite'), { recursive: true });
    // pid 2^22 + 1 is above Linux's pid_max default, so no such process exists.
    writeFileSync(
      path.join(dataDir, 'pglite', 'pglite.lock'),
      JSON.stringify({ pid: 4_194_305, host: (await import('node:os')).hostname(), startedAt: 'then' }),
    );
    const database = await openDatabase({ dataDir, embeddingDimensions: 8 });
    await database.close();
  });

  it('explains a damaged data folder instead of crashing', async () => {
    const dataDir = temporaryFolder();
    mkdirSync(path.join(dataDir, 'pglite'), { recursive: true });
    writeFileSync(path.join(dataDir, 'pglite', 'PG_VERSION'), 'not a version');
    const error = await openDatabase({ dataDir, embeddingDimensions: 8 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseSetupError);
    expect((error as Error).message).toMatch(/could not be opened.*move that folder away/);
  });
});

describe('pgvector checks', () => {
  const catalog = (installed: string | null, available: string | null): Queryable => ({
    query: (async () => ({ rows: [{ installed, available }] })) as unknown as Queryable['query'],
  });

  it('says how to install pgvector when the server lacks it', async () => {
    const error = await checkVectorAvailable(catalog(null, null), 'postgres').catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DatabaseSetupError);
    expect((error as Error).message).toMatch(/no pgvector extension.*postgresql-<major>-pgvector/s);
  });

  it('refuses a pgvector older than 0.5', async () => {
    const error = await checkVectorAvailable(catalog('0.4.4', '0.4.4'), 'postgres').catch(
      (caught: unknown) => caught,
    );
    expect((error as Error).message).toMatch(/pgvector 0\.4\.4 is too old/);
    await expect(checkVectorAvailable(catalog(null, '0.8.0'), 'postgres')).resolves.toBe('0.8.0');
  });

  it('compares versions numerically', () => {
    expect(compareVersions('0.10.0', '0.8.7')).toBe(1);
    expect(compareVersions('0.5', '0.5.0')).toBe(0);
    expect(compareVersions('0.4.4', '0.5.0')).toBe(-1);
  });
});

describe.runIf(process.env.TEST_DATABASE_URL)('Postgres connection', () => {
  it('explains an unreachable server', async () => {
    const error = await openDatabase({
      url: 'postgres://nobody:secret@127.0.0.1:1/none',
      dataDir: temporaryFolder(),
      embeddingDimensions: 8,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseSetupError);
    expect((error as Error).message).toMatch(
      /Could not connect to Postgres at postgres:\/\/nobody:\*\*\*@127\.0\.0\.1:1\/none/,
    );
  });

  it('creates the schema in an empty database', async () => {
    const url = await createThrowawayDatabase();
    try {
      const database = await openDatabase({ url, dataDir: temporaryFolder(), embeddingDimensions: 8 });
      expect(database.kind).toBe('postgres');
      expect(database.iterativeScans).toBe(true);
      await database.close();
    } finally {
      await dropThrowawayDatabase(url);
    }
  });
});
