import type { Logger } from 'pino';
import {
  deleteMemories,
  hybridSearch,
  nearestChunks,
  nearestMemories,
  recallMemories,
  searchCandidates,
  redeemLinkCode,
  storeMemory,
  type Database,
  type LinkOutcome,
  type Memory,
  type MemoryKind,
  type ChunkRow,
  type MemoryRow,
} from '../db/index.ts';
import type { Embedder } from '../ingest/embeddings.ts';
import { sourcesFromHits, type TurnContext } from './reference-context.ts';

/** How many passages and memories one turn gets. */
const PASSAGES_PER_TURN = 5;
const MEMORIES_PER_TURN = 5;
/** Stored facts looked at when asked to forget one; the first that passes the check goes. */
const FORGET_CANDIDATES = 3;

/**
 * What the assistant knows about one user: their documents (plus shared ones) and
 * their memories. Embedding failures degrade to full-text search instead of failing
 * the turn: a slow or broken embedding server must not silence the assistant.
 */
export class Knowledge {
  /**
   * The vector rankings made for each embedding this turn: a final that goes on from a
   * prefetched wording searches with that wording's embedding (see turn-retrieval.ts),
   * and only its full-text rankings differ, so it reuses these (one HNSW walk fewer on
   * the critical path). Weakly held: an embedding's rankings go with it.
   */
  private readonly nearestByEmbedding = new WeakMap<
    readonly number[],
    { chunks: Promise<ChunkRow[]>; memories: Promise<MemoryRow[]> }
  >();

  constructor(
    private readonly database: Database,
    private readonly embedder: Embedder | undefined,
    readonly userId: string,
    private readonly logger?: Logger,
  ) {}

  /**
   * Retrieves passages and memories relevant to `text`, in parallel, with one embedding:
   * `embedding` when given (an earlier wording's, see `Assistant`), else one made here.
   */
  async retrieve(text: string, embedding?: Promise<number[] | null>): Promise<TurnContext> {
    const vector = await (embedding ?? this.embed(text));
    return this.search(text, vector);
  }

  /** The embedding a search for `text` uses; null (full-text search only) when there is none or it failed. */
  embedQuery(text: string): Promise<number[] | null> {
    return this.embed(text);
  }

  private async search(text: string, embedding: number[] | null): Promise<TurnContext> {
    const nearest = embedding ? this.nearest(embedding) : undefined;
    const [hits, memories] = await Promise.all([
      hybridSearch(this.database.pool, {
        userId: this.userId,
        text,
        embedding,
        limit: PASSAGES_PER_TURN,
        nearest: nearest?.chunks,
      }),
      recallMemories(this.database.pool, {
        userId: this.userId,
        text,
        embedding,
        limit: MEMORIES_PER_TURN,
        nearest: nearest?.memories,
      }),
    ]);
    return { sources: sourcesFromHits(hits), memories };
  }

  private nearest(embedding: number[]) {
    let nearest = this.nearestByEmbedding.get(embedding);
    if (!nearest) {
      const pool = this.database.pool;
      nearest = {
        chunks: nearestChunks(pool, {
          userId: this.userId,
          embedding,
          candidates: searchCandidates(PASSAGES_PER_TURN),
        }),
        memories: nearestMemories(pool, { userId: this.userId, embedding, limit: MEMORIES_PER_TURN }),
      };
      // A failed ranking is made again by the next search, not handed out again.
      nearest.chunks.catch(() => this.nearestByEmbedding.delete(embedding));
      nearest.memories.catch(() => this.nearestByEmbedding.delete(embedding));
      this.nearestByEmbedding.set(embedding, nearest);
    }
    return nearest;
  }

  /** Stores a memory (a fact the user asked to keep, or a conversation summary). */
  async remember(text: string, kind: MemoryKind = 'fact', conversationId?: string): Promise<Memory> {
    const embedding = await this.embed(text);
    return storeMemory(this.database.pool, {
      userId: this.userId,
      kind,
      text,
      embedding,
      embeddingModel: embedding ? (this.embedder?.model ?? null) : null,
      conversationId: conversationId ?? null,
    });
  }

  /**
   * Forgets the stored facts that best match `description` and that `accept` agrees
   * to (the caller checks them against what the user said); returns what was forgotten.
   */
  async forget(description: string, accept: (memory: Memory) => boolean): Promise<string[]> {
    const embedding = await this.embed(description);
    const matches = await recallMemories(this.database.pool, {
      userId: this.userId,
      text: description,
      embedding,
      limit: FORGET_CANDIDATES,
      kinds: ['fact'],
    });
    const chosen = matches.filter(accept).slice(0, 1);
    const deleted = await deleteMemories(
      this.database.pool,
      this.userId,
      chosen.map((memory) => memory.id),
    );
    return deleted > 0 ? chosen.map((memory) => memory.text) : [];
  }

  /** Redeems a web account's link code for this (phone) user during a call; see db `redeemLinkCode`. */
  linkAccount(code: string, conversationId: string): Promise<LinkOutcome> {
    return redeemLinkCode(this.database.pool, this.userId, code, conversationId);
  }

  private async embed(text: string): Promise<number[] | null> {
    if (!this.embedder || text.trim() === '') return null;
    try {
      const [vector] = await this.embedder.embed([text]);
      return vector ?? null;
    } catch (error) {
      this.logger?.warn({ err: error }, 'embedding failed; searching by full text only');
      return null;
    }
  }
}
