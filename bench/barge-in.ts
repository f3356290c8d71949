import { speechFixture, waitFor } from '../test/support/voice-harness.ts';
import { blips } from './blips.ts';
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
import { LONG_REQUEST } from './voice-script.ts';
import { whatIfFromOptions, whatIfLabel } from './what-if.ts';

/**
 * `barge-in`: the user starts speaking while the agent speaks. Measures the time from
 * the onset of their speech (first voiced frame pushed) to the last agent audio frame
 * the paced output released, how often short non-speech blips (coughs, clicks, a
 * clap, a knock) interrupt the agent or make it pause, and what backchannels ("uh-huh"
 * said over the agent, transcribed as one of BACKCHANNEL_WORDS) do: taken as the user's
 * turn or not, and how long the answer stopped before it went on.
 *
 * Options: --trials 20 (spoken interruptions) --blips 35 (blips, cycling over 7 kinds)
 *          --backchannels 15 (cycling over the words)
 *          and the what-ifs of what-if.ts (e.g. --min-interruption-ms 250)
 */

const { json, options } = benchArguments();
const out = humanOutput(json);
const trials = numberOption(options, 'trials', 20);
const blipCount = numberOption(options, 'blips', 35);
const backchannelCount = numberOption(options, 'backchannels', 15);
/** What the STT fake says the "uh-huh" clip was, in turn. */
const BACKCHANNEL_WORDS = ['Uh-huh.', 'Mm-hmm.', 'Yeah.', 'Okay.', 'Right, right.'];
const whatIf = whatIfFromOptions(options);
const whatIfName = whatIfLabel(whatIf);
/** Agent audio flows in steady small steps; a longer silence means it stopped. */
const STOPPED_GAP_MS = 250;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Asks for a long answer and resolves once its audio has flowed for `afterMs`. */
async function agentTalking(session: RigSession, afterMs: number): Promise<void> {
  const asked = Date.now();
  session.voice.sendText(LONG_REQUEST);
  const firstAt = await waitFor(
    () => session.frames.find((frame) => frame.at > asked && frame.rms > 0.01)?.at,
    15_000,
    'the long answer to start',
  );
  await sleep(Math.max(0, firstAt + afterMs - Date.now()));
}

/** Whether the agent is still speaking (its audio flowed in the last moment). */
const speaking = (session: RigSession) => {
  const last = session.frames.at(-1);
  return last !== undefined && Date.now() - last.at < STOPPED_GAP_MS;
};

/** Waits for the agent to fall silent (for at least 600 ms). */
async function quiet(session: RigSession): Promise<void> {
  await waitFor(
    () => {
      const last = session.frames.at(-1);
      return last === undefined || Date.now() - last.at > 600;
    },
    40_000,
    'the agent to be quiet',
  );
}

/** The longest gap between agent audio frames released since just before `from` (ms). */
function longestGap(session: RigSession, from: number): number {
  const window = session.frames.filter((frame) => frame.at >= from - 100);
  return Math.max(
    0,
    ...window.map((frame, position) => (position > 0 ? frame.at - window[position - 1]!.at : 0)),
  );
}

/** The last frame of the audio that was playing at `from`: the frame before the first long gap. */
function lastFrameOfRun(session: RigSession, from: number): number {
  let last = session.frames.findLast((frame) => frame.at <= from)?.at ?? from;
  for (const frame of session.frames) {
    if (frame.at <= from) continue;
    if (frame.at - last > STOPPED_GAP_MS) break;
    last = frame.at;
  }
  return last;
}

const started = performance.now();
out.write('barge-in: preparing fakes and models...\n');
const rig = await VoiceRig.start({ fakes: 'in-process', corpusChunks: 100 });
const fakes = rig.fakes!;
// About 200 ms of audio per word: the long answer plays for tens of seconds.
fakes.elevenlabs.settings.msPerWord = 200;
const userId = await rig.user('bench-barge-in');

