import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { speechFixture, waitFor } from '../test/support/voice-harness.ts';
import { startCpuProfile } from './cpu-profile.ts';
import {
  benchArguments,
  RESULTS_DIRECTORY,
  humanOutput,
  numberOption,
  percentile,
  printChecks,
  printTable,
  summarize,
  writeResults,
  type Check,
  type Metric,
} from './report.ts';
import type { Spoken } from './microphone.ts';
import { VoiceRig, type PooledSession, type RigSession } from './voice-rig.ts';
import { QUESTIONS } from './voice-script.ts';
import { accountedFor, accountedFromTimings } from './voice-turn.ts';
import { whatIfFromOptions, whatIfLabel } from './what-if.ts';

/**
 * `capacity`: N concurrent room-less voice sessions (N = 1, 5, 10, 20, 40), each speaking
 * a few turns at staggered times, run as `npm start` runs them (in conversation
 * processes, one per core, with the database in this process), or in this process
 * (--processes 0), with the fakes in a process of their own so that CPU and memory are
 * the assistant's. Reports per N voice-to-voice
 * p50/p95 (and its ratio to one session's), the framework overhead p95, CPU per session,
 * resident memory per added session, and memory after the sessions ended (leaks).
 * Run through `npm run bench` (it passes --expose-gc; without it memory is read without
 * a forced collection and is noisier).
 *
 * Options: --levels 1,5,10,20,40 --turns 3 (per session) --baseline-turns 12 (the
 *          smallest level's sessions: the ratios divide by its p95, which 3 turns leave thin)
 *          the what-ifs of what-if.ts (e.g. --vad-per-session)
 *          --profile-level N (CPU profile of this process during the turns at N sessions, summarised and written to bench/results)
 *          --database embedded,postgres (one run of every mode per database, side by side; default
 *          embedded; postgres: a throwaway database on the server of BENCH_DATABASE_URL, default
 *          postgres://postgres@127.0.0.1:5432/postgres, which conversation processes connect to themselves)
 *          --processes 0,2 (conversation processes; each count is a run of every level, side by side;
 *          default: one per core, as VOICE_PROCESSES; 0 with a what-if)
 */

const { json, options } = benchArguments();
const out = humanOutput(json);
const levels = (options.get('levels') ?? '1,5,10,20,40').split(',').map(Number);
const turnsPerSession = numberOption(options, 'turns', 3);
const baselineTurns = numberOption(options, 'baseline-turns', 12);
const turnsAt = (count: number) => (count === Math.min(...levels) ? baselineTurns : turnsPerSession);
const whatIf = whatIfFromOptions(options);
const whatIfName = whatIfLabel(whatIf);
const profileLevel = options.has('profile-level') ? numberOption(options, 'profile-level', 20) : undefined;
// As `npm start` runs conversations (VOICE_PROCESSES: one process per core), unless a
// what-if changes sessions in this process; 0 runs them in this process.
const processCounts = (options.get('processes') ?? (whatIfName ? '0' : String(os.availableParallelism())))
  .split(',')
  .map(Number);
const describeProcesses = (processes: number) =>
  processes === 0
    ? 'sessions in this process'
    : `${processes} conversation process${processes > 1 ? 'es' : ''}`;
const question = QUESTIONS[0]!;
const audio = speechFixture(question.fixture);
const MB = 2 ** 20;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resident and heap memory after full collections (when --expose-gc allows them). */
async function settledMemory(): Promise<{ rss: number; heap: number }> {
  for (let round = 0; round < 3; round++) {
    globalThis.gc?.();
    await sleep(200);
  }
  const usage = process.memoryUsage();
  return { rss: usage.rss, heap: usage.heapUsed };
}

interface TurnResult {
  voiceToVoice: number;
  overhead: number;
}

/** A session in this process, or in a conversation process (seen as the server sees it). */
type BenchSession = RigSession | PooledSession;

/**
 * What the fakes and the configured endpointing account for in the turn whose first
 * agent audio came at `firstFrameAt`: from the session's records in this process, from
 * the turn's timings (the page's `turn_timings` event, sent once the turn finished) in
 * another.
 */
