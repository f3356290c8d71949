/**
 * A recording's searchable text: its length read from the container's headers (in
 * a reader process, before any service is asked), then its transcript from the
 * configured transcription service, cut into passages that keep their time range
 * and speaker.
 */
import { describeDuration } from '../media/index.ts';
import type { DocumentContent, ReadContext } from './document-content.ts';
import { IngestError } from './errors.ts';
import { capChunks } from './reader-tasks.ts';
import { chunkTranscript, TranscriptionServiceError } from './transcription.ts';

/** The type and extension the bytes showed (the reader's `identify` answer). */
export interface RecordingType {
  readonly mime: string;
  readonly extension: string;
}

/**
 * Transcribes a recording. Throws `MediaError` (`corrupt`, `too-long`),
 * `IngestError('transcription-required')` without a transcription service,
 * `IngestError('transcription-failed')`, and `IngestError('no-text')` for a
 * recording in which nothing was said.
 */
export async function readRecording(
  bytes: Uint8Array,
  fileName: string,
  type: RecordingType,
  context: ReadContext,
): Promise<DocumentContent> {
  const { reader, budget } = context;
  context.progress.report('parsing', 0);
  const { durationMs } = await reader.run(
    { type: 'inspect-recording', bytes, mimeType: type.mime, limits: context.limits },
    budget,
  );
  context.progress.report('parsing', 1);
  if (context.transcriber === undefined) {
    throw new IngestError(
      'transcription-required',
      `"${fileName}" is a recording, and recordings need a transcription service: set DEEPGRAM_API_KEY, ` +
        'or OPENAI_API_KEY (or STT_BASE_URL for a local Whisper server).',
    );
  }
  context.progress.report('transcribing', 0);
  let transcript;
  try {
    transcript = await context.transcriber.transcribe(
      { bytes, mimeType: type.mime, extension: type.extension, durationMs },
      { signal: context.signal },
    );
  } catch (error) {
    if (!(error instanceof TranscriptionServiceError)) throw error;
    throw new IngestError(
      'transcription-failed',
      `"${fileName}" (${describeDuration(durationMs)}) could not be transcribed: ${error.message}. ` +
        'Nothing was saved; try again in a moment.',
      { cause: error },
    );
  }
  context.progress.report('transcribing', 1);
  const chunks = capChunks(chunkTranscript(transcript), reader.caps);
  if (chunks.length === 0)
    throw new IngestError('no-text', `Nothing is said in "${fileName}" (${describeDuration(durationMs)}).`);
  return {
    title: undefined,
    pageCount: null,
    chunks,
    unreadablePages: [],
    transcribedPages: [],
    durationMs,
  };
}
