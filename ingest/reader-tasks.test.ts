import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildScannedPageJpeg } from '../test/fixtures/media/image-fixtures.ts';
import { buildPdf } from '../test/fixtures/media/pdf-fixtures.ts';
import { buildProsePdf, wrapText } from '../test/fixtures/ingest/prose-pdf.ts';
import type { IngestError } from './errors.ts';
import { runReaderTask, type ContentCaps, type ReadOutcome, type ReaderTask } from './reader-tasks.ts';

const limits = {
  maxBytes: 25 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxPages: 500,
  maxRecordingMs: 3_600_000,
};
const roomy: ContentCaps = { maxTextCharacters: 1_000_000, maxChunks: 1_000, maxRenderedPages: 10 };

function read(bytes: Buffer, fileName: string, caps: ContentCaps, transcribeScans = false) {
  const task: ReaderTask = { type: 'read', bytes, claim: { fileName }, limits, caps, transcribeScans };
  return runReaderTask(task) as Promise<ReadOutcome>;
}

async function refusal(work: Promise<unknown>): Promise<IngestError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toMatchObject({ name: 'IngestError', userFacing: true, retryable: false });
  return error as IngestError;
}

describe('reader tasks', () => {
  it('identifies a text file without sending its text back', async () => {
    const bytes = Buffer.from('# Notes\n\nWater the tomatoes.');
    const summary = await runReaderTask({ type: 'identify', bytes, claim: { fileName: 'notes.md' }, limits });
    expect(summary).toEqual({
      kind: 'markdown',
      mime: 'text/markdown',
      extension: 'md',
      note: undefined,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
  });

  it('reads a text file into chunks, and a PDF into chunks with their pages', async () => {
    const text = await read(Buffer.from('# Garden\n\nWater the tomatoes at dawn.\n'), 'garden.md', roomy);
    expect(text).toMatchObject({ state: 'chunked', title: 'Garden', pageCount: null });
    expect(text.state === 'chunked' && text.chunks.map((chunk) => chunk.text)).toEqual([
      'Water the tomatoes at dawn.',
    ]);
    const pages = [['The first page talks about the boiler.'], ['The second page talks about the valves.']];
    const pdf = await read(buildProsePdf(pages), 'two.pdf', roomy);
    expect(pdf).toMatchObject({ state: 'chunked', pageCount: 2, unreadablePages: [] });
    expect(pdf.state === 'chunked' && pdf.chunks.map((chunk) => [chunk.pageStart, chunk.pageEnd])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('refuses more text than the cap, for text files and PDFs alike', async () => {
    const caps = { ...roomy, maxTextCharacters: 1_000 };
    const long = 'The pressure gauge should read one and a half bar. '.repeat(40);
    const text = await refusal(read(Buffer.from(long), 'long.txt', caps));
    expect(text.code).toBe('too-much-text');
    expect(text.message).toBe(
      'This file holds 2,040 characters of text; at most 1,000 are read per file. ' +
        'Split it into smaller files and send them one at a time.',
    );
    const pdf = await refusal(read(buildProsePdf([wrapText(long)]), 'long.pdf', caps));
    expect(pdf.code).toBe('too-much-text');
  });

  it('refuses a file that would make more chunks than the cap', async () => {
    const paragraphs = Array.from(
      { length: 40 },
      (_, index) =>
        `Section ${index}. ${'Bleed every radiator in the house before the heating season starts. '.repeat(30)}`,
    ).join('\n\n');
    const outcome = await read(Buffer.from(paragraphs), 'manual.txt', roomy);
    const chunkCount = outcome.state === 'chunked' ? outcome.chunks.length : 0;
    expect(chunkCount).toBeGreaterThan(10);
    const refused = await refusal(read(Buffer.from(paragraphs), 'manual.txt', { ...roomy, maxChunks: 10 }));
    expect(refused.code).toBe('too-many-chunks');
    expect(refused.message).toMatch(`This file would make ${chunkCount} searchable passages; at most 10`);
  });

  it('asks for scanned pages to be transcribed only when they will be, and within the cap', async () => {
    const scan = await buildScannedPageJpeg();
    const pdf = buildPdf([{ text: 'Cover page of the quarterly report' }, scan, scan]);
    expect(await read(pdf, 'scans.pdf', roomy, false)).toMatchObject({
      state: 'chunked',
      pageCount: 3,
      unreadablePages: [2, 3],
    });
    expect(await read(pdf, 'scans.pdf', roomy, true)).toMatchObject({
      state: 'needs-transcription',
      pageCount: 3,
      withoutText: [2, 3],
    });
    const refused = await refusal(read(pdf, 'scans.pdf', { ...roomy, maxRenderedPages: 1 }, true));
    expect(refused.code).toBe('too-many-scanned-pages');
    expect(refused.message).toMatch(/^This PDF has 2 scanned pages; at most 1 are read per file\./);
  });

  it('chunks transcribed pages within the chunk cap', async () => {
    const pages = [
      { pageNumber: 1, text: 'Cover page.' },
      { pageNumber: 2, text: 'Meter reading 88213 recorded by the technician.' },
    ];
    const chunks = await runReaderTask({ type: 'chunk-pages', pages, caps: roomy });
    expect(chunks).toMatchObject([
      { text: 'Cover page.', pageStart: 1, pageEnd: 1 },
      { text: 'Meter reading 88213 recorded by the technician.', pageStart: 2, pageEnd: 2 },
    ]);
    expect(
      (await refusal(runReaderTask({ type: 'chunk-pages', pages, caps: { ...roomy, maxChunks: 0 } }))).code,
    ).toBe('too-many-chunks');
  });
});
