import { spawnSync } from 'node:child_process';
import { decodeWav } from './audio-signal.ts';

/**
 * Real synthetic speech from espeak-ng (Debian package `espeak-ng`) for tests that need
 * audio a neural VAD accepts. Optional: tests using it should skip when
 * `espeakAvailable()` is false, so `npm test` has no system dependency.
 */

let available: boolean | undefined;

/** Whether the `espeak-ng` command runs on this machine (checked once). */
export function espeakAvailable(): boolean {
  available ??= spawnSync('espeak-ng', ['--version'], { stdio: 'ignore' }).status === 0;
  return available;
}

/**
 * Speaks `text` with espeak-ng and returns mono 16-bit PCM at `sampleRate` (espeak-ng
 * renders at 22050 Hz; this resamples linearly, plenty for VAD and STT tests).
 * `wordsPerMinute` defaults to espeak-ng's 175.
 */
export function synthesizeSpeech(text: string, sampleRate = 16_000, wordsPerMinute = 175): Int16Array {
  const result = spawnSync('espeak-ng', ['--stdout', '-s', String(wordsPerMinute), text], {
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) throw new Error(`espeak-ng failed: ${result.stderr.toString() || result.error}`);
  const wav = decodeWav(result.stdout);
  if (!wav) throw new Error('espeak-ng produced no 16-bit WAV');
  return resample(wav.samples, wav.sampleRate, sampleRate);
}

/** Linear-interpolation resampling of mono PCM. */
export function resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  if (fromRate === toRate) return samples.slice();
  const output = new Int16Array(Math.floor((samples.length * toRate) / fromRate));
  for (let index = 0; index < output.length; index += 1) {
    const position = (index * fromRate) / toRate;
    const before = Math.floor(position);
    const fraction = position - before;
    const left = samples[before] ?? 0;
    const right = samples[before + 1] ?? left;
    output[index] = Math.round(left + (right - left) * fraction);
  }
  return output;
}
