import type { MediaLimits } from '../media/index.ts';
import type { Paragraph } from './chunker.ts';
import type { ProgressReporter } from './progress.ts';
import type { VisionModel } from './vision.ts';

/** What a reader made of a file: its text as paragraphs, and what it could not read. */
export interface DocumentContent {
  /** A title the content names (HTML `<title>`, a Markdown `#` heading); the file name otherwise. */
  readonly title: string | undefined;
  /** Pages of a PDF; null for everything else. */
  readonly pageCount: number | null;
  readonly paragraphs: readonly Paragraph[];
  /** Pages without a text layer that no vision model read. */
  readonly unreadablePages: readonly number[];
  /** Pages without a text layer that the vision model transcribed. */
  readonly transcribedPages: readonly number[];
}

/** What the PDF and image readers need besides the bytes. */
export interface ReadContext {
  readonly limits: MediaLimits;
  readonly vision: VisionModel | undefined;
  readonly progress: ProgressReporter;
  readonly signal: AbortSignal | undefined;
}
