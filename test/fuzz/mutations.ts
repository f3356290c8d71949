/**
 * Seeded mutations of well-formed files, the kinds of damage a careless or
 * hostile upload carries: flipped bits, cut-off tails, repeated or moved
 * chunks, two files spliced together, and a tampered header. Pure and
 * deterministic: the same seed and inputs give the same bytes, so any failure
 * the fuzzer finds can be replayed from its seed alone.
 */

import { seededRandom } from '../support/seeded-random.ts';

/** The kinds of damage, one per mutation. */
export const MUTATION_KINDS = ['bit-flips', 'truncation', 'duplication', 'splice', 'header'] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

/** A damaged file and how it was made (for the report and for replaying). */
export interface Mutant {
  readonly bytes: Buffer;
  readonly kind: MutationKind;
  /** Human-readable detail, e.g. "8 bits flipped". */
  readonly detail: string;
}

/** Integer in [0, bound). */
function below(random: () => number, bound: number): number {
  return Math.floor(random() * bound);
}

/** Flips `count` random bits (the "3-page PDF with 8 flipped bits"). */
export function flipBits(bytes: Buffer, count: number, random: () => number): Buffer {
  const copy = Buffer.from(bytes);
  for (let flip = 0; flip < count; flip++) {
    const bit = below(random, copy.length * 8);
    copy[bit >> 3] = (copy[bit >> 3] ?? 0) ^ (1 << (bit & 7));
  }
  return copy;
}

/** Keeps a random prefix: an upload cut off part way. */
export function truncate(bytes: Buffer, random: () => number): Buffer {
  return bytes.subarray(0, 1 + below(random, Math.max(1, bytes.length - 1)));
}

/** Copies a random chunk of the file and inserts it somewhere else (repeated objects, streams). */
export function duplicateChunk(bytes: Buffer, random: () => number): Buffer {
  const length = 1 + below(random, Math.max(1, Math.min(4096, bytes.length >> 2)));
  const from = below(random, Math.max(1, bytes.length - length));
  const to = below(random, bytes.length);
  const chunk = bytes.subarray(from, from + length);
  return Buffer.concat([bytes.subarray(0, to), chunk, bytes.subarray(to)]);
}

/** The head of one file followed by the tail of another (two uploads mixed up). */
export function splice(first: Buffer, second: Buffer, random: () => number): Buffer {
  const cut = below(random, first.length);
  const resume = below(random, second.length);
  return Buffer.concat([first.subarray(0, cut), second.subarray(resume)]);
}

/**
 * Overwrites bytes inside the first 64 (signature, version, IHDR sizes, JPEG
 * markers), where type sniffing and decoders make their first decisions, with
 * random bytes or with numbers at their extremes.
 */
export function tamperHeader(bytes: Buffer, random: () => number): Buffer {
  const copy = Buffer.from(bytes);
  const span = Math.min(64, copy.length);
  const writes = 1 + below(random, 4);
  const extremes = [0x00, 0xff, 0x7f, 0x80];
  for (let write = 0; write < writes; write++) {
    const at = below(random, span);
    copy[at] = random() < 0.5 ? below(random, 256) : (extremes[below(random, extremes.length)] ?? 0);
  }
  return copy;
}

/**
 * One mutant of `corpus[index]`, its kind chosen by the seed. `corpus` gives
 * splicing a second file. Every mutant differs from its source in at least one
 * way that a reader must cope with; it may happen to still be readable.
 */
export function mutate(corpus: readonly Buffer[], seed: number): Mutant {
  const random = seededRandom(seed);
  const source = corpus[below(random, corpus.length)];
  if (source === undefined) throw new RangeError('the corpus is empty');
  const kind = MUTATION_KINDS[below(random, MUTATION_KINDS.length)] ?? 'bit-flips';
  switch (kind) {
    case 'bit-flips': {
      const count = 1 + below(random, 16);
      return { kind, bytes: flipBits(source, count, random), detail: `${count} bits flipped` };
    }
    case 'truncation': {
      const bytes = truncate(source, random);
      return { kind, bytes, detail: `cut to ${bytes.length} of ${source.length} bytes` };
    }
    case 'duplication':
      return { kind, bytes: duplicateChunk(source, random), detail: 'a chunk repeated elsewhere' };
    case 'splice': {
      const other = corpus[below(random, corpus.length)] ?? source;
      return { kind, bytes: splice(source, other, random), detail: 'spliced with another fixture' };
    }
    case 'header':
      return { kind, bytes: tamperHeader(source, random), detail: 'header bytes overwritten' };
  }
}
