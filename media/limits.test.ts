import { describe, expect, it } from 'vitest';
import { describeBytes, MediaError } from './errors.ts';
import { fitWithin, scaleToFit, VISION_IMAGE_BOUNDS } from './limits.ts';

describe('fitWithin', () => {
  it('caps the short side at 768 and the long side at 2048, keeping the aspect ratio', () => {
    expect(fitWithin(4000, 3000, VISION_IMAGE_BOUNDS)).toEqual({ width: 1024, height: 768 });
    expect(fitWithin(3000, 4000, VISION_IMAGE_BOUNDS)).toEqual({ width: 768, height: 1024 });
    // A long panorama hits the long-side cap first.
    expect(fitWithin(8000, 1000, VISION_IMAGE_BOUNDS)).toEqual({ width: 2048, height: 256 });
  });

  it('never enlarges, and keeps a sliver at least one pixel thick', () => {
    expect(fitWithin(640, 480, VISION_IMAGE_BOUNDS)).toEqual({ width: 640, height: 480 });
    expect(fitWithin(768, 768, VISION_IMAGE_BOUNDS)).toEqual({ width: 768, height: 768 });
    expect(fitWithin(100_000, 2, VISION_IMAGE_BOUNDS)).toEqual({ width: 2048, height: 1 });
  });

  it('reports the exact scale, above 1 when there is room', () => {
    expect(scaleToFit(612, 792, VISION_IMAGE_BOUNDS)).toBeCloseTo(768 / 612);
    expect(scaleToFit(4096, 1024, VISION_IMAGE_BOUNDS)).toBe(0.5);
  });
});

describe('describeBytes', () => {
  it('speaks in binary units with one decimal at most', () => {
    expect(describeBytes(0)).toBe('0 bytes');
    expect(describeBytes(1023)).toBe('1023 bytes');
    expect(describeBytes(1536)).toBe('1.5 KB');
    expect(describeBytes(25 * 1024 * 1024)).toBe('25 MB');
    expect(describeBytes(25.3 * 1024 * 1024)).toBe('25.3 MB');
    expect(describeBytes(3 * 1024 ** 3)).toBe('3 GB');
  });
});

describe('MediaError', () => {
  it('is a user-facing, never-retryable Error with a code', () => {
    const error = new MediaError('encrypted', 'This PDF is password-protected.', {
      cause: new Error('inner'),
    });
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'MediaError',
      code: 'encrypted',
      userFacing: true,
      retryable: false,
    });
    expect(error.cause).toBeInstanceOf(Error);
  });
});