async function accounted(session: BenchSession, spoken: Spoken, firstFrameAt: number): Promise<number> {
  if ('records' in session) {
    const inTurn = session.records.filter(
      (record) => record.at >= spoken.onsetAt && record.at <= firstFrameAt,
    );
    const decision = inTurn.findLast((record) => record.kind === 'turn-decision');
    const eou = inTurn.find((record) => record.kind === 'eou');
    const final = inTurn.findLast((record) => record.kind === 'final-transcript');
    const retrieval = inTurn.findLast((record) => record.kind === 'retrieval');
    return accountedFor({
      vadSpeechEnd: eou?.kind === 'eou' ? eou.at - eou.endOfUtteranceDelayMs - spoken.lastVoicedAt : 0,
      waitMs: decision?.kind === 'turn-decision' ? decision.waitMs : 0,
      // The embedding's round trip counts only when the retrieval began on the final
      // transcript (the fakes run in another process here, so the rig's record says).
      retrieval:
        retrieval?.kind === 'retrieval' &&
        !retrieval.reusedEmbedding &&
        (final === undefined || retrieval.startedAt >= final.at),
    });
  }
  return accountedFromTimings(session, spoken, firstFrameAt);
}

/** One session's turns: speak, wait for the answer to play out, pause, again. */
async function converse(session: BenchSession, turns: number): Promise<TurnResult[]> {
  const results: TurnResult[] = [];
  await sleep(Math.random() * 3000);
  for (let turn = 0; turn < turns; turn++) {
    const spoken = await session.microphone.say(audio);
    const firstFrame = await waitFor(
      () => session.frames.find((frame) => frame.at >= spoken.lastVoicedAt),
      20_000,
      'agent audio',
    ).catch(() => undefined);
    if (firstFrame) {
      await waitFor(() => Date.now() - (session.frames.at(-1)?.at ?? 0) > 400, 30_000, 'the reply to end');
      const voiceToVoice = firstFrame.at - spoken.lastVoicedAt;
      results.push({
        voiceToVoice,
        overhead: voiceToVoice - (await accounted(session, spoken, firstFrame.at)),
      });
    }
    await sleep(500 + Math.random() * 1000);
  }
  return results;
}

/** prom-client's `nodejs_eventloop_lag_p99_seconds` from a registry's JSON, in ms. */
function lagP99(metrics: object[]): number {
  const gauge = metrics.find(
    (metric) => (metric as { name?: string }).name === 'nodejs_eventloop_lag_p99_seconds',
  ) as { values?: { value: number }[] } | undefined;
  return (gauge?.values?.[0]?.value ?? 0) * 1000;
}

/** Busy and total CPU time of the whole machine so far (all processes, all cores), in ms. */
function machineCpu(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const { user, nice, sys, idle, irq } = cpu.times;
    busy += user + nice + sys + irq;
    total += user + nice + sys + idle + irq;
  }
  return { busy, total };
}

interface Level {
  sessions: number;
  /** Event loop delay p99 during the turns: how long a ready callback waited (ms). */
  eventLoopDelayP99: number;
  /** The conversation processes' event loop delay p99 during the turns, the worst process's (ms; 0 without). */
  processesLoopDelayP99: number;
  /** Share of the machine's CPU busy during the turns, this process and every other. */
  machineBusy: number;
  turns: TurnResult[];
  expected: number;
  cpuPerSession: number;
  memoryPerSession: number;
  rssAfter: number;
  heapAfter: number;
  seconds: number;
}

const started = performance.now();
if (!globalThis.gc)
  out.write('capacity: run with --expose-gc (npm run bench does) for settled memory readings\n');
out.write('capacity: preparing the fakes process, models and corpus...\n');
/** Where the data lives: each is a run of its own (conversation processes connect to Postgres themselves). */
const DATABASES = ['embedded', 'postgres'] as const;
type DatabaseChoice = (typeof DATABASES)[number];
const databases = (options.get('database') ?? 'embedded').split(',') as DatabaseChoice[];
for (const choice of databases)
  if (!DATABASES.includes(choice))
    throw new Error(`--database ${choice}: one of ${DATABASES.join(', ')}, or several separated by commas`);
// The throwaway database goes on the server the retrieval bench uses.
if (databases.includes('postgres'))
  process.env.TEST_DATABASE_URL ??=
    process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
interface Mode {
  database: DatabaseChoice;
  processes: number;
  baseline: { rss: number; heap: number };
  results: Level[];
}
const describeMode = ({ database, processes }: Pick<Mode, 'database' | 'processes'>) =>
  databases.length > 1
    ? `${describeProcesses(processes)}, database ${database}`
    : describeProcesses(processes);
const modes: Mode[] = [];
for (const database of databases) {
  const rig = await VoiceRig.start({
    fakes: 'child',
    corpusChunks: 1000,
    database,
  });
  try {
    const userId = await rig.user('bench-capacity');
    for (const processes of processCounts) modes.push(await runMode(rig, userId, { database, processes }));
  } finally {
    await rig.close();
  }
}

