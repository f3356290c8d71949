import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodeCameraFrame } from './camera-frame.ts';

/** A raw frame whose left half is red and right half is blue, as a camera would deliver it. */
function splitFrame(width: number, height: number, layout: 'rgba' | 'rgb'): Uint8Array {
  const channels = layout === 'rgba' ? 4 : 3;
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * channels;
      const red = x < width / 2;
      data.set(
        layout === 'rgba' ? [red ? 255 : 0, 0, red ? 0 : 255, 255] : [red ? 255 : 0, 0, red ? 0 : 255],
        offset,
      );
    }
  }
  return data;
}

async function pixelAt(image: Buffer, left: number, top: number): Promise<number[]> {
  return [...(await sharp(image).extract({ left, top, width: 1, height: 1 }).raw().toBuffer())];
}

describe('encodeCameraFrame', () => {
  it('encodes a 720p RGBA frame as a JPEG downscaled to 1024 wide, colours in place', async () => {
    const encoded = await encodeCameraFrame({
      data: splitFrame(1280, 720, 'rgba'),
      width: 1280,
      height: 720,
      layout: 'rgba',
    });
    expect(encoded).toMatchObject({ mime: 'image/jpeg', width: 1024, height: 576 });
    const metadata = await sharp(encoded.data).metadata();
    expect(metadata).toMatchObject({ format: 'jpeg', width: 1024, height: 576, channels: 3 });
    const [leftRed, , leftBlue] = await pixelAt(encoded.data, 100, 300);
    const [rightRed, , rightBlue] = await pixelAt(encoded.data, 900, 300);
    expect(leftRed).toBeGreaterThan(230);
    expect(leftBlue).toBeLessThan(25);
    expect(rightRed).toBeLessThan(25);
    expect(rightBlue).toBeGreaterThan(230);
    // A flat-coloured 1024 x 576 JPEG is a few kilobytes, far below the raw 3.7 MB.
    expect(encoded.data.length).toBeLessThan(40_000);
  });

  it('takes RGB frames, a smaller longest side, and never enlarges', async () => {
    const portrait = await encodeCameraFrame(
      { data: splitFrame(480, 640, 'rgb'), width: 480, height: 640, layout: 'rgb' },
      { maxLongSide: 320 },
    );
    expect([portrait.width, portrait.height]).toEqual([240, 320]);
    const tiny = await encodeCameraFrame({
      data: splitFrame(64, 48, 'rgb'),
      width: 64,
      height: 48,
      layout: 'rgb',
    });
    expect([tiny.width, tiny.height]).toEqual([64, 48]);
  });

  it('refuses a buffer that does not match the frame size (padded rows, wrong layout)', async () => {
    const rgb = splitFrame(64, 48, 'rgb');
    await expect(encodeCameraFrame({ data: rgb, width: 64, height: 48, layout: 'rgba' })).rejects.toThrow(
      RangeError,
    );
    await expect(encodeCameraFrame({ data: rgb, width: 0, height: 48, layout: 'rgb' })).rejects.toThrow(
      /positive whole pixels/,
    );
  });
});
