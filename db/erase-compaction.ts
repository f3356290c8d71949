import type pg from 'pg';

/** Table names the compaction may touch: interpolated into SQL, so checked against this. */
const TABLE_NAME = /^[a-z_]+$/;

/**
 * Makes deleted rows unreadable from the database's files, after an erasure committed.
 *
 * A DELETE only marks row versions dead: their bytes stay in the table's pages, in its
 * TOAST and index pages (the full-text GIN indexes hold the words), in the write-ahead
 * log, and in the planner's statistics (`pg_statistic` keeps sample values of text
 * columns). What each backend can do about that differs:
 *
 * - Embedded (PGlite, one process, files in `DATA_DIR/pglite`): `VACUUM FULL` rewrites
 *   each touched table and its indexes into new files and drops the old ones; statistics
 *   that existed are recomputed and their old versions compacted away; then the
 *   write-ahead log is switched to a new segment and a checkpoint removes the old
 *   segments, which held the rows (and full-page images of their pages). With
 *   `wal_recycle` off an old segment is deleted rather than renamed for reuse with its
 *   contents intact. The rewrite costs time in proportion to the whole tables (every
 *   user's rows, and the HNSW index rebuilt), not to what was erased, and PGlite runs it
 *   on this process's thread: the README's Security section gives measured figures.
 * - Postgres: plain `VACUUM (ANALYZE)`. It removes the dead rows from pages and indexes
 *   and refreshes the statistics, without the exclusive lock `VACUUM FULL` would hold on
 *   shared tables while every other user waits. Freed space keeps the old bytes until
 *   new rows overwrite it, and the server's WAL, archives, replicas and backups keep
 *   them until they expire: the README says so.
 *
 * VACUUM cannot run in a transaction, so this runs after the erasure's commit, on the pool.
 */
export async function compactErasedTables(
  pool: pg.Pool,
  kind: 'embedded' | 'postgres',
  tables: readonly string[],
): Promise<void> {
  if (tables.length === 0) return;
  for (const table of tables) {
    if (!TABLE_NAME.test(table)) throw new TypeError(`Not a table name: ${table}`);
  }
  const list = tables.join(', ');
  if (kind === 'postgres') {
    await pool.query(`vacuum (analyze) ${list}`);
    return;
  }
  // One statement at a time, with the event loop let run in between: PGlite runs each on
  // this thread, and a chain of awaited PGlite queries never yields to timers or sockets
  // by itself, so without this the whole compaction would be one stall.
  const step = async (sql: string) => {
    await pool.query(sql);
    await new Promise((resolve) => setImmediate(resolve));
  };
  // Default maintenance memory on purpose: PGlite's WebAssembly memory grows to what a
  // statement needs and never shrinks, and 256 MB made no measurable difference here.
  for (const table of tables) await step(`vacuum full ${table}`);
  if (await hasStatistics(pool, tables)) {
    await step(`analyze ${list}`);
    await step('vacuum full pg_statistic');
  }
  await step('set wal_recycle = off');
  await step('select pg_switch_wal()');
  await step('checkpoint');
}

/** Whether ANALYZE ever ran on one of the tables (PGlite has no autovacuum, so rarely). */
async function hasStatistics(pool: pg.Pool, tables: readonly string[]): Promise<boolean> {
  const { rows } = await pool.query<{ found: boolean }>(
    `select exists (select 1 from pg_stats where schemaname = current_schema() and tablename = any($1)) as found`,
    [tables],
  );
  return rows[0]?.found === true;
}

/**
 * Splits tables into those small enough to compact now (total size, with indexes and
 * TOAST, at most `limitBytes`) and the rest, largest last.
 */
export async function splitByCompactionCost(
  pool: pg.Pool,
  tables: readonly string[],
  limitBytes: number,
): Promise<{ now: string[]; later: string[] }> {
  if (tables.length === 0) return { now: [], later: [] };
  const { rows } = await pool.query<{ name: string; bytes: string }>(
    `select relname as name, pg_total_relation_size(oid) as bytes
       from pg_class where relnamespace = current_schema()::regnamespace and relname = any($1)
      order by pg_total_relation_size(oid)`,
    [tables],
  );
  const now: string[] = [];
  const later: string[] = [];
  for (const row of rows) (Number(row.bytes) <= limitBytes ? now : later).push(row.name);
  return { now, later };
}
