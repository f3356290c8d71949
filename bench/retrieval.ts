import { hybridSearch } from '../db/index.ts';
import { SyntheticCorpus } from './corpus.ts';
import {
  benchArguments,
  humanOutput,
  mean,
  numberOption,
  percentile,
  printChecks,
  printTable,
  summarize,
  writeResults,
  type Check,
  type Metric,
} from './report.ts';
import {
  BenchDatabaseUnavailable,
  buildIndexes,
  createBenchDatabase,
  exactNeighbours,
  loadCorpus,
  plannerUsesHnsw,
  withSettings,
  type Backend,
} from './retrieval-database.ts';

/**
 * `retrieval`: hybrid search latency (the app's own `hybridSearch`, as one voice turn
 * calls it: 5 passages, per-user filter) at 10k and 100k chunks of 1536 dimensions on
 * native Postgres and on the embedded database, and recall@10 of the vector ranking
 * against exact search for a user who owns 1% of the chunks: as the planner runs it (for
 * so small a share it may skip the HNSW index and sort the user's chunks exactly), and
 * with the HNSW index forced (bitmap and sequential scans off), which is what a filtered
 * HNSW search gives whenever the planner does choose the index.
 *
 * Options: --sizes 10000,100000 (Postgres) --embedded-sizes 10000 --queries 200 --recall-queries 100
 */

const DIMENSIONS = 1536;
/** 100 users, documents dealt round-robin: each user owns 1% of the chunks. */
const USERS = 100;
const WARMUP_QUERIES = 20;
/** Planner settings that leave the HNSW index as the only way to order by distance. */
const FORCE_HNSW = ['enable_bitmapscan = off', 'enable_seqscan = off'];

const { json, options } = benchArguments();
const out = humanOutput(json);
const sizes = (name: string, fallback: string) =>
  (options.get(name) ?? fallback)
    .split(',')
    .filter((size) => size !== '' && size !== '0')
    .map(Number);
const postgresSizes = sizes('sizes', '10000,100000');
const embeddedSizes = sizes('embedded-sizes', '10000');
const queryCount = numberOption(options, 'queries', 200);
const recallQueries = numberOption(options, 'recall-queries', 100);

interface Measured {
  backend: Backend;
  chunks: number;
  latencies: number[];
  recalls: number[];
  forcedLatencies: number[];
  forcedRecalls: number[];
  plannerUsedHnsw: number;
  loadMs: number;
  hnswMs: number;
}

/** `10000` as `10k`, for metric names. */
const label = (chunks: number) => (chunks % 1000 === 0 ? `${chunks / 1000}k` : String(chunks));

async function measure(backend: Backend, chunks: number): Promise<Measured> {
  out.write(`\n${backend} ${label(chunks)}: creating, loading ${chunks} chunks...`);
  const bench = await createBenchDatabase(backend, DIMENSIONS);
  try {
    const corpus = new SyntheticCorpus({ dimensions: DIMENSIONS, seed: 11 });
    const loaded = await loadCorpus(bench.database, corpus, { chunks, users: USERS });
    out.write(` ${(loaded.loadMs / 1000).toFixed(1)} s; building indexes...`);
    const built = await buildIndexes(bench.database);
    out.write(` HNSW ${(built.hnswMs / 1000).toFixed(1)} s, GIN ${(built.ginMs / 1000).toFixed(1)} s\n`);

    const pool = bench.database.pool;
    const latencies: number[] = [];
    for (let index = 0; index < WARMUP_QUERIES + queryCount; index++) {
      const query = corpus.query();
      const userId = loaded.userIds[index % 10] as string;
      const started = performance.now();
      await hybridSearch(pool, { userId, text: query.text, embedding: Array.from(query.vector), limit: 5 });
      if (index >= WARMUP_QUERIES) latencies.push(performance.now() - started);
    }

    // Vector-only ranking through hybridSearch itself: a text with no searchable words
    // leaves the full-text side empty, so the fused order is the vector order.
    const recalls: number[] = [];
    const forcedRecalls: number[] = [];
    const forcedLatencies: number[] = [];
    let plannerUsedHnsw = 0;
    for (let index = 0; index < recallQueries; index++) {
      const query = corpus.query();
      const userId = loaded.userIds[index % USERS] as string;
      const search = { userId, text: '', embedding: Array.from(query.vector), limit: 10 };
      const exact = new Set(await exactNeighbours(bench.database, userId, query.vector, 10));
      const recall = (hits: { chunkId: string }[]) =>
        exact.size === 0 ? 1 : hits.filter((hit) => exact.has(hit.chunkId)).length / exact.size;
      recalls.push(recall(await hybridSearch(pool, search)));
      const forced = await withSettings(bench.database, FORCE_HNSW, async (client) => {
        const started = performance.now();
        const hits = await hybridSearch(client, search);
        return { hits, ms: performance.now() - started };
      });
      forcedRecalls.push(recall(forced.hits));
      forcedLatencies.push(forced.ms);
      if (await plannerUsesHnsw(bench.database, userId, query.vector)) plannerUsedHnsw++;
    }
    out.write(
      `  hybrid search p50 ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms; ` +
        `recall@10 ${mean(recalls).toFixed(3)} (planner used HNSW for ${plannerUsedHnsw}/${recallQueries}); ` +
        `HNSW forced: recall@10 ${mean(forcedRecalls).toFixed(3)}, p50 ${percentile(forcedLatencies, 50).toFixed(1)} ms\n`,
    );
    return {
      backend,
      chunks,
      latencies,
      recalls,
      forcedLatencies,
      forcedRecalls,
      plannerUsedHnsw: plannerUsedHnsw / recallQueries,
      loadMs: loaded.loadMs,
      hnswMs: built.hnswMs,
    };
  } finally {
    await bench.cleanup();
  }
}

