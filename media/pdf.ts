/**
 * PDFs through pdf-parse v2 (pdf.js): page count and limits, text per page,
 * and rendering of pages that have no text layer (scans) into images a vision
 * model can read.
 *
 * pdf.js runs on the calling thread in Node (a "fake worker"): parsing a large
 * PDF occupies the event loop for a while, so the app calls these only in its
 * reader processes (ingest/document-reader.ts). The first call in a process
 * also loads pdf.js's worker code: about 0.8 s and 300 MB of resident memory,
 * once (measured here; later documents reuse it).
 */
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import type { PDFParse } from 'pdf-parse';
import sharp from 'sharp';
import { MediaError } from './errors.ts';
import { scaleToFit, VISION_IMAGE_BOUNDS } from './limits.ts';
import type { ImageBounds, MediaLimits } from './limits.ts';

/** What a PDF is, once it opened and passed the limits. */
export interface PdfSummary {
  readonly pageCount: number;
}

/** The text layer of one page. */
export interface PdfPageText {
  /** 1-based, as people and citations count pages. */
  readonly pageNumber: number;
  /** The page's text in reading order as pdf.js gives it; empty for a scanned page. */
  readonly text: string;
}

/** One page rendered as an image. */
export interface RenderedPdfPage {
  readonly pageNumber: number;
  readonly data: Buffer;
  readonly mime: 'image/jpeg' | 'image/png';
  /** Size in pixels. */
  readonly width: number;
  readonly height: number;
}

/** How to render pages. */
export interface RenderPdfPagesOptions extends Pick<MediaLimits, 'maxPixels'> {
  /**
   * Size each page is rendered to fit, in pixels; default
   * {@link VISION_IMAGE_BOUNDS} (a US Letter page becomes 768 x 993). Unlike
   * photos, pages are scaled up as well as down: a PDF has no native pixel size.
   */
  readonly bounds?: ImageBounds;
  /** Default 'jpeg' (quality 85): several times smaller than PNG for scans of photos or paper texture. */
  readonly format?: 'jpeg' | 'png';
}

/**
 * pdf.js's data files, which Node does not find by itself. Without them a
 * JPEG 2000 scan (common from office scanners) renders blank, text in the 14
 * standard fonts renders in a wrong fallback face, and text in CJK fonts that
 * rely on predefined CMaps cannot be extracted. Resolved through pdf-parse,
 * whose dependency pdfjs-dist is, so it works however npm lays out node_modules.
 */
const PDFJS_ROOT = dirname(
  createRequire(createRequire(import.meta.url).resolve('pdf-parse')).resolve('pdfjs-dist/package.json'),
);
const PDFJS_ASSETS = {
  // pdf.js joins these with file names, so each needs its trailing separator.
  cMapUrl: join(PDFJS_ROOT, 'cmaps') + sep,
  cMapPacked: true,
  standardFontDataUrl: join(PDFJS_ROOT, 'standard_fonts') + sep,
  wasmUrl: join(PDFJS_ROOT, 'wasm') + sep,
  iccUrl: join(PDFJS_ROOT, 'iccs') + sep,
};

const ENCRYPTED_MESSAGE = 'This PDF is password-protected; remove the password and upload it again.';
const CORRUPT_MESSAGE =
  'This PDF could not be read; it may be damaged or only partly uploaded. Try saving it again and re-uploading.';

/**
 * Maps what pdf.js throws to a {@link MediaError}. Errors from opening the
 * document arrive as pdf-parse's exception classes; errors from later calls
 * (text, rendering) are pdf.js's own, with the same names.
 */
function toMediaError(error: unknown): Error {
  if (error instanceof MediaError) return error;
  const name = error instanceof Error ? error.name : '';
  if (name === 'PasswordException') return new MediaError('encrypted', ENCRYPTED_MESSAGE, { cause: error });
  return new MediaError('corrupt', CORRUPT_MESSAGE, { cause: error });
}

/**
 * Opens the PDF, runs `work`, and always destroys the parser, which holds the
 * whole document and its decoded objects in memory.
 */
async function withPdf<T>(
  bytes: Uint8Array,
  maxImagePixels: number | undefined,
  work: (parser: PDFParse) => Promise<T>,
): Promise<T> {
  if (bytes.length === 0)
    throw new MediaError('empty', 'This PDF is empty (0 bytes), so there is nothing to read.');
  // Loaded on first use: pdf.js takes about a second to import, which a process that
  // never reads a PDF (the web server; documents are read in reader processes) skips.
  const { PDFParse: Parser } = await import('pdf-parse');
  const parser = new Parser({
    ...PDFJS_ASSETS,
    // A copy: pdf.js may take ownership of (detach) the array it is given.
    data: new Uint8Array(bytes),
    // Images inside the PDF are decompression bombs too: pdf.js skips any larger than this.
    maxImageSize: maxImagePixels ?? -1,
    // Untrusted input: never compile PDF functions into JavaScript (the path of CVE-2024-4367).
    isEvalSupported: false,
  });
  try {
    return await work(parser);
  } catch (error) {
    throw toMediaError(error);
  } finally {
    await parser.destroy();
  }
}

/** Reads the page count (the page tree's /Count: no page is parsed) and refuses PDFs over the limit. */
async function countPages(parser: PDFParse, maxPages: number): Promise<number> {
  const { total } = await parser.getInfo();
  if (total > maxPages) {
    throw new MediaError(
      'too-many-pages',
      `This PDF has ${total} pages; the limit is ${maxPages}. Split it into smaller files and upload them separately.`,
    );
  }
  if (total < 1) throw new MediaError('corrupt', CORRUPT_MESSAGE);
  return total;
}

