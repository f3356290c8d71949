import { AudioFrame } from '@livekit/rtc-node';
import type { PushAudioInput } from '../agent/roomless-audio.ts';
import { rootMeanSquare } from '../test/fakes/audio-signal.ts';

const FRAME_MS = 20;
/** RMS (0 to 1) above which a pushed frame counts as voiced: the harness's threshold. */
const VOICED_RMS = 0.01;

/** When a spoken clip went in, by the wall clock (Date.now() ms). */
export interface Spoken {
  /** The first voiced frame was pushed. */
  onsetAt: number;
  /** The last voiced frame was pushed: where voice-to-voice latency starts. */
  lastVoicedAt: number;
}

interface Clip {
  samples: Int16Array;
  sampleRate: number;
  offset: number;
  spoken: Partial<Spoken>;
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
    private readonly input: PushAudioInput,
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

  /** Queues a clip; resolves once its last frame was pushed. */
  say(audio: { samples: Int16Array; sampleRate: number }): Promise<Spoken> {
    return new Promise((resolve) => {
      this.queue.push({ ...audio, offset: 0, spoken: {}, done: resolve });
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
      this.input.pushFrame(new AudioFrame(new Int16Array(samples), this.sampleRate, 1, samples));
      return;
    }
    const samples = (clip.sampleRate * FRAME_MS) / 1000;
    const chunk = new Int16Array(samples);
    chunk.set(clip.samples.subarray(clip.offset, clip.offset + samples));
    clip.offset += samples;
    this.input.pushFrame(new AudioFrame(chunk, clip.sampleRate, 1, samples));
    if (rootMeanSquare(chunk) > VOICED_RMS) {
      const now = Date.now();
      clip.spoken.onsetAt ??= now;
      clip.spoken.lastVoicedAt = now;
    }
    if (clip.offset >= clip.samples.length) {
      this.queue.shift();
      const now = Date.now();
      clip.done({ onsetAt: clip.spoken.onsetAt ?? now, lastVoicedAt: clip.spoken.lastVoicedAt ?? now });
    }
  }
}
