import { readFileSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveUser } from '../db/index.ts';
import { MediaError } from '../media/index.ts';
import { startOpenAIServer, type OpenAIServer } from '../test/fakes/index.ts';
import { countAllRows } from '../test/fixtures/ingest/database-state.ts';
import { buildReportPdf } from '../test/fixtures/ingest/prose-pdf.ts';
import { buildBombPng, buildPhotoJpeg, buildScannedPageJpeg } from '../test/fixtures/media/image-fixtures.ts';
import { buildPdf, buildTextPdf, fixturePath } from '../test/fixtures/media/pdf-fixtures.ts';
import { backends, createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { createEmbedder } from './embeddings.ts';
import { IngestError } from './errors.ts';
import { ingestFile, type IngestDependencies } from './pipeline.ts';
import { createVisionModel } from './vision.ts';

const DIMENSIONS = 16;
const limits = { maxBytes: 4 * 1024 * 1024, maxPixels: 40_000_000, maxPages: 5, maxRecordingMs: 3_600_000 };

interface BadInput {
  what: string;
  fileName: string;
  claimedType?: string;
  bytes: () => Promise<Uint8Array> | Uint8Array;
  withVision: boolean;
  error: typeof MediaError | typeof IngestError;
  code: string;
  message: RegExp;
}

const badInputs: BadInput[] = [
  {
    what: 'a zero-byte file',
    fileName: 'empty.pdf',
    bytes: () => new Uint8Array(0),
    withVision: true,
    error: MediaError,
    code: 'empty',
    message: /"empty\.pdf" is empty \(0 bytes\)/,
  },
  {
    what: 'a truncated PDF',
    fileName: 'report.pdf',
    bytes: () => {
      const whole = buildReportPdf(3);
      return whole.subarray(0, Math.floor(whole.length * 0.5));
    },
    withVision: true,
    error: MediaError,
    code: 'corrupt',
    message: /This PDF could not be read; it may be damaged or only partly uploaded/,
  },
  {
    what: 'a truncated JPEG',
    fileName: 'photo.jpg',
    bytes: async () => {
      const whole = await buildPhotoJpeg(400, 300);
      return whole.subarray(0, Math.floor(whole.length * 0.6));
    },
    withVision: true,
    error: MediaError,
    code: 'corrupt',
    message: /This image could not be read/,
  },
  {
    what: 'a PNG named .jpg, with no vision model',
    fileName: 'holiday.jpg',
    bytes: () =>
      sharp({ create: { width: 64, height: 48, channels: 3, background: '#36c' } })
        .png()
        .toBuffer(),
    withVision: false,
    error: IngestError,
    code: 'vision-required',
    message: /"holiday\.jpg" is an image, and images need VISION_MODEL/,
  },
  {
    what: 'an encrypted PDF',
    fileName: 'secret.pdf',
    bytes: () => readFileSync(fixturePath('encrypted.pdf')),
    withVision: true,
    error: MediaError,
    code: 'encrypted',
    message: /This PDF is password-protected; remove the password/,
  },
  {
    what: 'a PDF over the page limit',
    fileName: 'long.pdf',
    bytes: () => buildTextPdf(limits.maxPages + 1),
    withVision: true,
    error: MediaError,
    code: 'too-many-pages',
    message: /This PDF has 6 pages; the limit is 5/,
  },
  {
    what: 'a 20000 x 20000 PNG',
    fileName: 'bomb.png',
    bytes: () => buildBombPng(20_000, 20_000),
    withVision: true,
    error: MediaError,
    code: 'too-many-pixels',
    message: /This image is 20000 x 20000 pixels \(400 megapixels\); the limit is 40 megapixels/,
  },
  {
    what: 'a text file named .pdf',
    fileName: 'notes.pdf',
    bytes: () => Buffer.from('Shopping list: eggs, milk, bread.\n'),
    withVision: true,
    error: MediaError,
    code: 'type-mismatch',
    message: /"notes\.pdf" is named \.pdf, but it is not a PDF: its contents are plain text/,
  },
  {
    what: 'a text file sent as application/pdf',
    fileName: 'notes',
    claimedType: 'application/pdf',
    bytes: () => Buffer.from('Shopping list: eggs, milk, bread.\n'),
    withVision: true,
    error: MediaError,
    code: 'type-mismatch',
    message: /was sent as application\/pdf, but it is not a PDF/,
  },
  {
    what: 'a file over the size limit',
    fileName: 'huge.txt',
    bytes: () => Buffer.alloc(limits.maxBytes + 1, 'a'),
    withVision: true,
    error: MediaError,
    code: 'too-large',
    message: /"huge\.txt" is 4 MB; the limit is 4 MB/,
  },
  {
    what: 'a text file with only whitespace',
    fileName: 'blank.txt',
    bytes: () => Buffer.from(' \n\n\t \n'),
    withVision: true,
    error: IngestError,
    code: 'no-text',
    message: /"blank\.txt" contains no text to search/,
  },
  {
    what: 'a scanned PDF with no vision model',
    fileName: 'scan.pdf',
    bytes: async () => buildPdf([await buildScannedPageJpeg()]),
    withVision: false,
    error: IngestError,
    code: 'no-text',
    message:
      /"scan\.pdf" has no text layer \(it looks scanned\), and reading scanned pages needs VISION_MODEL/,
  },
  {
    what: 'a scan whose only text is a stamped page number, with no vision model',
    fileName: 'stamped.pdf',
    bytes: async () => buildPdf([{ text: '17' }, await buildScannedPageJpeg()]),
    withVision: false,
    error: IngestError,
    code: 'no-text',
    message: /"stamped\.pdf" has no text layer \(it looks scanned\)/,
  },
];

describe.each(backends)('bad input on %s', (backend) => {
  let test: TestDatabase;
  let openai: OpenAIServer;
  let uploadsDirectory: string;
  let dependencies: (withVision: boolean) => IngestDependencies;
  let ownerId: string;

  beforeAll(async () => {
    [test, openai] = await Promise.all([
      createTestDatabase(backend, DIMENSIONS),
      startOpenAIServer({ embeddingDimensions: DIMENSIONS }),
    ]);
    uploadsDirectory = path.join(test.dataDir, 'uploads');
    await mkdir(uploadsDirectory, { recursive: true });
    const endpoint = { baseUrl: openai.baseUrl, apiKey: 'test-key' };
    const embedder = createEmbedder({ ...endpoint, model: 'text-embedding-3-small', dimensions: DIMENSIONS });
    const vision = createVisionModel({ ...endpoint, model: 'gpt-4o-mini', maxRetries: 0 });
    dependencies = (withVision) => ({
      database: test.database,
      embedder,
      vision: withVision ? vision : undefined,
      limits,
    });
    // A document already stored, so "nothing changed" is checked against a database with rows in it.
    ownerId = await resolveUser(test.database.pool, { kind: 'web', value: 'bad-input-tester' });
    await ingestFile(
      {
        bytes: Buffer.from('An earlier document.'),
        fileName: 'earlier.txt',
        ownerId,
        sourceName: 'earlier.txt',
      },
      dependencies(false),
    );
  });
  afterAll(async () => {
    await Promise.all([test?.cleanup(), openai?.close()]);
  });

  async function expectRefusedWithoutTrace(
    work: () => Promise<unknown>,
    expected: Pick<BadInput, 'error' | 'code' | 'message'>,
  ): Promise<void> {
    const before = await countAllRows(test.database.pool);
    const error = await work().then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(expected.error);
    expect(error).toMatchObject({ code: expected.code, userFacing: true });
    expect((error as Error).message).toMatch(expected.message);
    expect(await countAllRows(test.database.pool)).toEqual(before);
    expect(await readdir(uploadsDirectory)).toEqual([]);
  }

  it.each(badInputs)('refuses $what clearly and leaves nothing behind', async (input) => {
    const bytes = await input.bytes();
    await expectRefusedWithoutTrace(
      () =>
        ingestFile(
          {
            bytes,
            fileName: input.fileName,
            claimedType: input.claimedType,
            ownerId,
            sourceName: input.fileName,
          },
          dependencies(input.withVision),
        ),
      input,
    );
  });

  it('leaves nothing behind when the vision model fails on a scanned page', async () => {
    const pdf = buildPdf([{ text: 'Cover page of the scanned contract' }, await buildScannedPageJpeg()]);
    openai.failNext('chat', { kind: 'status', status: 503 });
    await expectRefusedWithoutTrace(
      () =>
        ingestFile(
          { bytes: pdf, fileName: 'contract.pdf', ownerId, sourceName: 'contract.pdf' },
          dependencies(true),
        ),
      {
        error: IngestError,
        code: 'vision-failed',
        message: /Page 2 is a scan, and the vision model .* failed: HTTP 503/,
      },
    );
  });

  it('accepts a PNG named .jpg as the PNG it is when a vision model is configured', async () => {
    openai.chatResponder = () => ({ text: 'A plain blue rectangle.' });
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#36c' } })
      .png()
      .toBuffer();
    const before = await countAllRows(test.database.pool);
    const result = await ingestFile(
      { bytes: png, fileName: 'holiday.jpg', ownerId, sourceName: 'holiday.jpg' },
      dependencies(true),
    );
    expect(result).toMatchObject({ outcome: 'created', kind: 'image', mimeType: 'image/png', chunks: 1 });
    expect(result.note).toMatch(/named \.jpg but contains a PNG image/);
    // The counting above sees a stored document, so its silence for the refusals means something.
    expect(await countAllRows(test.database.pool)).toEqual({
      ...before,
      documents: (before.documents ?? 0) + 1,
      chunks: (before.chunks ?? 0) + 1,
    });
  });
});