/**
 * Opens a PDF and checks it can be processed, without reading its pages
 * (under 10 ms for a 500-page PDF once pdf.js is loaded).
 *
 * Throws {@link MediaError}: `empty`, `encrypted` (a password is needed to
 * open it; PDFs with only an owner password open and pass), `too-many-pages`,
 * `corrupt` (truncated, damaged, or not a PDF at all).
 */
export async function inspectPdf(
  bytes: Uint8Array,
  limits: Pick<MediaLimits, 'maxPages'>,
): Promise<PdfSummary> {
  return withPdf(bytes, undefined, async (parser) => ({
    pageCount: await countPages(parser, limits.maxPages),
  }));
}

/**
 * The text layer of every page, in page order, after the same checks as
 * {@link inspectPdf} (the page limit is checked before any page is read).
 * Scanned pages come back with empty or nearly empty text; see
 * {@link findPagesWithoutText}.
 */
export async function extractPdfText(
  bytes: Uint8Array,
  limits: Pick<MediaLimits, 'maxPages'>,
): Promise<PdfPageText[]> {
  return withPdf(bytes, undefined, async (parser) => {
    await countPages(parser, limits.maxPages);
    // pageJoiner '' stops pdf-parse from appending "-- 1 of 3 --" markers to its joined text.
    const result = await parser.getText({ pageJoiner: '' });
    return result.pages.map((page) => ({ pageNumber: page.num, text: page.text }));
  });
}

/**
 * Page numbers whose text layer has fewer than `minimumCharacters` visible
 * characters (default 16): scans, photos of pages, or a scan with only a stray
 * page number or date stamp. These are the pages worth rendering for a vision
 * model; a title page this short is rendered needlessly but harmlessly.
 */
export function findPagesWithoutText(pages: readonly PdfPageText[], minimumCharacters = 16): number[] {
  return pages
    .filter((page) => page.text.replace(/\s+/g, '').length < minimumCharacters)
    .map((page) => page.pageNumber);
}

/**
 * Renders the given pages (1-based) as images that fit `bounds`, each page
 * scaled by its own size so tall or huge pages stay bounded in memory.
 * About 40-80 ms per page at the default size, 160-180 ms at 2048 pixels
 * across (measured on a letter-size scan). Embedded images over `maxPixels`
 * are skipped by pdf.js, not decoded, so such a page renders blank.
 *
 * Throws RangeError for page numbers that are not whole numbers from 1 to the
 * page count, and {@link MediaError} as {@link inspectPdf} does (apart from the
 * page limit: rendering is asked for specific pages).
 */
export async function renderPdfPages(
  bytes: Uint8Array,
  pageNumbers: readonly number[],
  options: RenderPdfPagesOptions,
): Promise<RenderedPdfPage[]> {
  const { bounds = VISION_IMAGE_BOUNDS, format = 'jpeg', maxPixels } = options;
  const wanted = [...new Set(pageNumbers)];
  const invalid = wanted.filter((page) => !Number.isInteger(page) || page < 1);
  if (invalid.length > 0)
    throw new RangeError(`Page numbers must be whole numbers from 1, got ${invalid.join(', ')}.`);
  if (wanted.length === 0) return [];
  const outcome = await withPdf(bytes, maxPixels, async (parser) => {
    // Page sizes in points (1/72 inch), after the page's /Rotate; per-page info renders nothing.
    const info = await parser.getInfo({ parsePageInfo: true, partial: wanted });
    const beyondEnd = wanted.filter((page) => page > info.total);
    // Returned, not thrown: withPdf turns every error thrown inside it into a MediaError.
    if (beyondEnd.length > 0) return { ok: false as const, beyondEnd, pageCount: info.total };
    const sizes = new Map(info.pages.map((page) => [page.pageNumber, page]));
    const rendered: RenderedPdfPage[] = [];
    for (const pageNumber of wanted) {
      const size = sizes.get(pageNumber);
      if (size === undefined) throw new MediaError('corrupt', CORRUPT_MESSAGE);
      const screenshot = await parser.getScreenshot({
        partial: [pageNumber],
        scale: scaleToFit(size.width, size.height, bounds),
        imageDataUrl: false,
        imageBuffer: true,
      });
      const page = screenshot.pages[0];
      if (page === undefined) throw new MediaError('corrupt', CORRUPT_MESSAGE);
      rendered.push(await encodePage(pageNumber, page.data, format));
    }
    return { ok: true as const, rendered };
  });
  if (!outcome.ok) {
    throw new RangeError(
      `Page numbers ${outcome.beyondEnd.join(', ')} are beyond the last page, ${outcome.pageCount}.`,
    );
  }
  return outcome.rendered;
}

/**
 * pdf-parse hands back an RGBA PNG; pages are opaque paper, so alpha is
 * flattened onto white, and JPEG is re-encoded from it when asked for.
 */
async function encodePage(
  pageNumber: number,
  png: Uint8Array,
  format: 'jpeg' | 'png',
): Promise<RenderedPdfPage> {
  const pipeline = sharp(png).flatten({ background: '#ffffff' });
  const { data, info } = await (
    format === 'jpeg' ? pipeline.jpeg({ quality: 85, mozjpeg: false }) : pipeline.png({ compressionLevel: 6 })
  ).toBuffer({ resolveWithObject: true });
  return {
    pageNumber,
    data,
    mime: format === 'jpeg' ? 'image/jpeg' : 'image/png',
    width: info.width,
    height: info.height,
  };
}
