/**
 * A PDF's text: the text layer of each page, and for pages without one (scans),
 * what the vision model reads on a rendering of the page.
 */
import { extractPdfText, findPagesWithoutText, renderPdfPages } from '../media/index.ts';
import type { Paragraph } from './chunker.ts';
import { mapConcurrently } from './concurrency.ts';
import type { DocumentContent, ReadContext } from './document-content.ts';
import { IngestError } from './errors.ts';
import { plainTextParagraphs } from './text-paragraphs.ts';
import { VisionModelError, type VisionModel } from './vision.ts';

/**
 * Pages sent to the vision model at once. Two keeps a local model server busy
 * without queueing, and stays under OpenAI's per-minute limits on small tiers.
 */
const TRANSCRIPTION_CONCURRENCY = 2;

/**
 * Reads every page. Pages without text (or with a few characters only, like a
 * stamped page number on a scan) are transcribed when a vision model is
 * configured, replacing those characters; else they keep them and are reported
 * in `unreadablePages`. Throws `MediaError` for encrypted, corrupt or over-long
 * PDFs and `IngestError('vision-failed')`.
 */
export async function readPdf(bytes: Uint8Array, context: ReadContext): Promise<DocumentContent> {
  context.progress.report('parsing', 0);
  const pages = await extractPdfText(bytes, context.limits);
  context.progress.report('parsing', 1, { pages: pages.length });

  const withoutText = findPagesWithoutText(pages);
  const transcriptions =
    context.vision !== undefined && withoutText.length > 0
      ? await transcribePages(bytes, withoutText, context.vision, context)
      : new Map<number, string>();
  const paragraphs: Paragraph[] = pages.flatMap((page) =>
    plainTextParagraphs(transcriptions.get(page.pageNumber) ?? page.text, page.pageNumber),
  );
  return {
    title: undefined,
    pageCount: pages.length,
    paragraphs,
    unreadablePages: withoutText.filter((page) => !transcriptions.has(page)),
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
    const [rendered] = await renderPdfPages(bytes, [pageNumber], { maxPixels: context.limits.maxPixels });
    if (rendered === undefined) throw new RangeError(`page ${pageNumber} was not rendered`);
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
