/**
 * HTML as paragraphs under their headings, for the chunker. Pure.
 *
 * A small tokenizer rather than a DOM: documents only need their visible
 * text in order, broken where blocks break, with h1-h6 as headings. Browsers'
 * error recovery (misnested tags, implied closes) does not matter for that:
 * any tag of a block element ends the current paragraph.
 */
import type { Paragraph } from './chunker.ts';
import { headingsAsParagraphs, type StructuredText } from './text-paragraphs.ts';

/** Elements whose content is never body text (a title is the title), removed with everything inside them. */
const HIDDEN_ELEMENTS = [
  'title',
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'iframe',
  'object',
  'nav',
];

/** Elements that start or end a paragraph (any of their tags breaks the text). */
const BLOCK_ELEMENTS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'dd',
  'details',
  'dialog',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'hr',
  'html',
  'legend',
  'li',
  'main',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'tr',
  'ul',
]);

/** A start or end tag: name, then attributes whose quoted values may contain '>'. */
const TAG = /<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;

/**
 * The visible text of an HTML document as paragraphs; the title is the
 * `<title>`, else the first `<h1>`. Scripts, styles, navigation menus and
 * comments are dropped; character references are decoded.
 */
export function htmlToText(html: string): StructuredText {
  const titleMatch = /<title\b[^>]*>([\s\S]*?)<\/title\s*>/i.exec(html);
  let title = titleMatch ? collapse(decodeEntities(stripTags(titleMatch[1] ?? ''))) : '';
  const body = removeHidden(html.replace(/<head(?=[\s/>])[\s\S]*?<\/head\s*>/i, ''));

  const paragraphs: Paragraph[] = [];
  let heading: string | null = null;
  const headings: string[] = [];
  let text = '';
  let headingText: string | undefined;

  const flush = (): void => {
    const paragraph = collapse(text);
    if (paragraph !== '') paragraphs.push({ text: paragraph, page: null, heading });
    text = '';
  };
  const append = (raw: string): void => {
    const decoded = decodeEntities(raw);
    if (headingText !== undefined) headingText += decoded;
    else text += decoded;
  };

  let position = 0;
  for (const match of body.matchAll(TAG)) {
    append(body.slice(position, match.index));
    position = match.index + match[0].length;
    const closing = match[1] === '/';
    const name = (match[2] ?? '').toLowerCase();
    if (/^h[1-6]$/.test(name)) {
      if (!closing) {
        flush();
        headingText = '';
      } else if (headingText !== undefined) {
        const found = collapse(headingText);
        headingText = undefined;
        if (found !== '') {
          heading = found;
          headings.push(found);
          if (name === 'h1' && title === '') title = found;
        }
      }
    } else if (BLOCK_ELEMENTS.has(name)) {
      if (headingText === undefined) flush();
    } else if ((name === 'td' || name === 'th') && !closing) {
      // A table row stays one paragraph, its cells separated as in a pipe table.
      if (headingText === undefined && collapse(text) !== '') text += ' | ';
    } else if (name === 'br' || name === 'img') {
      // A line break or a picture separates words even inside a paragraph.
      append(' ');
    }
  }
  append(body.slice(position));
  if (headingText !== undefined) text += headingText;
  flush();
  return {
    title: title === '' ? undefined : title,
    paragraphs: paragraphs.length > 0 ? paragraphs : headingsAsParagraphs(headings),
  };
}

/** Drops comments, CDATA, doctypes and hidden elements with their content (unclosed ones to the end). */
function removeHidden(html: string): string {
  let result = html.replace(/<!--[\s\S]*?(?:-->|$)/g, '').replace(/<!\[CDATA\[[\s\S]*?(?:\]\]>|$)/g, '');
  result = result.replace(/<[!?][^>]*>/g, '');
  for (const name of HIDDEN_ELEMENTS) {
    // The lookahead, not \b: a custom element such as <nav-menu> is visible content.
    result = result.replace(new RegExp(`<${name}(?=[\\s/>])[\\s\\S]*?(?:</${name}\\s*>|$)`, 'gi'), ' ');
  }
  return result;
}

function stripTags(html: string): string {
  return html.replace(TAG, ' ');
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** Named references common in real pages; others are left as written. */
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  ensp: ' ',
  emsp: ' ',
  thinsp: ' ',
  shy: '',
  zwj: '',
  zwnj: '',
  copy: '©',
  reg: '®',
  trade: '™',
  hellip: '…',
  mdash: '—',
  ndash: '–',
  minus: '−',
  lsquo: '‘',
  rsquo: '’',
  sbquo: '‚',
  ldquo: '“',
  rdquo: '”',
  bdquo: '„',
  laquo: '«',
  raquo: '»',
  bull: '•',
  middot: '·',
  deg: '°',
  times: '×',
  divide: '÷',
  plusmn: '±',
  frac12: '½',
  frac14: '¼',
  frac34: '¾',
  euro: '€',
  pound: '£',
  yen: '¥',
  cent: '¢',
  sect: '§',
  para: '¶',
  micro: 'µ',
  larr: '←',
  rarr: '→',
  uarr: '↑',
  darr: '↓',
  auml: 'ä',
  ouml: 'ö',
  uuml: 'ü',
  Auml: 'Ä',
  Ouml: 'Ö',
  Uuml: 'Ü',
  szlig: 'ß',
  eacute: 'é',
  egrave: 'è',
  ecirc: 'ê',
  aacute: 'á',
  agrave: 'à',
  acirc: 'â',
  ccedil: 'ç',
  iacute: 'í',
  oacute: 'ó',
  uacute: 'ú',
  ntilde: 'ñ',
  Eacute: 'É',
};

/** Decodes `&name;`, `&#123;` and `&#x1F600;`; invalid code points become U+FFFD, as browsers do. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z][a-zA-Z0-9]{1,31});/g, (whole, body) => {
    const reference = body as string;
    if (reference.startsWith('#')) {
      const hex = reference[1] === 'x' || reference[1] === 'X';
      const codePoint = Number.parseInt(reference.slice(hex ? 2 : 1), hex ? 16 : 10);
      const valid = codePoint > 0 && codePoint <= 0x10ffff && !(codePoint >= 0xd800 && codePoint <= 0xdfff);
      return valid ? String.fromCodePoint(codePoint) : '\uFFFD';
    }
    return NAMED_ENTITIES[reference] ?? whole;
  });
}
