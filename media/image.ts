/**
 * Turns an uploaded image into what a vision model should see: upright (EXIF
 * orientation applied), no larger than the model reads, no metadata (GPS,
 * camera serials), re-encoded. One sharp pipeline decodes the image once;
 * before it, only the header is read, to refuse decompression bombs.
 */
import sharp from 'sharp';
import type { Metadata } from 'sharp';
import { MediaError } from './errors.ts';
import { fitWithin, VISION_IMAGE_BOUNDS } from './limits.ts';
import type { ImageBounds, MediaLimits } from './limits.ts';

/** How to normalize; only the pixel limit is required. */
export interface NormalizeImageOptions extends Pick<MediaLimits, 'maxPixels'> {
  /** Largest output size; default {@link VISION_IMAGE_BOUNDS}. Images are never enlarged. */
  readonly bounds?: ImageBounds;
  /** JPEG quality, 1 to 100; default 85, visually lossless for photos at these sizes. */
  readonly jpegQuality?: number;
}

/** A normalized image, ready to be attached to a chat message. */
export interface NormalizedImage {
  readonly data: Buffer;
  /** JPEG for opaque images; PNG when the source has an alpha channel, so transparency survives. */
  readonly mime: 'image/jpeg' | 'image/png';
  /** Output size in pixels. */
  readonly width: number;
  readonly height: number;
  /** Source size in pixels, upright (after the EXIF orientation, so comparable with the output). */
  readonly originalWidth: number;
  readonly originalHeight: number;
}

/**
 * Decode strictness: 'error' refuses truncated and damaged files (a cut-off
 * JPEG would otherwise come out half grey) but tolerates the harmless
 * warnings many cameras' files raise, which 'warning' would refuse.
 */
const FAIL_ON = 'error';

/** sharp's names for the formats identifyMedia accepts ('heif' is how sharp reports AVIF). */
const DECODABLE_FORMATS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp', 'gif', 'heif', 'tiff']);

/**
 * Normalizes an image for a vision model. Animated GIF and WebP give their
 * first frame; CMYK and embedded ICC profiles are converted to sRGB.
 *
 * Throws {@link MediaError}: `unsupported-type` for formats other than JPEG,
 * PNG, WebP, GIF, AVIF and TIFF (SVG and HEIC included), `too-many-pixels`
 * when the header announces more than `maxPixels` (checked before any pixel
 * is decoded, so a 20000 x 20000 PNG of 1 MB is refused in about a
 * millisecond), `corrupt` when the bytes cannot be decoded in full
 * (truncated, damaged, or not an image at all).
 */
export async function normalizeImage(
  bytes: Uint8Array,
  options: NormalizeImageOptions,
): Promise<NormalizedImage> {
  const { maxPixels, bounds = VISION_IMAGE_BOUNDS, jpegQuality = 85 } = options;

  let header: Metadata;
  try {
    // Reading the header decodes no pixels; the pixel limit is lifted here only so
    // an oversized image reports its size instead of sharp's generic refusal.
    header = await sharp(bytes, { failOn: FAIL_ON, limitInputPixels: false }).metadata();
  } catch (error) {
    throw corrupt(error);
  }
  // sharp would also rasterise SVG, and its prebuilt libheif reads AVIF but not HEIC (HEVC).
  if (!DECODABLE_FORMATS.has(header.format) || (header.format === 'heif' && header.compression !== 'av1')) {
    throw new MediaError(
      'unsupported-type',
      'This image format is not supported. Upload a JPEG, PNG, WebP, GIF, AVIF or TIFF image.',
    );
  }
  const pixels = header.width * header.height;
  if (pixels > maxPixels) {
    throw new MediaError(
      'too-many-pixels',
      `This image is ${header.width} x ${header.height} pixels (${megapixels(pixels)} megapixels); ` +
        `the limit is ${megapixels(maxPixels)} megapixels. Scale it down and upload it again.`,
    );
  }

  // EXIF orientations 5 to 8 swap the sides; header.autoOrient has the upright size.
  const { width: originalWidth, height: originalHeight } = header.autoOrient;
  const target = fitWithin(originalWidth, originalHeight, bounds);
  const hasAlpha = header.hasAlpha;

  let pipeline = sharp(bytes, {
    failOn: FAIL_ON,
    // Belt and braces: the same limit, enforced by libvips itself on what it actually loads.
    limitInputPixels: maxPixels,
    autoOrient: true,
    sequentialRead: true,
  });
  if (target.width !== originalWidth || target.height !== originalHeight) {
    // 'fill' because target already keeps the aspect ratio; sharp picks shrink-on-load for JPEG.
    pipeline = pipeline.resize(target.width, target.height, { fit: 'fill' });
  }
  // Metadata (EXIF with GPS, XMP, IPTC, ICC) is dropped: sharp keeps none unless asked to.
  pipeline = hasAlpha
    ? pipeline.png({ compressionLevel: 6, adaptiveFiltering: false })
    : pipeline.jpeg({ quality: jpegQuality, mozjpeg: false });

  try {
    const { data, info } = await pipeline.toBuffer({ resolveWithObject: true });
    return {
      data,
      mime: hasAlpha ? 'image/png' : 'image/jpeg',
      width: info.width,
      height: info.height,
      originalWidth,
      originalHeight,
    };
  } catch (error) {
    if (error instanceof Error && /pixel limit/i.test(error.message)) {
      throw new MediaError(
        'too-many-pixels',
        'This image has more pixels than the limit allows. Scale it down and upload it again.',
        { cause: error },
      );
    }
    throw corrupt(error);
  }
}

function megapixels(pixels: number): string {
  return String(Math.round(pixels / 100_000) / 10);
}

function corrupt(cause: unknown): MediaError {
  return new MediaError(
    'corrupt',
    'This image could not be read; it may be damaged or only partly uploaded. Try exporting it again and re-uploading.',
    { cause },
  );
}
