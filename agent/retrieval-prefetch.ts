/** Fewer words than this are not worth retrieving for yet. */
const MIN_WORDS = 3;

/**
 * Starts the turn's retrieval while the user is still speaking, so that a final
 * transcript with the same words finds its passages ready instead of waiting for an
 * embedding and a search (about 130 ms on the critical path). Nothing during speech
 * says which interim will be the last, so it retrieves for the newest interim words:
 * one embedding request at a time (a newer interim waits for the running one and
 * replaces any older waiting one), each wording once. The search for a wording runs only
 * if it is still the newest once it settled (`PREFETCH_SEARCH_SETTLE_MS` in
 * turn-retrieval.ts) and no final came since, so the database works for the words that
 * ended the speech, not for each wording before them. At most one embedding request is
 * in flight per speaking user, and at most one per interim transcript. When the user
 * falls silent before the final came (a slow STT), the words heard are retrieved for
 * too. Finals are left to the answer itself, which takes a retrieval of the same words
 * (see turn-retrieval.ts).
 *
 * An earlier version allowed four wordings per stretch of speech: they went to the first
 * words, so a question of more than six words reached its final with nothing usable.
 */
export class RetrievalPrefetch {
  private waiting: { key: string; text: string } | undefined;
  private running = false;
  private lastStarted = '';
  /** Counts finals: a prefetch started before the latest final is superseded by it. */
  private finals = 0;

  constructor(private readonly prefetch: (text: string, superseded: () => boolean) => Promise<unknown>) {}

  /** Called on every transcript with the words of the turn so far (finals and the latest interim). */
  observe(textSoFar: string, isFinal: boolean): void {
    if (isFinal) {
      // The answer retrieves for the final; the next words are a new stretch of speech.
      this.waiting = undefined;
      this.finals++;
      return;
    }
    const key = retrievalKey(textSoFar);
    if (key.split(' ').length < MIN_WORDS) return;
    this.waiting = { key, text: textSoFar };
    this.next();
  }

  /** The user fell silent with these words heard; `isFinal` when the STT has closed them. */
  silence(textSoFar: string, isFinal: boolean): void {
    const key = retrievalKey(textSoFar);
    if (isFinal || key === '') return;
    this.waiting = { key, text: textSoFar };
    this.next();
  }

  private next(): void {
    const waiting = this.waiting;
    if (this.running || !waiting) return;
    this.waiting = undefined;
    if (waiting.key === this.lastStarted) return;
    this.lastStarted = waiting.key;
    this.running = true;
    const finals = this.finals;
    const superseded = () => this.waiting !== undefined || this.finals !== finals;
    this.prefetch(waiting.text, superseded)
      .catch(() => undefined)
      .finally(() => {
        this.running = false;
        this.next();
      });
  }
}

/** What makes two transcripts the same question: their words, without case or punctuation. */
export function retrievalKey(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}' ]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * Share of a final wording's words that an earlier wording must already hold, at its
 * start, for the final to reuse the earlier wording's embedding.
 */
export const REUSE_SHARE = 0.75;

/**
 * Whether `later` (a retrieval key) says what `earlier` said and only goes on: its words
 * start with all of `earlier`'s, which are at least {@link REUSE_SHARE} of them.
 */
export function extendsWording(earlier: string, later: string): boolean {
  const before = earlier === '' ? [] : earlier.split(' ');
  const after = later === '' ? [] : later.split(' ');
  if (before.length === 0 || before.length > after.length) return false;
  if (before.length < after.length * REUSE_SHARE) return false;
  return before.every((word, index) => after[index] === word);
}
