import { readFileSync } from 'node:fs';
import { PDFParse } from 'pdf-parse';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildBlackImageZlib, buildScannedPageJpeg } from '../test/fixtures/media/image-fixtures.ts';
import {
  buildPdf,
  buildPdfWithDamagedPages,
  buildTextPdf,
  ENCRYPTED_SOURCE_PAGES,
  fixturePath,
} from '../test/fixtures/media/pdf-fixtures.ts';
import { MediaError } from './errors.ts';
import type { MediaErrorCode } from './errors.ts';
import { extractPdfText, findPagesWithoutText, inspectPdf, renderPdfPages } from './pdf.ts';

const limits = {
  maxBytes: 25 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxPages: 500,
  maxRecordingMs: 3_600_000,
};
const encrypted = readFileSync(fixturePath('encrypted.pdf'));

async function refusal(work: Promise<unknown>): Promise<MediaError> {
  const error: unknown = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MediaError);
  return error as MediaError;
}

/** Mean grey level (0 black, 255 white) of a region of an encoded image. */
async function regionMean(
  image: Buffer,
  region: { left: number; top: number; width: number; height: number },
): Promise<number> {
  // Extract to pixels first: sharp's stats() would describe the whole input, not the region.
  const pixels = await sharp(image).extract(region).greyscale().raw().toBuffer();
  return pixels.reduce((sum, value) => sum + value, 0) / pixels.length;
}

async function refusalCode(work: Promise<unknown>): Promise<MediaErrorCode> {
  return (await refusal(work)).code;
}

let scanned: Awaited<ReturnType<typeof buildScannedPageJpeg>>;
let mixedPdf: Buffer;
beforeAll(async () => {
  scanned = await buildScannedPageJpeg();
  // Page 1 has a text layer, page 2 is only a scan, page 3 has text again.
  mixedPdf = buildPdf([
    { text: 'Cover page of the quarterly report' },
    scanned,
    { text: 'Appendix with the detailed figures' },
  ]);
});

describe('inspectPdf', () => {
  it('counts the pages of a valid PDF', async () => {
    expect(await inspectPdf(buildTextPdf(3), limits)).toEqual({ pageCount: 3 });
  });

  it('refuses a PDF over the page limit, and accepts one at it', async () => {
    const overLimit = buildTextPdf(limits.maxPages + 1);
    const error = await refusal(inspectPdf(overLimit, limits));
    expect(error.code).toBe('too-many-pages');
    expect(error.message).toBe(
      'This PDF has 501 pages; the limit is 500. Split it into smaller files and upload them separately.',
    );
    expect(await inspectPdf(buildTextPdf(limits.maxPages), limits)).toEqual({ pageCount: 500 });
  });

  it('refuses a password-protected PDF with a message that says what to do', async () => {
    const error = await refusal(inspectPdf(encrypted, limits));
    expect(error.code).toBe('encrypted');
    expect(error.message).toBe('This PDF is password-protected; remove the password and upload it again.');
  });

  it('proves the encrypted fixture is real: it opens with its password', async () => {
    const parser = new PDFParse({ data: new Uint8Array(encrypted), password: 'user' });
    try {
      const result = await parser.getText();
      expect(result.pages.map((page) => page.text)).toEqual(ENCRYPTED_SOURCE_PAGES);
    } finally {
      await parser.destroy();
    }
  });

  it('accepts a PDF with only an owner password, since it opens without one', async () => {
    const ownerOnly = readFileSync(fixturePath('owner-password-only.pdf'));
    expect(await inspectPdf(ownerOnly, limits)).toEqual({ pageCount: 3 });
  });

  it('calls a truncated PDF, a text file and zero bytes what they are', async () => {
    const whole = buildTextPdf(20);
    for (const fraction of [0.2, 0.5, 0.9]) {
      expect(
        await refusalCode(inspectPdf(whole.subarray(0, Math.floor(whole.length * fraction)), limits)),
      ).toBe('corrupt');
    }
    const text = await refusal(inspectPdf(Buffer.from('Just some text, not a PDF at all.\n'), limits));
    expect(text.code).toBe('corrupt');
    expect(text.message).toMatch(/^This PDF could not be read/);
    expect(await refusalCode(inspectPdf(new Uint8Array(0), limits))).toBe('empty');
  });

  it('refuses a PDF with damaged page objects without leaving a rejection nobody handles', async () => {
    const stray: unknown[] = [];
    const onStray = (reason: unknown) => stray.push(reason);
    process.on('unhandledRejection', onStray);
    try {
      const damaged = buildPdfWithDamagedPages();
      expect(await inspectPdf(damaged, limits)).toEqual({ pageCount: 3 });
      expect(await refusalCode(extractPdfText(damaged, limits))).toBe('corrupt');
      expect((await renderPdfPages(damaged, [1], { maxPixels: limits.maxPixels })).length).toBe(1);
      // Unhandled rejections are reported after the microtask queue drains: give them a turn.
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(stray).toEqual([]);
    } finally {
      process.off('unhandledRejection', onStray);
    }
  });

  it('leaves the caller’s bytes intact', async () => {
    const bytes = new Uint8Array(buildTextPdf(2));
    const copy = Buffer.from(bytes);
    await inspectPdf(bytes, limits);
    expect(bytes.byteLength).toBe(copy.length);
    expect(Buffer.from(bytes).equals(copy)).toBe(true);
  });
});

