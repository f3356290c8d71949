/**
 * Cutting a PCM WAV file into smaller WAV files, for transcription services with
 * an upload limit (OpenAI's is 25 MB). Only WAV can be cut without a decoder: its
 * samples are stored as they are, so any cut between sample frames is a valid file.
 */

/** One piece of a recording and where it starts in the whole. */
export interface RecordingPiece {
  readonly bytes: Uint8Array;
  readonly offsetMs: number;
}

interface WavLayout {
  readonly format: Uint8Array;
  readonly dataStart: number;
  readonly dataLength: number;
  readonly bytesPerSecond: number;
  readonly blockAlign: number;
}

/** Where a WAV file's format and samples are; undefined when it is not a WAV we can cut. */
function wavLayout(bytes: Uint8Array): WavLayout | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') return undefined;
  let format: Uint8Array | undefined;
  for (let at = 12; at + 8 <= bytes.length;) {
    const size = view.getUint32(at + 4, true);
    if (tag(at) === 'fmt ' && size >= 16) format = bytes.subarray(at + 8, at + 8 + size);
    if (tag(at) === 'data' && format !== undefined) {
      const formatView = new DataView(format.buffer, format.byteOffset, format.byteLength);
      const bytesPerSecond = formatView.getUint32(8, true);
      const blockAlign = formatView.getUint16(12, true);
      if (bytesPerSecond === 0 || blockAlign === 0) return undefined;
      const dataLength = Math.min(size, bytes.length - (at + 8));
      return { format, dataStart: at + 8, dataLength, bytesPerSecond, blockAlign };
    }
    at += 8 + size + (size % 2);
  }
  return undefined;
}

/**
 * Cuts a WAV file into WAV files of at most `maxBytes` each, between sample frames.
 * Undefined when `bytes` is not a WAV file (other containers cannot be cut here).
 */
export function splitWav(bytes: Uint8Array, maxBytes: number): RecordingPiece[] | undefined {
  const layout = wavLayout(bytes);
  if (layout === undefined) return undefined;
  const header = 12 + 8 + layout.format.length + 8;
  const frames = Math.floor((maxBytes - header) / layout.blockAlign);
  if (frames < 1) throw new RangeError(`maxBytes ${maxBytes} leaves no room for samples`);
  const pieceLength = frames * layout.blockAlign;
  const pieces: RecordingPiece[] = [];
  for (let offset = 0; offset < layout.dataLength; offset += pieceLength) {
    const samples = bytes.subarray(
      layout.dataStart + offset,
      layout.dataStart + Math.min(layout.dataLength, offset + pieceLength),
    );
    pieces.push({
      bytes: wavFile(layout.format, samples),
      offsetMs: (offset / layout.bytesPerSecond) * 1000,
    });
  }
  return pieces;
}

/** A WAV file of one `fmt ` chunk body (as found in a WAV file, or made) and its sample bytes. */
export function wavFile(format: Uint8Array, samples: Uint8Array): Uint8Array {
  const file = new Uint8Array(12 + 8 + format.length + 8 + samples.length);
  const view = new DataView(file.buffer);
  const ascii = (at: number, text: string) =>
    file.set(
      [...text].map((c) => c.charCodeAt(0)),
      at,
    );
  ascii(0, 'RIFF');
  view.setUint32(4, file.length - 8, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, format.length, true);
  file.set(format, 20);
  const data = 20 + format.length;
  ascii(data, 'data');
  view.setUint32(data + 4, samples.length, true);
  file.set(samples, data + 8);
  return file;
}
