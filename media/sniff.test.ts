import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildTextPdf, fixturePath } from '../test/fixtures/media/pdf-fixtures.ts';
import { MediaError } from './errors.ts';
import type { MediaErrorCode } from './errors.ts';
import { identifyMedia } from './sniff.ts';
import type { MediaClaim } from './sniff.ts';

const limits = { maxBytes: 25 * 1024 * 1024 };

async function refusal(
  bytes: Uint8Array,
  claim: MediaClaim,
  maxBytes = limits.maxBytes,
): Promise<MediaError> {
  const error = await identifyMedia(bytes, claim, { maxBytes }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MediaError);
  return error as MediaError;
}

async function expectRefused(bytes: Uint8Array, claim: MediaClaim, code: MediaErrorCode): Promise<string> {
  const error = await refusal(bytes, claim);
  expect(error.code).toBe(code);
  expect(error.userFacing).toBe(true);
  return error.message;
}

let png: Buffer;
let jpeg: Buffer;
beforeAll(async () => {
  const square = sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } });
  png = await square.clone().png().toBuffer();
  jpeg = await square.clone().jpeg().toBuffer();
});

describe('identifyMedia', () => {
  it('refuses a zero-byte file before looking at anything else', async () => {
    const message = await expectRefused(new Uint8Array(0), { fileName: 'empty.pdf' }, 'empty');
    expect(message).toBe('"empty.pdf" is empty (0 bytes), so there is nothing to read.');
  });

  it('refuses a file over the byte limit and says both sizes', async () => {
    const error = await refusal(
      Buffer.alloc(3 * 1024 * 1024 + 300 * 1024, 0x61),
      { fileName: 'big.txt' },
      3 << 20,
    );
    expect(error.code).toBe('too-large');
    expect(error.message).toBe('"big.txt" is 3.3 MB; the limit is 3 MB.');
  });

  it('accepts a file exactly at the byte limit', async () => {
    const identified = await identifyMedia(Buffer.alloc(1024, 0x61), {}, { maxBytes: 1024 });
    expect(identified.kind).toBe('text');
  });

  it('refuses a text file claiming to be a PDF, by name or by declared type', async () => {
    const text = Buffer.from('Meeting notes\nBuy milk.\n');
    const byName = await expectRefused(text, { fileName: 'notes.pdf' }, 'type-mismatch');
    expect(byName).toBe(
      '"notes.pdf" is named .pdf, but it is not a PDF: its contents are plain text. Check that you picked the right file.',
    );
    const byMime = await expectRefused(
      text,
      { fileName: 'notes', mimeType: 'application/pdf' },
      'type-mismatch',
    );
    expect(byMime).toContain('was sent as application/pdf, but it is not a PDF');
  });

  it('accepts a PNG with a false .jpg extension as the PNG it is, and says so', async () => {
    const identified = await identifyMedia(png, { fileName: 'holiday.jpg', mimeType: 'image/jpeg' }, limits);
    expect(identified).toMatchObject({ kind: 'image', mime: 'image/png', extension: 'png' });
    expect(identified.note).toBe('"holiday.jpg" is named .jpg but contains a PNG image; it was read as PNG.');
  });

  it('has nothing to note when the name agrees, whatever its spelling', async () => {
    for (const fileName of ['a.jpg', 'a.JPEG', 'a.jfif']) {
      const identified = await identifyMedia(jpeg, { fileName, mimeType: 'image/jpg' }, limits);
      expect(identified).toMatchObject({ kind: 'image', mime: 'image/jpeg', note: undefined });
    }
  });

  it('accepts every image format sharp decodes for us, by its bytes', async () => {
    const square = sharp({ create: { width: 8, height: 8, channels: 3, background: '#336699' } });
    const formats = [
      ['jpeg', 'image/jpeg'],
      ['png', 'image/png'],
      ['webp', 'image/webp'],
      ['gif', 'image/gif'],
      ['avif', 'image/avif'],
      ['tiff', 'image/tiff'],
    ] as const;
    for (const [format, mime] of formats) {
      const bytes = await square.clone().toFormat(format).toBuffer();
      expect(await identifyMedia(bytes, { fileName: `picture.${format}` }, limits)).toMatchObject({
        kind: 'image',
        mime,
        note: undefined,
      });
    }
  });

  it('refuses an image named as a PDF', async () => {
    const message = await expectRefused(png, { fileName: 'report.pdf' }, 'type-mismatch');
    expect(message).toContain('its contents are an image (image/png)');
  });

  it('identifies PDFs from their bytes, even truncated or encrypted ones (pdf.ts judges those)', async () => {
    const whole = buildTextPdf(2);
    for (const bytes of [whole, whole.subarray(0, 200), readFileSync(fixturePath('encrypted.pdf'))]) {
      const identified = await identifyMedia(
        bytes,
        { fileName: 'x.pdf', mimeType: 'application/pdf' },
        limits,
      );
      expect(identified).toMatchObject({ kind: 'pdf', mime: 'application/pdf', note: undefined });
    }
  });

  it('tells plain text, Markdown and HTML apart and returns the decoded text', async () => {
    const markdown = Buffer.from('\uFEFF# Title\n\nSome *text*.\n');
    expect(await identifyMedia(markdown, { fileName: 'README.md' }, limits)).toMatchObject({
      kind: 'markdown',
      mime: 'text/markdown',
      text: '# Title\n\nSome *text*.\n',
    });
    // Without a Markdown name, the same bytes are just text.
    expect(await identifyMedia(markdown, { fileName: 'notes.txt' }, limits)).toMatchObject({ kind: 'text' });
    const html = Buffer.from('<!-- saved page -->\n<!DOCTYPE html><html><body><p>Hi</p></body></html>');
    expect(await identifyMedia(html, {}, limits)).toMatchObject({ kind: 'html', mime: 'text/html' });
    expect(
      await identifyMedia(Buffer.from('<p>fragment</p>'), { fileName: 'page.htm' }, limits),
    ).toMatchObject({
      kind: 'html',
    });
    const xhtml = Buffer.from('<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"></html>');
    expect(await identifyMedia(xhtml, { fileName: 'page.xhtml' }, limits)).toMatchObject({ kind: 'html' });
    expect(await identifyMedia(Buffer.from('plain words'), {}, limits)).toMatchObject({
      kind: 'text',
      mime: 'text/plain',
    });
  });

  it('refuses binary data it does not recognise, and names what it does', async () => {
    const noise = Buffer.from([0x01, 0x00, 0xff, 0x10, 0x00, 0x7f, 0x80, 0x00]);
    expect(await expectRefused(noise, { fileName: 'blob.bin' }, 'unsupported-type')).toContain(
      'a kind of file we do not recognise',
    );
    const invalidUtf8 = Buffer.from([0x68, 0x69, 0xc3, 0x28]);
    await expectRefused(invalidUtf8, {}, 'unsupported-type');
    const gzip = Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(await expectRefused(gzip, { fileName: 'archive.gz' }, 'unsupported-type')).toContain(
      'a .gz file (application/gzip), which is not supported. Upload an image',
    );
  });

  it('gives a specific way out for HEIC photos, SVG images and UTF-16 text', async () => {
    // The start of an iPhone HEIC: an ISO-BMFF "ftyp" box with brand "heic".
    const heic = Buffer.concat([
      Buffer.from([0, 0, 0, 0x18]),
      Buffer.from('ftypheic\0\0\0\0mif1heic', 'latin1'),
      Buffer.alloc(64),
    ]);
    expect(await expectRefused(heic, { fileName: 'IMG_0001.HEIC' }, 'unsupported-type')).toContain(
      'Most Compatible',
    );
    const svg = Buffer.from('<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>');
    expect(await expectRefused(svg, { fileName: 'logo.svg' }, 'unsupported-type')).toContain('an SVG image');
    const utf16 = Buffer.from('\uFEFFhello', 'utf16le');
    expect(await expectRefused(utf16, { fileName: 'a.txt' }, 'unsupported-type')).toContain(
      'Save it as UTF-8',
    );
  });
});
