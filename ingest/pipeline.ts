/**
 * Files into searchable documents: identify, read, chunk, embed, store. The
 * same path serves uploads in a conversation and the `ingest` command. Reads
 * top to bottom; each step lives in its own module.
 */
import { findDocumentByContent, saveDocument, type Database, type StoredDocument } from '../db/index.ts';
import type { MediaKind, MediaLimits } from '../media/index.ts';
import type { DocumentContent, ReadContext } from './document-content.ts';
import { sharedDocumentReader, type DocumentReader, type ReadBudget } from './document-reader.ts';
import { embedChunks } from './embed-chunks.ts';
import type { Embedder } from './embeddings.ts';
import { IngestError } from './errors.ts';
import { ProgressReporter, type ProgressListener } from './progress.ts';
import { readDocument } from './read-document.ts';
import { readImage } from './read-image.ts';
import { readRecording } from './read-recording.ts';
import type { MediaSummary } from './reader-tasks.ts';
import { isUpToDate } from './stored-version.ts';
import type { RecordingTranscriber } from './transcription.ts';
import type { VisionModel } from './vision.ts';

/** One file to ingest. */
export interface IngestFile {
  readonly bytes: Uint8Array;
  /** The name it was uploaded or found under, e.g. "report.pdf": a claim about its type, and the default title. */
  readonly fileName: string;
  /** The declared MIME type, if any (a browser's or a byte stream's); checked against the bytes. */
  readonly claimedType?: string | undefined;
  /** The owning user's id; null stores a shared document every user can search. */
  readonly ownerId: string | null;
  /** Where it came from (a path, an upload name): new bytes from the same source replace the old document. */
  readonly sourceName: string;
  /** Cancels the ingest between steps and aborts requests to model servers. */
  readonly signal?: AbortSignal | undefined;
}

/** What ingesting needs. Providers are chosen by the caller (agent/providers.ts). */
export interface IngestDependencies {
  readonly database: Database;
  /** Undefined: chunks are stored without embeddings and found by full-text search. */
  readonly embedder: Embedder | undefined;
  /** Undefined: scanned pages are reported unreadable and images are refused. */
  readonly vision: VisionModel | undefined;
  /** Undefined: recordings are refused. */
  readonly transcriber?: RecordingTranscriber | undefined;
  readonly limits: MediaLimits;
  /** The reader processes; default the program's shared pool. */
  readonly reader?: DocumentReader | undefined;
}

/** What became of a file. */
export interface IngestResult {
  readonly documentId: string;
  /** 'unchanged': these bytes were already stored for this owner, and nothing was read again. */
  readonly outcome: 'created' | 'unchanged' | 'replaced';
  readonly title: string;
  readonly kind: MediaKind;
  /** The type the bytes show, e.g. "image/png" for a PNG named .jpg. */
  readonly mimeType: string;
  /** Pages of a PDF; null for other files. */
  readonly pages: number | null;
  /** A recording's length in ms, read from its headers; null for other files. */
  readonly durationMs: number | null;
  readonly chunks: number;
  /** Pages without text that no vision model read (none configured). */
  readonly unreadablePages: readonly number[];
  /** Pages without text that the vision model transcribed in this run. */
  readonly transcribedPages: readonly number[];
  /** Whether the chunks carry embeddings (else they are found by full-text search only). */
  readonly embedded: boolean;
  /** Set when the file was accepted despite a misleading name or type (a PNG named .jpg). */
  readonly note: string | undefined;
}

/**
 * Ingests one file as a searchable document, in one transaction: either the
 * whole document is stored (or replaces the previous version from the same
 * source), or nothing is. The same bytes for the same owner are answered
 * 'unchanged' from the database before anything is parsed.
 *
 * Throws user-facing errors only for the file's own problems and for model
 * servers that stay down: `MediaError` (empty, too large, wrong type, corrupt,
 * encrypted, too many pages or pixels) and `IngestError` (no text, an image
 * without a vision model, a vision or embedding server failure, over a reading
 * cap). Parsing and chunking run in reader processes (ingest/document-reader.ts).
 */
