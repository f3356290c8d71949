import { Knowledge } from '../agent/knowledge.ts';
import { waitFor } from '../test/support/voice-harness.ts';
import { ensureHumanSpeech, type SpokenClip } from './human-speech.ts';
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
import { clipsOf, cutOff, speak, type SpeechKind } from './voice-clips.ts';
import { VoiceRig, type RigSession } from './voice-rig.ts';
import { whatIfFromOptions, whatIfLabel, type WhatIf } from './what-if.ts';
import {
  instrumentRecorderQueries,
  instrumentTurnRecorder,
  recorderMsBetween,
  recorderQueries,
} from './recorder-cost.ts';
import { accountedFromTimings, analyzeTurn, marksBefore, stages, type TurnTimeline } from './voice-turn.ts';
import type { ConversationPool } from '../web/server/conversation-pool.ts';

/**
 * `voice-latency`: spoken turns through full room-less sessions (real Silero VAD, the
 * end-of-turn model and the turn-taking decision, wire-level fakes at published-median
 * latencies, a corpus in the embedded database so every turn retrieves). Reports
 * voice-to-voice (last voiced input frame pushed to first agent audio frame out), the
 * framework overhead above what the fakes and the committed endpointing account for,
 * each stage of the critical path, and false cut-offs, for variants whose sessions
 * alternate in one run:
 * - synthetic: the committed espeak-ng questions, the session as voice-session.ts builds it;
 * - human: recorded human prompts (asterisk-core-sounds-en, apt-installed on first use);
 * - synthetic.no-retrieval: the synthetic turns without retrieval, for what retrieval adds;
 * - synthetic.no-turn-recorder: the synthetic turns without the turn recorder (stage
 *   timings, turn rows, metrics, spans), for what recording costs;
 * - synthetic.no-embedding-reuse: the synthetic turns without reusing an interim
 *   wording's embedding for a final that only adds words to it, for what that buys;
 * - pauses: the pause corpus (human speech pausing 300-1200 ms mid-sentence), counting
 *   the turns the agent took before the speaker finished;
 * - synthetic.processes, human.processes: the same clips in a conversation process, as
 *   `npm start` runs conversations (web/server/conversation-pool.ts), measured where the
 *   server hands audio to a page; the overhead from each turn's `turn_timings` event (what
 *   a page sees). Left out of a what-if run (what-ifs change sessions in this process).
 *
 * Options: --sessions 3 (synthetic and human) --bare-sessions 2 (no retrieval)
 *          --recorder-sessions 2 (no turn recorder) --reuse-sessions 2 (no embedding
 *          reuse) --turns 6
 *          (per session; the first is reported apart as cold) --pause-sessions 5 (the 45
 *          pause clips spread over them) --process-sessions 2 (in a conversation process)
 *          --corpus 1000 --variants human,pauses (a subset)
 *          and the what-ifs of what-if.ts.
 */

const { json, options } = benchArguments();
const out = humanOutput(json);
const turnsPerSession = numberOption(options, 'turns', 6);
const corpusChunks = numberOption(options, 'corpus', 1000);
const whatIf = whatIfFromOptions(options);
const whatIfName = whatIfLabel(whatIf);

type VariantName =
  | 'synthetic'
  | 'human'
  | 'synthetic.no-retrieval'
  | 'synthetic.no-turn-recorder'
  | 'synthetic.no-embedding-reuse'
  | 'pauses'
  | 'synthetic.processes'
  | 'human.processes';
