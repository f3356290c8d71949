/**
 * Progress of one file through the pipeline, for a spoken "still reading page
 * 4 of 12" or a progress bar.
 */

/** The steps of an ingest, in order; 'transcribing' only happens for scanned pages and images. */
export type IngestStage = 'reading' | 'parsing' | 'transcribing' | 'embedding' | 'saving';

/** One progress event. */
export interface IngestProgress {
  readonly stage: IngestStage;
  /** While transcribing: pages done so far (1-based count), out of `pages`. */
  readonly page?: number;
  /** Pages of the document (parsing) or pages to transcribe (transcribing). */
  readonly pages?: number;
  /** Of the whole file, 0 to 1, never decreasing; stages skipped are jumped over. */
  readonly fraction: number;
}

export type ProgressListener = (progress: IngestProgress) => void;

/** Where each stage starts and ends on the overall 0-1 scale: transcription and embedding wait on servers. */
const STAGE_SPANS: Readonly<Record<IngestStage, readonly [number, number]>> = {
  reading: [0, 0.05],
  parsing: [0.05, 0.3],
  transcribing: [0.3, 0.7],
  embedding: [0.7, 0.95],
  saving: [0.95, 1],
};

/** Reports stage progress to an optional listener, whose exceptions never fail the ingest. */
export class ProgressReporter {
  private last = 0;
  constructor(private readonly listener: ProgressListener | undefined) {}

  /** `done` is the fraction of `stage` completed, 0 to 1. */
  report(stage: IngestStage, done: number, counts: { page?: number; pages?: number } = {}): void {
    if (this.listener === undefined) return;
    const [start, end] = STAGE_SPANS[stage];
    const clamped = Math.min(1, Math.max(0, done));
    this.last = Math.max(this.last, start + (end - start) * clamped);
    try {
      this.listener({ stage, ...counts, fraction: Math.round(this.last * 1000) / 1000 });
    } catch {
      // A broken progress display must not lose the user's document.
    }
  }
}
