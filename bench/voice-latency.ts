import { Knowledge } from '../agent/knowledge.ts';
import { speechFixture, waitFor } from '../test/support/voice-harness.ts';
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
import { VoiceRig, type RigSession } from './voice-rig.ts';
import { QUESTIONS } from './voice-script.ts';
import { whatIfFromOptions, whatIfLabel, type WhatIf } from './what-if.ts';
import { analyzeTurn, ENDPOINTING, marksBefore, stages, type TurnTimeline } from './voice-turn.ts';

/**
 * `voice-latency`: spoken turns through full room-less sessions (real Silero VAD and
 * end-of-turn model, real speech audio, wire-level fakes at published-median latencies,
 * a corpus in the embedded database so every turn retrieves). Reports voice-to-voice
 * (last voiced input frame pushed to first agent audio frame out), the framework
 * overhead above what the fakes and endpointing account for, and each stage of the
 * critical path, for three variants whose sessions alternate in one run:
 * - configured: the session exactly as voice-session.ts builds it;
 * - quick-commit: the same with the end-of-turn model's threshold at 0, so every turn
 *   commits `minDelay` after the speech (the model on these synthetic voices mostly
 *   predicts that the user goes on, which hides the rest of the pipeline behind the
 *   3 s `maxDelay`); this is where the pipeline and its overhead show;
 * - quick-commit.no-retrieval: the same without retrieval, for what retrieval adds.
 *
 * Options: --sessions 3 (configured) --quick-sessions 2 (each quick-commit variant)
 *          --turns 6 (per session; the first is reported apart as cold) --corpus 1000
 *          and the what-ifs of what-if.ts, applied to every variant (e.g. --preemptive-tts)
 */

const { json, options } = benchArguments();
const out = humanOutput(json);
const turnsPerSession = numberOption(options, 'turns', 6);
const corpusChunks = numberOption(options, 'corpus', 1000);
const whatIf = whatIfFromOptions(options);
const whatIfName = whatIfLabel(whatIf);

type VariantName = 'configured' | 'quick-commit' | 'quick-commit.no-retrieval';
const VARIANTS: { name: VariantName; sessions: number; retrieval: boolean; whatIf: WhatIf }[] = [
  { name: 'configured', sessions: numberOption(options, 'sessions', 3), retrieval: true, whatIf },
  {
    name: 'quick-commit',
    sessions: numberOption(options, 'quick-sessions', 2),
    retrieval: true,
    whatIf: { ...whatIf, eotThreshold: 0 },
  },
  {
    name: 'quick-commit.no-retrieval',
    sessions: numberOption(options, 'quick-sessions', 2),
    retrieval: false,
    whatIf: { ...whatIf, eotThreshold: 0 },
  },
];

