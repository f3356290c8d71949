import type { ServerResponse } from 'node:http';
import { decodeWav, encodeWav, pcmToBytes, toneForText } from './audio-signal.ts';
import type { DecodedWav } from './audio-signal.ts';
import type { RecordedFile, RecordedHttpRequest } from './http-server.ts';
import { sendJson } from './http-server.ts';
import { sleep } from './timing.ts';

/**
 * The audio half of the OpenAI fake: `/v1/audio/transcriptions` (multipart upload in,
 * scripted text out) and `/v1/audio/speech` (text in, a deterministic tone out).
 */

/** OpenAI's speech endpoints produce 24 kHz mono 16-bit PCM. */
export const speechSampleRate = 24_000;

/** What a transcriber sees. */
export interface TranscriptionRequest {
  file: RecordedFile;
  model: string;
  /** Every form field, strings only (the file excluded). */
  fields: Record<string, string>;
  /** The upload decoded, when it is a 16-bit PCM WAV. */
  wav?: DecodedWav;
  /** 0 for the first transcription request this server received. */
  index: number;
}

/** A timed piece of a `verbose_json` transcription, in seconds from the upload's start. */
export interface TranscriptionSegment {
  start: number;
  end: number;
  text: string;
}

/**
 * A transcript with its segments, for `verbose_json` answers (a plain string makes
 * one segment over the whole upload, as long as a WAV upload is, else empty).
 */
export interface TimedTranscription {
  text: string;
  segments: TranscriptionSegment[];
}

/** Decides the transcript of an upload; tests replace it freely. */
export type Transcriber = (
  request: TranscriptionRequest,
) => string | TimedTranscription | Promise<string | TimedTranscription>;

/** The default transcriber: a numbered placeholder, so an unscripted test still sees distinct text. */
export const numberedTranscriber: Transcriber = (request) => `transcription ${request.index + 1}`;

function badRequest(response: ServerResponse, message: string, param: string): void {
  sendJson(response, 400, { error: { message, type: 'invalid_request_error', param, code: null } });
}

/** Answers a transcription request already recorded (its form parsed). */
export async function answerTranscription(
  response: ServerResponse,
  recorded: RecordedHttpRequest,
  transcribe: (request: TranscriptionRequest) => Promise<string | TimedTranscription>,
  index: number,
  latency: number,
  signal: AbortSignal,
): Promise<void> {
  const form = recorded.form ?? {};
  const file = form.file;
  const model = form.model;
  if (typeof file !== 'object') return badRequest(response, "Missing required parameter: 'file'.", 'file');
  if (typeof model !== 'string') return badRequest(response, "Missing required parameter: 'model'.", 'model');
  const fields = Object.fromEntries(
    Object.entries(form).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
  );
  const format = fields.response_format ?? 'json';
  if (!['json', 'text', 'verbose_json'].includes(format))
    return badRequest(response, `The fake does not produce response_format '${format}'.`, 'response_format');
  const wav = decodeWav(file.bytes);
  const answer = await transcribe({ file, model, fields, index, ...(wav ? { wav } : {}) });
  const text = typeof answer === 'string' ? answer : answer.text;
  await sleep(latency, signal);
  if (format === 'text') {
    response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    response.end(`${text}\n`);
    return;
  }
  const seconds = (wav?.duration ?? 0) / 1000;
  // OpenAI's segments carry more fields (tokens, temperature, avg_logprob...); these are the timed ones.
  const segments = (
    typeof answer === 'string'
      ? text.trim() === '' || seconds === 0
        ? []
        : [{ start: 0, end: seconds, text }]
      : answer.segments
  ).map((segment, id) => ({
    id,
    seek: 0,
    ...segment,
    avg_logprob: -0.2,
    compression_ratio: 1.2,
    no_speech_prob: 0.01,
  }));
  sendJson(
    response,
    200,
    format === 'json'
      ? { text, usage: { type: 'duration', seconds: Math.ceil(seconds) } }
      : { task: 'transcribe', language: fields.language ?? 'english', duration: seconds, text, segments },
  );
}

/** Options of the speech endpoint. */
export interface SpeechOptions {
  /** Milliseconds of audio per input word (at speed 1). */
  msPerWord: number;
  /** Milliseconds before the first byte. */
  firstByteLatency: number;
}

/**
 * Answers `/v1/audio/speech` with a tone as long as the text (PCM or WAV at 24 kHz).
 * Compressed formats (the API's default mp3, opus, aac, flac) are refused with 400
 * so a caller that forgets `response_format` finds out in tests.
 */
export async function answerSpeech(
  response: ServerResponse,
  body: unknown,
  options: SpeechOptions,
  signal: AbortSignal,
): Promise<void> {
  const request = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const { input, model } = request;
  const format = typeof request.response_format === 'string' ? request.response_format : 'mp3';
  const speed = typeof request.speed === 'number' && request.speed > 0 ? request.speed : 1;
  if (typeof model !== 'string') return badRequest(response, "Missing required parameter: 'model'.", 'model');
  if (typeof input !== 'string' || input.trim() === '')
    return badRequest(response, "Missing required parameter: 'input'.", 'input');
  if (format !== 'pcm' && format !== 'wav')
    return badRequest(response, `The fake only produces pcm and wav, not '${format}'.`, 'response_format');
  const samples = toneForText(input, speechSampleRate, options.msPerWord / speed);
  const audio = format === 'wav' ? encodeWav(samples, speechSampleRate) : pcmToBytes(samples);
  await sleep(options.firstByteLatency, signal);
  response.writeHead(200, {
    'content-type': format === 'wav' ? 'audio/wav' : 'audio/pcm',
    'content-length': audio.length,
  });
  // 100 ms pieces, so clients that stream the body see several chunks as with the real service.
  const piece = (speechSampleRate / 10) * 2;
  for (let start = 0; start < audio.length; start += piece)
    response.write(audio.subarray(start, start + piece));
  response.end();
}
