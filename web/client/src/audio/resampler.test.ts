import { describe, expect, it } from 'vitest';
import { LinearResampler } from './resampler.ts';

const sine = (length: number, sampleRate: number, frequency: number, start = 0) =>
  Int16Array.from({ length }, (_, index) =>
    Math.round(Math.sin((2 * Math.PI * frequency * (start + index)) / sampleRate) * 16000),
  );

describe('LinearResampler', () => {
  it('upsamples 24 kHz to 48 kHz with twice the samples, following the waveform', () => {
    const resampler = new LinearResampler(24_000, 48_000);
    const output = resampler.process(sine(2400, 24_000, 440));
    expect(output.length).toBeGreaterThanOrEqual(4798);
    expect(output.length).toBeLessThanOrEqual(4800);
    for (let index = 0; index < output.length; index += 37) {
      const expected = Math.sin((2 * Math.PI * 440 * (index / 2)) / 24_000) * (16000 / 0x8000);
      expect(output[index]).toBeCloseTo(expected, 2);
    }
  });

  it('gives the same samples whether the audio comes in one chunk or many', () => {
    const input = sine(4410, 22_050, 300);
    const whole = new LinearResampler(22_050, 48_000).process(input);
    const chunked = new LinearResampler(22_050, 48_000);
    const parts: number[] = [];
    for (let start = 0; start < input.length; start += 441)
      parts.push(...chunked.process(input.subarray(start, start + 441)));
    expect(parts.length).toBe(whole.length);
    parts.forEach((sample, index) => expect(sample).toBeCloseTo(whole[index] ?? NaN, 6));
  });

  it('keeps the total length in the ratio over a long stream', () => {
    const resampler = new LinearResampler(22_050, 48_000);
    let total = 0;
    for (let chunk = 0; chunk < 100; chunk++)
      total += resampler.process(sine(441, 22_050, 200, chunk * 441)).length;
    expect(Math.abs(total - (44_100 * 48_000) / 22_050)).toBeLessThanOrEqual(2);
  });

  it('passes audio at the same rate through unchanged', () => {
    const output = new LinearResampler(48_000, 48_000).process(Int16Array.from([0, 16384, -32768]));
    expect([...output]).toEqual([0, 0.5, -1]);
  });
});