/** Every level, with `processes` conversation processes (0: sessions in this process). */
async function runMode(
  rig: VoiceRig,
  userId: string,
  mode: Pick<Mode, 'database' | 'processes'>,
): Promise<Mode> {
  const { processes } = mode;
  const pool = processes > 0 ? await rig.startPool(processes) : undefined;
  const startSession = (): Promise<BenchSession> =>
    pool ? rig.startPooledSession(pool, userId) : rig.startSession(userId, whatIf);
  const closeAll = (sessions: BenchSession[]) => Promise.all(sessions.map((session) => session.close()));
  /** This process's memory, plus the conversation processes' resident memory (each after full collections). */
  const memory = async () => {
    const own = await settledMemory();
    const others = pool ? await pool.stats({ settle: true }) : [];
    return { rss: own.rss + others.reduce((sum, stats) => sum + stats.rss, 0), heap: own.heap };
  };
  /**
   * CPU time of this process and the conversation processes, in µs, and the worst of the
   * conversation processes' event-loop delay p99 since the previous call, in ms (prom-client's
   * lag gauge, whose histogram each reading resets).
   */
  const cpuTime = async () => {
    const own = process.cpuUsage();
    const others = pool ? await pool.stats() : [];
    return {
      cpu: [own, ...others.map((stats) => stats.cpu)].reduce((sum, cpu) => sum + cpu.user + cpu.system, 0),
      processesLoopDelayP99: Math.max(0, ...others.map((stats) => lagP99(stats.metrics))),
    };
  };
  // Warm-up: a first session and turn (in each process) load lazily initialised code
  // paths and connections.
  const warmups = await Promise.all(Array.from({ length: Math.max(1, processes) }, startSession));
  await Promise.all(warmups.map((session) => converse(session, 1)));
  await closeAll(warmups);
  const baseline = await memory();
  out.write(
    `  ${describeMode(mode)}: baseline after warm-up: rss ${(baseline.rss / MB).toFixed(0)} MB, heap ${(baseline.heap / MB).toFixed(0)} MB\n`,
  );
  const results: Level[] = [];
  for (const count of levels) {
    const before = await memory();
    const levelStarted = performance.now();
    const sessions: BenchSession[] = [];
    for (let index = 0; index < count; index++) sessions.push(await startSession());
    const cpuBefore = (await cpuTime()).cpu;
    const machineBefore = machineCpu();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const profileFile = path.join(RESULTS_DIRECTORY, `capacity.sessions-${count}.cpuprofile`);
    const profiled = count === profileLevel;
    if (profiled) await mkdir(RESULTS_DIRECTORY, { recursive: true });
    const stopProfile = profiled ? await startCpuProfile(profileFile) : undefined;
    const turnsStarted = performance.now();
    const turns = (await Promise.all(sessions.map((session) => converse(session, turnsAt(count))))).flat();
    loopDelay.disable();
    if (stopProfile) {
      const summary = await stopProfile();
      out.write(`  CPU profile of ${count} sessions (${profileFile}), main thread ms by package or file:\n`);
      for (const { where, ms } of summary) out.write(`    ${ms.toFixed(0).padStart(7)}  ${where}\n`);
    }
    const during = await cpuTime();
    const cpu = during.cpu - cpuBefore;
    const machineAfter = machineCpu();
    const wallMs = performance.now() - turnsStarted;
    const alive = await memory();
    await closeAll(sessions);
    const after = await memory();
    const level: Level = {
      sessions: count,
      eventLoopDelayP99: loopDelay.percentile(99) / 1e6,
      processesLoopDelayP99: during.processesLoopDelayP99,
      machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
      turns,
      expected: count * turnsAt(count),
      cpuPerSession: cpu / 1000 / wallMs / count,
      memoryPerSession: (alive.rss - before.rss) / count,
      rssAfter: after.rss,
      heapAfter: after.heap,
      seconds: (performance.now() - levelStarted) / 1000,
    };
    results.push(level);
    const v2v = turns.map((turn) => turn.voiceToVoice);
    out.write(
      `  ${describeMode(mode)}, ${count} sessions: voice-to-voice p95 ${percentile(v2v, 95).toFixed(0)} ms (${turns.length}/${level.expected} turns answered), ` +
        `CPU ${(level.cpuPerSession * 100).toFixed(1)}% of a core per session, ` +
        `${(level.memoryPerSession / MB).toFixed(1)} MB per session, rss after ${(after.rss / MB).toFixed(0)} MB, ` +
        `event loop delay p99 ${level.eventLoopDelayP99.toFixed(0)} ms${processes > 0 ? ` (conversation processes ${level.processesLoopDelayP99.toFixed(0)} ms)` : ''}, machine CPU ${(level.machineBusy * 100).toFixed(0)}% busy, ` +
        `${level.seconds.toFixed(0)} s\n`,
    );
  }
  await pool?.close();
  return { ...mode, baseline, results };
}

