import type { WorkletProcessorConstructor } from './worklet-scope.ts';

/**
 * Runs on the audio thread: the jitter buffer for agent audio. Samples arrive already
 * at the context's rate; playback starts once PREBUFFER_MS are queued (or the first
 * samples waited that long), and `clear` drops everything at once (barge-in).
 * Reports what it actually played, so tests can tell that sound reached the output.
 */
declare const sampleRate: number;
declare const currentTime: number;
declare const AudioWorkletProcessor: { new (): { readonly port: MessagePort } };
declare function registerProcessor(name: string, processor: WorkletProcessorConstructor): void;

const PREBUFFER_MS = 60;
/** Samples quieter than this (about -40 dBFS) count as silence in the statistics. */
const SILENCE_THRESHOLD = 0.01;
const REPORT_EVERY_BLOCKS = 16;

/** Messages the player sends to the worklet. */
export type PlaybackCommand = { type: 'samples'; samples: Float32Array } | { type: 'clear' };

/** Statistics the worklet posts regularly. */
export interface PlaybackStats {
  playedSamples: number;
  nonSilentSamples: number;
  clears: number;
  bufferedMs: number;
  sampleRate: number;
}

class PlaybackProcessor extends AudioWorkletProcessor {
  private chunks: Float32Array[] = [];
  private offset = 0;
  private buffered = 0;
  private playing = false;
  private waitingSince: number | undefined;
  private blocks = 0;
  private readonly stats: PlaybackStats = {
    playedSamples: 0,
    nonSilentSamples: 0,
    clears: 0,
    bufferedMs: 0,
    sampleRate,
  };

  constructor() {
    super();
    this.port.onmessage = (event: MessageEvent<PlaybackCommand>) => {
      const command = event.data;
      if (command.type === 'samples') {
        this.chunks.push(command.samples);
        this.buffered += command.samples.length;
        this.waitingSince ??= currentTime;
      } else {
        this.chunks = [];
        this.offset = 0;
        this.buffered = 0;
        this.playing = false;
        this.waitingSince = undefined;
        this.stats.clears++;
        this.report();
      }
    };
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const output = outputs[0];
    const first = output?.[0];
    if (!output || !first) return true;
    if (!this.playing && this.buffered > 0) {
      const waited = currentTime - (this.waitingSince ?? currentTime);
      this.playing = this.buffered >= (sampleRate * PREBUFFER_MS) / 1000 || waited * 1000 >= PREBUFFER_MS;
    }
    first.fill(0);
    if (this.playing) this.fill(first);
    for (let channel = 1; channel < output.length; channel++) output[channel]?.set(first);
    if (++this.blocks % REPORT_EVERY_BLOCKS === 0) this.report();
    return true;
  }

  private fill(target: Float32Array): void {
    let written = 0;
    while (written < target.length && this.chunks.length > 0) {
      const chunk = this.chunks[0] as Float32Array;
      const count = Math.min(target.length - written, chunk.length - this.offset);
      for (let index = 0; index < count; index++) {
        const sample = chunk[this.offset + index] ?? 0;
        target[written + index] = sample;
        if (Math.abs(sample) > SILENCE_THRESHOLD) this.stats.nonSilentSamples++;
      }
      written += count;
      this.offset += count;
      this.buffered -= count;
      this.stats.playedSamples += count;
      if (this.offset === chunk.length) {
        this.chunks.shift();
        this.offset = 0;
      }
    }
    if (this.buffered === 0) {
      // Ran dry (end of an answer, or a late packet): buffer again before resuming.
      this.playing = false;
      this.waitingSince = undefined;
    }
  }

  private report(): void {
    this.stats.bufferedMs = (this.buffered / sampleRate) * 1000;
    this.port.postMessage({ ...this.stats });
  }
}

registerProcessor('pcm-playback', PlaybackProcessor);
