import { describe, expect, it } from 'vitest';
import { chunkParagraphs, estimateTokens, type Chunk, type Paragraph } from './chunker.ts';

/** Numbered words (w1 w2 ...) so any run of them is found in exactly one place of the source. */
function numberedSentences(count: number, wordsPerSentence: number, start = 0): string {
  const sentences: string[] = [];
  for (let sentence = 0; sentence < count; sentence++) {
    const words = Array.from(
      { length: wordsPerSentence },
      (_, word) => `w${start + sentence * wordsPerSentence + word}`,
    );
    sentences.push(`${words.join(' ')}.`);
  }
  return sentences.join(' ');
}

const paragraph = (text: string, extra: Partial<Paragraph> = {}): Paragraph => ({
  text,
  page: null,
  heading: null,
  ...extra,
});

/** The source as one line of words, and a chunk as the same: separators do not matter for containment. */
const flat = (text: string): string => ` ${text.replace(/\s+/g, ' ').trim()} `;

function expectContiguousWholeWords(chunks: readonly Chunk[], paragraphs: readonly Paragraph[]): void {
  const source = flat(paragraphs.map((entry) => entry.text).join(' '));
  for (const chunk of chunks) {
    // Padded with spaces on both sides: found only where it starts and ends between words.
    expect(source).toContain(flat(chunk.text));
  }
}

describe('estimateTokens', () => {
  it('counts about four characters of Latin text per token, rounded up', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('abcd')).toBe(1);
    expect(estimateTokens('abcde')).toBe(2);
    expect(estimateTokens('x'.repeat(1600))).toBe(400);
  });

  it('counts each CJK character as a token', () => {
    expect(estimateTokens('請求書の合計')).toBe(6);
    expect(estimateTokens('Total 合計')).toBe(Math.ceil(6 / 4) + 2);
  });
});

