/**
 * Splits a document's paragraphs into overlapping chunks sized for embedding
 * and for a model's context. Pure: no I/O, the same input always gives the
 * same chunks.
 *
 * Sizes are in estimated tokens (see {@link estimateTokens}): close enough to
 * any tokenizer to keep chunks well under embedding limits, without shipping
 * one model's vocabulary.
 */

import { countCjk, estimateTokens, splitSentences } from './sentences.ts';

export { estimateTokens } from './sentences.ts';

/** A paragraph of a document, with where it is and the heading it sits under. */
export interface Paragraph {
  readonly text: string;
  /** 1-based page number; null for documents without pages (text, Markdown, HTML, images). */
  readonly page: number | null;
  /** The nearest heading above the paragraph; null when there is none. */
  readonly heading: string | null;
}

/** One searchable piece of a document. */
export interface Chunk {
  /** Paragraphs separated by a blank line, sentences by a space. */
  readonly text: string;
  readonly pageStart: number | null;
  readonly pageEnd: number | null;
  readonly heading: string | null;
  /** Estimated tokens of `text`. */
  readonly tokens: number;
  /** Of a recording's passage: where it starts and ends in the recording, in ms (absent for documents). */
  readonly startMs?: number | null;
  readonly endMs?: number | null;
  /** Who speaks at `startMs` ("Speaker 1"), when the transcription service told speakers apart. */
  readonly speaker?: string | null;
}

/** How large chunks get. */
export interface ChunkOptions {
  /** Most estimated tokens per chunk (default 400). */
  readonly targetTokens?: number;
  /** Tokens repeated from the end of one chunk at the start of the next under the same heading (default 60, 15%). */
  readonly overlapTokens?: number;
}

const DEFAULT_TARGET_TOKENS = 400;
const DEFAULT_OVERLAP_TOKENS = 60;
/** A chunk at least this full ends at a paragraph boundary rather than mid-paragraph. */
const PARAGRAPH_BREAK_FILL = 0.5;

/** A sentence, or a run of words of an over-long sentence: the unit chunks are packed from. */
interface Piece {
  readonly text: string;
  readonly tokens: number;
  /** CJK characters in `text`, and all other characters, for exact token counts of joined pieces. */
  readonly cjk: number;
  readonly other: number;
  readonly page: number | null;
  /** Index of its paragraph in the input, to join pieces of one paragraph with a space. */
  readonly paragraph: number;
}

/**
 * Packs paragraphs into chunks of at most `targetTokens` (a single word longer
 * than that is the only exception, see below), under these rules:
 * - a new heading starts a new chunk, so a chunk's heading is true for all of it;
 * - so does a new page, so a PDF chunk cites exactly one page; it carries
 *   over only a sentence the previous page left unfinished, as context that
 *   does not count in its page range (more would put one page's facts under
 *   the next page's number when pages are short);
 * - a chunk ends at a paragraph boundary once it is at least half full, and
 *   otherwise between sentences; a sentence longer than a chunk is split
 *   between words, never inside one;
 * - consecutive chunks under the same heading share up to `overlapTokens` of
 *   text (whole sentences when they fit, else the last words), so a passage cut
 *   at a boundary is still found whole in one of them;
 * - a "word" longer than a whole chunk (base64, a hash table dump) is cut by
 *   characters, as it is not language and would otherwise exceed the
 *   embedding model's input limit.
 */
export function chunkParagraphs(paragraphs: readonly Paragraph[], options: ChunkOptions = {}): Chunk[] {
  const target = options.targetTokens ?? DEFAULT_TARGET_TOKENS;
  const overlap = Math.min(options.overlapTokens ?? DEFAULT_OVERLAP_TOKENS, Math.floor(target / 2));
  if (!Number.isInteger(target) || target < 8) throw new RangeError(`targetTokens must be at least 8`);

  const chunks: Chunk[] = [];
  const current = new PieceRun();
  let fresh = false;
  let heading: string | null = null;
  let page: number | null = null;

  /** Ends the chunk; the next starts with its overlap, only an unfinished sentence (a new page), or nothing. */
  const emit = (carry: 'overlap' | 'unfinished-sentence' | 'nothing'): void => {
    if (!fresh) return;
    chunks.push(assemble(current.pieces, current.carried, heading));
    const last = current.pieces.at(-1);
    current.reset(
      carry === 'overlap'
        ? overlapOf(current.pieces, overlap)
        : carry === 'unfinished-sentence' && last !== undefined && !SENTENCE_FINAL.test(last.text)
          ? overlapOf([last], overlap)
          : [],
    );
    fresh = false;
  };
  const add = (piece: Piece): void => {
    if (current.tokensWith(piece) > target) emit('overlap');
    // The carried overlap gives way when it and the next piece do not fit together.
    if (current.tokensWith(piece) > target) current.reset([]);
    current.push(piece);
    fresh = true;
  };

  paragraphs.forEach((paragraph, index) => {
    const pieces = splitParagraph(paragraph, index, target);
    if (pieces.length === 0) return;
    if (paragraph.heading !== heading) {
      emit('nothing');
      current.reset([]);
      heading = paragraph.heading;
    } else if (paragraph.page !== page) emit('unfinished-sentence');
    page = paragraph.page;
    const paragraphTokens = sumTokens(pieces);
    if (current.tokens + paragraphTokens > target && current.tokens >= target * PARAGRAPH_BREAK_FILL) {
      emit('overlap');
    }
    pieces.forEach(add);
  });
  emit('nothing');
  return chunks;
}

