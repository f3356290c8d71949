/**
 * How long an erasure takes, and how much of it is the compaction that makes the
 * erased rows unreadable from the database's files (`db/erase-compaction.ts`), on a
 * database of `--chunks` chunks (1536 dimensions, HNSW and GIN indexes built) owned by
 * `--users` users, each with messages and memories. Every repetition erases another
 * user, who owns chunks, messages and memories, so every personal table is touched.
 *
 *   npx tsx bench/erase.ts [--json] [--chunks 10000] [--users 10] [--messages 2000] [--repetitions 3]
 *
 * Embedded, and Postgres on BENCH_DATABASE_URL when it can be reached (`--backends embedded`
 * for one of them).
 *
 * Also the longest event-loop stall during each erasure (what every live conversation
 * waits: PGlite runs statements on this thread). On the embedded database repetitions
 * alternate: compacting everything at once (as `npm run erase` does), and as the server
 * does while a conversation is live (large tables deferred, db/deferred-compaction.ts),
 * whose deferred compaction is then run as if idle and timed on its own.
 */
import { tmpdir } from 'node:os';
import { SyntheticCorpus } from './corpus.ts';
import {
  benchArguments,
  humanOutput,
  numberOption,
  printTable,
  summarize,
  writeResults,
  type Metric,
} from './report.ts';
import {
  BenchDatabaseUnavailable,
  buildIndexes,
  createBenchDatabase,
  loadCorpus,
  type Backend,
} from './retrieval-database.ts';
import { DeferredCompaction, eraseUser, type EraseOptions } from '../db/index.ts';
import path from 'node:path';

const DIMENSIONS = 1536;
const { json, options } = benchArguments();
const chunks = numberOption(options, 'chunks', 10_000);
const users = numberOption(options, 'users', 10);
const messagesPerUser = numberOption(options, 'messages', 2_000);
const repetitions = Math.min(numberOption(options, 'repetitions', 3), users);
const out = humanOutput(json);
const backends = (options.get('backends') ?? 'embedded,postgres').split(',');

/**
 * Runs `work`, with its duration and the longest event-loop stall meanwhile, in ms: the
 * longest gap between ticks of a 5 ms interval (`monitorEventLoopDelay` reported a few ms
 * here for statements that blocked the loop for seconds, so the gap is measured directly).
 */
async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; stall: number } & { receipt: T }> {
  let last = performance.now();
  let stall = 0;
  const ticks = setInterval(() => {
    const now = performance.now();
    stall = Math.max(stall, now - last);
    last = now;
  }, 5);
  const started = performance.now();
  const receipt = await work();
  const ms = performance.now() - started;
  // The tick that was blocked fires late now: that lateness is the stall.
  await new Promise((resolve) => setTimeout(resolve, 50));
  clearInterval(ticks);
  return { ms, stall, receipt };
}

async function measure(backend: Backend): Promise<Metric[]> {
  const bench = await createBenchDatabase(backend, DIMENSIONS);
  try {
    const { database } = bench;
    const corpus = new SyntheticCorpus({ seed: 7, dimensions: DIMENSIONS });
    const { userIds } = await loadCorpus(database, corpus, { chunks, users });
    await buildIndexes(database);
    for (const userId of userIds) {
      const { rows } = await database.pool.query<{ id: string }>(
        `insert into conversations (user_id, channel) values ($1, 'web') returning id`,
        [userId],
      );
      await database.pool.query(
        `insert into messages (conversation_id, user_id, role, modality, text)
         select $1, $2, 'user', 'text', 'message number ' || n || ' about the heat pump warranty'
           from generate_series(1, $3) n`,
        [rows[0]?.id, userId, messagesPerUser],
      );
      await database.pool.query(
        `insert into memories (user_id, kind, text, embedding, embedding_model)
         select $1, 'fact', 'remembered fact ' || n, $2::vector, 'bench' from generate_series(1, 50) n`,
        [userId, SyntheticCorpus.vectorLiteral(corpus.chunk().vector)],
      );
    }
    await database.pool.query('checkpoint').catch(() => undefined); // a non-superuser may not
    const totalMs: number[] = [];
    const compactionMs: number[] = [];
    const stallMs: number[] = [];
    const deferredTotalMs: number[] = [];
    const deferredStallMs: number[] = [];
    const idleCompactionMs: number[] = [];
    const live = { conversations: 1 };
    const deferred = new DeferredCompaction(
      database.pool,
      path.join(tmpdir(), `erase-bench-pending-${process.pid}.json`),
      () => live.conversations === 0,
    );
    for (const [index, userId] of userIds.slice(0, repetitions).entries()) {
      const defer = backend === 'embedded' && index % 2 === 1;
      const options: EraseOptions = defer ? { deferred } : {};
      const { ms, stall, receipt } = await timed(() => eraseUser(database, userId, tmpdir(), options)); // no uploads here
      (defer ? deferredTotalMs : totalMs).push(ms);
      (defer ? deferredStallMs : stallMs).push(stall);
      if (!defer) compactionMs.push(receipt.compactionMs);
      if (defer) {
        live.conversations = 0;
        idleCompactionMs.push((await timed(() => deferred.runIfIdle())).ms);
        live.conversations = 1;
      }
    }
    deferred.stop();
    const deferredMetrics =
      deferredTotalMs.length === 0
        ? []
        : [
            summarize(`${backend}: erase while a conversation is live, total`, 'ms', deferredTotalMs),
            summarize(`${backend}: its longest event-loop stall`, 'ms', deferredStallMs),
            summarize(`${backend}: its deferred compaction, once idle`, 'ms', idleCompactionMs),
          ];
    return [
      summarize(`${backend}: erase one user, total`, 'ms', totalMs),
      summarize(`${backend}: of which compaction`, 'ms', compactionMs),
      summarize(`${backend}: longest event-loop stall during it`, 'ms', stallMs),
      ...deferredMetrics,
    ];
  } finally {
    await bench.cleanup();
  }
}

const metrics: Metric[] = [];
if (backends.includes('embedded')) metrics.push(...(await measure('embedded')));
if (backends.includes('postgres')) {
  try {
    metrics.push(...(await measure('postgres')));
  } catch (error) {
    if (!(error instanceof BenchDatabaseUnavailable)) throw error;
    out.write(`Postgres skipped: ${error.message}\n`);
  }
}
printTable(
  `erase (${chunks} chunks x ${DIMENSIONS} dimensions, ${users} users, ${messagesPerUser} messages each)`,
  metrics,
  out,
);
await writeResults('erase', metrics, json);
