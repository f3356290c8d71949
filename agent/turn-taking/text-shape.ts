/**
 * What the words of a transcript say about whether the speaker finished: a pure
 * classification of the text so far (finals plus the latest interim), used by the
 * turn-taking decision. English only; other languages get `open` (no opinion).
 *
 * - `question`: ends in "?", or starts like a question ("what", "can you") and does not trail off;
 * - `complete`: ends in ".", "!", or is a short answer ("yes", "thank you");
 * - `trailing`: ends on a word that needs a continuation ("and", "the", "to", "um") or on
 *   ",", ":", "...";
 * - `number`: a number is being read out and looks unfinished (one to three digits so
 *   far and no closing punctuation, as people read phone numbers, codes and card numbers
 *   in groups of three or four);
 * - `open`: words without any of those cues (a pause after a content word);
 * - `none`: no words yet.
 */
export type TextShape = 'question' | 'complete' | 'trailing' | 'number' | 'open' | 'none';

/** Words after which an English sentence cannot end: conjunctions, articles, prepositions, fillers. */
const TRAILING_WORDS = new Set(
  (
    'and or but so because since then if that than when while although though unless until whether ' +
    'the a an my your his her its our their this these those some any every each no ' +
    'of to for with in on at from about into onto by as like between through without over under after before ' +
    'um uh er erm hmm ' +
    'is are was were am be been being will would can could should shall may might must do does did have has had ' +
    "i you we they he she it it's i'm i'd i'll you're we're they're let's " +
    'very really just also maybe more most less please'
  ).split(' '),
);

/** First words that make a sentence a question when the STT gave no punctuation. */
const QUESTION_STARTERS = new Set(
  (
    "what whats what's where where's when who who's whom whose why how how's which " +
    "is are was were am do does did can could will would should shall may might have has had isn't aren't don't doesn't can't won't"
  ).split(' '),
);

/** Whole utterances that are complete on their own. */
const SHORT_ANSWERS = new Set([
  'yes',
  'no',
  'yeah',
  'yep',
  'nope',
  'okay',
  'ok',
  'sure',
  'thanks',
  'thank you',
  'thank you very much',
  'bye',
  'goodbye',
  'hello',
  'hi',
  'right',
  'correct',
  'exactly',
  'got it',
  'never mind',
  'stop',
]);

const NUMBER_WORDS = new Set(
  'zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand double triple'.split(
    ' ',
  ),
);

/** Words before a number that say "a number is being given", so even one digit may go on. */
const NUMBER_CONTEXT = new Set(
  'is number code pin zip extension phone at card account digits was order reference id plus dial call'.split(
    ' ',
  ),
);

/** Digits so far below which a number that is being read out is taken as unfinished. */
const COMPLETE_NUMBER_DIGITS = 4;

/** Classifies the text so far; see {@link TextShape}. */
export function textShape(text: string): TextShape {
  const trimmed = text.trim();
  if (trimmed === '') return 'none';
  const words = wordsOf(trimmed);
  if (words.length === 0) return 'none';
  const lastWord = words[words.length - 1] as string;
  const lastCharacter = trimmed[trimmed.length - 1] as string;

  if (trimmed.endsWith('...') || trimmed.endsWith('…')) return 'trailing';
  if (lastCharacter === '?') return 'question';
  if (TRAILING_WORDS.has(lastWord) && !SHORT_ANSWERS.has(words.join(' '))) return 'trailing';
  if (lastCharacter === ',' || lastCharacter === ':' || lastCharacter === ';' || lastCharacter === '-')
    return 'trailing';
  // The STT's closing punctuation outranks an unfinished-looking number ("caller number 3.").
  if (lastCharacter === '.' || lastCharacter === '!') return 'complete';
  if (numberInProgress(words)) return 'number';
  if (SHORT_ANSWERS.has(words.join(' '))) return 'complete';
  if (words.length >= 3 && QUESTION_STARTERS.has(words[0] as string)) return 'question';
  return 'open';
}

/** Lowercase words without surrounding punctuation ("Valve?" -> "valve", "555-1234" stays). */
function wordsOf(text: string): string[] {
  return text
    .toLowerCase()
    .split(/\s+/)
    .map((word) => word.replace(/^[^\p{L}\p{N}']+|[^\p{L}\p{N}']+$/gu, ''))
    .filter((word) => word !== '');
}

function isNumberToken(word: string): boolean {
  return /^\d[\d-]*$/.test(word) || NUMBER_WORDS.has(word);
}

/** Digits a number token stands for ("555" is three, "five" is one). */
function digitCount(word: string): number {
  return /^\d/.test(word) ? word.replace(/\D/g, '').length : 1;
}

/**
 * The text ends in a number that is being read out and is still short: one to three
 * digits after a word like "is" or "number", or a run of two or three digit words.
 */
function numberInProgress(words: string[]): boolean {
  let run = 0;
  let digits = 0;
  for (let index = words.length - 1; index >= 0 && isNumberToken(words[index] as string); index--) {
    run++;
    digits += digitCount(words[index] as string);
  }
  if (run === 0 || digits >= COMPLETE_NUMBER_DIGITS) return false;
  const before = words[words.length - run - 1];
  return run >= 2 || (before !== undefined && NUMBER_CONTEXT.has(before));
}
