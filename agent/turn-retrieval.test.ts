import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveUser, storeMemory } from '../db/index.ts';
import { VoiceHarness } from '../test/support/voice-harness.ts';
import type { TurnContext } from './reference-context.ts';
import { PREFETCH_SEARCH_SETTLE_MS, TurnRetrievals } from './turn-retrieval.ts';

/** A knowledge base that records its embeddings and searches, and answers when told. */
function recordingKnowledge() {
  const embedded: string[] = [];
  const searched: string[] = [];
  const embeddings: ((vector: number[] | null) => void)[] = [];
  let failSearches = 0;
  const knowledge = {
    embedQuery(text: string) {
      embedded.push(text);
      return new Promise<number[] | null>((resolve) => embeddings.push(resolve));
    },
    async retrieve(text: string, embedding?: Promise<number[] | null>): Promise<TurnContext> {
      await embedding;
      searched.push(text);
      if (failSearches > 0) {
        failSearches--;
        throw new Error('database unavailable');
      }
      return { sources: [], memories: [] };
    },
  };
  const embedAll = async () => {
    for (const resolve of embeddings.splice(0)) resolve([1, 0]);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { knowledge, embedded, searched, embedAll, failNextSearch: () => (failSearches = 1) };
}

describe('TurnRetrievals', () => {
  afterEach(() => vi.useRealTimers());
  /** Lets the prefetch's settle time pass (fake timers; the embeddings answer at once). */
  const settle = () => vi.advanceTimersByTimeAsync(PREFETCH_SEARCH_SETTLE_MS);

  it("reuses a message's retrieval for its tool round trips, never for a later message with the same words", async () => {
    const { knowledge, embedded, searched, embedAll } = recordingKnowledge();
    const retrievals = new TurnRetrievals(knowledge);
    const first = retrievals.forMessage('message-1', 'What is my locker code?');
    expect(first.isNew).toBe(true);
    await embedAll();
    await first.retrieval.context();
    const roundTrip = retrievals.forMessage('message-1', 'What is my locker code?');
    expect(roundTrip).toEqual({ retrieval: first.retrieval, isNew: false });
    // Asked again later ("remember that..." or an upload may have come between): searched anew.
    const again = retrievals.forMessage('message-2', 'What is my locker code?');
    expect(again.isNew).toBe(true);
    await embedAll();
    await again.retrieval.context();
    expect(embedded).toHaveLength(2);
    expect(searched).toHaveLength(2);
  });

  it('gives the prefetched retrieval to the next message with its words, once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'Date'] });
    const { knowledge, embedded, searched, embedAll } = recordingKnowledge();
    const retrievals = new TurnRetrievals(knowledge);
    const prefetched = retrievals.prefetch('what is my locker code');
    await embedAll();
    await prefetched;
    // The embedding is back; the search waits until the words stayed the newest a while.
    expect(searched).toEqual([]);
    await settle();
    expect(searched).toEqual(['what is my locker code']);
    const answer = retrievals.forMessage('message-1', 'What is my locker code?');
    await answer.retrieval.context();
    expect(embedded).toHaveLength(1);
    expect(searched).toHaveLength(1);
    // The prefetch was taken: the same words in another message retrieve again.
    retrievals.forMessage('message-2', 'What is my locker code?');
    expect(embedded).toHaveLength(2);
  });

  it('searches a final that extends the prefetched words with its embedding; otherwise embeds the final', async () => {
    const { knowledge, embedded, searched, embedAll } = recordingKnowledge();
    const retrievals = new TurnRetrievals(knowledge);
    void retrievals.prefetch('what is the part number of the blue');
    await embedAll();
    const extended = retrievals.forMessage('message-1', 'What is the part number of the blue valve?');
    expect(extended.retrieval.reusedEmbedding).toBe(true);
    await extended.retrieval.context();
    expect(embedded).toEqual(['what is the part number of the blue']);
    expect(searched.at(-1)).toBe('What is the part number of the blue valve?');

    retrievals.embeddingReuse = false;
    void retrievals.prefetch('where is the nearest');
    await embedAll();
    const own = retrievals.forMessage('message-2', 'Where is the nearest station?');
    expect(own.retrieval.reusedEmbedding).toBe(false);
    expect(embedded.at(-1)).toBe('Where is the nearest station?');
  });

  it('does not search a prefetched wording that was superseded before it settled', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'Date'] });
    const { knowledge, searched, embedAll } = recordingKnowledge();
    const retrievals = new TurnRetrievals(knowledge);
    let newer = false;
    const first = retrievals.prefetch('what is the part', () => newer);
    await embedAll();
    await first;
    newer = true;
    await settle();
    expect(searched).toEqual([]);
    // Replaced by newer words: the older wording's search does not run either.
    const older = retrievals.prefetch('where is my', () => false);
    void retrievals.prefetch('where is my locker', () => false);
    await embedAll();
    await older;
    await settle();
    expect(searched).toEqual(['where is my locker']);
  });

  it('searches at once for a final that comes before the words settled', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'Date'] });
    const { knowledge, searched, embedAll } = recordingKnowledge();
    const retrievals = new TurnRetrievals(knowledge);
    void retrievals.prefetch('what is my locker code');
    await embedAll();
    const { retrieval } = retrievals.forMessage('message-1', 'What is my locker code?');
    await retrieval.context();
    expect(searched).toEqual(['what is my locker code']);
    await settle();
    // The settled prefetch does not search a second time.
    expect(searched).toHaveLength(1);
  });

  it('tries a failed search again when asked again', async () => {
    const { knowledge, searched, embedAll, failNextSearch } = recordingKnowledge();
    const retrievals = new TurnRetrievals(knowledge);
    failNextSearch();
    const { retrieval } = retrievals.forMessage('message-1', 'what is my locker code');
    await embedAll();
    await expect(retrieval.context()).rejects.toThrow('database unavailable');
    await expect(retrieval.context()).resolves.toEqual({ sources: [], memories: [] });
    expect(searched).toHaveLength(2);
  });
});

describe('retrieval per message, in a session', () => {
  let harness: VoiceHarness;
  afterEach(() => harness?.close());

  it('sees what was learnt between two askings of the same question', async () => {
    harness = await VoiceHarness.start();
    const pool = harness.test.database.pool;
    const userId = await resolveUser(pool, { kind: 'web', value: 'asks-twice' });
    harness.openai.chatResponder = () => ({ text: 'Okay.' });
    const { voice } = await harness.startSession(userId);
    const ask = () =>
      voice.session.run({ userInput: 'Where did I park my bike?', inputModality: 'text' }).wait();
    const lastRequest = () => JSON.stringify(harness.openai.chatBodies().at(-1)?.messages);

    await ask();
    expect(lastRequest()).not.toContain('level 3');
    // Learnt elsewhere meanwhile (a phone call, another tab): the same question finds it.
    await storeMemory(pool, {
      userId,
      kind: 'fact',
      text: 'They parked their bike on level 3 of the garage.',
      embedding: null,
      embeddingModel: null,
    });
    await ask();
    expect(lastRequest()).toContain('level 3');
  });
});
