/**
 * Plain text and Markdown as paragraphs for the chunker. Pure.
 */
import type { Paragraph } from './chunker.ts';

/** A text document's paragraphs, and its title when the text names one. */
export interface StructuredText {
  /** The first level-1 heading, when there is one. */
  readonly title: string | undefined;
  readonly paragraphs: Paragraph[];
}

/**
 * Paragraphs of plain text: blocks separated by blank lines, lines inside a
 * block joined (PDF text layers and hard-wrapped text break lines mid-sentence).
 */
export function plainTextParagraphs(text: string, page: number | null = null): Paragraph[] {
  return text
    .split(/\r?\n[ \t]*(?:\r?\n\s*)+/)
    .map((block) => block.replace(/\s+/g, ' ').trim())
    .filter((block) => block !== '')
    .map((block) => ({ text: block, page, heading: null }));
}

const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const SETEXT_UNDERLINE = /^ {0,3}(=+|-+)[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const LIST_ITEM = /^ {0,3}(?:[-*+]|\d{1,9}[.)])[ \t]+/;
const THEMATIC_BREAK = /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:_[ \t]*){3,})$/;

/**
 * Markdown as paragraphs under their headings (ATX `#` and setext underlines,
 * not inside fenced code). Links and images keep their text, quote markers and
 * HTML comments go; other syntax stays, as it reads fine to people, models and
 * full-text search alike. Each list item is a paragraph, so chunks end between
 * items rather than inside one. A file of headings only gives its headings.
 */
export function markdownParagraphs(markdown: string): StructuredText {
  const paragraphs: Paragraph[] = [];
  let title: string | undefined;
  let heading: string | null = null;
  const headings: string[] = [];
  let block: string[] = [];
  let fence: string | undefined;

  const flush = (): void => {
    const text = cleanInline(block.join(' '));
    if (text !== '') paragraphs.push({ text, page: null, heading });
    block = [];
  };
  const setHeading = (level: number, raw: string): void => {
    const text = cleanInline(raw);
    if (text === '') return;
    heading = text;
    headings.push(text);
    if (level === 1 && title === undefined) title = text;
  };

  for (const rawLine of stripComments(markdown).split(/\r?\n/)) {
    const line = rawLine.replace(/^ {0,3}>[ \t]?/, '');
    if (fence !== undefined) {
      if (line.trimStart().startsWith(fence)) {
        fence = undefined;
        flush();
      } else block.push(line);
      continue;
    }
    const fenceOpen = FENCE.exec(line);
    if (fenceOpen) {
      flush();
      fence = fenceOpen[1];
      continue;
    }
    const atx = ATX_HEADING.exec(line);
    if (atx) {
      flush();
      setHeading(atx[1]?.length ?? 1, atx[2] ?? '');
      continue;
    }
    const underline = SETEXT_UNDERLINE.exec(line);
    if (underline && block.length > 0) {
      // The paragraph just above is the heading's text.
      const text = block.join(' ');
      block = [];
      setHeading(underline[1]?.startsWith('=') ? 1 : 2, text);
      continue;
    }
    if (line.trim() === '' || underline || THEMATIC_BREAK.test(line)) {
      flush();
      continue;
    }
    if (LIST_ITEM.test(line)) flush();
    block.push(line);
  }
  flush();
  return { title, paragraphs: paragraphs.length > 0 ? paragraphs : headingsAsParagraphs(headings) };
}

/** A document of headings alone (an outline) is still worth finding: its headings become its text. */
export function headingsAsParagraphs(headings: readonly string[]): Paragraph[] {
  return headings.map((text) => ({ text, page: null, heading: null }));
}

function stripComments(markdown: string): string {
  return markdown.replace(/<!--[\s\S]*?-->/g, '');
}

/** Images and links become their text; whitespace collapses. */
function cleanInline(text: string): string {
  return text
    .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/\[([^\]]+)\]\([^)]*\)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}
