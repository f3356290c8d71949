import { afterEach, describe, expect, it } from 'vitest';
import { resolveUser } from '../db/index.ts';
import { speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';
import { Assistant } from './assistant.ts';
import { extendsWording, RetrievalPrefetch, retrievalKey } from './retrieval-prefetch.ts';

describe('RetrievalPrefetch', () => {
  /** A prefetch whose retrievals finish when the test says so. */
  function controlled() {
    const started: string[] = [];
    const superseded: (() => boolean)[] = [];
    const finishers: (() => void)[] = [];
    const prefetch = new RetrievalPrefetch((text, isSuperseded) => {
      started.push(text);
      superseded.push(isSuperseded);
      return new Promise<void>((resolve) => finishers.push(resolve));
    });
    const finishOne = async () => {
      finishers.shift()?.();
      await new Promise((resolve) => setImmediate(resolve));
    };
    return { prefetch, started, finishOne, superseded };
  }

  it('retrieves for the newest interim words, one retrieval at a time', async () => {
    const { prefetch, started, finishOne } = controlled();
    prefetch.observe('what is', false);
    expect(started).toEqual([]);
    prefetch.observe('what is the', false);
    prefetch.observe('what is the blue', false);
    prefetch.observe('what is the blue valve', false);
    expect(started).toEqual(['what is the']);
    await finishOne();
    // The older waiting wording was replaced by the newest.
    expect(started).toEqual(['what is the', 'what is the blue valve']);
    prefetch.observe('What is the blue valve', false);
    await finishOne();
    expect(started).toHaveLength(2);
  });

  it('goes on retrieving the newest words of a long question, and searches only for the newest', async () => {
    const { prefetch, started, finishOne, superseded } = controlled();
    const words = 'what is the part number of the blue valve behind the boiler'.split(' ');
    for (let count = 3; count <= words.length; count++) {
      prefetch.observe(words.slice(0, count).join(' '), false);
      await finishOne();
    }
    // Every wording heard one at a time was retrieved for: the last one too (an earlier
    // cap of four spent them all on the first words).
    expect(started.at(-1)).toBe(words.join(' '));
    expect(started).toHaveLength(words.length - 2);

    // While an embedding is out, newer words make its search pointless; so does a final.
    prefetch.observe('where is the', false);
    expect(superseded.at(-1)!()).toBe(false);
    prefetch.observe('where is the train', false);
    expect(superseded.at(-1)!()).toBe(true);
    await finishOne();
    expect(superseded.at(-1)!()).toBe(false);
    prefetch.observe('where is the train station', true);
    expect(superseded.at(-1)!()).toBe(true);
  });

  it('retrieves interim words when the user falls silent before the final came, not finals', () => {
    const { prefetch, started } = controlled();
    prefetch.silence('the blue valve?', true);
    expect(started).toEqual([]);
    prefetch.silence('blue valve', false);
    expect(started).toEqual(['blue valve']);
  });

  it('compares words, not case or punctuation', () => {
    expect(retrievalKey('What is the  blue valve?')).toBe(retrievalKey('what is the blue valve'));
  });

  it('takes a final as going on from an interim wording when it starts with all of its words, most of the final', () => {
    expect(extendsWording('what is my locker', 'what is my locker code')).toBe(true);
    expect(extendsWording('what is my locker code', 'what is my locker code')).toBe(true);
    // Too little of the final: the added words may carry the question.
    expect(extendsWording('what is the', 'what is the weather in paris')).toBe(false);
    // Not a beginning of it (the STT revised a word).
    expect(extendsWording('what is my lock', 'what is my locker code')).toBe(false);
    expect(extendsWording('', 'what')).toBe(false);
    expect(extendsWording('what is my locker code', 'what is my locker')).toBe(false);
  });
});

describe('retrieval during speech, in a session', () => {
  let harness: VoiceHarness;
  afterEach(() => harness?.close());

  it('embeds the question before the final transcript arrives and reuses it for the answer', async () => {
    harness = await VoiceHarness.start();
    const userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'prefetch-user' });
    // No documents needed: every turn's retrieval starts with an embedding of its words.
    harness.deepgram.transcripts.push('what is my locker code');
    // A slow final (as a loaded STT gives), so the early retrieval visibly runs before it
    // however slowly this machine embeds the earlier partial wordings.
    harness.deepgram.settings.finalDelay = 1000;
    harness.openai.chatResponder = () => ({ text: 'I do not know it yet.' });
    const embeddingsBefore = harness.openai.requestsTo('/embeddings').length;
    const { input } = await harness.startSession(userId);
    await speak(input, speechFixture('ask-locker'));
    await waitFor(() => harness.openai.requestsTo('/chat/completions').length > 0, 20_000, 'the answer');

    const finalSentAt = harness.deepgram.connections
      .flatMap((connection) => connection.sent)
      .find(({ message }) => message.is_final === true)?.sentAt;
    const embeddings = harness.openai.requestsTo('/embeddings').slice(embeddingsBefore);
    expect(finalSentAt).toBeDefined();
    const inputs = embeddings.map((request) => JSON.stringify(request.body));
    // The question (or most of it, which the final then went on from) was embedded while
    // the user was still being transcribed, and the answer reused it: no embedding after the final.
    const early = embeddings.find((request) => /what is my locker/.test(JSON.stringify(request.body)));
    expect(early?.receivedAt).toBeLessThan(finalSentAt!);
    expect(embeddings.filter((request) => request.receivedAt > finalSentAt!)).toEqual([]);
    // Each wording was embedded once.
    expect(new Set(inputs).size).toBe(inputs.length);
  });

  it("searches a final that goes on from the prefetched wording with that wording's embedding", async () => {
    harness = await VoiceHarness.start();
    const userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'reuse-user' });
    harness.openai.chatResponder = () => ({ text: 'I do not know it yet.' });
    const { voice } = await harness.startSession(userId);
    const assistant = voice.session.currentAgent;
    if (!(assistant instanceof Assistant)) throw new Error('the session runs another agent');
    const embedded = () =>
      harness.openai.requestsTo('/embeddings').map((request) => JSON.stringify(request.body));

    await assistant.prefetchRetrieval('what is my locker');
    const afterPrefetch = embedded().length;
    await voice.session.run({ userInput: 'What is my locker code?', inputModality: 'text' }).wait();
    // The final added one word to five: the prefetched embedding served its search.
    expect(embedded().slice(afterPrefetch)).toEqual([]);

    await assistant.prefetchRetrieval('where is the');
    const beforeOther = embedded().length;
    await voice.session
      .run({ userInput: 'Where is the nearest train station?', inputModality: 'text' })
      .wait();
    // Three of six words: the final gets an embedding of its own.
    const after = embedded().slice(beforeOther);
    expect(after).toHaveLength(1);
    expect(after[0]).toContain('nearest train station');
  });
});
