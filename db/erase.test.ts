import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { eraseUser, type Queryable } from './index.ts';
import { populatePerson } from './erase-test-data.ts';
import { backends, createTestDatabase, type TestDatabase } from '../test/support/database.ts';

const DIMENSIONS = 8;

/** Tables with no personal data, by design. Any other table must hold per-user rows. */
const NON_PERSONAL_TABLES = ['schema_migrations', 'erasure_receipts'];

async function userTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ table_name: string }>(
    `select table_name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
  );
  return rows.map((row) => row.table_name);
}

/** Every row of a table as JSON text, so a marker or an id can be looked for anywhere in it. */
async function rowsAsText(db: Queryable, table: string): Promise<string[]> {
  const { rows } = await db.query<{ row: string }>(`select to_jsonb(t)::text as row from ${table} t`);
  return rows.map((row) => row.row);
}

describe.each(backends)('eraseUser on %s', (backend) => {
  let test: TestDatabase;
  let uploadsDirectory: string;
  const people = {
    erased: { marker: 'ALICE-MARKER', id: '' },
    kept: { marker: 'BOB-MARKER', id: '' },
  };

  beforeAll(async () => {
    test = await createTestDatabase(backend, DIMENSIONS);
    uploadsDirectory = path.join(test.dataDir, 'uploads');
    await mkdir(uploadsDirectory, { recursive: true });
    for (const [person, phone] of [
      [people.erased, '+15550000001'],
      [people.kept, '+15550000002'],
    ] as const) {
      person.id = await populatePerson(test.database.pool, {
        marker: person.marker,
        phone,
        uploadsDirectory,
        dimensions: DIMENSIONS,
      });
    }
  });
  afterAll(() => test.cleanup());

  it('removes every row and file of one user, in every table of the catalog, and keeps the other', async () => {
    const db = test.database.pool;
    const tables = await userTables(db);
    const personalTables = tables.filter((table) => !NON_PERSONAL_TABLES.includes(table));
    expect(personalTables.length).toBeGreaterThanOrEqual(8);

    // Every personal table must hold rows of both people, so the check below covers it:
    // a table added later without test data here fails this test until it is covered.
    const before = new Map<string, string[]>();
    for (const table of personalTables) {
      const rows = await rowsAsText(db, table);
      before.set(table, rows);
      const mentions = (id: string) => rows.some((row) => row.includes(id));
      expect(mentions(people.erased.id), `${table} has no row of the erased user`).toBe(true);
      expect(mentions(people.kept.id), `${table} has no row of the kept user`).toBe(true);
    }

    const receipt = await eraseUser(test.database, people.erased.id, uploadsDirectory);

    for (const table of tables) {
      const rows = await rowsAsText(db, table);
      for (const row of rows) {
        expect(row, `${table} still holds the erased user's data`).not.toContain(people.erased.id);
        expect(row, `${table} still holds the erased user's data`).not.toContain(people.erased.marker);
      }
      if (before.has(table)) {
        const keptBefore = (before.get(table) ?? []).filter((row) => row.includes(people.kept.id));
        const keptAfter = rows.filter((row) => row.includes(people.kept.id));
        expect(keptAfter, `${table} lost rows of the kept user`).toEqual(keptBefore);
      }
    }
    expect(existsSync(path.join(uploadsDirectory, `${people.erased.marker}-upload.bin`))).toBe(false);
    expect(existsSync(path.join(uploadsDirectory, `${people.kept.marker}-upload.bin`))).toBe(true);

    expect(receipt.filesDeleted).toBe(1);
    expect(receipt.filesNotDeleted).toEqual([]);
    expect(receipt.rowsDeleted).toMatchObject({
      users: 1,
      user_identities: 2,
      conversations: 1,
      messages: 1,
      turns: 1,
      documents: 1,
      chunks: 1,
      memories: 1,
      uploads: 2,
      account_link_codes: 1,
    });
    const stored = await rowsAsText(db, 'erasure_receipts');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toContain(receipt.id);
  });

  it('succeeds with zero counts for a user that does not exist', async () => {
    const receipt = await eraseUser(test.database, '00000000-0000-4000-8000-000000000000', uploadsDirectory);
    expect(Object.values(receipt.rowsDeleted).every((count) => count === 0)).toBe(true);
    expect(receipt.filesDeleted).toBe(0);
  });
});