interface Variant {
  name: VariantName;
  speech: SpeechKind;
  sessions: number;
  retrieval: boolean;
  /** Settings this variant's sessions change (what a part costs or buys), on top of the run's. */
  whatIf?: WhatIf;
  /** In a conversation process, as `npm start` runs conversations. */
  pooled?: true;
}
const ALL_VARIANTS: Variant[] = [
  { name: 'synthetic', speech: 'synthetic', sessions: numberOption(options, 'sessions', 3), retrieval: true },
  { name: 'human', speech: 'human', sessions: numberOption(options, 'sessions', 3), retrieval: true },
  {
    name: 'synthetic.no-retrieval',
    speech: 'synthetic',
    sessions: numberOption(options, 'bare-sessions', 2),
    retrieval: false,
  },
  {
    name: 'synthetic.no-turn-recorder',
    speech: 'synthetic',
    sessions: numberOption(options, 'recorder-sessions', 2),
    retrieval: true,
    whatIf: { noTurnRecorder: true },
  },
  {
    name: 'synthetic.no-embedding-reuse',
    speech: 'synthetic',
    sessions: numberOption(options, 'reuse-sessions', 2),
    retrieval: true,
    whatIf: { noEmbeddingReuse: true },
  },
  { name: 'pauses', speech: 'pauses', sessions: numberOption(options, 'pause-sessions', 5), retrieval: true },
  ...(['synthetic', 'human'] as const).map((speech): Variant => ({
    name: `${speech}.processes`,
    speech,
    sessions: numberOption(options, 'process-sessions', 2),
    retrieval: true,
    pooled: true,
  })),
];
const only = options.get('variants')?.split(',');
const VARIANTS = ALL_VARIANTS.filter(
  (variant) => (!only || only.includes(variant.name)) && !(variant.pooled && whatIfName),
);

