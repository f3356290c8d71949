import { fnv1a } from './audio-signal.ts';

/**
 * Deterministic text embeddings that behave enough like real ones for retrieval tests:
 * texts sharing content words land close together, unrelated texts land near
 * orthogonal. A hashed bag of stemmed words, signed (so collisions cancel out rather
 * than pile up), L2-normalised.
 */

/** How a fake embeds text; tests may change any field between requests. */
export interface EmbeddingSettings {
  /** Vector length when a request does not ask for `dimensions` (default 1536). */
  dimensions: number;
  /**
   * Groups of words that mean the same thing to the fake: every word of a group counts
   * as the group's first word, so "car" and "automobile" can match with no shared word.
   */
  synonyms: readonly (readonly string[])[];
  /** Full control for one test: return a vector (any length-`dimensions` array) or `undefined` for the default. */
  override?: (text: string, dimensions: number) => readonly number[] | undefined;
}

// Function words carry no topic; leaving them in makes every question look alike.
const stopWords = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'me my no not of on or our please so than that the their them then there these they this to us was we ' +
    'were what when where which who why will with would you your'
  ).split(' '),
);

/** A crude English stemmer: enough for "valves"/"valve" and "opening"/"open" to meet. */
export function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const [suffix, replacement] of [
    ['ies', 'y'],
    ['ing', ''],
    ['ed', ''],
    ['ly', ''],
    ['es', 'e'],
    ['s', ''],
  ] as const) {
    if (word.endsWith(suffix) && !word.endsWith('ss')) return word.slice(0, -suffix.length) + replacement;
  }
  return word;
}

/** Lowercased, stemmed content words of a text, synonyms folded to their group's first word. */
export function embeddingTokens(text: string, synonyms: EmbeddingSettings['synonyms'] = []): string[] {
  const canonical = new Map<string, string>();
  for (const group of synonyms) {
    const [first] = group;
    if (first === undefined) continue;
    for (const word of group) canonical.set(stem(word.toLowerCase()), stem(first.toLowerCase()));
  }
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return words
    .filter((word) => !stopWords.has(word))
    .map(stem)
    .map((word) => canonical.get(word) ?? word);
}

/** Scales a vector to unit length; a zero vector stays zero. */
export function normalize(vector: readonly number[]): number[] {
  const length = Math.hypot(...vector);
  return length === 0 ? [...vector] : vector.map((value) => value / length);
}

/** Embeds one text with `dimensions` components (unit length). */
export function embedText(
  text: string,
  settings: EmbeddingSettings,
  dimensions = settings.dimensions,
): number[] {
  const overridden = settings.override?.(text, dimensions);
  if (overridden) {
    if (overridden.length !== dimensions)
      throw new Error(`embedding override returned ${overridden.length} values, expected ${dimensions}`);
    return normalize(overridden);
  }
  const vector = new Array<number>(dimensions).fill(0);
  const tokens = embeddingTokens(text, settings.synonyms);
  // An empty or all-stop-word text still needs a direction: give it a fixed one.
  for (const token of tokens.length > 0 ? tokens : ['\u0000empty']) {
    const index = fnv1a(token) % dimensions;
    const sign = fnv1a(token, 0x9747b28c) & 1 ? 1 : -1;
    vector[index] = (vector[index] ?? 0) + sign;
  }
  return normalize(vector);
}

/** Cosine similarity of two vectors of equal length. */
export function cosineSimilarity(left: readonly number[], right: readonly number[]): number {
  let dot = 0;
  for (let index = 0; index < left.length; index += 1) dot += (left[index] ?? 0) * (right[index] ?? 0);
  const lengths = Math.hypot(...left) * Math.hypot(...right);
  return lengths === 0 ? 0 : dot / lengths;
}

/** Float32 little-endian bytes in base64: what OpenAI returns for `encoding_format: "base64"`. */
export function embeddingToBase64(vector: readonly number[]): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((value, index) => bytes.writeFloatLE(value, index * 4));
  return bytes.toString('base64');
}
