import { describe, expect, it } from 'vitest';
import { cosineSimilarity, embedText, embeddingTokens, embeddingToBase64, stem } from './text-embedding.ts';
import type { EmbeddingSettings } from './text-embedding.ts';

const settings: EmbeddingSettings = { dimensions: 256, synonyms: [['physician', 'doctor']] };

describe('fake text embeddings', () => {
  it('tokenizes to stemmed content words with synonyms folded', () => {
    expect(embeddingTokens('What is the code for the Blue Valves?')).toEqual(['code', 'blue', 'valve']);
    expect(embeddingTokens('my doctor', settings.synonyms)).toEqual(['physician']);
    expect(['opening', 'opened', 'boxes', 'cities', 'glass'].map(stem)).toEqual([
      'open',
      'open',
      'boxe',
      'city',
      'glass',
    ]);
  });

  it('is deterministic, unit length, and ranks related text first', () => {
    const query = embedText('Where does my sister live?', settings);
    expect(embedText('Where does my sister live?', settings)).toEqual(query);
    expect(Math.hypot(...query)).toBeCloseTo(1, 12);
    const related = embedText('My sister lives in Lyon.', settings);
    const unrelated = embedText('The blue valve code is 4417.', settings);
    expect(cosineSimilarity(query, related)).toBeGreaterThan(0.5);
    expect(cosineSimilarity(query, unrelated)).toBeLessThan(0.2);
    expect(
      cosineSimilarity(embedText('see a physician', settings), embedText('see a doctor', settings)),
    ).toBeCloseTo(1, 12);
  });

  it('gives empty text a direction, and encodes base64 as little-endian float32', () => {
    expect(Math.hypot(...embedText('', settings))).toBeCloseTo(1, 12);
    const encoded = Buffer.from(embeddingToBase64([0.5, -1]), 'base64');
    expect([encoded.readFloatLE(0), encoded.readFloatLE(4)]).toEqual([0.5, -1]);
  });
});
