import type { Citation, TranscriptEvent } from '../../../protocol/index.ts';

/** One line of the live transcript. */
export interface TranscriptLine {
  id: number;
  role: 'user' | 'assistant';
  text: string;
  final: boolean;
  interrupted: boolean;
  citations: Citation[];
}

/**
 * The live transcript: each role has at most one open (interim) line, which later
 * interim text replaces and the final text closes. Roles interleave freely (the user
 * may start speaking while an answer is still being written out).
 */
export class Transcript {
  readonly lines: TranscriptLine[] = [];
  private readonly open = new Map<TranscriptLine['role'], TranscriptLine>();
  private nextId = 1;

  /** Applies a transcript message; returns the line it created or changed, if any. */
  apply(message: TranscriptEvent): TranscriptLine | undefined {
    const citations = message.role === 'assistant' ? (message.citations ?? []) : [];
    const interrupted = message.role === 'assistant' && message.interrupted === true;
    let line = this.open.get(message.role);
    if (!line) {
      if (message.text.trim() === '') return undefined;
      const last = this.lines.at(-1);
      // The same answer finalised twice (LiveKit sends the text and the citations apart).
      if (message.final && last?.role === message.role && last.final && last.text === message.text) {
        if (citations.length > 0) last.citations = citations;
        return last;
      }
      line = {
        id: this.nextId++,
        role: message.role,
        text: '',
        final: false,
        interrupted: false,
        citations: [],
      };
      this.lines.push(line);
    }
    line.text = message.text;
    line.final = message.final;
    line.interrupted = interrupted;
    if (citations.length > 0) line.citations = citations;
    if (message.final) this.open.delete(message.role);
    else this.open.set(message.role, line);
    // An interrupted answer may end with no words heard: drop the empty line.
    if (message.final && message.text.trim() === '') {
      this.lines.splice(this.lines.indexOf(line), 1);
      return { ...line, text: '' };
    }
    return line;
  }

  clear(): void {
    this.lines.length = 0;
    this.open.clear();
  }
}