export async function ingestFile(
  file: IngestFile,
  dependencies: IngestDependencies,
  onProgress?: ProgressListener,
): Promise<IngestResult> {
  const reader = dependencies.reader ?? sharedDocumentReader();
  const budget = reader.budget(file.signal);
  try {
    return await readAndStore(file, dependencies, { reader, budget }, onProgress);
  } finally {
    await budget.release();
  }
}

async function readAndStore(
  file: IngestFile,
  dependencies: IngestDependencies,
  { reader, budget }: { reader: DocumentReader; budget: ReadBudget },
  onProgress: ProgressListener | undefined,
): Promise<IngestResult> {
  const { database, embedder, vision, limits } = dependencies;
  const progress = new ProgressReporter(onProgress);
  progress.report('reading', 0);
  const claim = { fileName: file.fileName, mimeType: file.claimedType };
  const media = await reader.run({ type: 'identify', bytes: file.bytes, claim, limits }, budget);
  const { sha256 } = media;
  const stored = await findDocumentByContent(database.pool, file.ownerId, sha256);
  const abilities = { embeddingModel: embedder?.model, canTranscribe: vision !== undefined };
  if (stored !== undefined && isUpToDate(stored, abilities)) {
    progress.report('saving', 1);
    return unchangedResult(stored, media);
  }
  progress.report('reading', 1);

  file.signal?.throwIfAborted();
  const transcriber = dependencies.transcriber;
  const context: ReadContext = { limits, vision, transcriber, progress, signal: file.signal, reader, budget };
  const content =
    media.kind === 'image'
      ? await readImage(file.bytes, file.fileName, context)
      : media.kind === 'recording'
        ? await readRecording(file.bytes, file.fileName, media, context)
        : await readDocument(file.bytes, claim, context);
  const { chunks } = content;
  // A scan with nothing but a stamped page number on each page is not worth storing either.
  if (chunks.length === 0 || content.unreadablePages.length === content.pageCount) {
    throw nothingToSearch(file.fileName, content);
  }

  file.signal?.throwIfAborted();
  const embeddings = await embedChunks(chunks, embedder, progress, file.signal);

  file.signal?.throwIfAborted();
  progress.report('saving', 0);
  const title = content.title ?? file.fileName;
  const saved = await saveDocument(database.pool, {
    ownerId: file.ownerId,
    title,
    sourceName: file.sourceName,
    mimeType: media.mime,
    sha256,
    byteSize: file.bytes.length,
    pageCount: content.pageCount,
    durationMs: content.durationMs ?? null,
    embeddingModel: embedder?.model ?? null,
    chunks: chunks.map((chunk, index) => ({ ...chunk, embedding: embeddings[index] ?? null })),
    unreadablePages: content.unreadablePages,
    replaceSameBytes: stored !== undefined,
  });
  // The new chunks reach the planner's statistics, so searches keep using the vector index.
  await database.refreshStatistics();
  progress.report('saving', 1);

  return {
    documentId: saved.documentId,
    outcome: saved.outcome,
    title,
    kind: media.kind,
    mimeType: media.mime,
    pages: content.pageCount,
    durationMs: content.durationMs ?? null,
    chunks: chunks.length,
    unreadablePages: content.unreadablePages,
    transcribedPages: content.transcribedPages,
    embedded: embedder !== undefined,
    note: media.note,
  };
}

function unchangedResult(stored: StoredDocument, media: MediaSummary): IngestResult {
  return {
    documentId: stored.id,
    outcome: 'unchanged',
    title: stored.title,
    kind: media.kind,
    mimeType: media.mime,
    pages: stored.pageCount,
    durationMs: stored.durationMs,
    chunks: stored.chunkCount,
    unreadablePages: stored.unreadablePages,
    transcribedPages: [],
    embedded: stored.chunkCount > 0 && stored.chunksWithoutEmbedding === 0,
    note: media.note,
  };
}

function nothingToSearch(fileName: string, content: DocumentContent): IngestError {
  if (content.unreadablePages.length > 0) {
    return new IngestError(
      'no-text',
      `"${fileName}" has no text layer (it looks scanned), and reading scanned pages needs VISION_MODEL: ` +
        'set it to a model that reads images and try again.',
    );
  }
  return new IngestError('no-text', `"${fileName}" contains no text to search.`);
}
