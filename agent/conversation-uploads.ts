import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import { attachUploadToDocument, deleteUpload, type Database } from '../db/index.ts';
import type { Embedder } from '../ingest/embeddings.ts';
import { IngestError } from '../ingest/errors.ts';
import { ingestFile } from '../ingest/pipeline.ts';
import type { RecordingTranscriber } from '../ingest/transcription.ts';
import type { VisionModel } from '../ingest/vision.ts';
import { sharedDocumentReader, type DocumentReader } from '../ingest/document-reader.ts';
import { normalizeImage, type MediaLimits, type NormalizedImage } from '../media/index.ts';
import { AppError, userMessage, type UploadProgressEvent } from '../protocol/index.ts';
import { metrics } from '../telemetry/metrics.ts';
import {
  documentAcknowledgement,
  documentFailedMessage,
  documentReadMessage,
  IMAGE_ACKNOWLEDGEMENT,
  recordingAcknowledgement,
  recordingReadMessage,
} from './instructions.ts';
import { safeFileName } from './visual-context.ts';
import { storeUpload } from './upload-store.ts';

/** A file the user sent into a live conversation, from any transport. */
export interface ReceivedFile {
  bytes: Buffer;
  /** As the user named it; a claim about its type, never a path. */
  fileName: string;
  /** The MIME type the sender declared, if any; the bytes decide. */
  claimedType?: string | undefined;
  /**
   * The id the sender already knows this upload by (a LiveKit byte stream's id), for
   * progress events to carry; by default they carry the stored upload's id, which the
   * direct transport's HTTP answer tells the page.
   */
  senderUploadId?: string | undefined;
}

/** What the transport tells the sender right away. */
export interface UploadReceipt {
  uploadId: string;
  kind: 'image' | 'document' | 'recording';
  /** `ready`: in the conversation now; `reading`: progress events follow. */
  status: 'ready' | 'reading';
  message: string;
}

export interface ConversationUploadsDependencies {
  config: Config;
  database: Database;
  embedder: Embedder | undefined;
  vision: VisionModel | undefined;
  /** Transcribes recordings; undefined: recordings are refused (agent/providers.ts decides). */
  transcriber?: RecordingTranscriber | undefined;
  userId: string;
  conversationId: string;
  /** Puts an image into the conversation's chat context. */
  addImage(image: NormalizedImage, fileName: string): Promise<void>;
  /** Speaks to the user. */
  say(text: string): void;
  emit(event: UploadProgressEvent): void;
  logger?: Logger | undefined;
  /** The reader processes that sniff and parse files; default the program's shared pool. */
  reader?: DocumentReader | undefined;
}

/**
 * The one path for files sent mid-conversation, whether they came over LiveKit's byte
 * stream or the direct transport's HTTP upload: the type from the bytes, the file kept
 * under a random name, then an image joins the conversation at once (and, with a vision
 * model, its caption becomes searchable for later conversations), while a document is
 * acknowledged by voice at once and read in the background, with progress events and
 * a spoken word when it is ready.
 *
 * Background work belongs to the conversation: {@link ConversationUploads.close}
 * cancels it and waits until it has cleaned up, and nothing it does can throw into
 * the process. Once the conversation has ended, speaking and sending events are
 * no-ops (a user who closes the tab while a PDF is read must not take the server down).
 */
export class ConversationUploads {
  private readonly cancel = new AbortController();
  private readonly tasks = new Set<Promise<void>>();

  constructor(private readonly dependencies: ConversationUploadsDependencies) {}

  /**
   * Takes a file into the conversation. Throws `MediaError` for a file that cannot be
   * used and {@link ConversationEndedError} once the conversation has ended (nothing
   * is stored then); a document that fails or is cancelled while being read leaves no
   * rows or file.
   */
  receive(file: ReceivedFile): Promise<UploadReceipt> {
    return metrics().timeUpload(() => this.receiveFile(file));
  }

