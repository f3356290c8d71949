import { AppError } from '../protocol/index.ts';

/**
 * Why a file was refused. One code per distinct thing the user can do about it.
 * - `empty`: zero bytes.
 * - `too-large`: more bytes than the configured limit.
 * - `unsupported-type`: a kind of file we do not read (Word, SVG, HEIC, ...).
 * - `type-mismatch`: the name or the declared type says one kind of file, the bytes another.
 * - `corrupt`: the bytes claim a format but cannot be read (truncated, damaged).
 * - `too-many-pixels`: an image larger than the configured pixel limit (also decompression bombs).
 * - `too-many-pages`: a PDF with more pages than the configured limit.
 * - `encrypted`: a PDF that needs a password to open.
 * - `too-long`: a recording longer than the configured duration limit.
 */
export type MediaErrorCode =
  | 'empty'
  | 'too-large'
  | 'unsupported-type'
  | 'type-mismatch'
  | 'corrupt'
  | 'too-many-pixels'
  | 'too-many-pages'
  | 'encrypted'
  | 'too-long';

/**
 * A file we refuse, with a message in plain words meant for the person who
 * sent it ("This PDF is password-protected; ..."), safe to show or speak as
 * is. The same bytes always fail the same way, so it is never retryable.
 */
export class MediaError extends AppError<MediaErrorCode> {
  constructor(code: MediaErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, { userFacing: true, retryable: false, cause: options?.cause });
  }
}

/** Byte counts for people: "512 bytes", "40 KB", "25 MB" (binary units, as upload limits are set). */
export function describeBytes(byteCount: number): string {
  if (byteCount < 1024) return `${byteCount} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let value = byteCount / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  // One decimal, so a 25.3 MB file refused by a 25 MB limit does not read as "25 MB".
  return `${Math.round(value * 10) / 10} ${units[unit]}`;
}
