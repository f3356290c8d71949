import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/load.ts';
import { attachUploadToDocument, deleteUpload, type Database } from '../db/index.ts';
import type { Embedder } from '../ingest/embeddings.ts';
import { ingestFile } from '../ingest/pipeline.ts';
import type { VisionModel } from '../ingest/vision.ts';
import { identifyMedia, inspectPdf, normalizeImage, type NormalizedImage } from '../media/index.ts';
import { userMessage, type UploadProgressEvent } from '../protocol/index.ts';
import {
  documentAcknowledgement,
  documentFailedMessage,
  documentReadMessage,
  IMAGE_ACKNOWLEDGEMENT,
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
}

/** What the transport tells the sender right away. */
export interface UploadReceipt {
  uploadId: string;
  kind: 'image' | 'document';
  /** `ready`: in the conversation now; `reading`: progress events follow. */
  status: 'ready' | 'reading';
  message: string;
}

export interface ConversationUploadsDependencies {
  config: Config;
  database: Database;
  embedder: Embedder | undefined;
  vision: VisionModel | undefined;
  userId: string;
  conversationId: string;
  /** Puts an image into the conversation's chat context. */
  addImage(image: NormalizedImage, fileName: string): Promise<void>;
  /** Speaks to the user. */
  say(text: string): void;
  emit(event: UploadProgressEvent): void;
  logger?: Logger | undefined;
}

/**
 * The one path for files sent mid-conversation, whether they came over LiveKit's byte
 * stream or the direct transport's HTTP upload: the type from the bytes, the file kept
 * under a random name, then an image joins the conversation at once (and, with a vision
 * model, its caption becomes searchable for later conversations), while a document is
 * acknowledged by voice at once and read in the background, with progress events and
 * a spoken word when it is ready. Throws `MediaError` for a file that cannot be used
 * (nothing is stored then); a document that fails while being read leaves no rows or file.
 */
export async function receiveUpload(
  dependencies: ConversationUploadsDependencies,
  file: ReceivedFile,
): Promise<UploadReceipt> {
  const { config, database } = dependencies;
  const limits = {
    maxBytes: config.limits.uploadMaxBytes,
    maxPixels: config.limits.imageMaxPixels,
    maxPages: config.limits.pdfMaxPages,
  };
  const media = await identifyMedia(
    file.bytes,
    { fileName: file.fileName, mimeType: file.claimedType },
    limits,
  );
  const image =
    media.kind === 'image' ? await normalizeImage(file.bytes, { maxPixels: limits.maxPixels }) : undefined;
  const pages = media.kind === 'pdf' ? (await inspectPdf(file.bytes, limits)).pageCount : null;
  const uploadId = await storeUpload(database.pool, config.database.uploadsDirectory, {
    userId: dependencies.userId,
    conversationId: dependencies.conversationId,
    fileName: file.fileName,
    mimeType: media.mime,
    extension: media.extension,
    bytes: file.bytes,
  });
  const ingest = { database, embedder: dependencies.embedder, vision: dependencies.vision, limits };
  const source = {
    bytes: file.bytes,
    fileName: file.fileName,
    claimedType: media.mime,
    ownerId: dependencies.userId,
    sourceName: file.fileName,
  };

  if (image) {
    await dependencies.addImage(image, file.fileName);
    dependencies.say(IMAGE_ACKNOWLEDGEMENT);
    // A caption (and any text in the picture) makes it findable in later conversations.
    if (dependencies.vision) {
      void ingestFile(source, ingest)
        .then((document) => attachUploadToDocument(database.pool, uploadId, document.documentId))
        .catch((error: unknown) =>
          dependencies.logger?.warn({ err: error, uploadId }, 'could not caption an uploaded image'),
        );
    }
    return { uploadId, kind: 'image', status: 'ready', message: 'The assistant can see the picture now.' };
  }

  dependencies.say(documentAcknowledgement(media.kind as 'pdf' | 'text' | 'markdown' | 'html', pages));
  const progress = { type: 'upload_progress', uploadId, fileName: safeFileName(file.fileName) } as const;
  dependencies.emit({ ...progress, stage: 'reading', percent: 0, message: 'Reading the document.' });
  void (async () => {
    try {
      const document = await ingestFile(source, ingest, (step) =>
        dependencies.emit({ ...progress, stage: 'reading', percent: Math.round(step.fraction * 100) }),
      );
      await attachUploadToDocument(database.pool, uploadId, document.documentId);
      dependencies.emit({ ...progress, stage: 'ready', percent: 100, message: `Read "${document.title}".` });
      dependencies.say(documentReadMessage(safeFileName(document.title)));
    } catch (error) {
      dependencies.logger?.warn({ err: error, uploadId }, 'a document upload could not be read');
      const reason = userMessage(error, 'Please try again.');
      await forgetUpload(database, config.database.uploadsDirectory, uploadId).catch(() => undefined);
      dependencies.emit({ ...progress, stage: 'failed', message: reason });
      dependencies.say(documentFailedMessage(reason));
    }
  })();
  return { uploadId, kind: 'document', status: 'reading', message: 'Reading the document.' };
}

/** Removes an upload that could not be used: its row and its file. */
async function forgetUpload(database: Database, uploadsDirectory: string, uploadId: string): Promise<void> {
  const file = await deleteUpload(database.pool, uploadId);
  if (file) await rm(path.join(uploadsDirectory, path.basename(file)), { force: true });
}
