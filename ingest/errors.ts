import { AppError } from '../protocol/index.ts';

/**
 * Why a file could not be ingested, beyond what media/ refuses (a `MediaError`
 * for empty, corrupt, encrypted, oversized or mislabelled files).
 * - `no-text`: the file opened but holds no text to search (a blank page, a scan
 *   with no vision model to read it).
 * - `vision-required`: an image, and no vision model is configured.
 * - `vision-failed`: the vision model failed after retries (retryable).
 * - `embedding-failed`: the embedding server failed after retries (retryable).
 * - `too-much-text`, `too-many-chunks`, `too-many-scanned-pages`: over a per-file cap
 *   on what reading it would cost (DOCUMENT_MAX_* settings).
 * - `too-slow`, `too-much-memory`: reading it went over the per-file time or memory cap,
 *   and the reader process was stopped.
 * - `reader-failed`: the reader process died on this file (a bug in a parser).
 * - `reader-busy`: too many files are waiting to be read (retryable).
 * - `transcription-required`: a recording, and no transcription service is configured.
 * - `transcription-failed`: the transcription service failed after retries (retryable).
 */
export type IngestErrorCode =
  | 'no-text'
  | 'vision-required'
  | 'vision-failed'
  | 'embedding-failed'
  | 'too-much-text'
  | 'too-many-chunks'
  | 'too-many-scanned-pages'
  | 'too-slow'
  | 'too-much-memory'
  | 'reader-failed'
  | 'reader-busy'
  | 'transcription-required'
  | 'transcription-failed';

const RETRYABLE: ReadonlySet<IngestErrorCode> = new Set([
  'vision-failed',
  'embedding-failed',
  'reader-busy',
  'transcription-failed',
]);

/**
 * A file that was not ingested, with a message for the person who sent it,
 * safe to show or speak as is. Nothing of the file was stored.
 */
export class IngestError extends AppError<IngestErrorCode> {
  constructor(code: IngestErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, {
      userFacing: true,
      retryable: RETRYABLE.has(code),
      cause: options?.cause,
    });
  }
}
