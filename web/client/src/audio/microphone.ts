import captureWorkletUrl from './capture-worklet.ts?worker&url';
import type { CapturedFrame } from './capture-worklet.ts';

/** The rate the server's speech pipeline works at: capturing at it avoids resampling twice. */
const PREFERRED_SAMPLE_RATE = 16_000;

/**
 * The microphone, with the browser's echo cancellation, noise suppression and automatic
 * gain, as 20 ms frames of 16-bit PCM. The capture context runs at 16 kHz when the
 * browser allows it, else at its own rate (`sampleRate` says which); the rate stays the
 * same when the microphone is turned off and on again.
 */
export class Microphone {
  private readonly context: AudioContext;
  private stream: MediaStream | undefined;
  private source: MediaStreamAudioSourceNode | undefined;
  private node: AudioWorkletNode | undefined;
  private moduleLoaded: Promise<void> | undefined;

  constructor(
    private readonly onFrame: (samples: Int16Array) => void,
    private readonly onLevel: (level: number) => void,
  ) {
    // Created synchronously, inside the click that connects, so the browser lets it run.
    this.context = createContext();
  }

  get sampleRate(): number {
    return this.context.sampleRate;
  }

  get active(): boolean {
    return this.stream !== undefined;
  }

  /** Asks for the microphone (the browser may prompt) and starts sending frames. */
  async start(): Promise<void> {
    if (this.stream) return;
    this.moduleLoaded ??= this.context.audioWorklet.addModule(captureWorkletUrl);
    const stream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 },
    });
    await this.moduleLoaded;
    await this.context.resume();
    this.stream = stream;
    this.source = this.context.createMediaStreamSource(stream);
    this.node = new AudioWorkletNode(this.context, 'pcm-capture', { numberOfOutputs: 0 });
    this.node.port.onmessage = (event: MessageEvent<CapturedFrame>) => {
      this.onFrame(event.data.samples);
      this.onLevel(event.data.level);
    };
    this.source.connect(this.node);
  }

  /** Releases the microphone (the browser's recording indicator goes off). */
  stop(): void {
    this.source?.disconnect();
    this.node?.port.close();
    for (const track of this.stream?.getTracks() ?? []) track.stop();
    this.stream = undefined;
    this.source = undefined;
    this.node = undefined;
    this.onLevel(0);
  }

  async close(): Promise<void> {
    this.stop();
    await this.context.close();
  }
}

function createContext(): AudioContext {
  try {
    return new AudioContext({ sampleRate: PREFERRED_SAMPLE_RATE, latencyHint: 'interactive' });
  } catch {
    // Some browsers refuse a rate other than the device's.
    return new AudioContext({ latencyHint: 'interactive' });
  }
}