// Turns without retrieval: Knowledge.retrieve answers "nothing found" at once for one
// user; everything else (the Assistant, llmNode, the session) is unchanged.
const { retrieve, embedQuery } = Knowledge.prototype;
const noRetrievalUsers = new Set<string>();
Knowledge.prototype.retrieve = function (this: Knowledge, ...query: Parameters<typeof retrieve>) {
  if (noRetrievalUsers.has(this.userId)) return Promise.resolve({ sources: [], memories: [] });
  return retrieve.apply(this, query);
};
Knowledge.prototype.embedQuery = function (this: Knowledge, text: string) {
  if (noRetrievalUsers.has(this.userId)) return Promise.resolve(null);
  return embedQuery.call(this, text);
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

/** The turn-taking decisions a session made between two moments. */
function decisionsDuring(session: RigSession, from: number, to: number) {
  return session.records.flatMap((record) =>
    record.kind === 'turn-decision' && record.at >= from && record.at <= to ? [record] : [],
  );
}

const started = performance.now();
ensureHumanSpeech(out);
const clips: Record<SpeechKind, SpokenClip[]> = {
  synthetic: clipsOf('synthetic'),
  human: clipsOf('human'),
  pauses: clipsOf('pauses'),
};
out.write(`voice-latency: preparing fakes, models and a ${corpusChunks}-chunk corpus...\n`);
const rig = await VoiceRig.start({ fakes: 'in-process', corpusChunks });
const fakes = rig.fakes!;
const users = { retrieval: await rig.user('bench-retrieval'), none: await rig.user('bench-no-retrieval') };
noRetrievalUsers.add(users.none);

instrumentTurnRecorder();
instrumentRecorderQueries(rig.database.pool);
const turns: {
  variant: VariantName;
  cold: boolean;
  timeline: TurnTimeline;
  recorderMs: number;
  recorderQueryMs: number;
}[] = [];
const cutOffs: { pauseMs: number; cut: boolean }[] = [];
/** Turns in a conversation process: what a page sees of them. */
const pooledTurns: { variant: VariantName; cold: boolean; voiceToVoice: number; overhead: number }[] = [];
/** One conversation process, started for the first pooled session. */
let pool: Promise<ConversationPool> | undefined;
const failures: string[] = [];

/** The clips one session of a variant speaks in round `round`. */
function sessionClips(variant: Variant, round: number): SpokenClip[] {
  const all = clips[variant.speech];
  if (variant.speech === 'pauses') return all.filter((_, index) => index % variant.sessions === round);
  return Array.from(
    { length: turnsPerSession },
    (_, index) => all[(round * turnsPerSession + index) % all.length]!,
  );
}

/**
 * One session in a conversation process speaking its clips: voice-to-voice from the last
 * voiced frame to the first agent frame the server hands to the page.
 */
async function conversePooled(variant: Variant, round: number): Promise<void> {
  pool ??= rig.startPool(1);
  const session = await rig.startPooledSession(await pool, users.retrieval);
  for (const [index, clip] of sessionClips(variant, round).entries()) {
    const spoken = await speak(rig, session, clip);
    try {
      const first = await waitFor(
        () => session.frames.find((frame) => frame.at >= spoken.lastVoicedAt),
        15_000,
        'agent audio',
      );
      await waitFor(() => Date.now() - (session.frames.at(-1)?.at ?? 0) > 400, 20_000, 'the reply to finish');
      const voiceToVoice = first.at - spoken.lastVoicedAt;
      const overhead = voiceToVoice - (await accountedFromTimings(session, spoken, first.at));
      pooledTurns.push({ variant: variant.name, cold: index === 0, voiceToVoice, overhead });
      out.write(
        `  ${variant.name.padEnd(22)} ${clip.id.padEnd(28)} voice-to-voice ${voiceToVoice} ms, overhead ${overhead} ms\n`,
      );
    } catch (error) {
      failures.push(`${variant.name} ${clip.id}: ${(error as Error).message}`);
    }
    await sleep(300 + Math.random() * 500);
  }
  await session.close();
}

/** One session speaking its clips, one turn each. */
async function converse(variant: Variant, round: number, whatIf: WhatIf): Promise<void> {
  if (variant.pooled) return conversePooled(variant, round);
  const session = await rig.startSession(variant.retrieval ? users.retrieval : users.none, {
    ...whatIf,
    ...variant.whatIf,
  });
  for (const [index, clip] of sessionClips(variant, round).entries()) {
    const before = marksBefore(fakes);
    const spoken = await speak(rig, session, clip);
    try {
      await waitFor(
        () => session.frames.some((frame) => frame.at >= spoken.lastVoicedAt),
        15_000,
        'agent audio',
      );
      await replyFinished(session, spoken.lastVoicedAt);
    } catch (error) {
      failures.push(`${variant.name} ${clip.id}: ${(error as Error).message}`);
      continue;
    }
    const timeline = analyzeTurn(session, fakes, { ...spoken, ...before, retrieval: variant.retrieval });
    if (variant.speech === 'pauses')
      cutOffs.push({ pauseMs: clip.pauseMs ?? 0, cut: cutOff(session, spoken) });
    else if (timeline)
      turns.push({
        variant: variant.name,
        cold: index === 0,
        timeline,
        recorderMs: recorderMsBetween(spoken.lastVoicedAt, spoken.lastVoicedAt + timeline.voiceToVoice),
        recorderQueryMs: recorderMsBetween(
          spoken.lastVoicedAt,
          spoken.lastVoicedAt + timeline.voiceToVoice,
          recorderQueries,
        ),
      });
    // The pause clips show the decisions taken while the speaker was still in the sentence.
    const decision =
      variant.speech === 'pauses'
        ? decisionsDuring(session, spoken.onsetAt, spoken.lastVoicedAt)[0]
        : timeline?.decision;
    out.write(
      `  ${variant.name.padEnd(22)} ${clip.id.padEnd(28)} voice-to-voice ${timeline?.voiceToVoice ?? '?'} ms, ` +
        `decision ${decision ? `${decision.verdict} (${decision.shape}, audio ${decision.audio} p=${decision.probability?.toFixed(3)}) wait ${decision.waitMs}` : '?'}` +
        `${variant.speech === 'pauses' ? `, ${cutOffs.at(-1)?.cut ? 'CUT OFF' : 'waited'}` : ''}\n`,
    );
    await sleep(300 + Math.random() * 500);
  }
  await session.close();
}

try {
  // Variants alternate session by session, so drifting machine load hits all alike.
  for (let round = 0; round < Math.max(...VARIANTS.map((variant) => variant.sessions)); round++)
    for (const variant of VARIANTS) if (round < variant.sessions) await converse(variant, round, whatIf);
} finally {
  await rig.close();
}

const select = (variant: VariantName, cold = false) =>
  turns.filter((turn) => turn.variant === variant && turn.cold === cold).map((turn) => turn.timeline);
const values = (timelines: TurnTimeline[], pick: (turn: TurnTimeline) => number | undefined) =>
  timelines.map(pick).filter((value): value is number => value !== undefined);
const fraction = (name: string, samples: boolean[]) => {
  const ones = samples.map((sample) => (sample ? 1 : 0));
  return summarize(name, 'fraction', ones, { value: mean(ones) });
};
const p50 = (samples: number[]) => percentile(samples, 50);
const p95 = (samples: number[]) => percentile(samples, 95);
const synthetic = select('synthetic');
const human = select('human');
const bare = select('synthetic.no-retrieval');
const noReuse = select('synthetic.no-embedding-reuse');
// Warm turns of the sessions that record turns, for what the recorder costs on the critical path.
const recorded = turns.filter(
  (turn) => !turn.cold && (turn.variant === 'synthetic' || turn.variant === 'human'),
);
const v2v = (timelines: TurnTimeline[]) => values(timelines, (turn) => turn.voiceToVoice);
const overhead = (timelines: TurnTimeline[]) => values(timelines, (turn) => turn.overhead);
const firstToken = (timelines: TurnTimeline[]) => values(timelines, (turn) => turn.firstToken);
/** Warm turns of a variant in a conversation process. */
const pooledValues = (variant: VariantName, pick: 'voiceToVoice' | 'overhead') =>
  pooledTurns.filter((turn) => turn.variant === variant && !turn.cold).map((turn) => turn[pick]);
const cutOffRate = mean(cutOffs.map((entry) => (entry.cut ? 1 : 0)));

const metrics: Metric[] = [
  summarize('voice-to-voice.synthetic', 'ms', v2v(synthetic)),
  summarize('voice-to-voice.human', 'ms', v2v(human)),
  summarize('framework-overhead.synthetic', 'ms', overhead(synthetic)),
  summarize('framework-overhead.human', 'ms', overhead(human)),
  ...(['synthetic.processes', 'human.processes'] as const).flatMap((variant) => [
    summarize(`voice-to-voice.${variant}`, 'ms', pooledValues(variant, 'voiceToVoice')),
    summarize(`framework-overhead.${variant}`, 'ms', pooledValues(variant, 'overhead')),
  ]),
  summarize(
    'turn-recorder.critical-path-main-thread',
    'ms',
    recorded.map((turn) => turn.recorderMs),
  ),
  summarize(
    'turn-recorder.critical-path-row-writes',
    'ms',
    recorded.map((turn) => turn.recorderQueryMs),
  ),
  summarize(
    'framework-overhead.synthetic.no-turn-recorder',
    'ms',
    overhead(select('synthetic.no-turn-recorder')),
  ),
  fraction(
    'false-cut-offs.pauses',
    cutOffs.map((entry) => entry.cut),
  ),
  ...[300, 500, 700, 900, 1200].map((pauseMs) =>
    fraction(
      `false-cut-offs.pause-${pauseMs}ms`,
      cutOffs.filter((entry) => entry.pauseMs === pauseMs).map((entry) => entry.cut),
    ),
  ),
  fraction(
    'decision-finished.synthetic',
    synthetic.map((turn) => turn.decision?.verdict === 'finished'),
  ),
  fraction(
    'decision-finished.human',
    human.map((turn) => turn.decision?.verdict === 'finished'),
  ),
  summarize(
    'eot-probability.synthetic',
    'probability',
    values(synthetic, (turn) => turn.eotProbability),
  ),
  summarize(
    'eot-probability.human',
    'probability',
    values(human, (turn) => turn.eotProbability),
  ),
  summarize('voice-to-voice.synthetic.no-retrieval', 'ms', v2v(bare)),
  summarize('voice-to-voice.synthetic.no-embedding-reuse', 'ms', v2v(noReuse)),
  summarize('embedding-reuse-saved', 'ms', [p50(v2v(noReuse)) - p50(v2v(synthetic))], {
    ratio: p50(v2v(synthetic)) / p50(v2v(noReuse)),
  }),
  summarize('retrieval-added', 'ms', [p50(v2v(synthetic)) - p50(v2v(bare))], {
    ratio: p50(v2v(synthetic)) / p50(v2v(bare)),
  }),
  summarize('retrieval-added.first-token', 'ms', [p50(firstToken(synthetic)) - p50(firstToken(bare))], {
    ratio: p50(firstToken(synthetic)) / p50(firstToken(bare)),
  }),
  summarize(
    'voice-to-voice.cold-first-turn',
    'ms',
    v2v([...select('synthetic', true), ...select('human', true)]),
  ),
  fraction(
    'preemptive-generation-used',
    [...synthetic, ...human].map((turn) => turn.preemptiveUsed),
  ),
  fraction(
    'retrieval-started-on-interim-words',
    [...synthetic, ...human].map((turn) => turn.retrievalPrefetched),
  ),
  fraction(
    'retrieval-reused-interim-embedding',
    [...synthetic, ...human].map((turn) => turn.embeddingReused),
  ),
  fraction(
    'pipeline-critical',
    [...synthetic, ...human].map((turn) => turn.critical === 'pipeline'),
  ),
];
// Where the time goes, from the warm synthetic and human turns.
for (const stage of Object.keys(stages(synthetic[0] ?? ({} as TurnTimeline))))
  metrics.push(
    summarize(
      `stage.${stage}`,
      'ms',
      values([...synthetic, ...human], (turn) => stages(turn)[stage]),
    ),
  );

const limit = (what: string, actual: number, max: number, unit = 'ms'): Check => ({
  what,
  actual,
  limit: max,
  unit,
  kind: 'max',
});
const ran = (name: VariantName) => VARIANTS.some((variant) => variant.name === name);
/** The checks of the variants this run spoke (`--variants` may leave some out). */
const checks: Check[] = [
  ...(['synthetic', 'human'] as const).flatMap((speech) => {
    const timelines = speech === 'synthetic' ? synthetic : human;
    return ran(speech)
      ? [
          limit(`voice-to-voice p50, ${speech}`, p50(v2v(timelines)), 800),
          limit(`voice-to-voice p95, ${speech}`, p95(v2v(timelines)), 1300),
          limit(`framework overhead p50, ${speech}`, p50(overhead(timelines)), 25),
          limit(`framework overhead p95, ${speech}`, p95(overhead(timelines)), 60),
        ]
      : [];
  }),
  ...VARIANTS.filter((variant) => variant.pooled).flatMap(({ name, speech }) => {
    const where = `${speech}, in a conversation process`;
    return [
      limit(`voice-to-voice p50, ${where}`, p50(pooledValues(name, 'voiceToVoice')), 800),
      limit(`voice-to-voice p95, ${where}`, p95(pooledValues(name, 'voiceToVoice')), 1300),
      limit(`framework overhead p50, ${where}`, p50(pooledValues(name, 'overhead')), 25),
      limit(`framework overhead p95, ${where}`, p95(pooledValues(name, 'overhead')), 60),
    ];
  }),
  ...(ran('pauses') ? [limit('false cut-offs on the pause corpus', cutOffRate, 0.05, '')] : []),
  ...(ran('synthetic') && ran('synthetic.no-retrieval')
    ? [limit('retrieval added (p50)', p50(v2v(synthetic)) - p50(v2v(bare)), 20)]
    : []),
  ...(ran('synthetic') || ran('human')
    ? [
        limit(
          'turn recorder time on the critical path, calls and row writes (p50)',
          p50(recorded.map((turn) => turn.recorderMs + turn.recorderQueryMs)),
          2,
        ),
      ]
    : []),
  ...(ran('synthetic') && ran('synthetic.no-turn-recorder')
    ? [
        limit(
          'turn recorder cost (overhead p50)',
          p50(overhead(synthetic)) - p50(overhead(select('synthetic.no-turn-recorder'))),
          2,
        ),
      ]
    : []),
];
printTable(
  `voice-latency${whatIfName ? ` (what-if ${whatIfName})` : ''}: ${synthetic.length} synthetic, ` +
    `${human.length} human and ${bare.length} no-retrieval turns (warm), ` +
    `${pooledTurns.filter((turn) => !turn.cold).length} in a conversation process, ${cutOffs.length} pause clips, ` +
    `${((performance.now() - started) / 1000).toFixed(0)} s`,
  metrics,
  out,
);
printChecks(checks, out);
if (failures.length > 0) out.write(`\nturns without a reply: ${failures.join('; ')}\n`);
// A what-if run does not overwrite the measurement of the configuration as it is.
await writeResults(whatIfName ? `voice-latency.what-if-${whatIfName}` : 'voice-latency', metrics, json);
process.exit(failures.length > (turns.length + pooledTurns.length + cutOffs.length) / 4 ? 1 : 0);
