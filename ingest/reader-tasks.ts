/**
 * The CPU-heavy part of reading a file, as tasks a reader process runs
 * (ingest/reader-worker.ts): type sniffing, PDF parsing and page rendering,
 * text decoding, paragraphs and chunks, each checked against the per-file caps.
 * Plain functions of their input, so they are tested here without threads.
 */
import { createHash } from 'node:crypto';
import {
  extractPdfText,
  findPagesWithoutText,
  identifyMedia,
  inspectPdf,
  inspectRecording,
  renderPdfPages,
  type IdentifiedMedia,
  type MediaClaim,
  type MediaLimits,
  type PdfPageText,
  type PdfSummary,
  type RecordingSummary,
  type RenderedPdfPage,
} from '../media/index.ts';
import { chunkParagraphs, type Chunk, type Paragraph } from './chunker.ts';
import { IngestError } from './errors.ts';
import { readText } from './read-text.ts';
import { plainTextParagraphs } from './text-paragraphs.ts';

/** Per-file caps on what reading may produce; a file over one is refused. */
export interface ContentCaps {
  /** Characters of text, after decoding or extracting. */
  readonly maxTextCharacters: number;
  /** Chunks, each of which costs an embedding and a row. */
  readonly maxChunks: number;
  /** Pages without text rendered for the vision model. */
  readonly maxRenderedPages: number;
}

/** What a file is, as the reader tells it: {@link IdentifiedMedia} without decoded text, with its SHA-256 (hex). */
export type MediaSummary = Omit<IdentifiedMedia, 'text'> & { readonly sha256: string };

/** A file's text, chunked; or, for a PDF with scanned pages to transcribe first, its pages. */
export type ReadOutcome =
  | {
      readonly state: 'chunked';
      readonly title: string | undefined;
      readonly pageCount: number | null;
      readonly chunks: Chunk[];
      /** Pages without a text layer (no vision model asked to read them). */
      readonly unreadablePages: number[];
    }
  | {
      readonly state: 'needs-transcription';
      readonly pageCount: number;
      readonly pages: PdfPageText[];
      /** The pages to render and transcribe, within `maxRenderedPages`. */
      readonly withoutText: number[];
    };

/** One unit of work for a reader process. */
export type ReaderTask =
  | {
      readonly type: 'identify';
      readonly bytes: Uint8Array;
      readonly claim: MediaClaim;
      readonly limits: MediaLimits;
    }
  | { readonly type: 'inspect-pdf'; readonly bytes: Uint8Array; readonly limits: MediaLimits }
  | {
      readonly type: 'inspect-recording';
      readonly bytes: Uint8Array;
      /** The type the bytes showed (identify's answer): music-metadata picks its parser by it. */
      readonly mimeType: string;
      readonly limits: MediaLimits;
    }
  | {
      readonly type: 'read';
      readonly bytes: Uint8Array;
      readonly claim: MediaClaim;
      readonly limits: MediaLimits;
      readonly caps: ContentCaps;
      /** Whether scanned pages will be transcribed (a vision model is configured). */
      readonly transcribeScans: boolean;
    }
  | {
      readonly type: 'render';
      readonly bytes: Uint8Array;
      readonly pageNumber: number;
      readonly maxPixels: number;
    }
  | { readonly type: 'chunk-pages'; readonly pages: readonly PdfPageText[]; readonly caps: ContentCaps };

/** A task whose bytes travel as the path of a temporary copy (large files). */
type Spilled<Task> = Task extends { readonly bytes: Uint8Array }
  ? Omit<Task, 'bytes'> & { readonly bytes: undefined; readonly bytesPath: string }
  : never;

/** A task as sent to a reader process. */
export type WireTask = ReaderTask | Spilled<ReaderTask>;

/** What each task type answers. */
export interface ReaderResults {
  identify: MediaSummary;
  'inspect-pdf': PdfSummary;
  'inspect-recording': RecordingSummary;
  read: ReadOutcome;
  render: RenderedPdfPage;
  'chunk-pages': Chunk[];
}

