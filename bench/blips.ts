import { seededRandom } from '../test/support/seeded-random.ts';

/**
 * Short non-speech sounds for the false-interruption measurement: the committed cough
 * fixture at three loudnesses, and synthesized clicks, a clap and a knock, all 16 kHz.
 */

const SAMPLE_RATE = 16_000;

export interface Blip {
  name: string;
  samples: Int16Array;
  sampleRate: number;
}

/** Decaying noise (or a decaying low tone with `frequency`) of `durationMs`, peak `amplitude` (0 to 1). */
function burst(
  random: () => number,
  durationMs: number,
  amplitude: number,
  decayMs: number,
  frequency?: number,
): Float32Array {
  const samples = new Float32Array(Math.round((durationMs / 1000) * SAMPLE_RATE));
  for (let index = 0; index < samples.length; index++) {
    const time = index / SAMPLE_RATE;
    const envelope = Math.exp(-(time * 1000) / decayMs);
    const source = frequency === undefined ? random() * 2 - 1 : Math.sin(2 * Math.PI * frequency * time);
    samples[index] = source * envelope * amplitude;
  }
  return samples;
}

function toPcm(parts: Float32Array[], gapMs = 0): Int16Array {
  const gap = Math.round((gapMs / 1000) * SAMPLE_RATE);
  const length = parts.reduce((total, part) => total + part.length, 0) + gap * (parts.length - 1);
  const pcm = new Int16Array(length);
  let offset = 0;
  for (const part of parts) {
    for (let index = 0; index < part.length; index++)
      pcm[offset + index] = Math.max(-32768, Math.min(32767, Math.round((part[index] as number) * 32767)));
    offset += part.length + gap;
  }
  return pcm;
}

function scaled(samples: Int16Array, gain: number): Int16Array {
  return Int16Array.from(samples, (sample) => Math.max(-32768, Math.min(32767, Math.round(sample * gain))));
}

/** The blips, in the order the benchmark cycles through them. */
export function blips(cough: { samples: Int16Array; sampleRate: number }): Blip[] {
  if (cough.sampleRate !== SAMPLE_RATE) throw new Error('the cough fixture is expected at 16 kHz');
  const random = seededRandom(5);
  return [
    { name: 'cough', samples: cough.samples, sampleRate: SAMPLE_RATE },
    { name: 'quiet cough', samples: scaled(cough.samples, 0.5), sampleRate: SAMPLE_RATE },
    { name: 'loud cough', samples: scaled(cough.samples, 2), sampleRate: SAMPLE_RATE },
    { name: 'click', samples: toPcm([burst(random, 5, 0.8, 1)]), sampleRate: SAMPLE_RATE },
    {
      name: 'double click',
      samples: toPcm([burst(random, 5, 0.8, 1), burst(random, 5, 0.8, 1)], 60),
      sampleRate: SAMPLE_RATE,
    },
    { name: 'clap', samples: toPcm([burst(random, 40, 0.9, 8)]), sampleRate: SAMPLE_RATE },
    { name: 'knock', samples: toPcm([burst(random, 90, 0.7, 25, 110)]), sampleRate: SAMPLE_RATE },
  ];
}
