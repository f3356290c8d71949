import { loudestWindowRms } from '../test/fakes/audio-signal.ts';

const FRAME_MS = 20;
/**
 * RMS (0 to 1) above which a 10 ms window of a pushed frame makes it voiced: the STT
 * fake's threshold and window (`SpeechDetector`), so voice-to-voice starts where the STT
 * hears the speech end. Judging whole 20 ms frames instead started it up to one frame
 * early in about two turns of three (a voiced first half, a quiet second half).
 */
const VOICED_RMS = 0.01;

/** When a spoken clip went in, by the wall clock (Date.now() ms). */
export interface Spoken {
  /** The first voiced frame was pushed. */
  onsetAt: number;
  /** The last voiced frame was pushed: where voice-to-voice latency starts. */
  lastVoicedAt: number;
  /** When each marked segment's first frame was pushed (see {@link Microphone.say}). */
  segmentsAt: number[];
}

/** A point in a clip (in samples) where something happens, e.g. the STT fake learns the next words. */
export interface ClipMark {
  sample: number;
  run: () => void;
}

interface Clip {
  samples: Int16Array;
  sampleRate: number;
  offset: number;
  marks: ClipMark[];
  spoken: Partial<Spoken> & { segmentsAt: number[] };
  done: (spoken: Spoken) => void;
}

/**
 * A microphone that never stops: it pushes a 20 ms frame into the session every 20 ms of
 * wall time, silence unless a clip is playing, as a browser or phone transport does.
 * Late timers are caught up by pushing the overdue frames at once, like a jittery network.
 */
export class Microphone {
  private readonly queue: Clip[] = [];
  private timer: NodeJS.Timeout | undefined;
  private started = 0;
  private pushed = 0;

  constructor(
    /** Where each frame goes: a session's audio input, or a conversation in another process. */
    private readonly push: (samples: Int16Array, sampleRate: number) => void,
    private readonly sampleRate = 16_000,
  ) {}

  start(): void {
    if (this.timer) return;
    this.started = performance.now();
    this.pushed = 0;
    this.tick();
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /**
   * Queues a clip; resolves once its last frame was pushed. Each mark runs just before
   * the frame holding its sample is pushed.
   */
  say(audio: { samples: Int16Array; sampleRate: number }, marks: ClipMark[] = []): Promise<Spoken> {
    return new Promise((resolve) => {
      this.queue.push({
        ...audio,
        offset: 0,
        marks: [...marks].sort((a, b) => a.sample - b.sample),
        spoken: { segmentsAt: [] },
        done: resolve,
      });
    });
  }

  private tick(): void {
    const due = Math.floor((performance.now() - this.started) / FRAME_MS);
    while (this.pushed < due) {
      this.pushFrame();
      this.pushed++;
    }
    const next = this.started + (this.pushed + 1) * FRAME_MS;
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - performance.now()));
  }

  private pushFrame(): void {
    const clip = this.queue[0];
    if (!clip) {
      const samples = (this.sampleRate * FRAME_MS) / 1000;
      this.push(new Int16Array(samples), this.sampleRate);
      return;
    }
    const samples = (clip.sampleRate * FRAME_MS) / 1000;
    while (clip.marks.length > 0 && (clip.marks[0] as ClipMark).sample < clip.offset + samples) {
      (clip.marks.shift() as ClipMark).run();
      clip.spoken.segmentsAt.push(Date.now());
    }
    const chunk = new Int16Array(samples);
    chunk.set(clip.samples.subarray(clip.offset, clip.offset + samples));
    clip.offset += samples;
    this.push(chunk, clip.sampleRate);
    if (loudestWindowRms(chunk, clip.sampleRate) > VOICED_RMS) {
      const now = Date.now();
      clip.spoken.onsetAt ??= now;
      clip.spoken.lastVoicedAt = now;
    }
    if (clip.offset >= clip.samples.length) {
      this.queue.shift();
      const now = Date.now();
      clip.done({
        onsetAt: clip.spoken.onsetAt ?? now,
        lastVoicedAt: clip.spoken.lastVoicedAt ?? now,
        segmentsAt: clip.spoken.segmentsAt,
      });
    }
  }
}
