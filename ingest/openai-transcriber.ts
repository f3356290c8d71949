/**
 * Recordings transcribed by an OpenAI-compatible transcription endpoint (OpenAI's
 * whisper-1, or a local Whisper server by base URL), with segment timestamps
 * (`verbose_json`). OpenAI takes at most 25 MB per request, so a larger WAV is
 * cut between samples and sent in pieces; a larger compressed file cannot be cut
 * without a decoder and is refused with a message saying what to do.
 */
import OpenAI, { toFile } from 'openai';
import { describeBytes, MediaError, splitWav, type RecordingPiece } from '../media/index.ts';
import {
  TranscriptionServiceError,
  type RecordingInput,
  type RecordingTranscriber,
  type TimedUtterance,
} from './transcription.ts';

/** OpenAI's upload limit for `audio/transcriptions`. */
export const OPENAI_TRANSCRIPTION_MAX_BYTES = 25 * 1024 * 1024;

export interface OpenAITranscriberOptions {
  readonly baseUrl: string;
  readonly apiKey: string;
  readonly model: string;
  /** Largest upload per request (default {@link OPENAI_TRANSCRIPTION_MAX_BYTES}). */
  readonly maxUploadBytes?: number;
  /** Retries of a failed request, with exponential backoff (default 2). */
  readonly maxRetries?: number;
}

/** The part of a `verbose_json` answer read here. */
interface VerboseTranscription {
  text?: string;
  duration?: number;
  segments?: { start: number; end: number; text: string }[];
}

/** Creates an OpenAI-compatible recording transcriber. */
export function createOpenAITranscriber(options: OpenAITranscriberOptions): RecordingTranscriber {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey,
    maxRetries: options.maxRetries ?? 2,
    timeout: 600_000,
  });
  const maxBytes = options.maxUploadBytes ?? OPENAI_TRANSCRIPTION_MAX_BYTES;
  return {
    name: `openai ${options.model}`,
    async transcribe(recording, { signal } = {}) {
      const utterances: TimedUtterance[] = [];
      for (const piece of piecesOf(recording, maxBytes)) {
        signal?.throwIfAborted();
        let answer: VerboseTranscription;
        try {
          const file = await toFile(piece.bytes, `recording.${recording.extension}`, {
            type: recording.mimeType,
          });
          answer = (await client.audio.transcriptions.create(
            {
              file,
              model: options.model,
              response_format: 'verbose_json',
              timestamp_granularities: ['segment'],
            },
            { signal },
          )) as VerboseTranscription;
        } catch (error) {
          signal?.throwIfAborted();
          throw new TranscriptionServiceError(
            `the transcription server failed (${error instanceof Error ? error.message : String(error)})`,
            { cause: error },
          );
        }
        utterances.push(...utterancesOf(answer, piece.offsetMs));
      }
      return { durationMs: recording.durationMs, utterances };
    },
  };
}

/** The recording in pieces the server accepts, each with where it starts. */
function piecesOf(recording: RecordingInput, maxBytes: number): RecordingPiece[] {
  if (recording.bytes.length <= maxBytes) return [{ bytes: recording.bytes, offsetMs: 0 }];
  const pieces = splitWav(recording.bytes, maxBytes);
  if (pieces !== undefined) return pieces;
  throw new MediaError(
    'too-large',
    `This recording is ${describeBytes(recording.bytes.length)}; the transcription server takes at most ` +
      `${describeBytes(maxBytes)} per file, and only WAV recordings can be cut here. ` +
      'Send it as WAV, cut it into shorter parts, or configure Deepgram (DEEPGRAM_API_KEY).',
  );
}

/** Segments as utterances (no speakers: OpenAI does not tell them apart), shifted to the piece's place. */
function utterancesOf(answer: VerboseTranscription, offsetMs: number): TimedUtterance[] {
  const segments = answer.segments ?? [];
  if (segments.length === 0) {
    const text = answer.text?.trim() ?? '';
    const end = Math.round(offsetMs + (answer.duration ?? 0) * 1000);
    return text === '' ? [] : [{ startMs: Math.round(offsetMs), endMs: end, speaker: null, text }];
  }
  return segments
    .filter((segment) => segment.text.trim() !== '')
    .map((segment) => ({
      startMs: Math.round(offsetMs + segment.start * 1000),
      endMs: Math.round(offsetMs + segment.end * 1000),
      speaker: null,
      text: segment.text.trim(),
    }));
}
