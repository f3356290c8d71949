/**
 * Recordings as text: what a transcription service gives back (utterances with
 * times and speakers), and how that becomes searchable passages that know where
 * in the recording they were said. The services themselves are adapters
 * (deepgram-transcriber.ts, openai-transcriber.ts), chosen in agent/providers.ts.
 */
import type { Chunk } from './chunker.ts';
import { estimateTokens } from './sentences.ts';

/** One stretch of speech, as the service heard it. */
export interface TimedUtterance {
  readonly startMs: number;
  readonly endMs: number;
  /** 0-based speaker number from diarization; null when the service does not tell speakers apart. */
  readonly speaker: number | null;
  readonly text: string;
}

/** A recording's transcript. */
export interface Transcript {
  /** The length of the audio the service heard, in ms. */
  readonly durationMs: number;
  readonly utterances: readonly TimedUtterance[];
}

/** A recording handed to a transcription service. */
export interface RecordingInput {
  readonly bytes: Uint8Array;
  /** The type the bytes showed, e.g. "audio/mpeg". */
  readonly mimeType: string;
  /** The extension for that type, without a dot, e.g. "mp3" (some services read the file name). */
  readonly extension: string;
  /** From the container's headers. */
  readonly durationMs: number;
}

/** A speech-to-text service for whole recordings. One instance per configured endpoint. */
export interface RecordingTranscriber {
  /** "deepgram nova-3", "openai gpt-4o-mini-transcribe": for logs and the ingest command. */
  readonly name: string;
  /** Throws {@link TranscriptionServiceError} when the service fails or answers with nothing usable. */
  transcribe(recording: RecordingInput, options?: { signal?: AbortSignal | undefined }): Promise<Transcript>;
}

/** The transcription service failed (after retries) or answered with nothing usable. */
export class TranscriptionServiceError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TranscriptionServiceError';
  }
}

/** How large transcript passages get. */
export interface TranscriptChunkOptions {
  /** Most estimated tokens per passage (default 400, as for documents). */
  readonly targetTokens?: number;
  /** Longest stretch of the recording one passage covers, in ms (default 2 minutes). */
  readonly maxWindowMs?: number;
}

/** How a speaker number is shown: Deepgram counts from 0, people from 1. */
export function speakerLabel(speaker: number | null): string | null {
  return speaker === null ? null : `Speaker ${speaker + 1}`;
}

/**
 * Packs a transcript's utterances, in order, into passages of at most `targetTokens`
 * covering at most `maxWindowMs` each. A passage keeps its time range (its first
 * utterance's start to its last one's end) and the speaker at its start; inside it,
 * each change of speaker starts a line "Speaker 2: ...", so the model knows who said
 * what. An utterance longer than a passage is cut between words, its time shared
 * out by words. Pure: the same transcript always gives the same passages.
 */
export function chunkTranscript(transcript: Transcript, options: TranscriptChunkOptions = {}): Chunk[] {
  const target = options.targetTokens ?? 400;
  const maxWindowMs = options.maxWindowMs ?? 120_000;
  const pieces = transcript.utterances
    .filter((utterance) => utterance.text.trim() !== '')
    .flatMap((utterance) => splitUtterance(utterance, target));
  const chunks: Chunk[] = [];
  let current: TimedUtterance[] = [];
  const flush = (): void => {
    const first = current[0];
    const last = current.at(-1);
    if (first === undefined || last === undefined) return;
    const text = passageText(current);
    chunks.push({
      text,
      pageStart: null,
      pageEnd: null,
      heading: null,
      tokens: estimateTokens(text),
      startMs: first.startMs,
      endMs: last.endMs,
      speaker: speakerLabel(first.speaker),
    });
    current = [];
  };
  for (const piece of pieces) {
    const first = current[0];
    const fits =
      first !== undefined &&
      estimateTokens(passageText([...current, piece])) <= target &&
      piece.endMs - first.startMs <= maxWindowMs;
    if (!fits) flush();
    current.push(piece);
  }
  flush();
  return chunks;
}

/** Utterances as lines, each change of speaker named. */
function passageText(utterances: readonly TimedUtterance[]): string {
  const lines: string[] = [];
  let speaker: number | null | undefined;
  for (const utterance of utterances) {
    const text = utterance.text.trim();
    if (utterance.speaker !== null && utterance.speaker !== speaker) {
      lines.push(`${speakerLabel(utterance.speaker)}: ${text}`);
    } else if (lines.length > 0) {
      lines[lines.length - 1] += ` ${text}`;
    } else lines.push(text);
    speaker = utterance.speaker;
  }
  return lines.join('\n');
}

/** An utterance cut between words into pieces that fit a passage (with room for a speaker label). */
function splitUtterance(utterance: TimedUtterance, target: number): TimedUtterance[] {
  const budget = Math.max(8, target - 8);
  if (estimateTokens(utterance.text) <= budget) return [utterance];
  const words = utterance.text.trim().split(/\s+/);
  const pieces: TimedUtterance[] = [];
  const msPerWord = (utterance.endMs - utterance.startMs) / words.length;
  let start = 0;
  while (start < words.length) {
    let end = start + 1;
    while (end < words.length && estimateTokens(words.slice(start, end + 1).join(' ')) <= budget) end++;
    pieces.push({
      speaker: utterance.speaker,
      text: words.slice(start, end).join(' '),
      startMs: Math.round(utterance.startMs + start * msPerWord),
      endMs: Math.round(utterance.startMs + end * msPerWord),
    });
    start = end;
  }
  return pieces;
}
