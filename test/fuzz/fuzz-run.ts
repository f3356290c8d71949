/**
 * Damaged files through the real upload path (agent/conversation-uploads.ts, with
 * the reader processes and the embedded database), checking after each one that
 * nothing went wrong in a way a user could cause on purpose: a rejection nobody
 * handled, a file that never finished, rows or files left behind.
 */
import { readdir } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { ConversationUploads } from '../../agent/conversation-uploads.ts';
import { loadConfig } from '../../config/load.ts';
import { createConversation, resolveUser } from '../../db/index.ts';
import { DocumentReader } from '../../ingest/document-reader.ts';
import type { UploadProgressEvent } from '../../protocol/index.ts';
import { buildProsePdf, wrapText } from '../fixtures/ingest/prose-pdf.ts';
import { buildPhotoJpeg, buildScannedPageJpeg } from '../fixtures/media/image-fixtures.ts';
import { buildPdf, fixturePath } from '../fixtures/media/pdf-fixtures.ts';
import { createTestDatabase } from '../support/database.ts';
import { mutate, type MutationKind } from './mutations.ts';

/** What a run found. Every count but `outcomes` must be zero. */
export interface FuzzReport {
  readonly files: number;
  readonly wallMs: number;
  /** How uploads ended: "document", "image", or the refusal's code. */
  readonly outcomes: Record<string, number>;
  readonly byMutation: Record<MutationKind, number>;
  /** Rejections nobody handled, in this process or a reader process. */
  readonly strayRejections: number;
  /** Uploads with no answer within `hangMs`. */
  readonly hangs: number;
  /** Upload rows without a document, or documents without chunks, after the file was done. */
  readonly partialRows: number;
  /** Files in the uploads folder without an upload row. */
  readonly leftoverFiles: number;
  /** Seeds of the files that broke a rule, to replay. */
  readonly failingSeeds: number[];
}

/** The undamaged files mutations start from: PDFs of each kind the app reads, and images. */
async function buildCorpus(): Promise<Buffer[]> {
  const scan = await buildScannedPageJpeg();
  const solid = (format: 'png' | 'webp') =>
    sharp({ create: { width: 96, height: 64, channels: 3, background: '#3a7bd5' } })
      [format]()
      .toBuffer();
  return [
    buildProsePdf(
      [0, 1, 2].map((page) => wrapText(`Page ${page + 1}. Bleed the radiators every autumn. `.repeat(12))),
    ),
    buildPdf([{ text: 'Cover page of the quarterly report' }, scan, { japaneseText: '日本語の請求書' }]),
    readFileSync(fixturePath('scanned-jpeg2000.pdf')),
    readFileSync(fixturePath('encrypted.pdf')),
    await buildPhotoJpeg(320, 240),
    await solid('png'),
    await solid('webp'),
  ];
}

