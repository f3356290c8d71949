import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { eraseUser } from './index.ts';
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
