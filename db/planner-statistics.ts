import type { Queryable } from './connection.ts';

/**
 * Planner settings and statistics for the embedded database.
 *
 * PGlite runs no autovacuum, so nothing ever ANALYZEs its tables: the planner guessed 41
 * rows for 1,000 chunks and sorted them all by vector distance (9 ms in PGlite's WASM,
 * detoasting every 6 KB embedding) instead of walking the HNSW index (2 ms).
 * {@link analyzeStaleTables} applies autovacuum's own rule. Even with statistics it
 * preferred the sort up to about 1,000 chunks, because it prices a cosine distance like
 * an integer comparison and does not count the detoasting: {@link tuneEmbeddedPlanner}
 * gives the distance function the cost measured here (the index wins from about 500
 * rows, as the timings do) and tells the planner what PGlite's storage is, a local file
 * read through memory, where a random page costs about what a sequential one does (the
 * value Postgres's documentation gives for SSDs). Postgres servers keep their own
 * autovacuum, settings and function costs; none of this is applied there.
 */

/** `random_page_cost` for the embedded database (Postgres's default is 4). */
const EMBEDDED_RANDOM_PAGE_COST = 1.1;
/**
 * The cost of one cosine distance between stored embeddings, in `cpu_operator_cost`
 * units (1 by default): about 9 µs per row, measured on 1,000 chunks of 1,536 dimensions.
 */
const COSINE_DISTANCE_COST = 400;

/** Sets the embedded database's planner costs (see above); idempotent, cheap at every open. */
export async function tuneEmbeddedPlanner(db: Queryable): Promise<void> {
  await db.query(`set random_page_cost = ${EMBEDDED_RANDOM_PAGE_COST}`);
  const { rows } = await db.query<{ procost: number }>(
    `select procost from pg_proc where oid = to_regprocedure('public.cosine_distance(vector, vector)')`,
  );
  if (rows[0] && Number(rows[0].procost) !== COSINE_DISTANCE_COST)
    await db.query(`alter function public.cosine_distance(vector, vector) cost ${COSINE_DISTANCE_COST}`);
}

/** autovacuum_analyze_threshold and autovacuum_analyze_scale_factor's defaults. */
const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE_FACTOR = 0.1;

/**
 * ANALYZEs each table of the public schema whose rows changed since its last analysis
 * more than autovacuum would allow (50 rows plus 10% of the table); returns their names.
 * About 11 ms for 1,000 chunks and 100 ms for 10,000 (measured on PGlite), so it runs
 * after bulk changes (an ingest, an erase, a conversation's end) and once after start.
 */
export async function analyzeStaleTables(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ relname: string }>(
    `select s.relname
       from pg_stat_user_tables s join pg_class c on c.oid = s.relid
      where s.schemaname = 'public'
        and s.n_mod_since_analyze > $1 + $2 * greatest(c.reltuples, 0)
      order by s.relname`,
    [ANALYZE_THRESHOLD, ANALYZE_SCALE_FACTOR],
  );
  for (const { relname } of rows) await db.query(`analyze public.${quoteIdentifier(relname)}`);
  return rows.map((row) => row.relname);
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