  private async receiveFile(file: ReceivedFile): Promise<UploadReceipt> {
    const { config, database } = this.dependencies;
    this.throwIfEnded();
    const limits = {
      maxBytes: config.limits.uploadMaxBytes,
      maxPixels: config.limits.imageMaxPixels,
      maxPages: config.limits.pdfMaxPages,
      maxRecordingMs: config.limits.recordingMaxMs,
    };
    const reader = this.dependencies.reader ?? sharedDocumentReader();
    const { media, pages, recording } = await this.inspect(reader, file, limits);
    if (recording && this.dependencies.transcriber === undefined) {
      throw new IngestError(
        'transcription-required',
        'Recordings need a transcription service, and none is configured on this server (DEEPGRAM_API_KEY, ' +
          'or OPENAI_API_KEY / STT_BASE_URL), so the file was not kept.',
      );
    }
    const image =
      media.kind === 'image' ? await normalizeImage(file.bytes, { maxPixels: limits.maxPixels }) : undefined;
    this.throwIfEnded();
    const uploadId = await storeUpload(database.pool, config.database.uploadsDirectory, {
      userId: this.dependencies.userId,
      conversationId: this.dependencies.conversationId,
      fileName: file.fileName,
      mimeType: media.mime,
      extension: media.extension,
      bytes: file.bytes,
      sha256: media.sha256,
    });
    if (this.cancel.signal.aborted) {
      // Ended while the file was being stored: close() did not know about this upload.
      await this.forget(uploadId);
      this.throwIfEnded();
    }
    const source = {
      bytes: file.bytes,
      fileName: file.fileName,
      claimedType: media.mime,
      ownerId: this.dependencies.userId,
      sourceName: file.fileName,
      signal: this.cancel.signal,
    };
    const ingest = {
      database,
      embedder: this.dependencies.embedder,
      vision: this.dependencies.vision,
      transcriber: this.dependencies.transcriber,
      limits,
    };

    if (image) {
      await this.dependencies.addImage(image, file.fileName);
      this.say(IMAGE_ACKNOWLEDGEMENT);
      // A caption (and any text in the picture) makes it findable in later conversations.
      if (this.dependencies.vision) {
        this.inBackground(uploadId, 'could not caption an uploaded image', async () => {
          const document = await ingestFile(source, ingest);
          await attachUploadToDocument(database.pool, uploadId, document.documentId);
        });
      }
      return { uploadId, kind: 'image', status: 'ready', message: 'The assistant can see the picture now.' };
    }

    this.say(
      recording
        ? recordingAcknowledgement(recording.durationMs, recording.video)
        : documentAcknowledgement(media.kind as 'pdf' | 'text' | 'markdown' | 'html', pages),
    );
    const reading = recording ? 'Listening to the recording.' : 'Reading the document.';
    const progress = {
      type: 'upload_progress',
      uploadId: file.senderUploadId ?? uploadId,
      fileName: safeFileName(file.fileName),
    } as const;
    this.emit({ ...progress, stage: 'reading', percent: 0, message: reading });
    this.inBackground(uploadId, 'a document upload could not be read', async () => {
      try {
        const document = await metrics().timeIngest(() =>
          ingestFile(source, ingest, (step) =>
            this.emit({ ...progress, stage: 'reading', percent: Math.round(step.fraction * 100) }),
          ),
        );
        await attachUploadToDocument(database.pool, uploadId, document.documentId);
        this.emit({
          ...progress,
          stage: 'ready',
          percent: 100,
          message: recording ? `Listened to "${document.title}".` : `Read "${document.title}".`,
        });
        this.say(recording ? recordingReadMessage(document.title) : documentReadMessage(document.title));
      } catch (error) {
        await this.forget(uploadId);
        if (!this.cancel.signal.aborted) {
          const reason = userMessage(error, 'Please try again.');
          this.emit({ ...progress, stage: 'failed', message: reason });
          this.say(documentFailedMessage(reason));
        }
        throw error;
      }
    });
    return { uploadId, kind: recording ? 'recording' : 'document', status: 'reading', message: reading };
  }

  /**
   * What the file is and, for a PDF, its page count, for a recording its length: asked of a
   * reader process, off this thread. A damaged or over-long recording is refused here,
   * before anything is stored or any transcription service is asked.
   */
  private async inspect(reader: DocumentReader, file: ReceivedFile, limits: MediaLimits) {
    const budget = reader.budget(this.cancel.signal);
    try {
      const claim = { fileName: file.fileName, mimeType: file.claimedType };
      const media = await reader.run({ type: 'identify', bytes: file.bytes, claim, limits }, budget);
      const pages =
        media.kind === 'pdf'
          ? (await reader.run({ type: 'inspect-pdf', bytes: file.bytes, limits }, budget)).pageCount
          : null;
      const recording =
        media.kind === 'recording'
          ? await reader.run(
              { type: 'inspect-recording', bytes: file.bytes, mimeType: media.mime, limits },
              budget,
            )
          : undefined;
      return { media, pages, recording };
    } finally {
      await budget.release();
    }
  }

  /**
   * Ends the conversation's uploads: documents still being read are cancelled, their
   * rows and files removed, and this resolves once every background task has finished.
   */
  async close(): Promise<void> {
    this.cancel.abort(new ConversationEndedError());
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
  }

  /** Runs work that outlives the request which started it; its errors end here, logged. */
  private inBackground(uploadId: string, failure: string, work: () => Promise<void>): void {
    const task = work()
      .catch((error: unknown) => {
        if (this.cancel.signal.aborted) {
          this.dependencies.logger?.debug({ uploadId }, 'stopped reading an upload: the conversation ended');
        } else this.dependencies.logger?.warn({ err: error, uploadId }, failure);
      })
      .finally(() => this.tasks.delete(task));
    this.tasks.add(task);
  }

  /** Speaks unless the conversation has ended; a session that closed on its own makes it a no-op too. */
  private say(text: string): void {
    this.whileLive('speak', () => this.dependencies.say(text));
  }

  private emit(event: UploadProgressEvent): void {
    this.whileLive('send an upload event', () => this.dependencies.emit(event));
  }

  private whileLive(what: string, action: () => void): void {
    if (this.cancel.signal.aborted) {
      this.dependencies.logger?.debug(`did not ${what}: the conversation has ended`);
      return;
    }
    try {
      action();
    } catch (error) {
      this.dependencies.logger?.debug({ err: error }, `could not ${what}: the session has closed`);
    }
  }

  private throwIfEnded(): void {
    if (this.cancel.signal.aborted) throw new ConversationEndedError();
  }

  /** Removes an upload that could not be used: its row and its file. Never throws. */
  private async forget(uploadId: string): Promise<void> {
    await forgetUpload(
      this.dependencies.database,
      this.dependencies.config.database.uploadsDirectory,
      uploadId,
    ).catch((error: unknown) =>
      this.dependencies.logger?.error({ err: error, uploadId }, 'could not remove an upload'),
    );
  }
}

/** A file sent after its conversation ended (the tab closed, the user erased themselves). */
export class ConversationEndedError extends AppError<'conversation-ended'> {
  constructor() {
    super(
      'conversation-ended',
      'This conversation has ended, so the file was not kept. Start a new conversation and send it again.',
      { userFacing: true, retryable: false },
    );
  }
}

/** Removes an upload that could not be used: its row and its file. */
async function forgetUpload(database: Database, uploadsDirectory: string, uploadId: string): Promise<void> {
  const file = await deleteUpload(database.pool, uploadId);
  if (file) await rm(path.join(uploadsDirectory, path.basename(file)), { force: true });
}
