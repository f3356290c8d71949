import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { DeferredCompaction, eraseUser, pendingCompactionFile } from './index.ts';
import { existsSync } from 'node:fs';
import { sweepAfterCrash } from '../agent/startup-sweep.ts';
import { openDatabase } from './connection.ts';
import { populatePerson } from './erase-test-data.ts';
import { backends, createTestDatabase, type TestDatabase } from '../test/support/database.ts';

const DIMENSIONS = 8;
/**
 * One token to the full-text parser (a word with digits is not stemmed), so the GIN
 * indexes hold it verbatim too; looked for case-insensitively.
 */
const ERASED = 'zqx7erased9marker';
const KEPT = 'zqx7kept9marker';

/** Files under `directory` whose bytes contain `marker` (any case), relative paths. */
async function filesContaining(directory: string, marker: string): Promise<string[]> {
  const needle = marker.toLowerCase();
  const found: string[] = [];
  for (const entry of await readdir(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const bytes = await readFile(file).catch(() => undefined); // removed while listing
    if (bytes?.toString('latin1').toLowerCase().includes(needle)) found.push(path.relative(directory, file));
  }
  return found;
}

describe.each(backends)('erasure leaves nothing in the database files on %s', (backend) => {
  let test: TestDatabase;
  let uploadsDirectory: string;
  let erasedId: string;
  let closed = false;

  beforeAll(async () => {
    test = await createTestDatabase(backend, DIMENSIONS);
    uploadsDirectory = path.join(test.dataDir, 'uploads');
    await mkdir(uploadsDirectory, { recursive: true });
    const pool = test.database.pool;
    const common = { uploadsDirectory, dimensions: DIMENSIONS };
    erasedId = await populatePerson(pool, { ...common, marker: ERASED, phone: '+15550000011' });
    await populatePerson(pool, { ...common, marker: KEPT, phone: '+15550000012' });
    // Statistics hold sample values of text columns: put the marker there too.
    await pool.query('analyze');
    if (backend === 'embedded') await pool.query('checkpoint');
  });
  afterAll(async () => {
    if (closed) await rm(test.dataDir, { recursive: true, force: true });
    else await test.cleanup();
  });

  it.runIf(backend === 'embedded')(
    'no file under the data folder holds the erased text, in tables, indexes, statistics or the log',
    async () => {
      // The marker is on disk before: the scan below can see it.
      const before = await filesContaining(test.dataDir, ERASED);
      expect(before.some((file) => file.startsWith('pglite/base/'))).toBe(true);
      expect(before.some((file) => file.startsWith('pglite/pg_wal/'))).toBe(true);
      expect(before).toContain(`uploads/${ERASED}-upload.bin`.replaceAll('/', path.sep));

      const receipt = await eraseUser(test.database, erasedId, uploadsDirectory);
      expect(receipt.rowsDeleted.chunks).toBe(1);

      expect(await filesContaining(test.dataDir, ERASED)).toEqual([]);
      // Still there after the database is closed (nothing held back in memory and written later).
      await test.database.close();
      closed = true;
      expect(await filesContaining(test.dataDir, ERASED)).toEqual([]);
      // The other person's data is intact and was written out.
      expect((await filesContaining(test.dataDir, KEPT)).length).toBeGreaterThan(0);
    },
  );

  it.runIf(backend === 'postgres')(
    'vacuums every table that lost rows, and the statistics no longer show the text',
    async () => {
      const pool = test.database.pool;
      await eraseUser(test.database, erasedId, uploadsDirectory);
      const { rows } = await pool.query<{ relname: string; vacuumed: boolean }>(
        `select relname, last_vacuum is not null as vacuumed
           from pg_stat_user_tables where relname = any($1) order by relname`,
        [['messages', 'memories', 'chunks', 'documents', 'uploads', 'users', 'conversations']],
      );
      expect(rows).toHaveLength(7);
      for (const row of rows) expect(row, row.relname).toMatchObject({ vacuumed: true });
      const { rows: statistics } = await pool.query<{ text: string }>(
        `select coalesce(most_common_vals::text, '') || coalesce(histogram_bounds::text, '') as text
           from pg_stats where schemaname = current_schema()`,
      );
      expect(statistics.some((row) => row.text.includes(KEPT))).toBe(true);
      expect(statistics.filter((row) => row.text.includes(ERASED))).toEqual([]);
    },
  );
});

describe('erasure on the embedded database while conversations are live', () => {
  /** Two people, the erased one with the marker everywhere; compaction deferred for every table. */
  async function erasedWhileBusy() {
    const test = await createTestDatabase('embedded', DIMENSIONS);
    const uploadsDirectory = path.join(test.dataDir, 'uploads');
    await mkdir(uploadsDirectory, { recursive: true });
    const common = { uploadsDirectory, dimensions: DIMENSIONS };
    const erasedId = await populatePerson(test.database.pool, {
      ...common,
      marker: ERASED,
      phone: '+15550000021',
    });
    await populatePerson(test.database.pool, { ...common, marker: KEPT, phone: '+15550000022' });
    await test.database.pool.query('checkpoint');
    const idle = { now: false };
    const file = pendingCompactionFile(test.dataDir);
    const deferred = new DeferredCompaction(test.database.pool, file, () => idle.now);
    // Every table counts as large here: all of the compaction waits.
    const receipt = await eraseUser(test.database, erasedId, uploadsDirectory, {
      deferred,
      immediateBytes: 0,
    });
    return { test, idle, file, deferred, receipt };
  }

  it('compacts large tables once no conversation is live: nothing of the erased text is left then', async () => {
    const { test, idle, file, deferred, receipt } = await erasedWhileBusy();
    try {
      expect(receipt.compactionDeferred).toEqual(expect.arrayContaining(['chunks', 'messages', 'memories']));
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(
        expect.arrayContaining(receipt.compactionDeferred),
      );
      // While busy it waits (the rows are gone, their bytes not yet).
      await deferred.runIfIdle();
      expect((await filesContaining(test.dataDir, ERASED)).length).toBeGreaterThan(0);
      idle.now = true;
      await deferred.runIfIdle();
      expect(await filesContaining(test.dataDir, ERASED)).toEqual([]);
      expect(existsSync(file)).toBe(false);
      expect(deferred.waiting).toEqual([]);
    } finally {
      deferred.stop();
      await test.cleanup();
    }
  });

  it('leaves what still waits to the next start, which compacts it before serving', async () => {
    const { test, file, deferred, receipt } = await erasedWhileBusy();
    deferred.stop();
    await test.database.close();
    expect(existsSync(file)).toBe(true);
    const reopened = await openDatabase({ dataDir: test.dataDir, embeddingDimensions: DIMENSIONS });
    try {
      const swept = await sweepAfterCrash(
        reopened,
        path.join(test.dataDir, 'uploads'),
        new Date(0),
        test.dataDir,
      );
      expect([...swept.compactedTables].sort()).toEqual([...receipt.compactionDeferred].sort());
      expect(await filesContaining(test.dataDir, ERASED)).toEqual([]);
      expect((await filesContaining(test.dataDir, KEPT)).length).toBeGreaterThan(0);
      expect(existsSync(file)).toBe(false);
    } finally {
      await reopened.close();
      await rm(test.dataDir, { recursive: true, force: true });
    }
  });
});
