import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  appendMessage,
  createConversation,
  deleteMemories,
  endConversation,
  hybridSearch,
  IdentityTakenError,
  linkIdentity,
  listDocuments,
  listIdentities,
  listMemories,
  listMessages,
  recallMemories,
  resolveUser,
  saveDocument,
  storeMemory,
  updateMessage,
  type NewDocument,
} from './index.ts';
import { axisVector, backends, createTestDatabase, type TestDatabase } from '../test/support/database.ts';

const DIMENSIONS = 8;

describe.each(backends)('users, conversations, memories and documents on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend, DIMENSIONS);
  });
  afterAll(() => test.cleanup());

  it('resolves one person from a web identity and a linked phone number', async () => {
    const pool = test.database.pool;
    const [first, second] = await Promise.all([
      resolveUser(pool, { kind: 'web', value: 'browser-1' }),
      resolveUser(pool, { kind: 'web', value: 'browser-1' }),
    ]);
    expect(first).toBe(second);
    await linkIdentity(pool, first, { kind: 'phone', value: '+4915112345678' });
    await linkIdentity(pool, first, { kind: 'phone', value: '+4915112345678' });
    expect(await resolveUser(pool, { kind: 'phone', value: '+4915112345678' })).toBe(first);
    expect(await listIdentities(pool, first)).toEqual([
      { kind: 'phone', value: '+4915112345678' },
      { kind: 'web', value: 'browser-1' },
    ]);
    const other = await resolveUser(pool, { kind: 'web', value: 'browser-2' });
    await expect(
      linkIdentity(pool, other, { kind: 'phone', value: '+4915112345678' }),
    ).rejects.toBeInstanceOf(IdentityTakenError);
    expect((await pool.query('select count(*)::int as count from users')).rows[0].count).toBe(2);
  });

  it('writes a transcript with turn timings, in order', async () => {
    const pool = test.database.pool;
    const user = await resolveUser(pool, { kind: 'web', value: 'talker' });
    const conversation = await createConversation(pool, user, 'phone');
    const spokeAt = new Date('2026-01-01T10:00:00Z');
    const question = await appendMessage(pool, {
      conversationId: conversation,
      role: 'user',
      modality: 'voice',
      text: 'what is the code',
      speechEndedAt: spokeAt,
      transcriptDelayMs: 150,
    });
    const answer = await appendMessage(pool, {
      conversationId: conversation,
      role: 'assistant',
      modality: 'voice',
      text: 'The code is 4312.',
      citations: [{ documentId: '00000000-0000-4000-8000-000000000001', title: 'Manual', page: 3 }],
    });
    await updateMessage(pool, answer, {
      firstTokenDelayMs: 455.5,
      firstAudioDelayMs: 610,
      interrupted: true,
    });
    await endConversation(pool, conversation, 'Asked for the code.');
    const messages = await listMessages(pool, conversation);
    expect(messages.map((message) => message.id)).toEqual([question, answer]);
    expect(messages[0]).toMatchObject({
      role: 'user',
      speechEndedAt: spokeAt,
      transcriptDelayMs: 150,
      interrupted: false,
    });
    expect(messages[1]).toMatchObject({
      role: 'assistant',
      interrupted: true,
      firstTokenDelayMs: 455.5,
      firstAudioDelayMs: 610,
      citations: [{ title: 'Manual', page: 3 }],
    });
    const { rows } = await pool.query('select ended_at, summary from conversations where id = $1', [
      conversation,
    ]);
    expect(rows[0].ended_at).toBeInstanceOf(Date);
    expect(rows[0].summary).toBe('Asked for the code.');
  });

  it("recalls a user's memories by meaning or words, never another user's", async () => {
    const pool = test.database.pool;
    const owner = await resolveUser(pool, { kind: 'web', value: 'memory-owner' });
    const stranger = await resolveUser(pool, { kind: 'web', value: 'memory-stranger' });
    const fact = await storeMemory(pool, {
      userId: owner,
      kind: 'fact',
      text: 'My locker code is 4312',
      embedding: axisVector(DIMENSIONS, 3),
      embeddingModel: 'test',
    });
    await storeMemory(pool, {
      userId: owner,
      kind: 'summary',
      text: 'Talked about the garden.',
      embedding: null,
      embeddingModel: null,
    });
    await storeMemory(pool, {
      userId: stranger,
      kind: 'fact',
      text: 'My locker code is 9999',
      embedding: axisVector(DIMENSIONS, 3),
      embeddingModel: 'test',
    });

    const byWords = await recallMemories(pool, { userId: owner, text: 'what is my locker code' });
    expect(byWords.map((memory) => memory.text)).toEqual(['My locker code is 4312']);
    const byMeaning = await recallMemories(pool, {
      userId: owner,
      text: 'the number for my storage box',
      embedding: axisVector(DIMENSIONS, 3),
    });
    expect(byMeaning[0]?.id).toBe(fact.id);
    const strangers = await recallMemories(pool, {
      userId: stranger,
      text: 'locker code',
      embedding: axisVector(DIMENSIONS, 3),
    });
    expect(strangers.map((memory) => memory.text)).toEqual(['My locker code is 9999']);

    expect((await listMemories(pool, owner, { kinds: ['summary'] })).map((memory) => memory.text)).toEqual([
      'Talked about the garden.',
    ]);
    expect(await deleteMemories(pool, stranger, [fact.id])).toBe(0);
    expect(await deleteMemories(pool, owner, [fact.id])).toBe(1);
    expect(await recallMemories(pool, { userId: owner, text: 'locker code' })).toEqual([]);
  });

  it('does not store the same file twice and replaces a changed file atomically', async () => {
    const pool = test.database.pool;
    const owner = await resolveUser(pool, { kind: 'web', value: 'document-owner' });
    const version = (text: string): NewDocument => ({
      ownerId: owner,
      title: 'Notes',
      sourceName: 'notes.txt',
      mimeType: 'text/plain',
      sha256: createHash('sha256').update(text).digest('hex'),
      byteSize: text.length,
      pageCount: 1,
      embeddingModel: 'test',
      chunks: [{ pageStart: 1, pageEnd: 1, heading: null, text, embedding: axisVector(DIMENSIONS, 4) }],
    });
    const first = await saveDocument(pool, version('the first draft mentions apples'));
    expect(first.outcome).toBe('created');
    expect((await saveDocument(pool, version('the first draft mentions apples'))).outcome).toBe('unchanged');
    const second = await saveDocument(pool, version('the second draft mentions pears'));
    expect(second).toEqual({ documentId: first.documentId, outcome: 'replaced' });
    const documents = await listDocuments(pool, owner);
    expect(documents.filter((document) => document.title === 'Notes')).toHaveLength(1);
    expect(await hybridSearch(pool, { userId: owner, text: 'apples' })).toEqual([]);
    expect((await hybridSearch(pool, { userId: owner, text: 'pears' }))[0]?.text).toContain('pears');

    // A failure while writing chunks leaves the previous version intact.
    const broken = version('a third draft');
    const badChunks = { ...broken, chunks: [{ ...broken.chunks[0]!, embedding: [1, 2] }] };
    await expect(saveDocument(pool, badChunks)).rejects.toThrow(/dimensions/);
    expect((await hybridSearch(pool, { userId: owner, text: 'pears' }))[0]?.text).toContain('pears');
  });
});
