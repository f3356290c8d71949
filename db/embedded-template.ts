import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrations } from './migrate.ts';

/**
 * A migrated, empty embedded database kept as a template, so a new DATA_DIR starts as a
 * copy of it (a folder copy, then an ordinary open) instead of running PGlite's initdb
 * and every migration: most of the cost of a first start. The template is a cache in
 * `node_modules/.cache/voice-assistant/`, one per PGlite and pgvector version, set of
 * migrations and embedding size; it is built the first time a new database is made.
 * Where that folder cannot be written (a read-only image), databases are made as before.
 */

const REPOSITORY = fileURLToPath(new URL('../', import.meta.url));
const CACHE = path.join(REPOSITORY, 'node_modules', '.cache', 'voice-assistant');

/** What makes two fresh databases identical: engine versions, migrations, embedding size. */
export function templateKey(embeddingDimensions: number): string {
  const version = (name: string) =>
    (
      JSON.parse(readFileSync(path.join(REPOSITORY, 'node_modules', name, 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  return createHash('sha256')
    .update(
      JSON.stringify({
        pglite: version('@electric-sql/pglite'),
        pgvector: version('@electric-sql/pglite-pgvector'),
        migrations: readMigrations(),
        embeddingDimensions,
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

/**
 * Fills `directory` (new: it holds only the embedded lock) from the template, building
 * the template with `build` first when there is none. Returns false, leaving `directory`
 * as it was, when no template can be had; the caller then makes the database itself.
 */
export async function seedFromTemplate(
  directory: string,
  embeddingDimensions: number,
  build: (directory: string) => Promise<void>,
): Promise<boolean> {
  let template: string;
  try {
    template = await ensureTemplate(embeddingDimensions, build);
  } catch {
    return false; // no writable cache (or the build failed): the caller's own initdb says why, if anything
  }
  try {
    await cp(template, directory, { recursive: true, errorOnExist: true, force: false });
    return true;
  } catch {
    // A half-copied folder would look like a database: put it back as it was.
    const before = new Set(['pglite.lock']);
    for (const entry of await readdir(directory))
      if (!before.has(entry)) await rm(path.join(directory, entry), { recursive: true, force: true });
    return false;
  }
}

/** The template's folder, built with `build` when missing (at install time, or by the first new database). */
export async function ensureTemplate(
  embeddingDimensions: number,
  build: (directory: string) => Promise<void>,
): Promise<string> {
  const template = path.join(CACHE, `pglite-${templateKey(embeddingDimensions)}`);
  if (existsSync(path.join(template, 'PG_VERSION'))) return template;
  await mkdir(CACHE, { recursive: true });
  const building = await mkdtemp(path.join(CACHE, 'building-'));
  try {
    await build(building);
    // Atomic: a process racing to build the same template loses the rename and uses the winner's.
    await rename(building, template);
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    if (!existsSync(path.join(template, 'PG_VERSION'))) throw error;
  }
  return template;
}
