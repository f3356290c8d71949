import { encodeCameraFrame, normalizeImage, type RawVideoFrame } from '../media/index.ts';

/** At most one frame per this many ms is kept: the model needs a still, not a video. */
const SAMPLE_INTERVAL_MS = 1000;
/** A frame older than this no longer shows what the user is showing. */
const STALE_AFTER_MS = 5000;
/** Longest side of a kept frame, in pixels. */
const FRAME_LONG_SIDE = 768;

/** Words that show the user means what the camera sees. */
const REFERS_TO_CAMERA =
  /\b((my|the|your) camera|what am i (holding|showing|wearing|pointing at)|what('s| is) (this|that|in my hand)|what do you see|can you see|do you see|look at (this|that|me)|(see|show) (this|that|you)|in (my|the) (hand|picture|camera|frame)|how do i look|read (this|that)|what colou?r is (this|that|it))\b/i;

/** Whether an utterance refers to something the user is showing the camera. */
export function refersToCamera(text: string): boolean {
  return REFERS_TO_CAMERA.test(text);
}

/** A kept camera frame, ready to attach to a turn. */
export interface CameraStill {
  /** `data:image/jpeg;base64,...` */
  dataUrl: string;
  width: number;
  height: number;
  takenAt: number;
}

/**
 * The latest frame of the user's camera, sampled at most once a second and downscaled.
 * Frames arrive raw (LiveKit video tracks, converted to RGBA) or already encoded (the
 * direct transport's JPEG stills); either way only one is encoded at a time, and
 * frames that arrive while one is being encoded, or too soon, are dropped unread.
 */
export class CameraFrames {
  private latest: CameraStill | undefined;
  private lastAcceptedAt = Number.NEGATIVE_INFINITY;
  private encoding = false;

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether a frame arriving now would be kept: callers skip converting frames otherwise. */
  wantsFrame(): boolean {
    return !this.encoding && this.now() - this.lastAcceptedAt >= SAMPLE_INTERVAL_MS;
  }

  /** Offers a raw frame; resolves once it was kept or dropped. */
  async offerRaw(frame: RawVideoFrame): Promise<void> {
    await this.keep(async () => {
      const encoded = await encodeCameraFrame(frame, { maxLongSide: FRAME_LONG_SIDE });
      return { data: encoded.data, width: encoded.width, height: encoded.height };
    });
  }

  /** Offers an encoded still (JPEG, PNG, WebP); it is re-encoded small, with metadata stripped. */
  async offerEncoded(bytes: Uint8Array, maxPixels: number): Promise<void> {
    await this.keep(async () => {
      const image = await normalizeImage(bytes, {
        maxPixels,
        bounds: { maxLongSide: FRAME_LONG_SIDE, maxShortSide: FRAME_LONG_SIDE },
      });
      return { data: image.data, width: image.width, height: image.height, mime: image.mime };
    });
  }

  /** The latest frame, unless the camera went quiet. */
  current(): CameraStill | undefined {
    if (!this.latest || this.now() - this.latest.takenAt > STALE_AFTER_MS) return undefined;
    return this.latest;
  }

  /** The camera was turned off. */
  clear(): void {
    this.latest = undefined;
  }

  private async keep(
    encode: () => Promise<{ data: Buffer; width: number; height: number; mime?: string }>,
  ): Promise<void> {
    if (!this.wantsFrame()) return;
    this.encoding = true;
    const takenAt = this.now();
    this.lastAcceptedAt = takenAt;
    try {
      const { data, width, height, mime } = await encode();
      this.latest = {
        dataUrl: `data:${mime ?? 'image/jpeg'};base64,${data.toString('base64')}`,
        width,
        height,
        takenAt,
      };
    } finally {
      this.encoding = false;
    }
  }
}
