import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  appendMessage,
  createConversation,
  finishTurn,
  insertTurn,
  listRecentTurns,
  listTurns,
  resolveUser,
} from './index.ts';
import { backends, createTestDatabase, type TestDatabase } from '../test/support/database.ts';

describe.each(backends)('turns on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend, 8);
  });
  afterAll(() => test.cleanup());

  it('stores a turn with its stages and links its messages by id; lists the latest across conversations', async () => {
    const pool = test.database.pool;
    const userId = await resolveUser(pool, { kind: 'web', value: 'turns-user' });
    const first = await createConversation(pool, userId, 'web');
    const second = await createConversation(pool, userId, 'phone');
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    const starts = [Date.UTC(2026, 0, 1, 10), Date.UTC(2026, 0, 1, 11), Date.UTC(2026, 0, 1, 12)];
    for (const [index, id] of ids.entries()) {
      const conversationId = index < 2 ? first : second;
      await insertTurn(pool, {
        id,
        conversationId,
        modality: 'voice',
        startedAt: new Date(starts[index] ?? 0),
      });
      await appendMessage(pool, {
        conversationId,
        turnId: id,
        role: 'user',
        modality: 'voice',
        text: `question ${index}`,
      });
      await appendMessage(pool, {
        conversationId,
        turnId: id,
        role: 'assistant',
        modality: 'voice',
        text: `answer ${index}`,
      });
    }
    const stages = [
      { name: 'llm', startMs: 10, endMs: 600, firstMs: 400 },
      { name: 'tool', startMs: 600, endMs: 650, detail: { name: 'remember' } },
    ];
    await finishTurn(pool, ids[1] ?? '', {
      stages,
      voiceToVoiceMs: 812,
      interrupted: true,
      sources: [{ chunkId: randomUUID(), documentId: randomUUID(), title: 'Manual', page: 2 }],
      citations: [],
    });

    const turns = await listTurns(pool, first);
    expect(turns.map((turn) => turn.id)).toEqual([ids[0], ids[1]]);
    expect(turns[0]).toMatchObject({
      stages: [],
      finishedAt: null,
      question: 'question 0',
      answer: 'answer 0',
    });
    expect(turns[1]).toMatchObject({
      stages,
      voiceToVoiceMs: 812,
      interrupted: true,
      sources: [{ title: 'Manual', page: 2 }],
    });
    expect(turns[1]?.finishedAt).toBeInstanceOf(Date);

    const recent = await listRecentTurns(pool, 2);
    expect(recent.map((turn) => [turn.id, turn.conversationId])).toEqual([
      [ids[1], first],
      [ids[2], second],
    ]);
  });
});
