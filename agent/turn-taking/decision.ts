import { textShape, type TextShape } from './text-shape.ts';

/**
 * The turn-taking decision: from what the session knows when the user falls silent
 * (the audio end-of-turn model's probability, the words heard so far and whether the
 * STT has closed them with a final), how much silence after the end of speech to wait
 * before the agent takes the turn. Pure: features in, decision out; the plumbing into
 * LiveKit's turn detection lives in `detector.ts`.
 *
 * The silence-to-wait table is the one place the policy lives. Rows are what the words
 * say, columns what the audio model says:
 *
 * | words \ audio | finished | unsure | going on |
 * | --- | --- | --- | --- |
 * | question      | 0        | 0      | 700      |
 * | complete      | 0        | 0      | 1100     |
 * | open          | 1500     | 1500   | max      |
 * | number        | 1500     | max    | max      |
 * | trailing      | 1500     | max    | max      |
 * | none          | 700      | 1500   | max      |
 *
 * A wait is measured from the end of speech; Silero reports the end of speech only after
 * {@link TURN_TAKING}.vadMinSilenceMs of silence (400 ms, its default is 550), so anything
 * up to that commits as soon as the VAD does. `max` is the
 * session's `maxDelay`. Why these values: people pause 300 to 1200 ms inside sentences
 * (longer while reading numbers or looking for a word), and the VAD needs about 100 ms
 * to hear them again, so a wait that must not cut them off is 1500 ms, and the long wait
 * 2500 ms. A question or a sentence the STT closed with punctuation (Deepgram punctuates
 * what its language model takes for a finished sentence) is answered at once unless
 * the audio model is sure the voice is going on. Words without closing punctuation
 * ("There are currently") wait even when the audio sounds finished: on recorded speech
 * `v1-mini` gives such fragments 0.37 to 0.65, above its threshold (measured on the
 * pause corpus), while it gives much complete speech less (espeak: about 0.25 against
 * 0.36). So the audio decides the ambiguous cells, and only "going on" below
 * {@link TURN_TAKING}.audioGoingOnBelow counts against words that say finished.
 */

/** Every threshold of the decision; documented above and in the README. */
export const TURN_TAKING = {
  /**
   * Silence Silero VAD needs before it reports the end of speech (its minSilenceDuration).
   * Every turn waits at least this long; the words decide the rest. 400 ms instead of
   * the plugin's 550: measured side by side, no more false cut-offs on the pause corpus
   * (0 of 45 at 400 ms, 1 of 45 at 550 ms under the same load), and the turn is taken
   * 160 ms sooner when the STT and the language model are fast enough to use it.
   */
  vadMinSilenceMs: 400,
  /** Audio probability below which the model says the speaker is going on (its own threshold says "finished"). */
  audioGoingOnBelow: 0.1,
  /** The long wait, the session's endpointing `maxDelay`. */
  maxDelayMs: 2500,
  /** Silence to wait after the end of speech, by what the words say and what the audio says. */
  waitMs: {
    question: { finished: 0, unsure: 0, 'going-on': 700 },
    complete: { finished: 0, unsure: 0, 'going-on': 1100 },
    open: { finished: 1500, unsure: 1500, 'going-on': 'max' },
    number: { finished: 1500, unsure: 'max', 'going-on': 'max' },
    trailing: { finished: 1500, unsure: 'max', 'going-on': 'max' },
    none: { finished: 700, unsure: 1500, 'going-on': 'max' },
  } satisfies Record<TextShape, Record<AudioVerdict, number | 'max'>>,
} as const;

/** What the audio end-of-turn model says. */
export type AudioVerdict = 'finished' | 'unsure' | 'going-on';

/** What the session knows when the user falls silent. */
export interface TurnFeatures {
  /** The audio model's end-of-turn probability (0 to 1); undefined when it gave none. */
  audioProbability: number | undefined;
  /** The model's own "unlikely" threshold for the language; at or above it the audio says finished. */
  audioThreshold: number | undefined;
  /** The words so far: the final transcripts of this turn and the latest interim after them. */
  text: string;
  /** Whether the STT closed the last words with a final (Deepgram: its endpointing fired). */
  textIsFinal: boolean;
}

/** The decision, with the signals that led to it (for the turn recorder). */
export interface TurnDecision {
  /** finished: take the turn as soon as the VAD ends speech; mid-thought: the long wait. */
  verdict: 'finished' | 'unsure' | 'mid-thought';
  /** Silence after the end of speech to wait before committing the turn, in ms. */
  waitMs: number;
  /** What the words say, after discounting words that are not final yet. */
  shape: TextShape;
  audio: AudioVerdict;
  audioProbability: number | undefined;
  textIsFinal: boolean;
}

/** The audio model's verdict on its own. */
export function audioVerdict(probability: number | undefined, threshold: number | undefined): AudioVerdict {
  if (probability === undefined) return 'unsure';
  if (threshold !== undefined && probability >= threshold) return 'finished';
  return probability < TURN_TAKING.audioGoingOnBelow ? 'going-on' : 'unsure';
}

/** Decides how long to wait, from the features; see the table above. */
export function decideTurn(features: TurnFeatures): TurnDecision {
  // Words the STT has not closed with a final may still change: until the final comes
  // (Deepgram's endpointing, normally within 200 ms of the end of speech), only their
  // "going on" cues count; "finished" ones wait as if there were no words yet.
  const heard = textShape(features.text);
  const shape = features.textIsFinal || heard === 'trailing' || heard === 'number' ? heard : 'none';
  const audio = audioVerdict(features.audioProbability, features.audioThreshold);
  const cell = TURN_TAKING.waitMs[shape][audio];
  const waitMs = cell === 'max' ? TURN_TAKING.maxDelayMs : cell;
  return {
    verdict: cell === 'max' ? 'mid-thought' : cell === 0 ? 'finished' : 'unsure',
    waitMs,
    shape,
    audio,
    audioProbability: features.audioProbability,
    textIsFinal: features.textIsFinal,
  };
}
