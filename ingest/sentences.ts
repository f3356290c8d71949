/**
 * Token estimates and sentence splitting for the chunker. Pure.
 */

/** Ideographs and kana: each is roughly one token, where Latin text averages four characters per token. */
const CJK_CHARACTER = /[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]/gu;

/**
 * Estimated tokens of `text`: one per CJK character plus one per four other
 * characters, rounded up. English prose averages about four characters per
 * token in OpenAI's tokenizers; counting CJK characters singly keeps Chinese
 * or Japanese text from being underestimated fourfold.
 */
export function estimateTokens(text: string): number {
  const cjk = countCjk(text);
  return Math.ceil((text.length - cjk) / 4) + cjk;
}

/** CJK characters in `text`, each counted as a token of its own. */
export function countCjk(text: string): number {
  return text.match(CJK_CHARACTER)?.length ?? 0;
}

/**
 * Sentence ends: terminal punctuation, optional closing quotes or brackets, then
 * whitespace; or CJK full stops, which need no space after them.
 */
const SENTENCE_END = /(?<=[.!?…]["'”’)\]]*)\s+|(?<=[。！？])/u;

/**
 * The sentences of whitespace-collapsed `text`, each at most `maxTokens`: a
 * longer sentence is split into runs of whole words, and only a "word" longer
 * than `maxTokens` by itself (base64, a hash table dump) is cut by characters.
 */
export function splitSentences(text: string, maxTokens: number): string[] {
  const sentences: string[] = [];
  for (const sentence of text.split(SENTENCE_END)) {
    const trimmed = sentence.trim();
    if (trimmed === '') continue;
    if (estimateTokens(trimmed) <= maxTokens) sentences.push(trimmed);
    else sentences.push(...splitLongSentence(trimmed, maxTokens));
  }
  return sentences;
}

/** Estimated tokens of a string built up piece by piece, without rescanning it. */
class TokenTally {
  private cjk = 0;
  private other = 0;
  get tokens(): number {
    return Math.ceil(this.other / 4) + this.cjk;
  }
  /** Tokens after appending `text`, without appending it. */
  tokensWith(text: string): number {
    const cjk = countCjk(text);
    return Math.ceil((this.other + text.length - cjk) / 4) + this.cjk + cjk;
  }
  add(text: string): void {
    const cjk = countCjk(text);
    this.cjk += cjk;
    this.other += text.length - cjk;
  }
}

/**
 * Runs of whole words of at most `target` tokens; a word longer than that alone
 * is cut by characters. Counted incrementally: a 100 000-word paragraph without
 * punctuation (a table dump) must not take quadratic time.
 */
function splitLongSentence(sentence: string, target: number): string[] {
  const runs: string[] = [];
  let run: string[] = [];
  let tally = new TokenTally();
  const flush = (): void => {
    if (run.length > 0) runs.push(run.join(' '));
    run = [];
    tally = new TokenTally();
  };
  for (const word of sentence.split(' ')) {
    const separator = run.length > 0 ? ' ' : '';
    if (tally.tokensWith(separator + word) <= target) {
      tally.add(separator + word);
      run.push(word);
      continue;
    }
    flush();
    if (estimateTokens(word) <= target) {
      tally.add(word);
      run.push(word);
      continue;
    }
    const parts = cutByCharacters(word, target);
    runs.push(...parts.slice(0, -1));
    const last = parts.at(-1) ?? '';
    tally.add(last);
    run.push(last);
  }
  flush();
  return runs;
}

/** Cuts between code points (never inside a surrogate pair) into parts of at most `target` tokens. */
function cutByCharacters(word: string, target: number): string[] {
  const parts: string[] = [];
  let part = '';
  let tally = new TokenTally();
  for (const character of word) {
    if (part !== '' && tally.tokensWith(character) > target) {
      parts.push(part);
      part = '';
      tally = new TokenTally();
    }
    part += character;
    tally.add(character);
  }
  if (part !== '') parts.push(part);
  return parts;
}