/** Runs one task. Throws `MediaError` and `IngestError` for the file's own problems. */
export async function runReaderTask(task: ReaderTask): Promise<ReaderResults[ReaderTask['type']]> {
  switch (task.type) {
    case 'identify': {
      const media = await identifyMedia(task.bytes, task.claim, task.limits);
      // The decoded text stays here: a 25 MB string costs the main thread ~200 ms to receive.
      const sha256 = createHash('sha256').update(task.bytes).digest('hex');
      return { kind: media.kind, mime: media.mime, extension: media.extension, note: media.note, sha256 };
    }
    case 'inspect-pdf':
      return inspectPdf(task.bytes, task.limits);
    case 'inspect-recording':
      return inspectRecording(task.bytes, task.mimeType, task.limits);
    case 'read':
      return readFile(task);
    case 'render': {
      const [page] = await renderPdfPages(task.bytes, [task.pageNumber], { maxPixels: task.maxPixels });
      if (page === undefined) throw new RangeError(`page ${task.pageNumber} was not rendered`);
      return page;
    }
    case 'chunk-pages':
      return chunkPages(task.pages, task.caps);
  }
}

async function readFile(task: Extract<ReaderTask, { type: 'read' }>): Promise<ReadOutcome> {
  const media = await identifyMedia(task.bytes, task.claim, task.limits);
  if (media.kind === 'text' || media.kind === 'markdown' || media.kind === 'html') {
    checkTextSize(media.text.length, task.caps);
    const content = readText(media);
    return {
      state: 'chunked',
      title: content.title,
      pageCount: null,
      chunks: capChunks(chunkParagraphs(content.paragraphs), task.caps),
      unreadablePages: [],
    };
  }
  if (media.kind === 'image')
    throw new TypeError('images are read on the main thread (sharp is asynchronous)');
  if (media.kind === 'recording')
    throw new TypeError('recordings are transcribed by a speech service (ingest/read-recording.ts)');
  const pages = await extractPdfText(task.bytes, task.limits);
  checkTextSize(
    pages.reduce((total, page) => total + page.text.length, 0),
    task.caps,
  );
  const withoutText = findPagesWithoutText(pages);
  if (task.transcribeScans && withoutText.length > 0) {
    if (withoutText.length > task.caps.maxRenderedPages) {
      throw new IngestError(
        'too-many-scanned-pages',
        `This PDF has ${withoutText.length} scanned pages; at most ${task.caps.maxRenderedPages} are read per file. ` +
          'Split it into smaller files and send them one at a time.',
      );
    }
    return { state: 'needs-transcription', pageCount: pages.length, pages, withoutText };
  }
  return {
    state: 'chunked',
    title: undefined,
    pageCount: pages.length,
    chunks: chunkPages(pages, task.caps),
    unreadablePages: withoutText,
  };
}

/** A PDF's pages (their text layer, or what the vision model read on them) as chunks. */
function chunkPages(pages: readonly PdfPageText[], caps: ContentCaps): Chunk[] {
  const paragraphs: Paragraph[] = pages.flatMap((page) => plainTextParagraphs(page.text, page.pageNumber));
  return capChunks(chunkParagraphs(paragraphs), caps);
}

function checkTextSize(characters: number, caps: ContentCaps): void {
  if (characters <= caps.maxTextCharacters) return;
  throw new IngestError(
    'too-much-text',
    `This file holds ${formatCount(characters)} characters of text; at most ${formatCount(caps.maxTextCharacters)} ` +
      'are read per file. Split it into smaller files and send them one at a time.',
  );
}

/** The chunks, or `IngestError` `too-many-chunks` when they are more than the cap allows. */
export function capChunks(chunks: Chunk[], caps: ContentCaps): Chunk[] {
  if (chunks.length <= caps.maxChunks) return chunks;
  throw new IngestError(
    'too-many-chunks',
    `This file would make ${formatCount(chunks.length)} searchable passages; at most ${formatCount(caps.maxChunks)} ` +
      'are kept per file. Split it into smaller files and send them one at a time.',
  );
}

function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}
