import { AppError } from '../protocol/index.ts';

/**
 * Why a file could not be ingested, beyond what media/ refuses (a `MediaError`
 * for empty, corrupt, encrypted, oversized or mislabelled files).
 * - `no-text`: the file opened but holds no text to search (a blank page, a scan
 *   with no vision model to read it).
 * - `vision-required`: an image, and no vision model is configured.
 * - `vision-failed`: the vision model failed after retries (retryable).
 * - `embedding-failed`: the embedding server failed after retries (retryable).
 */
export type IngestErrorCode = 'no-text' | 'vision-required' | 'vision-failed' | 'embedding-failed';

/**
 * A file that was not ingested, with a message for the person who sent it,
 * safe to show or speak as is. Nothing of the file was stored.
 */
export class IngestError extends AppError<IngestErrorCode> {
  constructor(code: IngestErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, {
      userFacing: true,
      retryable: code === 'vision-failed' || code === 'embedding-failed',
      cause: options?.cause,
    });
  }
}
