import type { UploadProgressEvent } from '../../../protocol/index.ts';

/** How one shared file shows in the page (view.ts draws it). */
export interface UploadDisplay {
  status(message: string, done?: boolean): void;
  fail(message: string): void;
}

/** Events for uploads this page never hears the answer for are kept at most this many. */
const MAX_WAITING = 20;

/**
 * Matches the assistant's upload events to the page's files by upload id, the same for
 * both transports: the direct transport's HTTP answer names the stored upload's id, the
 * LiveKit transport's the byte stream's id, and the events carry that id. An event can
 * arrive before the answer (they travel separately): the latest one per upload waits
 * until the answer names its id.
 */
export class UploadTracker {
  private readonly shown = new Map<string, UploadDisplay>();
  private readonly waiting = new Map<string, UploadProgressEvent>();

  /** The transport took the file as `uploadId`; `message` says what happens next. */
  accepted(uploadId: string, display: UploadDisplay, message: string): void {
    display.status(message, true);
    const early = this.waiting.get(uploadId);
    this.waiting.delete(uploadId);
    this.shown.set(uploadId, display);
    if (early) this.progress(early);
  }

  /** An upload event from the assistant. */
  progress(event: UploadProgressEvent): void {
    const display = this.shown.get(event.uploadId);
    if (!display) {
      this.waiting.delete(event.uploadId);
      this.waiting.set(event.uploadId, event);
      const oldest = this.waiting.keys().next().value;
      if (this.waiting.size > MAX_WAITING && oldest !== undefined) this.waiting.delete(oldest);
      return;
    }
    if (event.stage === 'failed') display.fail(event.message ?? 'The file could not be read.');
    else {
      const percent = event.percent === undefined ? '' : ` (${Math.round(event.percent)}%)`;
      display.status(`${event.message ?? 'Reading…'}${percent}`, event.stage === 'ready');
    }
    // Nothing follows a file that is ready or failed.
    if (event.stage !== 'reading') this.shown.delete(event.uploadId);
  }
}
