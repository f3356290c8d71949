/**
 * What the user said in the current turn, and whether a tool's arguments come from it.
 * Tools that change what is stored (remember, forget, link_web_account) act only on
 * the user's own words: a document, a memory or a tool result may tell the model to
 * call them, but it cannot make the arguments appear in what the user said.
 */

/** The user's words of the turn being answered, as the Assistant last saw them. */
export class UserTurn {
  private current = '';

  /** The text of the user's latest message (a transcript or what they typed). */
  get text(): string {
    return this.current;
  }

  update(text: string): void {
    this.current = text;
  }
}

/** Marks a user-role message that the app wrote (an upload notice), not the user. */
export const APP_WRITTEN = 'appWritten';

/**
 * Words that carry no fact of their own: articles, pronouns, auxiliaries, the verbs of
 * asking to remember or forget, and the ways a model refers to the user.
 */
const FILLER_WORDS = new Set(
  (
    'a an the and or but if then so that this these those there here it its is are was were be been being am ' +
    'do does did have has had will would shall should can could may might must of to in on at by for from ' +
    'with about as into onto over under than too very just also not no yes please ok okay thank thanks ' +
    'i me my mine myself we us our ours you your yours he him his she her hers they them their theirs ' +
    'user caller person someone somebody assistant fact memory memories ' +
    'remember note keep mind save store memorize forget delete erase remove drop unlearn stop anymore ' +
    'what which who whom whose when where why how s t d ll re ve m don didn doesn isn aren wasn weren'
  ).split(' '),
);

/** Cue words of a request to forget something. */
const FORGET_CUE =
  /\b(?:forget|delete|erase|remove|drop|unlearn|stop remembering|no longer remember|don'?t remember)\b/i;

const UNITS = (
  'zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen ' +
  'sixteen seventeen eighteen nineteen'
).split(' ');
const ORDINAL_UNITS = (
  '- first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth thirteenth ' +
  'fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth'
).split(' ');
const TENS = '- - twenty thirty forty fifty sixty seventy eighty ninety'.split(' ');
const ORDINAL_TENS =
  '- - twentieth thirtieth fortieth fiftieth sixtieth seventieth eightieth ninetieth'.split(' ');

const NUMBER_WORDS = new Map<string, number>([
  ...UNITS.map((word, value) => [word, value] as const),
  ...ORDINAL_UNITS.map((word, value) => [word, value] as const).filter(([word]) => word !== '-'),
  ...TENS.map((word, value) => [word, value * 10] as const).filter(([word]) => word !== '-'),
  ...ORDINAL_TENS.map((word, value) => [word, value * 10] as const).filter(([word]) => word !== '-'),
]);

/**
 * The words of a text, compared loosely: Unicode-normalized (fullwidth letters become
 * plain ones), invisible characters removed, lower case, number words and ordinals as
 * digits ("twenty five", "25th" -> "25"), a plural or possessive "s" dropped.
 */
export function wordsOf(text: string): string[] {
  const tokens = text
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token !== '');
  const words: string[] = [];
  for (let index = 0; index < tokens.length; index += 1) {
    const token = tokens[index] as string;
    const ordinal = /^(\d+)(?:st|nd|rd|th)$/.exec(token);
    const value = ordinal ? Number(ordinal[1]) : NUMBER_WORDS.get(token);
    if (value === undefined) {
      words.push(
        token.length > 3 && token.endsWith('s') && !token.endsWith('ss') ? token.slice(0, -1) : token,
      );
      continue;
    }
    // "twenty five" is one number; "four three" are two digits.
    const next = NUMBER_WORDS.get(tokens[index + 1] ?? '');
    if (value >= 20 && value % 10 === 0 && next !== undefined && next > 0 && next < 10) {
      words.push(String(value + next));
      index += 1;
    } else words.push(String(value));
  }
  return words;
}

/** The words of a text that carry facts (see FILLER_WORDS). */
export function contentWords(text: string): string[] {
  return wordsOf(text).filter((word) => !FILLER_WORDS.has(word));
}

/**
 * The digits the user said, consecutive number words and digit groups run together
 * ("1234 5678", "one two three four" -> "12345678", "1234"), runs separated by "|".
 */
function digitRuns(words: readonly string[]): string {
  let runs = '';
  let previousWasNumber = false;
  for (const word of words) {
    const isNumber = /^\d+$/.test(word);
    if (isNumber) runs += word;
    else if (previousWasNumber) runs += '|';
    previousWasNumber = isNumber;
  }
  return runs;
}

/**
 * The content words of `claim` that the user did not say in `userText` (empty when
 * the claim is grounded). A number is grounded when its digits appear in a run of
 * digits the user said.
 */
export function ungroundedWords(claim: string, userText: string): string[] {
  const userWords = wordsOf(userText);
  const said = new Set(userWords);
  const digits = digitRuns(userWords);
  return contentWords(claim).filter((word) =>
    /^\d+$/.test(word) ? !digits.includes(word) : !said.has(word),
  );
}

/** Whether the digits of `code` were said by the user, together, in `userText`. */
export function digitsSaid(code: string, userText: string): boolean {
  const digits = code.replace(/\D/g, '');
  return digits !== '' && digitRuns(wordsOf(userText)).includes(digits);
}

/** Whether the user asked to forget (or delete, erase, remove) something in `userText`. */
export function askedToForget(userText: string): boolean {
  return FORGET_CUE.test(userText.normalize('NFKC').replace(/\p{Cf}/gu, ''));
}
