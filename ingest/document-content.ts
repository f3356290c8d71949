import type { MediaLimits } from '../media/index.ts';
import type { Chunk } from './chunker.ts';
import type { DocumentReader, ReadBudget } from './document-reader.ts';
import type { ProgressReporter } from './progress.ts';
import type { RecordingTranscriber } from './transcription.ts';
import type { VisionModel } from './vision.ts';

/** What reading made of a file: its text as chunks, and what it could not read. */
export interface DocumentContent {
  /** A title the content names (HTML `<title>`, a Markdown `#` heading); the file name otherwise. */
  readonly title: string | undefined;
  /** Pages of a PDF; null for everything else. */
  readonly pageCount: number | null;
  readonly chunks: readonly Chunk[];
  /** Pages without a text layer that no vision model read. */
  readonly unreadablePages: readonly number[];
  /** Pages without a text layer that the vision model transcribed. */
  readonly transcribedPages: readonly number[];
  /** A recording's length, in ms; absent for everything else. */
  readonly durationMs?: number | undefined;
}

/** What the PDF and image readers need besides the bytes. */
export interface ReadContext {
  readonly limits: MediaLimits;
  readonly vision: VisionModel | undefined;
  readonly progress: ProgressReporter;
  readonly signal: AbortSignal | undefined;
  /** The reader processes, and this file's share of their time. */
  readonly reader: DocumentReader;
  readonly budget: ReadBudget;
  /** Undefined: recordings are refused (no transcription service configured). */
  readonly transcriber: RecordingTranscriber | undefined;
}
