import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BLUE,
  buildBombPng,
  buildRotatedPhotoWithGps,
  countGpsEntries,
  RED,
} from '../test/fixtures/media/image-fixtures.ts';
import { MediaError } from './errors.ts';
import type { MediaErrorCode } from './errors.ts';
import { normalizeImage } from './image.ts';
import type { NormalizeImageOptions } from './image.ts';

const options: NormalizeImageOptions = { maxPixels: 40_000_000 };

async function pixelAt(
  image: Buffer,
  left: number,
  top: number,
): Promise<{ r: number; g: number; b: number }> {
  const pixel = await sharp(image).extract({ left, top, width: 1, height: 1 }).removeAlpha().raw().toBuffer();
  return { r: pixel[0] ?? -1, g: pixel[1] ?? -1, b: pixel[2] ?? -1 };
}

/** Within JPEG's error of the expected colour. */
function expectColour(
  actual: { r: number; g: number; b: number },
  expected: { r: number; g: number; b: number },
) {
  for (const channel of ['r', 'g', 'b'] as const)
    expect(Math.abs(actual[channel] - expected[channel])).toBeLessThan(24);
}

async function refusalCode(bytes: Uint8Array, normalizeOptions = options): Promise<MediaErrorCode> {
  const error: unknown = await normalizeImage(bytes, normalizeOptions).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(MediaError);
  return (error as MediaError).code;
}

let photo: Buffer;
beforeAll(async () => {
  // Stored sideways (3000 x 2000 pixels) with EXIF Orientation 6 and a GPS position.
  photo = await buildRotatedPhotoWithGps(3000, 2000);
});

