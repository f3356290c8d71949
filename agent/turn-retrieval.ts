import type { Knowledge } from './knowledge.ts';
import type { TurnContext } from './reference-context.ts';
import { extendsWording, retrievalKey } from './retrieval-prefetch.ts';

/**
 * How long after its interim arrived a prefetched wording must still be the newest for
 * its search to run. Interim transcripts come every 250 ms or so while a person speaks,
 * so this searches (on the main thread, for the embedded database) the wording that
 * ended the speech rather than each one before it; the embedding is still requested at
 * once. A final that comes sooner starts the search itself.
 */
export const PREFETCH_SEARCH_SETTLE_MS = 300;

/**
 * One retrieval for one wording: its embedding (requested at once) and its search (run
 * once, when first asked for), with when it started and ended (Date.now() ms).
 */
export interface Retrieval {
  key: string;
  /** The query's embedding (null: full-text only); a final that extends these words reuses it. */
  embedding: Promise<number[] | null>;
  /** Runs the search the first time it is called (after the embedding); later calls share it. */
  context(): Promise<TurnContext>;
  startedAt: number;
  endedAt?: number;
  /** A turn reported it already (tool round trips use it again). */
  reported?: boolean;
  /** It searches with an earlier wording's embedding (see {@link TurnRetrievals.forMessage}). */
  reusedEmbedding: boolean;
}

/**
 * The retrievals of one conversation's turns: the one started on the user's interim
 * words while they speak ({@link prefetch}), and the one answering a user message
 * ({@link forMessage}), which the model's tool round trips for that message reuse.
 *
 * A retrieval serves one user message and never a later one, even with the same words:
 * a question asked again after "remember that..." or an upload must see what changed.
 * A prefetched retrieval serves the next message only (it is taken or dropped then).
 */
export class TurnRetrievals {
  private prefetched: Retrieval | undefined;
  private answering: { messageId: string; retrieval: Retrieval } | undefined;
  /**
   * Whether a final that only adds words to the prefetched wording reuses its embedding
   * ({@link forMessage}); the bench turns it off to measure what it buys.
   */
  embeddingReuse = true;

  constructor(private readonly knowledge: Pick<Knowledge, 'embedQuery' | 'retrieve'>) {}

  /**
   * The retrieval for a user message: the one already answering it (a tool round trip);
   * else the prefetched one when the words are the same; a search for these words with
   * the prefetched embedding when they only add a few words to what was prefetched (the
   * STT's last interim often lacks the last word or two: this saves the embedding's round
   * trip, and the full-text half of the search still sees every word); else a new one.
   * `isNew` says whether it was not already answering this message.
   */
  forMessage(messageId: string, text: string): { retrieval: Retrieval; isNew: boolean } {
    if (this.answering?.messageId === messageId) return { retrieval: this.answering.retrieval, isNew: false };
    const key = retrievalKey(text);
    const prefetched = this.prefetched;
    this.prefetched = undefined;
    let retrieval: Retrieval;
    if (prefetched?.key === key) retrieval = prefetched;
    else if (prefetched && this.embeddingReuse && extendsWording(prefetched.key, key))
      retrieval = this.start(key, text, prefetched.embedding);
    else retrieval = this.start(key, text);
    this.answering = { messageId, retrieval };
    return { retrieval, isNew: true };
  }

  /**
   * Starts retrieving for words the user is still saying: the embedding at once, and the
   * search {@link PREFETCH_SEARCH_SETTLE_MS} after the words were heard (or when the
   * embedding is back, if later), unless by then `superseded()` (newer words are waiting,
   * or a final came and the answer decides) or a newer wording replaced this one, so that
   * a stale search never holds the database when the answer needs it. Resolves when the
   * embedding is back (the next wording's may start then); never rejects.
   */
  prefetch(text: string, superseded: () => boolean = () => false): Promise<void> {
    const key = retrievalKey(text);
    if (key === '' || this.prefetched?.key === key) return Promise.resolve();
    const retrieval = this.start(key, text);
    this.prefetched = retrieval;
    const search = () => {
      // A failed search is tried again when the answer asks; never an unhandled rejection.
      if (this.prefetched === retrieval && !superseded()) retrieval.context().catch(() => undefined);
    };
    return retrieval.embedding.then(
      () => {
        const wait = retrieval.startedAt + PREFETCH_SEARCH_SETTLE_MS - Date.now();
        if (wait <= 0) search();
        else setTimeout(search, wait).unref();
      },
      () => undefined,
    );
  }

  /** Drops every retrieval (one failed: the next message starts afresh). */
  reset(): void {
    this.prefetched = undefined;
    this.answering = undefined;
  }

  private start(key: string, text: string, embedding?: Promise<number[] | null>): Retrieval {
    const vector = embedding ?? this.knowledge.embedQuery(text);
    let search: Promise<TurnContext> | undefined;
    const retrieval: Retrieval = {
      key,
      embedding: vector,
      reusedEmbedding: embedding !== undefined,
      startedAt: Date.now(),
      context: () => {
        search ??= this.knowledge.retrieve(text, vector).then(
          (context) => {
            retrieval.endedAt = Date.now();
            return context;
          },
          (error: unknown) => {
            search = undefined;
            throw error;
          },
        );
        return search;
      },
    };
    return retrieval;
  }
}
