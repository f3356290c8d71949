/**
 * Synthetic document corpora for the benchmarks, deterministic from a seed. Texts are
 * made of per-topic pseudo-words so full-text search has real matches to rank; vectors
 * are dense and clustered by topic (a chunk is its main topic's centroid, some of a
 * second topic and Gaussian noise, cosine about 0.45 to chunks of the same topic and
 * about 0 to others), closer to real embeddings than uniform random points, on which
 * every approximate index looks worse than it is.
 */

import { seededRandom } from '../test/support/seeded-random.ts';

/** Standard normal samples (Box-Muller) from a uniform source. */
function gaussian(random: () => number): () => number {
  let spare: number | undefined;
  return () => {
    if (spare !== undefined) {
      const value = spare;
      spare = undefined;
      return value;
    }
    const radius = Math.sqrt(-2 * Math.log(1 - random()));
    const angle = 2 * Math.PI * random();
    spare = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  };
}

function normalizeInPlace(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const norm = Math.sqrt(sum) || 1;
  for (let index = 0; index < vector.length; index++) vector[index] = (vector[index] as number) / norm;
  return vector;
}

const SYLLABLES = 'ka lo mi ne ru sa ti vo be da fe gi ho ju ly pa qu ze xo wi'.split(' ');
const COMMON_WORDS = 'system part check level unit service front side panel switch cable manual'.split(' ');

export interface CorpusOptions {
  dimensions: number;
  topics?: number;
  seed?: number;
}

/** One generated chunk or query: its text, main topic and unit vector. */
export interface SyntheticText {
  topic: number;
  text: string;
  vector: Float32Array;
}

/** A generator of topic-clustered texts and vectors. */
export class SyntheticCorpus {
  readonly dimensions: number;
  private readonly random: () => number;
  private readonly normal: () => number;
  private readonly centroids: Float32Array[];
  private readonly vocabulary: string[][];

  constructor(options: CorpusOptions) {
    this.dimensions = options.dimensions;
    this.random = seededRandom(options.seed ?? 7);
    this.normal = gaussian(this.random);
    const topics = options.topics ?? 200;
    this.centroids = Array.from({ length: topics }, () =>
      normalizeInPlace(Float32Array.from({ length: this.dimensions }, () => this.normal())),
    );
    this.vocabulary = Array.from({ length: topics }, () =>
      Array.from({ length: 40 }, () => this.pseudoWord()),
    );
  }

  /** A chunk of about `words` words about a random topic (with some of a second one). */
  chunk(words = 60): SyntheticText {
    return this.generate(words);
  }

  /** A short question about a random topic, not identical to any chunk. */
  query(words = 8): SyntheticText {
    return this.generate(words);
  }

  /** A vector as pgvector's text input, `[0.01234,-0.5,...]`, rounded to 5 decimals (JSON is the fast path). */
  static vectorLiteral(vector: Float32Array): string {
    const rounded = new Array<number>(vector.length);
    for (let index = 0; index < vector.length; index++)
      rounded[index] = Math.round((vector[index] as number) * 1e5) / 1e5;
    return JSON.stringify(rounded);
  }

  private generate(words: number): SyntheticText {
    const topic = Math.floor(this.random() * this.centroids.length);
    const second = Math.floor(this.random() * this.centroids.length);
    const main = this.centroids[topic] as Float32Array;
    const other = this.centroids[second] as Float32Array;
    const noise = 1 / Math.sqrt(this.dimensions);
    const vector = new Float32Array(this.dimensions);
    for (let index = 0; index < this.dimensions; index++) {
      vector[index] = (main[index] as number) + 0.5 * (other[index] as number) + this.normal() * noise * 1.1;
    }
    const text: string[] = [];
    for (let index = 0; index < words; index++) {
      const roll = this.random();
      const source =
        roll < 0.6
          ? (this.vocabulary[topic] as string[])
          : roll < 0.8
            ? (this.vocabulary[second] as string[])
            : COMMON_WORDS;
      text.push(source[Math.floor(this.random() * source.length)] as string);
    }
    return { topic, text: text.join(' '), vector: normalizeInPlace(vector) };
  }

  private pseudoWord(): string {
    const length = 2 + Math.floor(this.random() * 3);
    let word = '';
    for (let index = 0; index < length; index++)
      word += SYLLABLES[Math.floor(this.random() * SYLLABLES.length)];
    return word;
  }
}
