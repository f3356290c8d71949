/**
 * What a recording is before anyone transcribes it: its duration and whether it
 * is a video, read from the container's headers with music-metadata (pure
 * JavaScript, no decoder). Runs in a reader process like every parser of
 * untrusted bytes. A recording over the duration limit, or one whose headers do
 * not give a duration (damaged, cut short), is refused here, before any
 * transcription service is asked.
 */
import { parseBuffer } from 'music-metadata';
import { MediaError } from './errors.ts';
import type { MediaLimits } from './limits.ts';

/** A recording's headers, as far as the assistant needs them. */
export interface RecordingSummary {
  /** Length of the sound, in ms. */
  readonly durationMs: number;
  /** Whether the container also holds a picture track (a video read for its sound). */
  readonly video: boolean;
}

/** "42 minutes", "1 hour 5 minutes", "2 minutes 5 seconds", "12 seconds": a duration as it is spoken. */
export function describeDuration(durationMs: number): string {
  const totalSeconds = Math.max(0, Math.round(durationMs / 1000));
  if (totalSeconds < 60) return plural(totalSeconds, 'second');
  // Seconds still matter in a short recording ("1 minute 1 second" is over a 1-minute limit).
  if (totalSeconds < 600 && totalSeconds % 60 !== 0)
    return `${plural(Math.floor(totalSeconds / 60), 'minute')} ${plural(totalSeconds % 60, 'second')}`;
  const totalMinutes = Math.round(totalSeconds / 60);
  if (totalMinutes < 60) return plural(totalMinutes, 'minute');
  const hours = Math.floor(totalMinutes / 60);
  const minutes = totalMinutes % 60;
  return minutes === 0 ? plural(hours, 'hour') : `${plural(hours, 'hour')} ${plural(minutes, 'minute')}`;
}

function plural(count: number, unit: string): string {
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/**
 * Reads a recording's duration from its headers. Throws {@link MediaError} `corrupt`
 * when they cannot be read or give no duration, or no sound track, and `too-long`
 * over `limits.maxRecordingMs`.
 */
export async function inspectRecording(
  bytes: Uint8Array,
  mimeType: string,
  limits: Pick<MediaLimits, 'maxRecordingMs'>,
): Promise<RecordingSummary> {
  let format;
  try {
    ({ format } = await parseBuffer(
      bytes,
      { mimeType, size: bytes.length },
      { duration: true, skipCovers: true },
    ));
  } catch (error) {
    throw corrupt(error);
  }
  const duration = format.duration;
  if (duration === undefined || !Number.isFinite(duration) || duration <= 0 || format.hasAudio === false)
    throw corrupt();
  const durationMs = Math.round(duration * 1000);
  if (durationMs > limits.maxRecordingMs) {
    throw new MediaError(
      'too-long',
      `This recording is ${describeDuration(durationMs)} long; the limit is ${describeDuration(limits.maxRecordingMs)}. ` +
        'Cut it into shorter parts and send them one at a time.',
    );
  }
  return { durationMs, video: format.hasVideo === true };
}

function corrupt(cause?: unknown): MediaError {
  return new MediaError(
    'corrupt',
    'This recording could not be read: it looks damaged or cut short, so its length is unknown. ' +
      'Try exporting it again (MP3, M4A or WAV) and send it once more.',
    { cause },
  );
}
