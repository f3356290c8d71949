import { wavFromPcm } from '../../media/wav.ts';

/**
 * Deterministic audio for fakes and tests: 16-bit little-endian PCM, mono unless
 * stated. Pure functions, no I/O, so the same text always yields the same bytes.
 */

/** How many milliseconds `sampleCount` interleaved samples last. */
export function pcmDuration(sampleCount: number, sampleRate: number, channels = 1): number {
  return (sampleCount / channels / sampleRate) * 1000;
}

/** How many samples per channel `duration` milliseconds take at `sampleRate`. */
export function sampleCountFor(duration: number, sampleRate: number): number {
  return Math.round((duration / 1000) * sampleRate);
}

/** 32-bit FNV-1a: a stable, dependency-free hash so generated signals never depend on run order. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let hash = seed >>> 0;
  for (let index = 0; index < text.length; index += 1) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The words of a text as a speech synthesizer would count them. */
export function wordsOf(text: string): string[] {
  return text.match(/\S+/g) ?? [];
}

/**
 * A tone that stands in for synthesized speech: `msPerWord` milliseconds per word, each
 * word at its own pitch (from a hash of the word) with 5 ms fades so word boundaries
 * are audible but never silent. Empty text gives no samples.
 */
export function toneForText(
  text: string,
  sampleRate: number,
  msPerWord: number,
  amplitude = 0.3,
): Int16Array {
  const words = wordsOf(text);
  const perWord = sampleCountFor(msPerWord, sampleRate);
  const fade = Math.max(1, sampleCountFor(5, sampleRate));
  const samples = new Int16Array(words.length * perWord);
  words.forEach((word, wordIndex) => {
    const frequency = 180 + (fnv1a(word) % 220);
    for (let index = 0; index < perWord; index += 1) {
      const time = index / sampleRate;
      const envelope = Math.min(1, index / fade, (perWord - index) / fade);
      const wave =
        0.8 * Math.sin(2 * Math.PI * frequency * time) + 0.2 * Math.sin(4 * Math.PI * frequency * time);
      samples[wordIndex * perWord + index] = Math.round(wave * envelope * amplitude * 32767);
    }
  });
  return samples;
}

/**
 * A voiced, speech-like signal: a 120 Hz glottal-ish pulse train rich in harmonics,
 * shaped into 4 syllables per second whose loudness dips to 35% between syllables but
 * never to silence, like connected speech. Energy detectors treat it as one utterance.
 * It is not speech to a neural VAD; use espeak-ng audio for those (see `espeak-speech.ts`).
 */
export function speechLikeSignal(duration: number, sampleRate: number, amplitude = 0.35): Int16Array {
  const samples = new Int16Array(sampleCountFor(duration, sampleRate));
  const fade = sampleCountFor(20, sampleRate);
  for (let index = 0; index < samples.length; index += 1) {
    const time = index / sampleRate;
    const fundamental = 120 + 15 * Math.sin(2 * Math.PI * 0.7 * time);
    let wave = 0;
    for (let harmonic = 1; harmonic <= 8; harmonic += 1) {
      wave += Math.sin(2 * Math.PI * fundamental * harmonic * time) / harmonic;
    }
    const syllable = 0.35 + 0.65 * Math.abs(Math.sin(2 * Math.PI * 2 * time));
    const edges = Math.min(1, index / fade, (samples.length - index) / fade);
    samples[index] = Math.round(0.5 * wave * syllable * edges * amplitude * 32767);
  }
  return samples;
}

/** Digital silence. */
export function silence(duration: number, sampleRate: number): Int16Array {
  return new Int16Array(sampleCountFor(duration, sampleRate));
}

/** Joins PCM pieces end to end. */
export function concatenatePcm(...parts: Int16Array[]): Int16Array {
  const joined = new Int16Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** PCM samples as little-endian bytes (a copy, independent of the platform's byte order). */
export function pcmToBytes(samples: Int16Array): Buffer {
  const bytes = Buffer.alloc(samples.length * 2);
  samples.forEach((sample, index) => bytes.writeInt16LE(sample, index * 2));
  return bytes;
}

/** Little-endian bytes as PCM samples (a copy); a trailing odd byte is ignored. */
export function bytesToPcm(bytes: Uint8Array): Int16Array {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const samples = new Int16Array(Math.floor(buffer.length / 2));
  for (let index = 0; index < samples.length; index += 1) samples[index] = buffer.readInt16LE(index * 2);
  return samples;
}

/** Root mean square of PCM, from 0 (silence) to 1 (full scale). */
export function rootMeanSquare(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (const sample of samples) sum += (sample / 32768) ** 2;
  return Math.sqrt(sum / samples.length);
}

/**
 * The loudest RMS (0 to 1) of the 10 ms windows of `samples` (mono): what the Deepgram
 * fake's speech detector compares with its threshold, so a frame whose quiet half hides
 * a voiced 10 ms is still voiced.
 */
export function loudestWindowRms(samples: Int16Array, sampleRate: number): number {
  const window = Math.max(1, Math.round(sampleRate / 100));
  let loudest = 0;
  for (let start = 0; start < samples.length; start += window)
    loudest = Math.max(loudest, rootMeanSquare(samples.subarray(start, start + window)));
  return loudest;
}

/** A canonical 44-byte-header WAV file around 16-bit PCM. */
export function encodeWav(samples: Int16Array, sampleRate: number, channels = 1): Buffer {
  return wavFromPcm(pcmToBytes(samples), sampleRate, channels);
}

/** A decoded 16-bit PCM WAV file. */
export interface DecodedWav {
  sampleRate: number;
  channels: number;
  samples: Int16Array;
  /** Milliseconds. */
  duration: number;
}

/**
 * Reads a 16-bit PCM WAV file, walking the chunks instead of assuming a 44-byte
 * header (espeak-ng and sox may add chunks). Returns `undefined` for anything else.
 */
export function decodeWav(file: Uint8Array): DecodedWav | undefined {
  const bytes = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  if (
    bytes.length < 12 ||
    bytes.toString('ascii', 0, 4) !== 'RIFF' ||
    bytes.toString('ascii', 8, 12) !== 'WAVE'
  )
    return undefined;
  let sampleRate = 0;
  let channels = 0;
  let bitsPerSample = 0;
  for (let offset = 12; offset + 8 <= bytes.length;) {
    const id = bytes.toString('ascii', offset, offset + 4);
    // Streamed WAVs (espeak-ng --stdout) leave the data size at 0xFFFFFFFF: clamp to what is there.
    const size = Math.min(bytes.readUInt32LE(offset + 4), bytes.length - offset - 8);
    if (id === 'fmt ') {
      channels = bytes.readUInt16LE(offset + 10);
      sampleRate = bytes.readUInt32LE(offset + 12);
      bitsPerSample = bytes.readUInt16LE(offset + 22);
    } else if (id === 'data') {
      if (bitsPerSample !== 16 || sampleRate === 0) return undefined;
      const samples = bytesToPcm(bytes.subarray(offset + 8, offset + 8 + size));
      return { sampleRate, channels, samples, duration: pcmDuration(samples.length, sampleRate, channels) };
    }
    offset += 8 + size + (size % 2);
  }
  return undefined;
}