// Turns without retrieval: Knowledge.retrieve answers "nothing found" at once for one
// user; everything else (the Assistant, llmNode, the session) is unchanged.
const retrieve = Knowledge.prototype.retrieve;
const noRetrievalUsers = new Set<string>();
Knowledge.prototype.retrieve = function (this: Knowledge, text: string) {
  if (noRetrievalUsers.has(this.userId)) return Promise.resolve({ sources: [], memories: [] });
  return retrieve.call(this, text);
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until the agent went back to listening and its audio stopped. */
async function replyFinished(session: RigSession, since: number): Promise<void> {
  await waitFor(
    () => {
      const last = session.frames.at(-1);
      const state = session.records.findLast((record) => record.kind === 'agent-state');
      return (
        last !== undefined &&
        last.at > since &&
        Date.now() - last.at > 300 &&
        state?.kind === 'agent-state' &&
        state.state === 'listening'
      );
    },
    20_000,
    'the reply to finish',
  );
}

const started = performance.now();
out.write(`voice-latency: preparing fakes, models and a ${corpusChunks}-chunk corpus...\n`);
const rig = await VoiceRig.start({ fakes: 'in-process', corpusChunks });
const fakes = rig.fakes!;
const users = { retrieval: await rig.user('bench-retrieval'), none: await rig.user('bench-no-retrieval') };
noRetrievalUsers.add(users.none);

const turns: { variant: VariantName; cold: boolean; timeline: TurnTimeline }[] = [];
const failures: string[] = [];

/** One session of `turnsPerSession` spoken questions. */
async function converse(variant: (typeof VARIANTS)[number], round: number): Promise<void> {
  const session = await rig.startSession(variant.retrieval ? users.retrieval : users.none, variant.whatIf);
  for (let index = 0; index < turnsPerSession; index++) {
    const question = QUESTIONS[(round + index) % QUESTIONS.length]!;
    rig.transcript = question.transcript;
    const before = marksBefore(fakes);
    const spoken = await session.microphone.say(speechFixture(question.fixture));
    try {
      await waitFor(
        () => session.frames.some((frame) => frame.at >= spoken.lastVoicedAt),
        15_000,
        'agent audio',
      );
      await replyFinished(session, spoken.lastVoicedAt);
    } catch (error) {
      failures.push(`${variant.name} turn ${index + 1}: ${(error as Error).message}`);
      continue;
    }
    const maxDelay = variant.whatIf.maxDelayMs ?? ENDPOINTING.maxDelay;
    const timeline = analyzeTurn(session, fakes, {
      ...spoken,
      ...before,
      retrieval: variant.retrieval,
      maxDelay,
    });
    if (timeline) turns.push({ variant: variant.name, cold: index === 0, timeline });
    out.write(
      `  ${variant.name.padEnd(25)} ${question.fixture.padEnd(19)} voice-to-voice ${timeline?.voiceToVoice ?? '?'} ms, ` +
        `end-of-turn p=${timeline?.eotProbability?.toFixed(3) ?? '?'} (threshold ${timeline?.eotThreshold ?? '?'}), ` +
        `${timeline?.critical ?? '?'} critical, preemptive ${timeline?.preemptiveUsed ? 'used' : 'not used'}\n`,
    );
    await sleep(300 + Math.random() * 500);
  }
  await session.close();
}

try {
  // Variants alternate session by session, so drifting machine load hits all alike.
  for (let round = 0; round < Math.max(...VARIANTS.map((variant) => variant.sessions)); round++)
    for (const variant of VARIANTS) if (round < variant.sessions) await converse(variant, round);
} finally {
  await rig.close();
}

const select = (variant: VariantName, cold = false) =>
  turns.filter((turn) => turn.variant === variant && turn.cold === cold).map((turn) => turn.timeline);
const values = (timelines: TurnTimeline[], pick: (turn: TurnTimeline) => number | undefined) =>
  timelines.map(pick).filter((value): value is number => value !== undefined);
const fraction = (name: string, timelines: TurnTimeline[], test: (turn: TurnTimeline) => boolean) => {
  const samples = timelines.map((turn) => (test(turn) ? 1 : 0));
  return summarize(name, 'fraction', samples, { value: mean(samples) });
};
const p50 = (samples: number[]) => percentile(samples, 50);
const configured = select('configured');
const quick = select('quick-commit');
const quickBare = select('quick-commit.no-retrieval');
const v2v = values(configured, (turn) => turn.voiceToVoice);
const v2vQuick = values(quick, (turn) => turn.voiceToVoice);
const v2vBare = values(quickBare, (turn) => turn.voiceToVoice);
const overhead = values(configured, (turn) => turn.overhead);
const overheadQuick = values(quick, (turn) => turn.overhead);
const firstToken = values(quick, (turn) => turn.firstToken);
const firstTokenBare = values(quickBare, (turn) => turn.firstToken);
const allTurns = [...configured, ...quick, ...quickBare];

const metrics: Metric[] = [
  summarize('voice-to-voice', 'ms', v2v, { ratio: p50(v2v) / p50(v2vQuick) }),
  summarize('framework-overhead', 'ms', overhead),
  fraction('eot-predicted-end', configured, (turn) => !turn.eotUnlikely),
  summarize(
    'eot-probability',
    'probability',
    values(configured, (turn) => turn.eotProbability),
  ),
  summarize('voice-to-voice.quick-commit', 'ms', v2vQuick),
  summarize('framework-overhead.quick-commit', 'ms', overheadQuick),
  summarize('voice-to-voice.quick-commit.no-retrieval', 'ms', v2vBare),
  summarize(
    'framework-overhead.quick-commit.no-retrieval',
    'ms',
    values(quickBare, (turn) => turn.overhead),
  ),
  summarize('retrieval-added', 'ms', [p50(v2vQuick) - p50(v2vBare)], { ratio: p50(v2vQuick) / p50(v2vBare) }),
  summarize('retrieval-added.first-token', 'ms', [p50(firstToken) - p50(firstTokenBare)], {
    ratio: p50(firstToken) / p50(firstTokenBare),
  }),
  summarize(
    'voice-to-voice.cold-first-turn',
    'ms',
    values(select('configured', true), (turn) => turn.voiceToVoice),
  ),
  fraction('preemptive-generation-used', allTurns, (turn) => turn.preemptiveUsed),
  fraction('pipeline-critical.quick-commit', quick, (turn) => turn.critical === 'pipeline'),
];
// Where the time goes, from the quick-commit turns (with the configured ones the 3 s wait hides it).
for (const stage of Object.keys(stages(quick[0] ?? ({} as TurnTimeline))))
  metrics.push(
    summarize(
      `stage.${stage}`,
      'ms',
      values(quick, (turn) => stages(turn)[stage]),
    ),
  );

const checks: Check[] = [
  { what: 'voice-to-voice p50', actual: p50(v2v), limit: 800, unit: 'ms', kind: 'max' },
  { what: 'voice-to-voice p50, quick commit', actual: p50(v2vQuick), limit: 800, unit: 'ms', kind: 'max' },
  { what: 'framework overhead p50', actual: p50(overhead), limit: 25, unit: 'ms', kind: 'max' },
  { what: 'framework overhead p95', actual: percentile(overhead, 95), limit: 60, unit: 'ms', kind: 'max' },
  {
    what: 'framework overhead p50, quick commit',
    actual: p50(overheadQuick),
    limit: 25,
    unit: 'ms',
    kind: 'max',
  },
  {
    what: 'framework overhead p95, quick commit',
    actual: percentile(overheadQuick, 95),
    limit: 60,
    unit: 'ms',
    kind: 'max',
  },
  {
    what: 'retrieval added (quick commit, p50)',
    actual: p50(v2vQuick) - p50(v2vBare),
    limit: 20,
    unit: 'ms',
    kind: 'max',
  },
];
printTable(
  `voice-latency${whatIfName ? ` (what-if ${whatIfName})` : ''}: ` +
    `${configured.length} configured, ${quick.length} quick-commit and ${quickBare.length} quick-commit turns without retrieval (warm), ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s`,
  metrics,
  out,
);
printChecks(checks, out);
if (failures.length > 0) out.write(`\nturns without a reply: ${failures.join('; ')}\n`);
// A what-if run does not overwrite the measurement of the configuration as it is.
await writeResults(whatIfName ? `voice-latency.what-if-${whatIfName}` : 'voice-latency', metrics, json);
process.exit(failures.length > turns.length / 4 ? 1 : 0);
