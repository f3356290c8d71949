/**
 * What one direct socket may send, so that one client cannot take another's share of the
 * process: microphone audio at about real time, camera frames at about one a second,
 * typed messages at a person's pace, JSON messages in general at a bounded rate. Each is
 * a token bucket: it refills at a steady rate and holds a small burst, enough for the
 * jitter of a real page and a network stall of a few seconds.
 */

/** Audio may run this much faster than real time, for clock drift between the page's sound card and ours. */
export const AUDIO_RATE_FACTOR = 1.1;
/** Audio that may arrive at once, in ms: what piles up in a network stall of that length. */
export const AUDIO_BURST_MS = 3000;
/** Camera frames per second (the page sends one a second), and how many may arrive at once. */
export const CAMERA_FRAMES_PER_SECOND = 1;
export const CAMERA_BURST_FRAMES = 5;
/** Typed messages per second, and how many may arrive at once (a few quick lines). */
export const TEXT_MESSAGES_PER_SECOND = 1;
export const TEXT_BURST_MESSAGES = 5;
/** JSON messages of any kind per second, and how many may arrive at once. */
export const MESSAGES_PER_SECOND = 5;
export const MESSAGES_BURST = 20;

/** A token bucket: `take` succeeds while the tokens last; they come back at `perSecond`. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly perSecond: number,
    private readonly capacity: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = capacity;
    this.updatedAt = now();
  }

  /** Takes `amount` tokens if there are that many; otherwise takes none. */
  take(amount: number): boolean {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.updatedAt) / 1000) * this.perSecond);
    this.updatedAt = now;
    if (amount > this.tokens) return false;
    this.tokens -= amount;
    return true;
  }
}

/** What a socket ran out of, as a close reason and as words for the person. */
export interface Overrun {
  reason: string;
  message: string;
}

/** The budgets of one socket; audio's starts with the rate its `hello` declares. */
export class SocketBudgets {
  private readonly messages: TokenBucket;
  private readonly texts: TokenBucket;
  private readonly camera: TokenBucket;
  private audio: TokenBucket | undefined;

  constructor(private readonly now: () => number = () => performance.now()) {
    this.messages = new TokenBucket(MESSAGES_PER_SECOND, MESSAGES_BURST, now);
    this.texts = new TokenBucket(TEXT_MESSAGES_PER_SECOND, TEXT_BURST_MESSAGES, now);
    this.camera = new TokenBucket(CAMERA_FRAMES_PER_SECOND, CAMERA_BURST_FRAMES, now);
  }

  /** Called once, at `hello`: audio is measured in samples at this rate. */
  startAudio(sampleRate: number): void {
    this.audio = new TokenBucket(
      sampleRate * AUDIO_RATE_FACTOR,
      (sampleRate * AUDIO_BURST_MS) / 1000,
      this.now,
    );
  }

  /** Counts `samples` of microphone audio; an overrun when they come faster than real time. */
  audioSamples(samples: number): Overrun | undefined {
    if (!this.audio || this.audio.take(samples)) return undefined;
    return {
      reason: 'audio arrived faster than real time',
      message: 'This connection sent audio faster than anyone can speak, so it was closed.',
    };
  }

  /** Counts one JSON message of `type`; an overrun when messages, texts or camera frames come too fast. */
  message(type: string): Overrun | undefined {
    if (!this.messages.take(1))
      return {
        reason: 'too many messages',
        message: 'This connection sent too many messages too quickly, so it was closed.',
      };
    if (type === 'text' && !this.texts.take(1))
      return {
        reason: 'typed messages came too quickly',
        message: 'Messages were sent faster than anyone types, so the connection was closed.',
      };
    if (type === 'camera_frame' && !this.camera.take(1))
      return {
        reason: 'camera frames came faster than one a second',
        message: 'The camera sent pictures too quickly, so the connection was closed.',
      };
    return undefined;
  }
}
