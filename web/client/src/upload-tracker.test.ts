import { describe, expect, it } from 'vitest';
import type { UploadProgressEvent } from '../../../protocol/index.ts';
import { UploadTracker, type UploadDisplay } from './upload-tracker.ts';

/** What a file's line in the page would show, in order. */
function display(): UploadDisplay & { shown: string[] } {
  const shown: string[] = [];
  return {
    shown,
    status: (message, done = false) => shown.push(`${done ? 'done' : 'status'}: ${message}`),
    fail: (message) => shown.push(`failed: ${message}`),
  };
}

const event = (uploadId: string, rest: Partial<UploadProgressEvent>): UploadProgressEvent => ({
  type: 'upload_progress',
  uploadId,
  fileName: 'manual.pdf',
  stage: 'reading',
  ...rest,
});

describe('UploadTracker', () => {
  it("shows a document's reading progress under the file once the upload is answered", () => {
    const tracker = new UploadTracker();
    const manual = display();
    tracker.accepted('stream-1', manual, 'Sent to the assistant.');
    tracker.progress(event('stream-1', { percent: 0, message: 'Reading the document.' }));
    tracker.progress(event('stream-1', { percent: 40 }));
    tracker.progress(event('stream-1', { stage: 'ready', percent: 100, message: 'Read "Manual".' }));
    expect(manual.shown).toEqual([
      'done: Sent to the assistant.',
      'status: Reading the document. (0%)',
      'status: Reading… (40%)',
      'done: Read "Manual". (100%)',
    ]);
  });

  it('keeps an event that arrives before the answer, and shows a refusal as a failure of that file', () => {
    const tracker = new UploadTracker();
    const huge = display();
    const other = display();
    tracker.progress(
      event('stream-2', { stage: 'failed', message: '"huge.pdf" is larger than the 25 MB limit.' }),
    );
    tracker.accepted('stream-3', other, 'Sent to the assistant.');
    tracker.accepted('stream-2', huge, 'Sent to the assistant.');
    expect(huge.shown).toEqual([
      'done: Sent to the assistant.',
      'failed: "huge.pdf" is larger than the 25 MB limit.',
    ]);
    expect(other.shown).toEqual(['done: Sent to the assistant.']);
  });

  it('ignores events for files that are finished or that this page never sent', () => {
    const tracker = new UploadTracker();
    const picture = display();
    tracker.accepted('stream-4', picture, 'Sent to the assistant.');
    tracker.progress(
      event('stream-4', { stage: 'ready', message: 'The assistant can see the picture now.' }),
    );
    tracker.progress(event('stream-4', { stage: 'failed', message: 'late' }));
    for (let index = 0; index < 50; index++)
      tracker.progress(event(`elsewhere-${index}`, { percent: index }));
    expect(picture.shown).toEqual([
      'done: Sent to the assistant.',
      'done: The assistant can see the picture now.',
    ]);
  });
});
