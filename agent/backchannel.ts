import { stt, voice } from '@livekit/agents';
import { TransformStream, type ReadableStream } from 'node:stream/web';

/**
 * Backchannels: what a listener says while the other person talks, to show they follow
 * ("mm-hm", "uh-huh", "yeah", "okay", "I see"), not to take the turn. The framework takes
 * any words heard while the agent speaks as the user's turn: it drops the answer being
 * spoken and answers "mm-hm" instead. {@link BackchannelFilter} keeps such words from the
 * session while the agent holds the floor, so the paused answer goes on.
 */
export const BACKCHANNEL = {
  /**
   * How long after a backchannel's speech ended (the VAD's end of speech) the paused
   * answer resumes; the framework's false-interruption timeout, lowered for that pause
   * only. Other pauses keep the session's own (it must outlast the turn decision's waits).
   */
  resumeAfterMs: 150,
  /** Longer utterances are never backchannels, whatever their words. */
  maxWords: 4,
} as const;

/** Single words and fixed phrases a listener says without taking the turn (lowercase, hyphens as spaces). */
const PHRASES = new Set([
  'mm',
  'mmm',
  'hm',
  'hmm',
  'mhm',
  'mmhm',
  'mmhmm',
  'mm hm',
  'mm hmm',
  'uh huh',
  'uhhuh',
  'ah',
  'aha',
  'oh',
  'ok',
  'okay',
  'yeah',
  'yep',
  'yup',
  'yes',
  'right',
  'sure',
  'alright',
  'all right',
  'cool',
  'nice',
  'wow',
  'exactly',
  'true',
  'i see',
  'got it',
]);
const LONGEST_PHRASE_WORDS = 2;

/**
 * Whether a transcript says nothing but backchannels ("Mm-hmm.", "Yeah, yeah.", "Okay,
 * got it."): every word belongs to one of the phrases above, at most
 * {@link BACKCHANNEL.maxWords} words. "Yeah, but…", "No", "Wait" and anything longer
 * are not.
 */
export function isBackchannel(text: string): boolean {
  const words = text
    .toLowerCase()
    .replace(/[-‐–]/g, ' ')
    .replace(/[^\p{L}\p{N}\s']/gu, ' ')
    .split(/\s+/)
    .filter((word) => word !== '');
  if (words.length === 0 || words.length > BACKCHANNEL.maxWords) return false;
  // Can the words be cut into known phrases? (reachable[i]: the first i words can.)
  const reachable = [true, ...words.map(() => false)];
  for (let end = 1; end <= words.length; end++)
    for (let length = 1; length <= Math.min(LONGEST_PHRASE_WORDS, end); length++)
      if (reachable[end - length] && PHRASES.has(words.slice(end - length, end).join(' ')))
        reachable[end] = true;
  return reachable[words.length] === true;
}

const TRANSCRIPTS = new Set([
  stt.SpeechEventType.INTERIM_TRANSCRIPT,
  stt.SpeechEventType.PREFLIGHT_TRANSCRIPT,
  stt.SpeechEventType.FINAL_TRANSCRIPT,
]);

/**
 * Drops backchannel transcripts from the speech-to-text output while the agent holds the
 * floor (speaking, or paused because the user started talking over it), and lets the
 * paused answer resume {@link BACKCHANNEL.resumeAfterMs} after the user's sound ended.
 * Any other words pass (and the next pause waits as long as usual): "wait", "no",
 * "yeah but…" still interrupt. Used by the Assistant's `sttNode`; `attach` it to the
 * session it runs in.
 */
export class BackchannelFilter {
  private session: voice.AgentSession | undefined;
  /** The agent is speaking, or its speech is paused under the user's. */
  private agentHoldsFloor = false;
  private usualResumeMs: number | undefined;
  /** Backchannels dropped so far (tests and logs). */
  dropped = 0;

  attach(session: voice.AgentSession): void {
    this.session = session;
    this.usualResumeMs = session.sessionOptions.turnHandling.interruption.falseInterruptionTimeout;
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, ({ oldState, newState }) => {
      const pausedUnderUser =
        newState === 'listening' && oldState === 'speaking' && session.userState === 'speaking';
      if (newState === 'speaking') this.agentHoldsFloor = true;
      else if (!pausedUnderUser) this.agentHoldsFloor = false;
      if (newState !== 'listening') this.restoreResume();
    });
    session.on(voice.AgentSessionEventTypes.AgentFalseInterruption, () => this.restoreResume());
    // The answer's message is added once its speech is over (played out or interrupted):
    // then nothing is paused, even if the user's voice overlapped its last words, and
    // whatever they say is theirs.
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, ({ item }) => {
      if (item.type === 'message' && item.role === 'assistant') this.agentHoldsFloor = false;
    });
  }

  /** The speech-to-text events, without backchannels said over the agent. */
  filter(events: ReadableStream<stt.SpeechEvent | string>): ReadableStream<stt.SpeechEvent | string> {
    return events.pipeThrough(
      new TransformStream<stt.SpeechEvent | string, stt.SpeechEvent | string>({
        transform: (event, controller) => {
          if (!this.drops(event)) controller.enqueue(event);
        },
      }),
    );
  }

  private drops(event: stt.SpeechEvent | string): boolean {
    const text =
      typeof event === 'string'
        ? event
        : TRANSCRIPTS.has(event.type)
          ? event.alternatives?.[0]?.text
          : undefined;
    if (text === undefined || text.trim() === '') return false;
    if (this.agentHoldsFloor && isBackchannel(text)) {
      this.dropped++;
      this.setResume(BACKCHANNEL.resumeAfterMs);
      return true;
    }
    this.restoreResume();
    return false;
  }

  /**
   * The framework re-reads this while the user's speech lasts (every VAD window) and
   * starts the resume timer with it at the end of that speech.
   */
  private setResume(ms: number | undefined): void {
    const interruption = this.session?.sessionOptions.turnHandling.interruption;
    if (interruption && ms !== undefined) interruption.falseInterruptionTimeout = ms;
  }

  private restoreResume(): void {
    this.setResume(this.usualResumeMs);
  }
}
