import type { UploadProgressEvent } from '../../../protocol/index.ts';
import type { Transport } from './transport.ts';
import { UploadTracker } from './upload-tracker.ts';
import { addUploadItem, elements, showAlert } from './view.ts';

/**
 * Files shared with the assistant: by the Upload button, by dropping them anywhere on
 * the page, or by pasting. Each shows its sending progress, then what the server did
 * with it (progress of document reading arrives over the transport).
 */
export class SharedFiles {
  private readonly tracker = new UploadTracker();

  constructor(
    private readonly transport: () => Transport | undefined,
    private readonly maxBytes: () => number,
  ) {
    elements.upload.addEventListener('click', () => elements.fileInput.click());
    elements.fileInput.addEventListener('change', () => {
      this.share([...(elements.fileInput.files ?? [])]);
      elements.fileInput.value = '';
    });
    let depth = 0;
    const hasFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false;
    window.addEventListener('dragenter', (event) => {
      if (!hasFiles(event)) return;
      depth++;
      elements.dropOverlay.hidden = false;
    });
    window.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (depth === 0) elements.dropOverlay.hidden = true;
    });
    window.addEventListener('dragover', (event) => {
      if (hasFiles(event)) event.preventDefault();
    });
    window.addEventListener('drop', (event) => {
      if (!hasFiles(event)) return;
      event.preventDefault();
      depth = 0;
      elements.dropOverlay.hidden = true;
      this.share([...(event.dataTransfer?.files ?? [])]);
    });
    document.addEventListener('paste', (event) => {
      const files = [...(event.clipboardData?.files ?? [])];
      if (files.length === 0) return;
      event.preventDefault();
      this.share(files);
    });
  }

  share(files: File[]): void {
    for (const file of files) void this.send(file);
  }

  /** Progress of a file being read, or why it failed, pushed by the assistant. */
  progress(message: UploadProgressEvent): void {
    this.tracker.progress(message);
  }

  private async send(file: File): Promise<void> {
    const transport = this.transport();
    if (!transport) {
      showAlert('Connect to the assistant first, then share the file again.');
      return;
    }
    const item = addUploadItem(file.name);
    if (file.size > this.maxBytes()) {
      item.fail(`Too large: ${megabytes(file.size)}; the limit is ${megabytes(this.maxBytes())}.`);
      return;
    }
    try {
      const answer = await transport.upload(file, ({ sentFraction }) => {
        if (sentFraction !== undefined) item.progress(sentFraction);
      });
      this.tracker.accepted(answer.uploadId, item, answer.message);
    } catch (error) {
      item.fail(error instanceof Error ? error.message : 'The file could not be sent.');
    }
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}
