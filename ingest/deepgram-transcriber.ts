/**
 * Recordings transcribed by Deepgram's pre-recorded API through `@deepgram/sdk`:
 * the whole file in one request, with speakers told apart (diarize), utterances,
 * punctuation and smart formatting. The LiveKit plugin covers live speech only.
 */
import { createClient } from '@deepgram/sdk';
import {
  TranscriptionServiceError,
  type RecordingTranscriber,
  type TimedUtterance,
  type Transcript,
} from './transcription.ts';

export interface DeepgramTranscriberOptions {
  /** Deepgram's server; `ws(s)://` (the live API's form, as DEEPGRAM_BASE_URL may be set) is read as `http(s)://`. */
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly model: string;
}

/** The request options our transcripts depend on; exported for the benchmark's raw SDK call. */
export const DEEPGRAM_PRERECORDED_OPTIONS = Object.freeze({
  diarize: true,
  utterances: true,
  punctuate: true,
  smart_format: true,
});

/** The part of Deepgram's answer read here. */
interface DeepgramAnswer {
  metadata?: { duration?: number };
  results?: {
    utterances?: { start: number; end: number; speaker?: number; transcript: string }[];
    channels?: { alternatives?: { transcript?: string }[] }[];
  };
}

/** Deepgram's REST base for a configured URL: the SDK appends `/v1/listen`. */
export function deepgramRestUrl(baseUrl: string): string {
  return baseUrl.replace(/^ws(s?):\/\//, 'http$1://').replace(/\/+$/, '');
}

/** Creates a Deepgram recording transcriber. */
export function createDeepgramTranscriber(options: DeepgramTranscriberOptions): RecordingTranscriber {
  const client = createClient({
    key: options.apiKey,
    global: { fetch: { options: { url: deepgramRestUrl(options.baseUrl) } } },
  });
  return {
    name: `deepgram ${options.model}`,
    async transcribe(recording, { signal } = {}) {
      signal?.throwIfAborted();
      // The SDK takes no abort signal: a cancelled file stops waiting, and the answer is dropped.
      const request = client.listen.prerecorded.transcribeFile(Buffer.from(recording.bytes), {
        model: options.model,
        ...DEEPGRAM_PRERECORDED_OPTIONS,
      });
      const { result, error } = await untilAborted(request, signal);
      if (error) {
        throw new TranscriptionServiceError(`Deepgram could not transcribe the recording: ${error.message}`, {
          cause: error,
        });
      }
      return transcriptOf(result as DeepgramAnswer, recording.durationMs);
    },
  };
}

/** Deepgram's utterances, or the channel's whole transcript as one when it sent none. */
export function transcriptOf(answer: DeepgramAnswer, durationMs: number): Transcript {
  const seconds = answer.metadata?.duration;
  const heard = seconds === undefined ? durationMs : Math.round(seconds * 1000);
  const utterances: TimedUtterance[] = (answer.results?.utterances ?? []).map((utterance) => ({
    startMs: Math.round(utterance.start * 1000),
    endMs: Math.round(utterance.end * 1000),
    speaker: utterance.speaker ?? null,
    text: utterance.transcript,
  }));
  if (utterances.length > 0 || answer.results === undefined) {
    if (answer.results === undefined)
      throw new TranscriptionServiceError('Deepgram answered without results');
    return { durationMs: heard, utterances };
  }
  const whole = answer.results.channels?.[0]?.alternatives?.[0]?.transcript ?? '';
  return {
    durationMs: heard,
    utterances: whole.trim() === '' ? [] : [{ startMs: 0, endMs: heard, speaker: null, text: whole }],
  };
}

async function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([work, aborted]);
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}
