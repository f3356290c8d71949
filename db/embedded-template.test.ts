import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './connection.ts';
import { seedFromTemplate, templateKey } from './embedded-template.ts';
import { readMigrations } from './migrate.ts';

const CACHE = fileURLToPath(new URL('../node_modules/.cache/voice-assistant/', import.meta.url));

describe('new embedded databases from a template', () => {
  const directories: string[] = [];
  const newDirectory = async () => {
    const directory = await mkdtemp(path.join(tmpdir(), 'template-'));
    directories.push(directory);
    return directory;
  };
  afterAll(() =>
    Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true }))),
  );

  it('starts each new database migrated and empty, from the cached template', async () => {
    const first = await newDirectory();
    const database = await openDatabase({ dataDir: first, embeddingDimensions: 24 });
    await database.pool.query('insert into users default values');
    await database.close();
    expect(existsSync(path.join(CACHE, `pglite-${templateKey(24)}`, 'PG_VERSION'))).toBe(true);

    const second = await openDatabase({ dataDir: await newDirectory(), embeddingDimensions: 24 });
    try {
      const versions = await second.pool.query<{ version: number }>(
        'select version from schema_migrations order by version',
      );
      expect(versions.rows.map((row) => Number(row.version))).toEqual(readMigrations().map((m) => m.version));
      const users = await second.pool.query<{ n: number }>('select count(*)::int as n from users');
      expect(users.rows[0]?.n).toBe(0);
      const column = await second.pool.query<{ type: string }>(
        `select format_type(atttypid, atttypmod) as type from pg_attribute
         where attrelid = 'chunks'::regclass and attname = 'embedding'`,
      );
      expect(column.rows[0]?.type).toBe('vector(24)');
    } finally {
      await second.close();
    }
  });

  it('keys templates by embedding size', () => {
    expect(templateKey(24)).not.toBe(templateKey(32));
  });

  it('leaves the folder as it was when no template can be built', async () => {
    const directory = path.join(await newDirectory(), 'pglite');
    await mkdir(directory);
    await writeFile(path.join(directory, 'pglite.lock'), '{}');
    const seeded = await seedFromTemplate(directory, 3, () => Promise.reject(new Error('read-only')));
    expect(seeded).toBe(false);
    expect(await readdir(directory)).toEqual(['pglite.lock']);
  });
});
