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
import { VoiceRig, type RigSession } from './voice-rig.ts';
import { QUESTIONS } from './voice-script.ts';
import { accountedFor } from './voice-turn.ts';
import { whatIfFromOptions, whatIfLabel } from './what-if.ts';

/**
 * `capacity`: N concurrent room-less voice sessions in this process (N = 1, 5, 10, 20,
 * 40), each speaking a few turns at staggered times, with the fakes in a process of
 * their own so that CPU and memory are the assistant's. Reports per N voice-to-voice
 * p50/p95 (and its ratio to one session's), the framework overhead p95, CPU per session,
 * resident memory per added session, and memory after the sessions ended (leaks).
 * Run through `npm run bench` (it passes --expose-gc; without it memory is read without
 * a forced collection and is noisier).
 *
 * Options: --levels 1,5,10,20,40 --turns 3 (per session) --baseline-turns 12 (the
 *          smallest level's sessions: the ratios divide by its p95, which 3 turns leave thin)
 *          the what-ifs of what-if.ts (e.g. --vad-per-session)
 *          --profile-level N (CPU profile of the turns at N sessions, summarised and written to bench/results)
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

/** One session's turns: speak, wait for the answer to play out, pause, again. */
async function converse(session: RigSession, turns: number): Promise<TurnResult[]> {
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
      const inTurn = session.records.filter(
        (record) => record.at >= spoken.onsetAt && record.at <= firstFrame.at,
      );
      const decision = inTurn.findLast((record) => record.kind === 'turn-decision');
      const eou = inTurn.find((record) => record.kind === 'eou');
      const final = inTurn.findLast((record) => record.kind === 'final-transcript');
      const retrieval = inTurn.findLast((record) => record.kind === 'retrieval');
      const voiceToVoice = firstFrame.at - spoken.lastVoicedAt;
      const accounted = accountedFor({
        vadSpeechEnd: eou?.kind === 'eou' ? eou.at - eou.endOfUtteranceDelayMs - spoken.lastVoicedAt : 0,
        waitMs: decision?.kind === 'turn-decision' ? decision.waitMs : 0,
        // The embedding's round trip counts only when the retrieval began on the final
        // transcript (the fakes run in another process here, so the rig's record says).
        retrieval:
          retrieval?.kind === 'retrieval' &&
          !retrieval.reusedEmbedding &&
          (final === undefined || retrieval.startedAt >= final.at),
      });
      results.push({ voiceToVoice, overhead: voiceToVoice - accounted });
      await waitFor(() => Date.now() - (session.frames.at(-1)?.at ?? 0) > 400, 30_000, 'the reply to end');
    }
    await sleep(500 + Math.random() * 1000);
  }
  return results;
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
const rig = await VoiceRig.start({ fakes: 'child', corpusChunks: 1000 });
const userId = await rig.user('bench-capacity');
const results: Level[] = [];
let baseline: { rss: number; heap: number };
try {
  // Warm-up: a first session and turn load lazily initialised code paths and connections.
  const warmup = await rig.startSession(userId, whatIf);
  await converse(warmup, 1);
  await warmup.close();
  baseline = await settledMemory();
  out.write(
    `  baseline after warm-up: rss ${(baseline.rss / MB).toFixed(0)} MB, heap ${(baseline.heap / MB).toFixed(0)} MB\n`,
  );

  for (const count of levels) {
    const before = await settledMemory();
    const levelStarted = performance.now();
    const sessions: RigSession[] = [];
    for (let index = 0; index < count; index++) sessions.push(await rig.startSession(userId, whatIf));
    const cpuBefore = process.cpuUsage();
    const machineBefore = machineCpu();
    const loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
    const profileFile = path.join(RESULTS_DIRECTORY, `capacity.sessions-${count}.cpuprofile`);
    if (count === profileLevel) await mkdir(RESULTS_DIRECTORY, { recursive: true });
    const stopProfile = count === profileLevel ? await startCpuProfile(profileFile) : undefined;
    const turnsStarted = performance.now();
    const turns = (await Promise.all(sessions.map((session) => converse(session, turnsAt(count))))).flat();
    loopDelay.disable();
    if (stopProfile) {
      const summary = await stopProfile();
      out.write(`  CPU profile of ${count} sessions (${profileFile}), main thread ms by package or file:\n`);
      for (const { where, ms } of summary) out.write(`    ${ms.toFixed(0).padStart(7)}  ${where}\n`);
    }
    const cpu = process.cpuUsage(cpuBefore);
    const machineAfter = machineCpu();
    const wallMs = performance.now() - turnsStarted;
    const alive = await settledMemory();
    await Promise.all(sessions.map((session) => session.close()));
    const after = await settledMemory();
    const level: Level = {
      sessions: count,
      eventLoopDelayP99: loopDelay.percentile(99) / 1e6,
      machineBusy: (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total),
      turns,
      expected: count * turnsAt(count),
      cpuPerSession: (cpu.user + cpu.system) / 1000 / wallMs / count,
      memoryPerSession: (alive.rss - before.rss) / count,
      rssAfter: after.rss,
      heapAfter: after.heap,
      seconds: (performance.now() - levelStarted) / 1000,
    };
    results.push(level);
    const v2v = turns.map((turn) => turn.voiceToVoice);
    out.write(
      `  ${count} sessions: voice-to-voice p95 ${percentile(v2v, 95).toFixed(0)} ms (${turns.length}/${level.expected} turns answered), ` +
        `CPU ${(level.cpuPerSession * 100).toFixed(1)}% of a core per session, ` +
        `${(level.memoryPerSession / MB).toFixed(1)} MB per session, rss after ${(after.rss / MB).toFixed(0)} MB, ` +
        `event loop delay p99 ${level.eventLoopDelayP99.toFixed(0)} ms, machine CPU ${(level.machineBusy * 100).toFixed(0)}% busy, ` +
        `${level.seconds.toFixed(0)} s\n`,
    );
  }
} finally {
  await rig.close();
}

