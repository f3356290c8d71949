/**
 * An energy-based speech detector over 16-bit PCM, in audio time: it decides from the
 * samples alone, so audio pushed faster than real time gives the same answer as audio
 * pushed live. The Deepgram fake uses it to know when an utterance starts and ends.
 */

export interface SpeechDetectorOptions {
  sampleRate: number;
  /** Interleaved channels; only the first is analysed. */
  channels?: number;
  /** RMS (0 to 1) above which a 10 ms window counts as voiced (default 0.01, about -40 dBFS). */
  threshold?: number;
  /** Milliseconds of consecutive voiced windows that open an utterance (default 40), so clicks do not. */
  minimumSpeech?: number;
  /**
   * Milliseconds of silence that close an utterance (default 300). espeak-ng leaves gaps
   * of up to ~150 ms between words at threshold 0.02; 300 ms keeps a sentence whole.
   */
  endOfSpeechSilence?: number;
}

/** A change the detector noticed; `at` is in milliseconds of audio from the stream's start. */
export type SpeechDetectorEvent = { type: 'start'; at: number } | { type: 'end'; at: number };

/** Analyses 10 ms windows; partial windows and odd bytes carry over between pushes. */
export class SpeechDetector {
  readonly #sampleRate: number;
  readonly #channels: number;
  readonly #threshold: number;
  readonly #minimumSpeech: number;
  readonly #endOfSpeechSilence: number;
  readonly #windowFrames: number;
  #pending = Buffer.alloc(0);
  #framesDone = 0;
  #voicedRunStart: number | undefined;
  #speaking = false;
  #lastVoicedEnd = 0;

  constructor(options: SpeechDetectorOptions) {
    this.#sampleRate = options.sampleRate;
    this.#channels = options.channels ?? 1;
    this.#threshold = options.threshold ?? 0.01;
    this.#minimumSpeech = options.minimumSpeech ?? 40;
    this.#endOfSpeechSilence = options.endOfSpeechSilence ?? 300;
    this.#windowFrames = Math.max(1, Math.round(this.#sampleRate / 100));
  }

  /** Whether an utterance is open. */
  get speaking(): boolean {
    return this.#speaking;
  }

  /** Milliseconds of audio analysed so far. */
  get position(): number {
    return (this.#framesDone / this.#sampleRate) * 1000;
  }

  /** End of the last voiced window, in milliseconds of audio. */
  get lastVoicedEnd(): number {
    return this.#lastVoicedEnd;
  }

  /** Feeds little-endian PCM bytes; returns the starts and ends they revealed, in order. */
  push(bytes: Uint8Array): SpeechDetectorEvent[] {
    const events: SpeechDetectorEvent[] = [];
    const frameBytes = 2 * this.#channels;
    const windowBytes = this.#windowFrames * frameBytes;
    const data = Buffer.concat([this.#pending, bytes]);
    let offset = 0;
    for (; offset + windowBytes <= data.length; offset += windowBytes) {
      let sum = 0;
      for (let frame = 0; frame < this.#windowFrames; frame += 1) {
        const sample = data.readInt16LE(offset + frame * frameBytes) / 32768;
        sum += sample * sample;
      }
      const start = this.position;
      this.#framesDone += this.#windowFrames;
      this.#analyse(Math.sqrt(sum / this.#windowFrames) > this.#threshold, start, this.position, events);
    }
    this.#pending = Buffer.from(data.subarray(offset));
    return events;
  }

  /** Closes an open utterance now (a client asked to finalize); returns its end, if any. */
  finish(): SpeechDetectorEvent[] {
    this.#voicedRunStart = undefined;
    if (!this.#speaking) return [];
    this.#speaking = false;
    return [{ type: 'end', at: this.#lastVoicedEnd }];
  }

  #analyse(voiced: boolean, start: number, end: number, events: SpeechDetectorEvent[]): void {
    if (voiced) {
      this.#voicedRunStart ??= start;
      if (this.#speaking) this.#lastVoicedEnd = end;
      else if (end - this.#voicedRunStart >= this.#minimumSpeech) {
        this.#speaking = true;
        this.#lastVoicedEnd = end;
        events.push({ type: 'start', at: this.#voicedRunStart });
      }
      return;
    }
    this.#voicedRunStart = undefined;
    if (this.#speaking && end - this.#lastVoicedEnd >= this.#endOfSpeechSilence) {
      this.#speaking = false;
      events.push({ type: 'end', at: this.#lastVoicedEnd });
    }
  }
}