const runs: Measured[] = [];
let postgresSkipped: string | undefined;
for (const chunks of postgresSizes) {
  try {
    runs.push(await measure('postgres', chunks));
  } catch (error) {
    // No Postgres here (a fresh clone on a laptop): measure the embedded database anyway.
    if (!(error instanceof BenchDatabaseUnavailable)) throw error;
    postgresSkipped = error.message;
    out.write(`\n${error.message}\nPostgres sizes skipped.\n`);
    break;
  }
}
for (const chunks of embeddedSizes) runs.push(await measure('embedded', chunks));

const find = (backend: Backend, chunks: number) =>
  runs.find((run) => run.backend === backend && run.chunks === chunks);
const smallest = Math.min(...postgresSizes);
const metrics: Metric[] = [];
const checks: Check[] = [];
for (const run of runs) {
  const name = `${run.backend}.${label(run.chunks)}`;
  // Comparisons from this run: against the smallest Postgres size, or Postgres at the same size.
  const reference =
    run.backend === 'embedded'
      ? find('postgres', run.chunks)
      : run.chunks !== smallest
        ? find('postgres', smallest)
        : undefined;
  const ratio = reference ? percentile(run.latencies, 50) / percentile(reference.latencies, 50) : undefined;
  metrics.push(summarize(`${name}.hybrid-search`, 'ms', run.latencies, ratio !== undefined ? { ratio } : {}));
  metrics.push(summarize(`${name}.recall-at-10`, 'fraction', run.recalls, { value: mean(run.recalls) }));
  metrics.push(summarize(`${name}.planner-used-hnsw`, 'fraction', [run.plannerUsedHnsw]));
  metrics.push(
    summarize(`${name}.hnsw-forced.recall-at-10`, 'fraction', run.forcedRecalls, {
      value: mean(run.forcedRecalls),
    }),
  );
  metrics.push(summarize(`${name}.hnsw-forced.vector-search`, 'ms', run.forcedLatencies));
  metrics.push(summarize(`${name}.load`, 's', [run.loadMs / 1000]));
  metrics.push(summarize(`${name}.hnsw-build`, 's', [run.hnswMs / 1000]));
  checks.push({ what: `${name} recall@10`, actual: mean(run.recalls), limit: 0.95, unit: '', kind: 'min' });
  checks.push({
    what: `${name} recall@10 with the HNSW index forced`,
    actual: mean(run.forcedRecalls),
    limit: 0.95,
    unit: '',
    kind: 'min',
  });
}
const postgres100k = find('postgres', 100_000);
if (postgres100k)
  checks.push({
    what: 'postgres.100k hybrid search p95',
    actual: percentile(postgres100k.latencies, 95),
    limit: 15,
    unit: 'ms',
    kind: 'max',
  });
const embedded10k = find('embedded', 10_000);
if (embedded10k)
  checks.push({
    what: 'embedded.10k hybrid search p95',
    actual: percentile(embedded10k.latencies, 95),
    limit: 60,
    unit: 'ms',
    kind: 'max',
  });

printTable(
  'retrieval: hybrid search (limit 5, per-user filter, 1536 dimensions), recall@10 at 1% ownership',
  metrics,
  out,
);
printChecks(checks, out);
if (!embeddedSizes.includes(100_000))
  out.write(
    '\nembedded 100k: not measured by default (PGlite loads and builds HNSW too slowly; --embedded-sizes 10000,100000 runs it)\n',
  );
if (postgresSkipped) out.write(`\nPostgres was not measured: ${postgresSkipped}\n`);
await writeResults('retrieval', metrics, json);
