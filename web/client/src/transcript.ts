import type { Citation, TranscriptEvent, TurnTimingsEvent } from '../../../protocol/index.ts';

/** One line of the live transcript. */
export interface TranscriptLine {
  id: number;
  role: 'user' | 'assistant';
  text: string;
  final: boolean;
  interrupted: boolean;
  citations: Citation[];
  /** The turn a final line belongs to: its timings attach to the answer. */
  turnId?: string;
  /** Where the answer's time went, once the turn finished. */
  timings?: TurnTimingsEvent;
}

/**
 * The live transcript: each role has at most one open (interim) line, which later
 * interim text replaces and the final text closes. Roles interleave freely (the user
 * may start speaking while an answer is still being written out).
 */
export class Transcript {
  readonly lines: TranscriptLine[] = [];
  private readonly open = new Map<TranscriptLine['role'], TranscriptLine>();
  /** Timings that arrived before their answer's final line (LiveKit delivers the two apart). */
  private readonly earlyTimings = new Map<string, TurnTimingsEvent>();
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
        this.linkTurn(last, message.turnId);
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
    if (message.final) this.linkTurn(line, message.turnId);
    if (message.final) this.open.delete(message.role);
    else this.open.set(message.role, line);
    // An interrupted answer may end with no words heard: drop the empty line.
    if (message.final && message.text.trim() === '') {
      this.lines.splice(this.lines.indexOf(line), 1);
      return { ...line, text: '' };
    }
    return line;
  }

  /** Attaches a turn's timings to its answer; returns the line to redraw, if it is there yet. */
  attachTimings(timings: TurnTimingsEvent): TranscriptLine | undefined {
    const line = this.lines.find(
      (candidate) => candidate.role === 'assistant' && candidate.turnId === timings.turnId,
    );
    if (!line) {
      this.earlyTimings.set(timings.turnId, timings);
      return undefined;
    }
    line.timings = timings;
    return line;
  }

  clear(): void {
    this.lines.length = 0;
    this.open.clear();
    this.earlyTimings.clear();
  }

  private linkTurn(line: TranscriptLine, turnId: string | undefined): void {
    if (turnId === undefined) return;
    line.turnId = turnId;
    const timings = this.earlyTimings.get(turnId);
    if (timings && line.role === 'assistant') {
      line.timings = timings;
      this.earlyTimings.delete(turnId);
    }
  }
}