/** Text that ends a sentence: terminal punctuation, then optional closing quotes or brackets. */
const SENTENCE_FINAL = /[.!?…。！？]["'”’)\]]*$/u;

/** The pieces of the chunk being built, with their estimated tokens as joined (separators included). */
class PieceRun {
  pieces: Piece[] = [];
  /** How many of the first pieces were carried over from the previous chunk. */
  carried = 0;
  private cjk = 0;
  private other = 0;

  get tokens(): number {
    return Math.ceil(this.other / 4) + this.cjk;
  }

  /** Tokens once `piece` is appended, exactly as {@link estimateTokens} would count the joined text. */
  tokensWith(piece: Piece): number {
    return (
      Math.ceil((this.other + this.separatorBefore(piece).length + piece.other) / 4) + this.cjk + piece.cjk
    );
  }

  push(piece: Piece): void {
    this.other += this.separatorBefore(piece).length + piece.other;
    this.cjk += piece.cjk;
    this.pieces.push(piece);
  }

  reset(pieces: readonly Piece[]): void {
    this.pieces = [];
    this.cjk = 0;
    this.other = 0;
    pieces.forEach((piece) => this.push(piece));
    this.carried = pieces.length;
  }

  private separatorBefore(piece: Piece): string {
    const last = this.pieces.at(-1);
    return last === undefined ? '' : separator(last, piece);
  }
}

/** Sentences of one paragraph are joined by a space, paragraphs by a blank line. */
function separator(previous: Piece, next: Piece): string {
  return previous.paragraph === next.paragraph ? ' ' : '\n\n';
}

function sumTokens(pieces: readonly Piece[]): number {
  return pieces.reduce((total, piece) => total + piece.tokens, 0);
}

/** The chunk's text; its page range counts only the pieces after the `carried` overlap. */
function assemble(pieces: readonly Piece[], carried: number, heading: string | null): Chunk {
  let text = '';
  pieces.forEach((piece, index) => {
    const previous = pieces[index - 1];
    if (previous !== undefined) text += separator(previous, piece);
    text += piece.text;
  });
  const pages = pieces
    .slice(carried)
    .map((piece) => piece.page)
    .filter((page): page is number => page !== null);
  return {
    text,
    pageStart: pages.length > 0 ? Math.min(...pages) : null,
    pageEnd: pages.length > 0 ? Math.max(...pages) : null,
    heading,
    tokens: estimateTokens(text),
  };
}

/** The tail of a chunk to repeat in the next: whole trailing pieces, or the last words of the last one. */
function overlapOf(pieces: readonly Piece[], overlapTokens: number): Piece[] {
  if (overlapTokens <= 0) return [];
  const carried: Piece[] = [];
  let tokens = 0;
  for (let index = pieces.length - 1; index >= 0; index--) {
    const piece = pieces[index] as Piece;
    if (tokens + piece.tokens > overlapTokens) break;
    carried.unshift(piece);
    tokens += piece.tokens;
  }
  if (carried.length > 0) return carried;
  const last = pieces.at(-1);
  if (last === undefined) return [];
  const words = last.text.split(' ');
  let tail = '';
  for (let index = words.length - 1; index > 0; index--) {
    const candidate = tail === '' ? (words[index] as string) : `${words[index]} ${tail}`;
    if (estimateTokens(candidate) > overlapTokens) break;
    tail = candidate;
  }
  return tail === '' ? [] : [pieceOf(tail, last.page, last.paragraph)];
}

function pieceOf(text: string, page: number | null, paragraph: number): Piece {
  const cjk = countCjk(text);
  return {
    text,
    tokens: Math.ceil((text.length - cjk) / 4) + cjk,
    cjk,
    other: text.length - cjk,
    page,
    paragraph,
  };
}

/** A paragraph as pieces no larger than `target`, whitespace collapsed. */
function splitParagraph(paragraph: Paragraph, index: number, target: number): Piece[] {
  const text = paragraph.text.replace(/\s+/g, ' ').trim();
  if (text === '') return [];
  return splitSentences(text, target).map((sentence) => pieceOf(sentence, paragraph.page, index));
}