describe('chunkParagraphs', () => {
  it('returns nothing for no text', () => {
    expect(chunkParagraphs([])).toEqual([]);
    expect(chunkParagraphs([paragraph('   \n  ')])).toEqual([]);
  });

  it('keeps short paragraphs together, separated by a blank line', () => {
    const chunks = chunkParagraphs([
      paragraph('First  paragraph\nwrapped.', { page: 2 }),
      paragraph('Second paragraph.', { page: 2 }),
    ]);
    expect(chunks).toEqual([
      {
        text: 'First paragraph wrapped.\n\nSecond paragraph.',
        pageStart: 2,
        pageEnd: 2,
        heading: null,
        tokens: estimateTokens('First paragraph wrapped.\n\nSecond paragraph.'),
      },
    ]);
  });

  it('starts each page in a new chunk that cites only that page, carrying over only an unfinished sentence', () => {
    const chunks = chunkParagraphs(
      [
        paragraph('Page one opens. The clearance must be', { page: 1 }),
        paragraph('0.4 mm after assembly. Page two goes on.', { page: 2 }),
        paragraph('Page three.', { page: 3 }),
      ],
      { targetTokens: 400, overlapTokens: 6 },
    );
    expect(chunks.map((chunk) => [chunk.pageStart, chunk.pageEnd, chunk.text])).toEqual([
      [1, 1, 'Page one opens. The clearance must be'],
      [2, 2, 'The clearance must be\n\n0.4 mm after assembly. Page two goes on.'],
      [3, 3, 'Page three.'],
    ]);
  });

  it('stays within the size, covers every word, and never cuts a word', () => {
    const paragraphs = [0, 1, 2, 3].map((index) =>
      paragraph(numberedSentences(20, 13, index * 1000), { page: index + 1 }),
    );
    const chunks = chunkParagraphs(paragraphs, { targetTokens: 120, overlapTokens: 18 });
    expect(chunks.length).toBeGreaterThan(5);
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(120);
    expectContiguousWholeWords(chunks, paragraphs);
    const covered = new Set(chunks.flatMap((chunk) => chunk.text.split(/\s+/)));
    for (const word of paragraphs.flatMap((entry) => entry.text.split(' '))) expect(covered).toContain(word);
  });

  it('overlaps consecutive chunks by whole sentences, within the overlap size', () => {
    const sentences = numberedSentences(40, 8);
    const chunks = chunkParagraphs([paragraph(sentences)], { targetTokens: 100, overlapTokens: 15 });
    expect(chunks.length).toBeGreaterThan(3);
    for (let index = 1; index < chunks.length; index++) {
      const previous = (chunks[index - 1] as Chunk).text;
      const current = (chunks[index] as Chunk).text;
      // Each sentence is 8 words of ~3.5 characters: about 10 tokens, so exactly one fits in 15.
      const firstSentence = current.slice(0, current.indexOf('.') + 1);
      expect(previous.endsWith(firstSentence)).toBe(true);
      expect(estimateTokens(firstSentence)).toBeLessThanOrEqual(15);
    }
  });

  it('ends chunks at sentence ends when a paragraph is larger than a chunk', () => {
    const chunks = chunkParagraphs([paragraph(numberedSentences(30, 12))], {
      targetTokens: 100,
      overlapTokens: 0,
    });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(chunk.text).toMatch(/\.$/);
  });

  it('prefers to end at a paragraph boundary once a chunk is half full', () => {
    // Paragraphs of ~60 tokens with a target of 100: a second paragraph would not fit whole.
    const paragraphs = [0, 1, 2, 3, 4].map((index) => paragraph(numberedSentences(5, 8, 1000 + index * 100)));
    for (const entry of paragraphs) expect(estimateTokens(entry.text)).toBeGreaterThan(55);
    const chunks = chunkParagraphs(paragraphs, { targetTokens: 100, overlapTokens: 0 });
    expect(chunks.map((chunk) => chunk.text)).toEqual(paragraphs.map((entry) => entry.text));
  });

  it('splits an over-long sentence between words, and cuts only a "word" longer than a chunk', () => {
    const longSentence = Array.from({ length: 400 }, (_, index) => `word${index}`).join(' ');
    const blob = 'QUJD'.repeat(500);
    const paragraphs = [paragraph(longSentence), paragraph(blob)];
    const chunks = chunkParagraphs(paragraphs, { targetTokens: 100, overlapTokens: 10 });
    for (const chunk of chunks) expect(chunk.tokens).toBeLessThanOrEqual(100);
    const wordChunks = chunks.filter((chunk) => chunk.text.startsWith('word'));
    expectContiguousWholeWords(wordChunks, [paragraph(longSentence)]);
    const blobText = chunks
      .map((chunk) => chunk.text)
      .filter((text) => text.startsWith('QUJD'))
      .join('');
    expect(blobText).toBe(blob);
  });

  it('starts a new chunk at each heading and carries no overlap across it', () => {
    const chunks = chunkParagraphs(
      [
        paragraph('Unpack the device. Plug it in.', { heading: 'Setup' }),
        paragraph('The warranty lasts two years.', { heading: 'Warranty' }),
        paragraph('Keep the receipt.', { heading: 'Warranty' }),
      ],
      { targetTokens: 400, overlapTokens: 60 },
    );
    expect(chunks.map((chunk) => [chunk.heading, chunk.text])).toEqual([
      ['Setup', 'Unpack the device. Plug it in.'],
      ['Warranty', 'The warranty lasts two years.\n\nKeep the receipt.'],
    ]);
  });

  it('splits CJK text at its full stops, which have no space after them', () => {
    const sentence = '請求書の合計金額は四千四百十七円です。';
    const chunks = chunkParagraphs([paragraph(sentence.repeat(12))], { targetTokens: 60, overlapTokens: 0 });
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) {
      expect(chunk.tokens).toBeLessThanOrEqual(60);
      expect(chunk.text.replace(/ /g, '')).toMatch(/^(請求書の合計金額は四千四百十七円です。)+$/);
    }
  });

  it('is deterministic', () => {
    const paragraphs = [paragraph(numberedSentences(50, 9), { page: 1, heading: 'A' })];
    expect(chunkParagraphs(paragraphs)).toEqual(chunkParagraphs(paragraphs));
  });
});
