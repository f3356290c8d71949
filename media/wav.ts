import { wavFile } from './wav-pieces.ts';

/**
 * A WAV file around 16-bit little-endian PCM, which every browser's `<audio>` plays:
 * speech services hand back raw PCM when asked for it.
 */
export function wavFromPcm(pcm: Uint8Array, sampleRate: number, channels = 1): Buffer {
  // The 16-byte `fmt ` chunk of integer PCM: format 1, channels, rate, byte rate, block size, bits.
  const format = Buffer.alloc(16);
  format.writeUInt16LE(1, 0);
  format.writeUInt16LE(channels, 2);
  format.writeUInt32LE(sampleRate, 4);
  format.writeUInt32LE(sampleRate * channels * 2, 8);
  format.writeUInt16LE(channels * 2, 12);
  format.writeUInt16LE(16, 14);
  const file = wavFile(format, pcm);
  return Buffer.from(file.buffer, file.byteOffset, file.byteLength);
}