const metrics: Metric[] = [];
const checks: Check[] = [];
for (const mode of modes) {
  const { processes, database, baseline, results } = mode;
  const modeName = [
    ...(processCounts.length > 1 ? [`processes-${processes}`] : []),
    ...(databases.length > 1 ? [`database-${database}`] : []),
  ].join('.');
  const name = (what: string) => (modeName ? `${modeName}.${what}` : what);
  const label = (what: string) => (modes.length > 1 ? `${describeMode(mode)}, ${what}` : what);
  const single = results.find((level) => level.sessions === Math.min(...levels));
  const singleP95 = percentile(single?.turns.map((turn) => turn.voiceToVoice) ?? [], 95);
  const singleOverheadP95 = percentile(single?.turns.map((turn) => turn.overhead) ?? [], 95);
  metrics.push(
    summarize(name('baseline.rss'), 'MB', [baseline.rss / MB]),
    summarize(name('baseline.heap'), 'MB', [baseline.heap / MB]),
  );
  for (const level of results) {
    const prefix = name(`sessions-${level.sessions}`);
    const v2v = level.turns.map((turn) => turn.voiceToVoice);
    const overhead = level.turns.map((turn) => turn.overhead);
    metrics.push(
      summarize(`${prefix}.voice-to-voice`, 'ms', v2v, {
        value: percentile(v2v, 95),
        ratio: percentile(v2v, 95) / singleP95,
      }),
      summarize(`${prefix}.framework-overhead`, 'ms', overhead, {
        value: percentile(overhead, 95),
        ratio: percentile(overhead, 95) / singleOverheadP95,
      }),
      summarize(`${prefix}.turns-answered`, 'fraction', [level.turns.length / level.expected]),
      summarize(`${prefix}.cpu-per-session`, 'core', [level.cpuPerSession]),
      summarize(`${prefix}.event-loop-delay-p99`, 'ms', [level.eventLoopDelayP99]),
      ...(processes > 0
        ? [
            summarize(`${prefix}.conversation-processes-event-loop-delay-p99`, 'ms', [
              level.processesLoopDelayP99,
            ]),
          ]
        : []),
      summarize(`${prefix}.machine-cpu-busy`, 'fraction', [level.machineBusy]),
      summarize(`${prefix}.rss-per-added-session`, 'MB', [level.memoryPerSession / MB]),
      summarize(`${prefix}.rss-after-end`, 'MB', [level.rssAfter / MB], {
        ratio: level.rssAfter / baseline.rss,
      }),
      summarize(`${prefix}.heap-after-end`, 'MB', [level.heapAfter / MB], {
        ratio: level.heapAfter / baseline.heap,
      }),
    );
    checks.push({
      what: label(`${level.sessions} sessions: MB per added session`),
      actual: level.memoryPerSession / MB,
      limit: 40,
      unit: 'MB',
      kind: 'max',
    });
  }
  const twenty = results.find((level) => level.sessions === 20);
  if (twenty) {
    checks.push({
      what: label('20 sessions: voice-to-voice p95 / 1 session'),
      actual:
        percentile(
          twenty.turns.map((turn) => turn.voiceToVoice),
          95,
        ) / singleP95,
      limit: 1.2,
      unit: 'x',
      kind: 'max',
    });
    checks.push({
      what: label('20 sessions: turns answered'),
      actual: twenty.turns.length / twenty.expected,
      limit: 1,
      unit: 'fraction',
      kind: 'min',
    });
  }
  const last = results.at(-1);
  if (last)
    checks.push({
      what: label('rss after all sessions ended / baseline'),
      actual: last.rssAfter / baseline.rss,
      limit: 1.1,
      unit: 'x',
      kind: 'max',
    });
}
printTable(
  `capacity${whatIfName ? ` (what-if ${whatIfName})` : ''}: ${turnsPerSession} turns per session (${baselineTurns} at the smallest level), ${((performance.now() - started) / 1000).toFixed(0)} s`,
  metrics,
  out,
);
printChecks(checks, out);
await writeResults(whatIfName ? `capacity.what-if-${whatIfName}` : 'capacity', metrics, json);
process.exit(0);