describe('normalizeImage', () => {
  it('brings an EXIF-rotated photo upright, within the vision bounds, with its GPS and EXIF stripped', async () => {
    const source = await sharp(photo).metadata();
    expect(source.orientation).toBe(6);
    expect(countGpsEntries(source.exif ?? Buffer.alloc(0))).toBe(4);

    const normalized = await normalizeImage(photo, options);

    // Upright it is 2000 x 3000; the short side is capped at 768, so 768 x 1152.
    expect(normalized).toMatchObject({
      mime: 'image/jpeg',
      width: 768,
      height: 1152,
      originalWidth: 2000,
      originalHeight: 3000,
    });
    const output = await sharp(normalized.data).metadata();
    expect(output).toMatchObject({ format: 'jpeg', width: 768, height: 1152 });
    expect(output.exif).toBeUndefined();
    expect(output.xmp).toBeUndefined();
    expect(output.iptc).toBeUndefined();
    expect(output.orientation).toBeUndefined();
    // Turned 90 degrees clockwise, the red left half is now on top and the blue right half at the bottom.
    expectColour(await pixelAt(normalized.data, 384, 200), RED);
    expectColour(await pixelAt(normalized.data, 384, 950), BLUE);
  });

  it('honours custom bounds and never enlarges', async () => {
    const wide = await sharp({ create: { width: 1600, height: 400, channels: 3, background: '#808080' } })
      .png()
      .toBuffer();
    const fitted = await normalizeImage(wide, {
      ...options,
      bounds: { maxLongSide: 800, maxShortSide: 768 },
    });
    expect([fitted.width, fitted.height]).toEqual([800, 200]);
    const small = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#808080' } })
      .jpeg()
      .toBuffer();
    const untouched = await normalizeImage(small, options);
    expect([untouched.width, untouched.height, untouched.mime]).toEqual([64, 48, 'image/jpeg']);
  });

  it('converts CMYK and colour-profiled images to plain sRGB without a profile', async () => {
    const red = sharp({ create: { width: 32, height: 32, channels: 3, background: '#ff0000' } });
    const cmyk = await red.clone().toColourspace('cmyk').jpeg().toBuffer();
    const displayP3 = await red.clone().withIccProfile('p3').jpeg().toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    expect((await sharp(displayP3).metadata()).icc).toBeDefined();
    for (const source of [cmyk, displayP3]) {
      const normalized = await normalizeImage(source, options);
      const output = await sharp(normalized.data).metadata();
      expect(output).toMatchObject({ space: 'srgb', channels: 3 });
      expect(output.icc).toBeUndefined();
      expectColour(await pixelAt(normalized.data, 16, 16), RED);
    }
  });

  it('keeps transparency as PNG', async () => {
    const translucent = await sharp({
      create: { width: 40, height: 30, channels: 4, background: { r: 0, g: 128, b: 0, alpha: 0.5 } },
    })
      .png()
      .toBuffer();
    const normalized = await normalizeImage(translucent, options);
    expect(normalized.mime).toBe('image/png');
    const output = await sharp(normalized.data).metadata();
    expect(output).toMatchObject({ format: 'png', hasAlpha: true, width: 40, height: 30 });
  });

  it('takes the first frame of an animated GIF', async () => {
    // Three 20 x 20 frames stacked in one raw strip: red, blue, green (identical frames would be merged).
    const frameColours = [RED, BLUE, { r: 0, g: 255, b: 0 }];
    const strip = Buffer.alloc(20 * 60 * 3);
    for (let pixel = 0; pixel < 20 * 60; pixel++) {
      const colour = frameColours[Math.floor(pixel / (20 * 20))] ?? RED;
      strip.set([colour.r, colour.g, colour.b], pixel * 3);
    }
    const gif = await sharp(strip, { raw: { width: 20, height: 60, channels: 3, pageHeight: 20 } })
      .gif()
      .toBuffer();
    expect((await sharp(gif).metadata()).pages).toBe(3);
    const normalized = await normalizeImage(gif, options);
    expect([normalized.width, normalized.height]).toEqual([20, 20]);
    expectColour(await pixelAt(normalized.data, 10, 10), RED);
  });

  it('refuses a 20000 x 20000 PNG from its header, quickly, without decoding it', async () => {
    const bomb = buildBombPng(20_000, 20_000);
    expect(bomb.length).toBeLessThan(1_300_000);
    const started = performance.now();
    const error: unknown = await normalizeImage(bomb, options).catch((caught: unknown) => caught);
    const elapsedMs = performance.now() - started;
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe('too-many-pixels');
    expect((error as MediaError).message).toBe(
      'This image is 20000 x 20000 pixels (400 megapixels); the limit is 40 megapixels. Scale it down and upload it again.',
    );
    // Decoding 1.2 GB of pixels takes seconds; the header takes about a millisecond.
    expect(elapsedMs).toBeLessThan(500);
    // Proof that no pixel was decoded: cut off after the header, a decoder would call it corrupt.
    expect(await refusalCode(bomb.subarray(0, 4096))).toBe('too-many-pixels');
  });

  it('applies the pixel limit from the options, inclusively', async () => {
    const image = await sharp({ create: { width: 100, height: 50, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    expect(await refusalCode(image, { maxPixels: 4999 })).toBe('too-many-pixels');
    await expect(normalizeImage(image, { maxPixels: 5000 })).resolves.toMatchObject({ width: 100 });
  });

  it('calls a truncated JPEG or PNG corrupt instead of returning a half-grey image', async () => {
    const noisy = sharp({
      create: {
        width: 300,
        height: 200,
        channels: 3,
        background: '#777',
        noise: { type: 'gaussian', mean: 128, sigma: 40 },
      },
    });
    const jpeg = await noisy.clone().jpeg().toBuffer();
    const png = await noisy.clone().png().toBuffer();
    expect(await refusalCode(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)))).toBe('corrupt');
    expect(await refusalCode(png.subarray(0, Math.floor(png.length * 0.6)))).toBe('corrupt');
    // The intact files pass, so it is the truncation that is refused.
    await expect(normalizeImage(jpeg, options)).resolves.toMatchObject({ width: 300, height: 200 });
    await expect(normalizeImage(png, options)).resolves.toMatchObject({ width: 300, height: 200 });
  });

  it('refuses formats sharp could read but we do not accept, such as SVG', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    expect(await refusalCode(svg)).toBe('unsupported-type');
    const avif = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#00f' } })
      .avif()
      .toBuffer();
    await expect(normalizeImage(avif, options)).resolves.toMatchObject({ mime: 'image/jpeg', width: 16 });
  });

  it('calls bytes that are no image corrupt, with a message for the user', async () => {
    const error: unknown = await normalizeImage(Buffer.from('not an image'), options).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MediaError);
    expect((error as MediaError).code).toBe('corrupt');
    expect((error as MediaError).message).toMatch(/^This image could not be read/);
  });
});
