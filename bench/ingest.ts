/**
 * Ingest throughput, each number measured side by side with the plainest
 * library call doing the same core work, in the same run:
 * - a text PDF through `ingestFile` (identify, dedupe lookup, text per page,
 *   chunking, one transaction into the database; embeddings off) against
 *   pdf-parse's own text extraction of the same bytes; target: at least 0.8 of
 *   its pages per second. Also reported: the same runs up to the moment the
 *   pipeline starts saving (from its progress events), since storing is mostly
 *   the database computing full-text vectors, which the embedded database does
 *   in WebAssembly on this same thread;
 * - `normalizeImage` on a ~12 MP photo against sharp's rotate + resize + JPEG
 *   to the same size; target: at most 1.2 times its time.
 * The two sides alternate, one run each, so machine noise hits both alike; the
 * ratio is taken per pair, then its median.
 *
 *   npx tsx bench/ingest.ts [--json] [--pages 200] [--repetitions 15] [--image-repetitions 30]
 *                           [--database-url postgres://...]
 *
 * Without --database-url the embedded database runs in a temporary folder; with
 * it, the bench stores and deletes only its own document there.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PDFParse } from 'pdf-parse';
import sharp from 'sharp';
import { openDatabase } from '../db/index.ts';
import { sharedDocumentReader } from '../ingest/document-reader.ts';
import { ingestFile, type IngestDependencies } from '../ingest/pipeline.ts';
import { fitWithin, normalizeImage, VISION_IMAGE_BOUNDS } from '../media/index.ts';
import { buildReportPdf } from '../test/fixtures/ingest/prose-pdf.ts';
import { buildPhotoJpeg } from '../test/fixtures/media/image-fixtures.ts';
import {
  benchArguments,
  humanOutput,
  measurePairs,
  medianRatio,
  numberOption,
  percentile,
  printChecks,
  printTable,
  summarize,
  throughputMetric,
  timed,
  writeResults,
  type Check,
  type Metric,
} from './report.ts';

const { json, options } = benchArguments();
const pageCount = numberOption(options, 'pages', 200);
const repetitions = numberOption(options, 'repetitions', 15);
const imageRepetitions = numberOption(options, 'image-repetitions', 30);
const databaseUrl = options.get('database-url');
const out = humanOutput(json);

/** Pages per second at the median run and at the slow tail (see {@link throughputMetric}). */
function pagesMetric(name: string, runMs: readonly number[], ratio?: number): Metric {
  return throughputMetric(name, 'pages/s', pageCount, runMs, ratio);
}

async function measurePdf(): Promise<{ metrics: Metric[]; checks: Check[] }> {
  const pdf = buildReportPdf(pageCount);
  const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-ingest-'));
  const database = await openDatabase({
    url: databaseUrl,
    dataDir,
    embeddingDimensions: 8,
    checkDimensions: false,
  });
  try {
    const dependencies: IngestDependencies = {
      database,
      embedder: undefined,
      vision: undefined,
      limits: {
        maxBytes: 1024 * 1024 * 1024,
        maxPixels: 40_000_000,
        maxPages: 100_000,
        maxRecordingMs: 3_600_000,
      },
    };
    let chunks = 0;
    const beforeStorageMs: number[] = [];
    const ours = async (): Promise<number> => {
      const started = performance.now();
      let savingAt: number | undefined;
      const result = await ingestFile(
        { bytes: pdf, fileName: 'report.pdf', ownerId: null, sourceName: 'bench/report.pdf' },
        dependencies,
        (progress) => {
          if (progress.stage === 'saving' && savingAt === undefined) savingAt = performance.now();
        },
      );
      const elapsed = performance.now() - started;
      beforeStorageMs.push((savingAt ?? Number.NaN) - started);
      chunks = result.chunks;
      // Not timed: the next run must find nothing stored, or it would answer 'unchanged'.
      await database.pool.query('delete from documents where id = $1', [result.documentId]);
      return elapsed;
    };
    const baseline = (): Promise<number> =>
      timed(async () => {
        const parser = new PDFParse({ data: new Uint8Array(pdf) });
        try {
          await parser.getText();
        } finally {
          await parser.destroy();
        }
      });
    const { oursMs, baselineMs } = await measurePairs(repetitions, ours, baseline);
    // The warm-up runs recorded their split too; keep the measured ones.
    const beforeStorage = beforeStorageMs.slice(-oursMs.length);
    const ratio = medianRatio(baselineMs, oursMs);
    const ratioBeforeStorage = medianRatio(baselineMs, beforeStorage);
    out.write(
      `PDF: ${pageCount} pages, ${(pdf.length / 1e6).toFixed(2)} MB, ${chunks} chunks, ${database.kind} database\n`,
    );
    return {
      metrics: [
        pagesMetric('ingest.pdf.pages_per_second', oursMs, ratio),
        pagesMetric('ingest.pdf.pages_per_second_before_storage', beforeStorage, ratioBeforeStorage),
        pagesMetric('ingest.pdf.pdf_parse_pages_per_second', baselineMs),
        summarize(
          'ingest.pdf.storage_ms',
          'ms',
          oursMs.map((ms, index) => ms - (beforeStorage[index] as number)),
        ),
      ],
      checks: [
        { what: 'PDF pages/s vs pdf-parse', actual: ratio, limit: 0.8, unit: 'x', kind: 'min' },
        {
          what: 'PDF pages/s before storage vs pdf-parse',
          actual: ratioBeforeStorage,
          limit: 0.8,
          unit: 'x',
          kind: 'min',
        },
      ],
    };
  } finally {
    await database.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function measureImage(): Promise<{ metrics: Metric[]; checks: Check[] }> {
  const photo = await buildPhotoJpeg(4000, 3000);
  const header = await sharp(photo).metadata();
  const target = fitWithin(header.autoOrient.width, header.autoOrient.height, VISION_IMAGE_BOUNDS);
  const ours = () => timed(() => normalizeImage(photo, { maxPixels: 40_000_000 }));
  const baseline = () =>
    timed(() => sharp(photo).rotate().resize(target.width, target.height).jpeg({ quality: 85 }).toBuffer());
  const { oursMs, baselineMs } = await measurePairs(imageRepetitions, ours, baseline);
  const ratios = oursMs.map((ms, index) => ms / (baselineMs[index] as number));
  const ratio = percentile(ratios, 50);
  out.write(
    `image: ${header.width} x ${header.height} JPEG (${(photo.length / 1e6).toFixed(1)} MB) -> ` +
      `${target.width} x ${target.height}, time ratio p95 ${percentile(ratios, 95).toFixed(3)}\n`,
  );
  return {
    metrics: [
      summarize('ingest.image.normalize_ms', 'ms/image', oursMs, { ratio }),
      summarize('ingest.image.plain_sharp_ms', 'ms/image', baselineMs),
    ],
    checks: [
      { what: 'normalizeImage time vs plain sharp', actual: ratio, limit: 1.2, unit: 'x', kind: 'max' },
    ],
  };
}

const pdfResult = await measurePdf();
const imageResult = await measureImage();
const metrics = [...pdfResult.metrics, ...imageResult.metrics];
printTable('ingest', metrics, out);
printChecks([...pdfResult.checks, ...imageResult.checks], out);
await writeResults('ingest', metrics, json);
// The document reader's processes (ingestFile's shared reader) would keep this one alive.
await sharedDocumentReader().close();
