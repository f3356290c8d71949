import type { WorkletProcessorConstructor } from './worklet-scope.ts';

/**
 * Runs on the audio thread: turns the microphone's float samples into 16-bit PCM
 * frames of FRAME_MS at the context's rate, each posted with its RMS level (0 to 1)
 * for the level meter.
 */
declare const sampleRate: number;
declare const AudioWorkletProcessor: { new (): { readonly port: MessagePort } };
declare function registerProcessor(name: string, processor: WorkletProcessorConstructor): void;

const FRAME_MS = 20;

/** What the capture worklet posts for every frame. */
export interface CapturedFrame {
  samples: Int16Array;
  level: number;
}

const FRAME_SAMPLES = Math.round((sampleRate * FRAME_MS) / 1000);

class CaptureProcessor extends AudioWorkletProcessor {
  private frame = new Int16Array(FRAME_SAMPLES);
  private filled = 0;
  private sumOfSquares = 0;

  process(inputs: Float32Array[][]): boolean {
    const channel = inputs[0]?.[0];
    if (!channel) return true;
    for (let index = 0; index < channel.length; index++) {
      const sample = Math.max(-1, Math.min(1, channel[index] ?? 0));
      this.sumOfSquares += sample * sample;
      this.frame[this.filled++] = Math.round(sample < 0 ? sample * 0x8000 : sample * 0x7fff);
      if (this.filled === FRAME_SAMPLES) {
        const message: CapturedFrame = {
          samples: this.frame,
          level: Math.sqrt(this.sumOfSquares / FRAME_SAMPLES),
        };
        // Transferred, not copied: the buffer is gone from here afterwards, so a new one follows.
        this.port.postMessage(message, [this.frame.buffer]);
        this.frame = new Int16Array(FRAME_SAMPLES);
        this.filled = 0;
        this.sumOfSquares = 0;
      }
    }
    return true;
  }
}

registerProcessor('pcm-capture', CaptureProcessor);
