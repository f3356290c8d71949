import { afterAll, describe, expect, it } from 'vitest';
import { buildLargeText, buildManyTextOperatorsPdf } from '../test/fixtures/ingest/hostile-files.ts';
import { buildTextPdf } from '../test/fixtures/media/pdf-fixtures.ts';
import { DocumentReader } from './document-reader.ts';
import type { IngestError } from './errors.ts';

const limits = {
  maxBytes: 100 * 1024 * 1024,
  maxPixels: 40_000_000,
  maxPages: 500,
  maxRecordingMs: 3_600_000,
};
const readers: DocumentReader[] = [];
afterAll(async () => {
  for (const reader of readers) await reader.close();
});

function reader(options: ConstructorParameters<typeof DocumentReader>[0]): DocumentReader {
  const created = new DocumentReader({ readers: 1, ...options });
  readers.push(created);
  return created;
}

/** A small PDF the reader must still read after it stopped a process on a bad file. */
async function readsAPdf(pool: DocumentReader): Promise<number> {
  const { pageCount } = await pool.run(
    { type: 'inspect-pdf', bytes: buildTextPdf(3), limits },
    pool.budget(),
  );
  return pageCount;
}

async function refusal(work: Promise<unknown>): Promise<IngestError> {
  const error = await work.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toMatchObject({ name: 'IngestError', userFacing: true });
  return error as IngestError;
}

describe('the document reader', () => {
  it('stops a file over the time cap, says so, and reads the next file', async () => {
    const slow = reader({ timeoutMs: 1500 });
    await slow.warmUp();
    const started = performance.now();
    const refused = await refusal(
      slow.run(
        {
          type: 'read',
          bytes: buildManyTextOperatorsPdf(2_000_000),
          claim: { fileName: 'operators.pdf' },
          limits,
          caps: { ...slow.caps, maxTextCharacters: 1e9, maxChunks: 1e9 },
          transcribeScans: false,
        },
        slow.budget(),
      ),
    );
    expect(refused.code).toBe('too-slow');
    expect(refused.message).toBe(
      'Reading this file took longer than 2 s, the limit per file, so it was stopped. ' +
        'Split it into smaller files and send them one at a time.',
    );
    // Parsing it takes over 20 s here; stopped at the cap, with slack for a loaded machine.
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await readsAPdf(slow)).toBe(3);
  });

  it('stops a file over the memory cap without harm to this process, and reads the next file', async () => {
    const small = reader({ memoryMb: 256 });
    const budget = small.budget();
    const refused = await refusal(
      small.run(
        {
          type: 'read',
          bytes: buildLargeText(25_000_000),
          claim: { fileName: 'huge.txt' },
          limits,
          caps: { ...small.caps, maxTextCharacters: 1e9, maxChunks: 1e9 },
          transcribeScans: false,
        },
        budget,
      ),
    );
    await budget.release();
    expect(refused.code).toBe('too-much-memory');
    expect(refused.message).toMatch(
      /^Reading this file needed more than 256 MB of memory, the limit per file/,
    );
    expect(await readsAPdf(small)).toBe(3);
  });

  it('cancels a file being read at once, and reads the next file', async () => {
    const pool = reader({});
    const cancel = new AbortController();
    const reading = pool.run(
      {
        type: 'read',
        bytes: buildManyTextOperatorsPdf(2_000_000),
        claim: { fileName: 'operators.pdf' },
        limits,
        caps: { ...pool.caps, maxTextCharacters: 1e9, maxChunks: 1e9 },
        transcribeScans: false,
      },
      pool.budget(cancel.signal),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const cancelledAt = performance.now();
    cancel.abort(new Error('the conversation ended'));
    await expect(reading).rejects.toThrow('the conversation ended');
    expect(performance.now() - cancelledAt).toBeLessThan(1000);
    expect(await readsAPdf(pool)).toBe(3);
  });

  it('refuses files beyond the waiting line as busy, which is worth retrying', async () => {
    const pool = reader({ maxWaiting: 0 });
    const first = pool.run({ type: 'inspect-pdf', bytes: buildTextPdf(1), limits }, pool.budget());
    const second = await refusal(
      pool.run({ type: 'inspect-pdf', bytes: buildTextPdf(1), limits }, pool.budget()),
    );
    expect(second).toMatchObject({ code: 'reader-busy', retryable: true });
    expect((await first).pageCount).toBe(1);
  });
});
