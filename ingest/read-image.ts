/**
 * An image's searchable text: what the vision model says it shows, and any
 * text in it.
 */
import { normalizeImage } from '../media/index.ts';
import { chunkParagraphs } from './chunker.ts';
import type { DocumentContent, ReadContext } from './document-content.ts';
import { IngestError } from './errors.ts';
import { plainTextParagraphs } from './text-paragraphs.ts';
import { VisionModelError } from './vision.ts';

/**
 * Normalizes the image (limits, orientation, size) and has the vision model
 * describe it. Throws `MediaError` for damaged or oversized images,
 * `IngestError('vision-required')` without a vision model and
 * `IngestError('vision-failed')`.
 */
export async function readImage(
  bytes: Uint8Array,
  fileName: string,
  context: ReadContext,
): Promise<DocumentContent> {
  context.progress.report('parsing', 0);
  const image = await normalizeImage(bytes, { maxPixels: context.limits.maxPixels });
  context.progress.report('parsing', 1);
  if (context.vision === undefined) {
    throw new IngestError(
      'vision-required',
      `"${fileName}" is an image, and images need VISION_MODEL: set it to a model that reads images ` +
        '(for example gpt-4.1-mini) so the image can be described and its text read.',
    );
  }
  context.progress.report('transcribing', 0, { page: 0, pages: 1 });
  let description: string;
  try {
    description = await context.vision.describeImage(image, { signal: context.signal });
  } catch (error) {
    if (!(error instanceof VisionModelError)) throw error;
    throw new IngestError(
      'vision-failed',
      `"${fileName}" could not be described: ${error.message}. Nothing was saved; try again in a moment.`,
      { cause: error },
    );
  }
  context.progress.report('transcribing', 1, { page: 1, pages: 1 });
  return {
    title: undefined,
    pageCount: null,
    // A description is a few paragraphs: chunked here, not worth a trip to a reader process.
    chunks: chunkParagraphs(plainTextParagraphs(description)),
    unreadablePages: [],
    transcribedPages: [],
  };
}