/** Runs `count` mutants from `seed` on. `hangMs` bounds each file (the reader's own cap is lower). */
export async function runFuzz(options: {
  count: number;
  seed: number;
  hangMs?: number;
  onFile?: (index: number, report: FuzzReport) => void;
}): Promise<FuzzReport> {
  const hangMs = options.hangMs ?? 60_000;
  const started = performance.now();
  let strayRejections = 0;
  const onStray = () => strayRejections++;
  process.on('unhandledRejection', onStray);
  const test = await createTestDatabase('embedded', 8);
  const config = loadConfig({ envFile: false, env: { DATA_DIR: test.dataDir, EMBEDDING_DIMENSIONS: '8' } });
  const reader = new DocumentReader({ readers: 1, timeoutMs: 20_000, onStrayError: onStray });
  const pool = test.database.pool;
  const report = {
    files: 0,
    wallMs: 0,
    outcomes: {} as Record<string, number>,
    byMutation: {} as Record<MutationKind, number>,
    strayRejections: 0,
    hangs: 0,
    partialRows: 0,
    leftoverFiles: 0,
    failingSeeds: [] as number[],
  };
  try {
    const corpus = await buildCorpus();
    const userId = await resolveUser(pool, { kind: 'web', value: 'fuzzer' });
    const conversationId = await createConversation(pool, userId, 'web');
    const finished = new Map<string, UploadProgressEvent>();
    const uploads = new ConversationUploads({
      config,
      database: test.database,
      embedder: undefined,
      vision: undefined,
      userId,
      conversationId,
      reader,
      addImage: async () => undefined,
      say: () => undefined,
      emit: (event) => {
        if (event.stage === 'ready' || event.stage === 'failed') finished.set(event.uploadId, event);
      },
    });
    for (let index = 0; index < options.count; index++) {
      const seed = options.seed + index;
      const mutant = mutate(corpus, seed);
      const strayBefore = strayRejections;
      const outcome = await upload(uploads, finished, mutant.bytes, `fuzz-${seed}`, hangMs);
      report.files++;
      report.byMutation[mutant.kind] = (report.byMutation[mutant.kind] ?? 0) + 1;
      report.outcomes[outcome] = (report.outcomes[outcome] ?? 0) + 1;
      const problems = await checkNothingLeft(pool, config.database.uploadsDirectory);
      if (outcome === 'hang') report.hangs++;
      report.partialRows = problems.partialRows;
      report.leftoverFiles = problems.leftoverFiles;
      report.strayRejections = strayRejections;
      if (
        outcome === 'hang' ||
        strayRejections > strayBefore ||
        problems.partialRows + problems.leftoverFiles > 0
      ) {
        report.failingSeeds.push(seed);
      }
      options.onFile?.(index, { ...report, wallMs: performance.now() - started });
    }
    await uploads.close();
  } finally {
    process.off('unhandledRejection', onStray);
    await reader.close();
    await test.cleanup();
  }
  return { ...report, wallMs: Math.round(performance.now() - started) };
}

/** One upload to its end: its outcome, or "hang" when it gave no answer in time. */
async function upload(
  uploads: ConversationUploads,
  finished: Map<string, UploadProgressEvent>,
  bytes: Buffer,
  name: string,
  hangMs: number,
): Promise<string> {
  const deadline = Date.now() + hangMs;
  let receipt;
  try {
    receipt = await withDeadline(uploads.receive({ bytes, fileName: `${name}.bin` }), deadline);
  } catch (error) {
    if (error === HANG) return 'hang';
    return (error as { code?: string }).code ?? 'unexpected';
  }
  if (receipt.kind === 'image') return 'image';
  while (!finished.has(receipt.uploadId)) {
    if (Date.now() > deadline) return 'hang';
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const event = finished.get(receipt.uploadId);
  return event?.stage === 'ready' ? 'document' : 'refused-while-reading';
}

const HANG = Symbol('hang');

async function withDeadline<T>(work: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(HANG), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Rows and files that should not exist once every upload so far is done. */
async function checkNothingLeft(
  pool: Awaited<ReturnType<typeof createTestDatabase>>['database']['pool'],
  uploadsDirectory: string,
): Promise<{ partialRows: number; leftoverFiles: number }> {
  const { rows } = await pool.query<{ orphans: number; empty: number; stored: number }>(
    `select (select count(*)::int from uploads u where u.document_id is null
               and u.mime_type not like 'image/%') as orphans,
            (select count(*)::int from documents d
               where not exists (select 1 from chunks c where c.document_id = d.id)) as empty,
            (select count(*)::int from uploads where storage = 'disk') as stored`,
  );
  const counts = rows[0] ?? { orphans: 0, empty: 0, stored: 0 };
  const onDisk = (await readdir(uploadsDirectory).catch(() => [])).length;
  // The reader's temporary files are checked by ingest/off-main-thread.test.ts: fuzzed
  // files are under the 1 MB that spills, and that folder is shared with other tests.
  return { partialRows: counts.orphans + counts.empty, leftoverFiles: Math.max(0, onDisk - counts.stored) };
}
