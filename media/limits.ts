/**
 * The limits every upload is held to. They come from configuration
 * (`UPLOAD_MAX_BYTES`, `IMAGE_MAX_PIXELS`, `PDF_MAX_PAGES`,
 * `RECORDING_MAX_MINUTES`); media/ never reads
 * the environment, so callers pass them in.
 */
export interface MediaLimits {
  /** Largest file accepted, in bytes. */
  readonly maxBytes: number;
  /** Largest image accepted, in pixels (width x height), checked from the header before decoding. */
  readonly maxPixels: number;
  /** Most pages a PDF may have. */
  readonly maxPages: number;
  /** Longest recording accepted, in ms, read from its container's headers before it is transcribed. */
  readonly maxRecordingMs: number;
}

/** The largest picture worth sending to a vision model, in pixels along each side. */
export interface ImageBounds {
  /** Longest side, in pixels. */
  readonly maxLongSide: number;
  /** Shortest side, in pixels. */
  readonly maxShortSide: number;
}

/**
 * What OpenAI's high-detail vision reads: the image is fitted inside
 * 2048 x 2048, then scaled so its shortest side is at most 768. Anything
 * larger is downscaled on their side anyway, so sending more only costs
 * upload time and memory. Local models (Ollama, vLLM) tile similar sizes.
 */
export const VISION_IMAGE_BOUNDS: ImageBounds = Object.freeze({ maxLongSide: 2048, maxShortSide: 768 });

/** A size in whole pixels. */
export interface PixelSize {
  readonly width: number;
  readonly height: number;
}

/**
 * The scale factor that makes `width` x `height` fit `bounds` exactly on its
 * tighter side. Above 1 means the size is already inside the bounds.
 */
export function scaleToFit(width: number, height: number, bounds: ImageBounds): number {
  const longSide = Math.max(width, height);
  const shortSide = Math.min(width, height);
  return Math.min(bounds.maxLongSide / longSide, bounds.maxShortSide / shortSide);
}

/**
 * The size an image should be downscaled to so it fits `bounds`, keeping its
 * aspect ratio and never enlarging it. Sides are rounded and at least 1 pixel,
 * so a 10000 x 1 strip stays visible.
 */
export function fitWithin(width: number, height: number, bounds: ImageBounds): PixelSize {
  const scale = Math.min(1, scaleToFit(width, height, bounds));
  if (scale === 1) return { width, height };
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}
