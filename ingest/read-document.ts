/**
 * PDFs and text files, read in the reader processes: a PDF's text layer per page,
 * and for pages without one (scans) what the vision model reads on a rendering
 * of the page; a text, Markdown or HTML file's paragraphs. Both come back chunked.
 */
import type { MediaClaim, PdfPageText } from '../media/index.ts';
import { mapConcurrently } from './concurrency.ts';
import type { DocumentContent, ReadContext } from './document-content.ts';
import { IngestError } from './errors.ts';
import { VisionModelError, type VisionModel } from './vision.ts';

/**
 * Pages sent to the vision model at once. Two keeps a local model server busy
 * without queueing, and stays under OpenAI's per-minute limits on small tiers.
 */
const TRANSCRIPTION_CONCURRENCY = 2;

/**
 * Reads every page or paragraph. Pages without text (or with a few characters only,
 * like a stamped page number on a scan) are transcribed when a vision model is
 * configured, replacing those characters; else they keep them and are reported in
 * `unreadablePages`. Throws `MediaError` for encrypted, corrupt or over-long PDFs,
 * `IngestError` for a file over a reading cap, and `IngestError('vision-failed')`.
 */
export async function readDocument(
  bytes: Uint8Array,
  claim: MediaClaim,
  context: ReadContext,
): Promise<DocumentContent> {
  const { reader, budget } = context;
  context.progress.report('parsing', 0);
  const outcome = await reader.run(
    {
      type: 'read',
      bytes,
      claim,
      limits: context.limits,
      caps: reader.caps,
      transcribeScans: context.vision !== undefined,
    },
    budget,
  );
  context.progress.report('parsing', 1, outcome.pageCount === null ? {} : { pages: outcome.pageCount });
  if (outcome.state === 'chunked') return { ...outcome, transcribedPages: [] };

  const vision = context.vision as VisionModel;
  const transcriptions = await transcribePages(bytes, outcome.withoutText, vision, context);
  const pages: PdfPageText[] = outcome.pages.map((page) => ({
    pageNumber: page.pageNumber,
    text: transcriptions.get(page.pageNumber) ?? page.text,
  }));
  context.signal?.throwIfAborted();
  const chunks = await reader.run({ type: 'chunk-pages', pages, caps: reader.caps }, budget);
  return {
    title: undefined,
    pageCount: outcome.pageCount,
    chunks,
    unreadablePages: outcome.withoutText.filter((page) => !transcriptions.has(page)),
    transcribedPages: [...transcriptions.keys()].sort((left, right) => left - right),
  };
}

/** Renders and transcribes pages, a few at a time; each page is rendered just before it is sent. */
async function transcribePages(
  bytes: Uint8Array,
  pageNumbers: readonly number[],
  vision: VisionModel,
  context: ReadContext,
): Promise<Map<number, string>> {
  let done = 0;
  const total = pageNumbers.length;
  context.progress.report('transcribing', 0, { page: 0, pages: total });
  const texts = await mapConcurrently(pageNumbers, TRANSCRIPTION_CONCURRENCY, async (pageNumber) => {
    context.signal?.throwIfAborted();
    const rendered = await context.reader.run(
      { type: 'render', bytes, pageNumber, maxPixels: context.limits.maxPixels },
      context.budget,
    );
    let text: string;
    try {
      text = await vision.transcribePage(rendered, { signal: context.signal });
    } catch (error) {
      if (!(error instanceof VisionModelError)) throw error;
      throw new IngestError(
        'vision-failed',
        `Page ${pageNumber} is a scan, and ${error.message}, so it could not be read. ` +
          'Nothing was saved; try again in a moment.',
        { cause: error },
      );
    }
    done++;
    context.progress.report('transcribing', done / total, { page: done, pages: total });
    return text;
  });
  return new Map(pageNumbers.map((pageNumber, index) => [pageNumber, texts[index] ?? '']));
}
