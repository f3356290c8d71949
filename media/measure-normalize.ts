/**
 * How much normalizeImage costs over the plainest sharp call that gives the
 * same picture (auto-rotate, resize to the same size, JPEG quality 85), on a
 * ~12 MP photo-like JPEG, upright and with EXIF Orientation 6.
 *
 *   npx tsx media/measure-normalize.ts [repetitions]
 *
 * The two run alternately, one image at a time, so machine noise hits both
 * alike; the ratio is taken per pair, then its p50 and p95. A measurement,
 * not a test: the benchmark in bench/ owns the tracked number.
 */
import sharp from 'sharp';
import { buildPhotoJpeg } from '../test/fixtures/media/image-fixtures.ts';
import { normalizeImage } from './image.ts';
import { fitWithin, VISION_IMAGE_BOUNDS } from './limits.ts';

const repetitions = Number(process.argv[2] ?? 40);

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] ?? Number.NaN;
}

async function elapsedMs(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function measure(label: string, photo: Buffer): Promise<void> {
  const header = await sharp(photo).metadata();
  const target = fitWithin(header.autoOrient.width, header.autoOrient.height, VISION_IMAGE_BOUNDS);
  const plain = (): Promise<Buffer> =>
    sharp(photo).rotate().resize(target.width, target.height).jpeg({ quality: 85 }).toBuffer();
  const ours = (): Promise<unknown> => normalizeImage(photo, { maxPixels: 40_000_000 });
  // Warm-up: the first runs pay for thread pools and code loading.
  for (let index = 0; index < 3; index++) {
    await plain();
    await ours();
  }

  const plainMs: number[] = [];
  const oursMs: number[] = [];
  const ratios: number[] = [];
  for (let index = 0; index < repetitions; index++) {
    // Alternate which goes first, so neither always runs on a warmer cache.
    const [first, second] = index % 2 === 0 ? [plain, ours] : [ours, plain];
    const firstMs = await elapsedMs(first);
    const secondMs = await elapsedMs(second);
    const [plainRun, oursRun] = index % 2 === 0 ? [firstMs, secondMs] : [secondMs, firstMs];
    plainMs.push(plainRun);
    oursMs.push(oursRun);
    ratios.push(oursRun / plainRun);
  }
  const size = `${header.width} x ${header.height} -> ${target.width} x ${target.height}`;
  console.log(
    `${label.padEnd(22)} ${size.padEnd(26)} plain p50 ${percentile(plainMs, 0.5).toFixed(1)} ms` +
      `  normalizeImage p50 ${percentile(oursMs, 0.5).toFixed(1)} ms` +
      `  ratio p50 ${percentile(ratios, 0.5).toFixed(3)}  p95 ${percentile(ratios, 0.95).toFixed(3)}`,
  );
}

const upright = await buildPhotoJpeg(4000, 3000);
const sideways = await sharp(upright).withMetadata({ orientation: 6 }).jpeg({ quality: 90 }).toBuffer();
console.log(
  `photo: ${(upright.length / 1e6).toFixed(1)} MB JPEG, ${repetitions} pairs each, sharp ${sharp.versions.sharp}`,
);
await measure('12 MP upright', upright);
await measure('12 MP EXIF rotated', sideways);
