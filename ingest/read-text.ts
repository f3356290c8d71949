import type { IdentifiedText } from '../media/index.ts';
import { htmlToText } from './html-to-text.ts';
import { markdownParagraphs, plainTextParagraphs, type StructuredText } from './text-paragraphs.ts';

/** Plain text, Markdown (headings from `#`) or HTML (visible text, h1-h6 as headings) as paragraphs. */
export function readText(media: IdentifiedText): StructuredText {
  if (media.kind === 'html') return htmlToText(media.text);
  if (media.kind === 'markdown') return markdownParagraphs(media.text);
  return { title: undefined, paragraphs: plainTextParagraphs(media.text) };
}