describe('extractPdfText', () => {
  it('returns the text of every page, numbered from 1, and nothing for a scanned page', async () => {
    const pages = await extractPdfText(mixedPdf, limits);
    expect(pages).toEqual([
      { pageNumber: 1, text: 'Cover page of the quarterly report' },
      { pageNumber: 2, text: '' },
      { pageNumber: 3, text: 'Appendix with the detailed figures' },
    ]);
    expect(findPagesWithoutText(pages)).toEqual([2]);
  });

  it('reads Japanese text set in a font that needs Adobe’s predefined CMaps', async () => {
    const pages = await extractPdfText(buildPdf([{ japaneseText: '日本語の請求書' }]), limits);
    expect(pages).toEqual([{ pageNumber: 1, text: '日本語の請求書' }]);
  });

  it('applies the same refusals as inspectPdf before reading pages', async () => {
    expect(await refusalCode(extractPdfText(encrypted, limits))).toBe('encrypted');
    expect(await refusalCode(extractPdfText(buildTextPdf(6), { maxPages: 5 }))).toBe('too-many-pages');
  });
});

describe('findPagesWithoutText', () => {
  it('counts visible characters only, against the threshold', () => {
    const pages = [
      { pageNumber: 1, text: ' \n\t ' },
      { pageNumber: 2, text: '12' },
      { pageNumber: 3, text: 'A full sentence of real text.' },
    ];
    expect(findPagesWithoutText(pages)).toEqual([1, 2]);
    expect(findPagesWithoutText(pages, 1)).toEqual([1]);
  });
});

describe('renderPdfPages', () => {
  it('renders a scanned page into a non-blank JPEG that fits the vision bounds and shows the scan', async () => {
    const [page, ...rest] = await renderPdfPages(mixedPdf, [2], { maxPixels: limits.maxPixels });
    expect(rest).toEqual([]);
    // US Letter (612 x 792 points) fitted to a 768-pixel short side: 768 x 993.9, and the canvas floors.
    expect(page).toMatchObject({ pageNumber: 2, mime: 'image/jpeg', width: 768, height: 993 });
    const data = page?.data ?? Buffer.alloc(0);
    expect((await sharp(data).metadata()).format).toBe('jpeg');

    const rendered = await sharp(data).greyscale().raw().toBuffer();
    const expected = await sharp(scanned.scan).resize(768, 993, { fit: 'fill' }).greyscale().raw().toBuffer();
    let differenceSum = 0;
    let darkPixels = 0;
    for (let index = 0; index < rendered.length; index++) {
      differenceSum += Math.abs((rendered[index] ?? 0) - (expected[index] ?? 0));
      if ((rendered[index] ?? 255) < 64) darkPixels++;
    }
    // The scan's black bar alone is about 8% of the page; a blank render has none.
    expect(darkPixels / rendered.length).toBeGreaterThan(0.05);
    // And the render matches the scan that was embedded, not just any dark picture.
    expect(differenceSum / rendered.length).toBeLessThan(8);
  });

  it('renders a JPEG 2000 scan, which needs pdf.js’s wasm decoder', async () => {
    const jpeg2000 = readFileSync(fixturePath('scanned-jpeg2000.pdf'));
    expect(findPagesWithoutText(await extractPdfText(jpeg2000, limits))).toEqual([1]);
    const [page] = await renderPdfPages(jpeg2000, [1], { maxPixels: limits.maxPixels });
    expect(page).toMatchObject({ width: 768, height: 993 });
    const data = page?.data ?? Buffer.alloc(0);
    // The black bar across the top of the scan (rows 5% to 16% of the page) and white paper below it.
    expect(await regionMean(data, { left: 100, top: 70, width: 568, height: 80 })).toBeLessThan(40);
    expect(await regionMean(data, { left: 100, top: 600, width: 568, height: 300 })).toBeGreaterThan(230);
  });

  it('renders PNG on request, to custom bounds, in the order asked', async () => {
    const pages = await renderPdfPages(mixedPdf, [3, 1, 3], {
      maxPixels: limits.maxPixels,
      format: 'png',
      bounds: { maxLongSide: 400, maxShortSide: 400 },
    });
    expect(pages.map((page) => [page.pageNumber, page.mime, page.width, page.height])).toEqual([
      [3, 'image/png', 309, 400],
      [1, 'image/png', 309, 400],
    ]);
  });

  it('skips an embedded image over the pixel limit instead of decoding it (a bomb inside a PDF)', async () => {
    const meanGrey = async (side: number): Promise<number> => {
      const pdf = buildPdf([{ flateRgb: buildBlackImageZlib(side, side), width: side, height: side }]);
      const [page] = await renderPdfPages(pdf, [1], { maxPixels: 10_000_000 });
      const stats = await sharp(page?.data ?? Buffer.alloc(0)).stats();
      return stats.channels[0]?.mean ?? Number.NaN;
    };
    // 2000 x 2000 black (4 megapixels) is under the limit: the page renders black.
    expect(await meanGrey(2000)).toBeLessThan(5);
    // 20000 x 20000 black is 1.2 GB decoded: pdf.js drops it and the page stays white paper.
    const started = performance.now();
    expect(await meanGrey(20_000)).toBeGreaterThan(250);
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it('refuses page numbers outside the document as a programming error', async () => {
    await expect(renderPdfPages(mixedPdf, [4], { maxPixels: limits.maxPixels })).rejects.toThrow(RangeError);
    await expect(renderPdfPages(mixedPdf, [0], { maxPixels: limits.maxPixels })).rejects.toThrow(RangeError);
    expect(await renderPdfPages(mixedPdf, [], { maxPixels: limits.maxPixels })).toEqual([]);
  });

  it('maps an encrypted PDF to the same user-facing error', async () => {
    expect(await refusalCode(renderPdfPages(encrypted, [1], { maxPixels: limits.maxPixels }))).toBe(
      'encrypted',
    );
  });
});