const single = results.find((level) => level.sessions === Math.min(...levels));
const singleP95 = percentile(single?.turns.map((turn) => turn.voiceToVoice) ?? [], 95);
const singleOverheadP95 = percentile(single?.turns.map((turn) => turn.overhead) ?? [], 95);
const metrics: Metric[] = [
  summarize('baseline.rss', 'MB', [baseline.rss / MB]),
  summarize('baseline.heap', 'MB', [baseline.heap / MB]),
];
const checks: Check[] = [];
for (const level of results) {
  const prefix = `sessions-${level.sessions}`;
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
    what: `${level.sessions} sessions: MB per added session`,
    actual: level.memoryPerSession / MB,
    limit: 40,
    unit: 'MB',
    kind: 'max',
  });
}
const twenty = results.find((level) => level.sessions === 20);
if (twenty) {
  const p95 = percentile(
    twenty.turns.map((turn) => turn.voiceToVoice),
    95,
  );
  checks.push({
    what: '20 sessions: voice-to-voice p95 / 1 session',
    actual: p95 / singleP95,
    limit: 1.2,
    unit: 'x',
    kind: 'max',
  });
}
const last = results.at(-1);
if (last)
  checks.push({
    what: 'rss after all sessions ended / baseline',
    actual: last.rssAfter / baseline.rss,
    limit: 1.1,
    unit: 'x',
    kind: 'max',
  });
printTable(
  `capacity${whatIfName ? ` (what-if ${whatIfName})` : ''}: ${turnsPerSession} turns per session (${baselineTurns} at the smallest level), ${((performance.now() - started) / 1000).toFixed(0)} s`,
  metrics,
  out,
);
printChecks(checks, out);
await writeResults(whatIfName ? `capacity.what-if-${whatIfName}` : 'capacity', metrics, json);
process.exit(0);
