import playbackWorkletUrl from './playback-worklet.ts?worker&url';
import type { PlaybackCommand, PlaybackStats } from './playback-worklet.ts';
import { LinearResampler } from './resampler.ts';

declare global {
  interface Window {
    /** What the player actually sent to the speakers; read by the browser test. */
    __assistantAudioStats?: PlaybackStats;
  }
}

/**
 * Plays the agent's audio through a jitter buffer on the audio thread. PCM arrives at
 * the rate the server announces and is resampled to the context's rate here.
 * `clear()` empties the buffer at once, so an interrupted answer stops immediately.
 */
export class Player {
  private readonly context: AudioContext;
  private node: AudioWorkletNode | undefined;
  private resampler: LinearResampler | undefined;

  constructor() {
    // Created synchronously, inside the click that connects, so the browser lets it play.
    this.context = new AudioContext({ latencyHint: 'interactive' });
  }

  async start(): Promise<void> {
    await this.context.audioWorklet.addModule(playbackWorkletUrl);
    this.node = new AudioWorkletNode(this.context, 'pcm-playback', {
      numberOfInputs: 0,
      outputChannelCount: [1],
    });
    this.node.port.onmessage = (event: MessageEvent<PlaybackStats>) => {
      window.__assistantAudioStats = event.data;
    };
    this.node.connect(this.context.destination);
    await this.context.resume();
  }

  /** The rate of the PCM that follows, in Hz. */
  setSampleRate(sampleRate: number): void {
    if (this.resampler?.inputSampleRate === sampleRate) return;
    this.resampler = new LinearResampler(sampleRate, this.context.sampleRate);
  }

  push(samples: Int16Array): void {
    if (!this.node || !this.resampler) return;
    const floats = this.resampler.process(samples);
    this.send({ type: 'samples', samples: floats }, [floats.buffer]);
  }

  clear(): void {
    this.resampler?.reset();
    this.send({ type: 'clear' });
  }

  async close(): Promise<void> {
    this.node?.disconnect();
    this.node = undefined;
    await this.context.close();
  }

  private send(command: PlaybackCommand, transfer: Transferable[] = []): void {
    this.node?.port.postMessage(command, transfer);
  }
}
