/**
 * Removes citation markers such as `[S1]` or `[S2, S3]` from streamed model text,
 * and reports which source ids were cited. Text arrives in arbitrary pieces, so a
 * marker may be split across chunks ("... [S" + "1] ..."): a possible marker is held
 * back until it is complete or proves not to be one.
 */
export class CitationMarkerFilter {
  /** Held-back text: trailing whitespace (a marker may follow it) and an unfinished "[...". */
  private buffer = '';
  readonly cited: string[] = [];

  /** Feeds a piece of text; returns what can be passed on now, markers removed. */
  push(text: string): string {
    this.buffer += text;
    let output = '';
    for (;;) {
      const open = this.buffer.indexOf('[');
      const before = open === -1 ? this.buffer : this.buffer.slice(0, open);
      // Whitespace right before a marker goes with it ("fact [S1]." -> "fact."), so hold it back.
      const space = /\s*$/.exec(before)?.[0] ?? '';
      output += before.slice(0, before.length - space.length);
      if (open === -1) {
        this.buffer = space;
        return output;
      }
      const rest = this.buffer.slice(open);
      const close = rest.indexOf(']');
      if (close === -1 && MARKER_PREFIX.test(rest) && rest.length <= MAX_MARKER_LENGTH) {
        this.buffer = space + rest;
        return output;
      }
      const match = close === -1 ? null : MARKER.exec(rest.slice(0, close + 1));
      if (match) {
        this.cited.push(...(match[1] ?? '').split(',').map((id) => id.trim().toUpperCase()));
        this.buffer = rest.slice(close + 1);
      } else {
        output += `${space}[`;
        this.buffer = rest.slice(1);
      }
    }
  }

  /** Ends the stream: returns held-back text that turned out not to be a marker. */
  end(): string {
    const rest = this.buffer;
    this.buffer = '';
    return rest;
  }
}

const MARKER = /^\[\s*(S\d+(?:\s*,\s*S\d+)*)\s*\]$/i;
const MARKER_PREFIX = /^\[\s*(?:S\d*(?:\s*,\s*(?:S\d*)?)*)?\s*$/i;
const MAX_MARKER_LENGTH = 40;

/** Removes markers from a complete text at once. */
export function stripCitationMarkers(text: string): { text: string; cited: string[] } {
  const filter = new CitationMarkerFilter();
  const cleaned = filter.push(text) + filter.end();
  return { text: cleaned, cited: filter.cited };
}
