import type { IdentifiedText } from '../media/index.ts';
import type { DocumentContent } from './document-content.ts';
import { htmlToText } from './html-to-text.ts';
import { markdownParagraphs, plainTextParagraphs } from './text-paragraphs.ts';

/** Plain text, Markdown (headings from `#`) or HTML (visible text, h1-h6 as headings) as paragraphs. */
export function readText(media: IdentifiedText): DocumentContent {
  const structured =
    media.kind === 'html'
      ? htmlToText(media.text)
      : media.kind === 'markdown'
        ? markdownParagraphs(media.text)
        : { title: undefined, paragraphs: plainTextParagraphs(media.text) };
  return { ...structured, pageCount: null, unreadablePages: [], transcribedPages: [] };
}