const bargeIns: number[] = [];
const missed: number[] = [];
const blipOutcomes: { name: string; interrupted: boolean; paused: boolean }[] = [];
const backchannelOutcomes: { words: string; takenAsTurn: boolean; silenceMs: number }[] = [];
try {
  const session = await rig.startSession(userId, whatIf);
  const stop = speechFixture('interrupt-stop');
  for (let trial = 0; trial < trials; trial++) {
    await agentTalking(session, 400 + Math.random() * 1200);
    rig.transcript = 'wait stop that is enough';
    const clearsBefore = session.clears.length;
    const spoken = session.microphone.say(stop);
    // The onset is known once the first voiced frame went in; the clip takes ~2 s.
    const { onsetAt } = await spoken;
    const lastOut = lastFrameOfRun(session, onsetAt);
    const cleared = session.clears.slice(clearsBefore).some((at) => at >= onsetAt);
    if (cleared) bargeIns.push(Math.max(0, lastOut - onsetAt));
    else missed.push(trial);
    out.write(
      `  trial ${trial + 1}: last agent frame ${lastOut - onsetAt} ms after speech onset` +
        `${cleared ? '' : ' (NOT interrupted)'}\n`,
    );
    // The answer to "wait, stop" is not measured: drop the pending user turn instead of
    // waiting for the end-of-turn decision and a reply.
    await sleep(400);
    session.voice.session.clearUserTurn();
    session.voice.session.interrupt();
    await quiet(session);
  }

  const kinds = blips(speechFixture('cough'));
  await agentTalking(session, 500);
  for (let index = 0; index < blipCount; index++) {
    if (!speaking(session)) {
      await quiet(session);
      await agentTalking(session, 500);
    }
    const blip = kinds[index % kinds.length]!;
    const clearsBefore = session.clears.length;
    const { onsetAt } = await session.microphone.say(blip);
    // An interruption needs `minDuration` (250 ms) of speech, then a pause is held until a transcript comes.
    await sleep(1000);
    const interrupted = session.clears.slice(clearsBefore).some((at) => at >= onsetAt);
    // Held playback shows as a gap in the released frames that later resumes.
    const paused = longestGap(session, onsetAt) > STOPPED_GAP_MS;
    blipOutcomes.push({ name: blip.name, interrupted, paused });
    if (interrupted || paused)
      out.write(`  blip ${blip.name}: ${interrupted ? 'interrupted' : 'paused'} the agent\n`);
  }

  const uhHuh = speechFixture('uh-huh');
  for (let index = 0; index < backchannelCount; index++) {
    if (!speaking(session)) await quiet(session);
    await agentTalking(session, 500 + Math.random() * 1000);
    const words = BACKCHANNEL_WORDS[index % BACKCHANNEL_WORDS.length]!;
    rig.transcript = words;
    const clearsBefore = session.clears.length;
    const recordsBefore = session.records.length;
    const { onsetAt } = await session.microphone.say(uhHuh);
    // The clip, Silero's end of speech (400 ms of silence), the resume, some more answer.
    await sleep(2500);
    const cleared = session.clears.slice(clearsBefore).some((at) => at >= onsetAt);
    const newReply = session.records
      .slice(recordsBefore)
      .some((record) => record.kind === 'speech-created' && record.source === 'generate_reply');
    // How long the answer stopped: the longest gap in its audio since the onset, or the
    // silence so far if it has not come back.
    const silenceMs = Math.max(
      longestGap(session, onsetAt),
      Date.now() - (session.frames.at(-1)?.at ?? onsetAt),
    );
    backchannelOutcomes.push({ words, takenAsTurn: cleared || newReply, silenceMs });
    out.write(
      `  backchannel "${words}": ${cleared || newReply ? 'taken as a turn' : `answer stopped ${silenceMs} ms`}\n`,
    );
  }
  session.voice.session.interrupt();
  await session.close();
} finally {
  await rig.close();
}

const falseInterruptions = blipOutcomes.map((outcome) => (outcome.interrupted ? 1 : 0));
const pauses = blipOutcomes.map((outcome) => (outcome.paused ? 1 : 0));
const backchannelTurns = backchannelOutcomes.map((outcome) => (outcome.takenAsTurn ? 1 : 0));
const metrics: Metric[] = [
  summarize('barge-in.onset-to-last-agent-frame', 'ms', bargeIns),
  summarize('barge-in.missed', 'fraction', [missed.length / trials]),
  summarize('blips.false-interruption-rate', 'fraction', falseInterruptions, {
    value: mean(falseInterruptions),
  }),
  summarize('blips.pause-rate', 'fraction', pauses, { value: mean(pauses) }),
  summarize('backchannels.taken-as-turn', 'fraction', backchannelTurns, { value: mean(backchannelTurns) }),
];
const answerStopped = backchannelOutcomes
  .filter((outcome) => !outcome.takenAsTurn)
  .map((outcome) => outcome.silenceMs);
if (answerStopped.length > 0) metrics.push(summarize('backchannels.answer-stopped', 'ms', answerStopped));
const checks: Check[] = [
  { what: 'barge-in p95', actual: percentile(bargeIns, 95), limit: 300, unit: 'ms', kind: 'max' },
  {
    what: 'false interruptions on blips',
    actual: mean(falseInterruptions) * 100,
    limit: 5,
    unit: '%',
    kind: 'max',
  },
  {
    what: "backchannels taken as the user's turn",
    actual: mean(backchannelTurns) * 100,
    limit: 5,
    unit: '%',
    kind: 'max',
  },
];
printTable(
  `barge-in${whatIfName ? ` (what-if ${whatIfName})` : ''}: ${bargeIns.length} interruptions, ${blipOutcomes.length} blips, ${backchannelOutcomes.length} backchannels, ${((performance.now() - started) / 1000).toFixed(0)} s`,
  metrics,
  out,
);
printChecks(checks, out);
const byKind = new Map<string, number>();
for (const outcome of blipOutcomes)
  if (outcome.interrupted) byKind.set(outcome.name, (byKind.get(outcome.name) ?? 0) + 1);
if (byKind.size > 0)
  out.write(
    `\nfalse interruptions by blip: ${[...byKind].map(([name, count]) => `${name} ${count}`).join(', ')}\n`,
  );
// A what-if run does not overwrite the measurement of the configuration as it is.
await writeResults(whatIfName ? `barge-in.what-if-${whatIfName}` : 'barge-in', metrics, json);
process.exit(0);
