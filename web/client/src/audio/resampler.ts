/**
 * Converts agent audio (16-bit PCM at the server's rate, 22050 or 24000 Hz from text
 * to speech) to float samples at the playback context's rate, chunk by chunk, by
 * linear interpolation. The position and the last sample carry over between chunks,
 * so chunk boundaries add no clicks. Linear interpolation is enough for speech that
 * is being upsampled.
 */
export class LinearResampler {
  /** Input samples advanced per output sample. */
  private readonly step: number;
  /** Read position in [previous, ...chunk], where 0 is the previous chunk's last sample. */
  private position = 1;
  private previous = 0;

  constructor(
    readonly inputSampleRate: number,
    readonly outputSampleRate: number,
  ) {
    this.step = inputSampleRate / outputSampleRate;
  }

  /** Resamples one chunk; the output may be a sample longer or shorter than the exact ratio. */
  process(input: Int16Array): Float32Array {
    if (input.length === 0) return new Float32Array(0);
    const sampleAt = (index: number) => (index === 0 ? this.previous : (input[index - 1] ?? 0) / 0x8000);
    if (this.step === 1) {
      this.previous = (input[input.length - 1] ?? 0) / 0x8000;
      return Float32Array.from(input, (sample) => sample / 0x8000);
    }
    const output = new Float32Array(Math.ceil((input.length - this.position) / this.step) + 1);
    let written = 0;
    let position = this.position;
    while (position < input.length) {
      const index = Math.floor(position);
      const fraction = position - index;
      output[written++] = sampleAt(index) * (1 - fraction) + sampleAt(index + 1) * fraction;
      position += this.step;
    }
    this.position = position - input.length;
    this.previous = sampleAt(input.length);
    return output.subarray(0, written);
  }

  /** Forgets the carried-over sample (after a flush, the next audio is unrelated). */
  reset(): void {
    this.position = 1;
    this.previous = 0;
  }
}
