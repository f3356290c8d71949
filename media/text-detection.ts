/**
 * Telling text from binary, and HTML or SVG from other text, by content.
 * file-type recognises binary formats by their magic numbers and returns
 * nothing for text, so these rules take over where it stops.
 */

/**
 * The content of strictly valid UTF-8 without NUL bytes, byte-order mark
 * removed; undefined for anything else (binary data, Latin-1, UTF-16). NUL
 * never occurs in real text but is common in binary formats that happen to
 * decode as UTF-8 for a stretch.
 */
export function decodeUtf8Text(bytes: Uint8Array): string | undefined {
  if (bytes.indexOf(0) !== -1) return undefined;
  try {
    // ignoreBOM false means the decoder consumes a leading byte-order mark.
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return undefined;
  }
}

/** A UTF-16 byte-order mark (either byte order): text, but not in an encoding we read. */
export function hasUtf16ByteOrderMark(bytes: Uint8Array): boolean {
  return (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
}

/** Leading whitespace, XML declarations and comments, skipped before looking at the first tag. */
const PROLOGUE = /^(?:\s+|<\?xml[^>]*>|<!--[\s\S]*?-->)*/;

/** The start of the first real markup, lower-cased; only the first 4 KB are looked at. */
function firstMarkup(text: string): string {
  return text.slice(0, 4096).replace(PROLOGUE, '').slice(0, 64).toLowerCase();
}

/** An HTML document: it opens with an HTML doctype or an html, head or body tag. A fragment does not count. */
export function looksLikeHtml(text: string): boolean {
  return /^(?:<!doctype html|<html[\s>]|<head[\s>]|<body[\s>])/.test(firstMarkup(text));
}

/** An SVG image, which is XML text but a picture, and one we do not rasterise. */
export function looksLikeSvg(text: string): boolean {
  return /^(?:<!doctype svg|<svg[\s>])/.test(firstMarkup(text));
}
