import { createHash, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import { axisVector } from '../test/support/database.ts';
import {
  appendMessage,
  createConversation,
  createLinkCode,
  finishTurn,
  insertTurn,
  linkIdentity,
  recordUpload,
  resolveUser,
  saveVoiceChoice,
  saveDocument,
  storeMemory,
} from './index.ts';

/**
 * Gives one person a row in every personal table, each carrying `marker`: identities,
 * a link code, a chosen voice, a display name, a conversation with a summary, a turn and its message, a document
 * with a chunk, a memory, an upload kept on disk (a file in `uploadsDirectory`) and one
 * kept in the row. Returns the user id. Test data for the erasure tests.
 */
export async function populatePerson(
  pool: pg.Pool,
  options: { marker: string; phone: string; uploadsDirectory: string; dimensions: number },
): Promise<string> {
  const { marker, dimensions } = options;
  const userId = await resolveUser(pool, { kind: 'web', value: `${marker}-browser` });
  await linkIdentity(pool, userId, { kind: 'phone', value: options.phone });
  await createLinkCode(pool, userId);
  await saveVoiceChoice(pool, userId, 'elevenlabs', `${marker}-voice`);
  await pool.query('update users set display_name = $2 where id = $1', [userId, `${marker} name`]);
  const conversation = await createConversation(pool, userId, 'web');
  await pool.query('update conversations set summary = $2 where id = $1', [
    conversation,
    `${marker} summary`,
  ]);
  const turnId = randomUUID();
  await insertTurn(pool, {
    id: turnId,
    conversationId: conversation,
    modality: 'voice',
    startedAt: new Date(),
  });
  await finishTurn(pool, turnId, {
    stages: [{ name: 'llm', startMs: 0, endMs: 100 }],
    voiceToVoiceMs: 900,
    interrupted: false,
    sources: [],
    citations: [{ documentId: randomUUID(), title: `${marker} notes`, page: 1 }],
  });
  await appendMessage(pool, {
    conversationId: conversation,
    turnId,
    role: 'user',
    modality: 'voice',
    text: `${marker} says hi`,
  });
  const { documentId } = await saveDocument(pool, {
    ownerId: userId,
    title: `${marker} notes`,
    sourceName: `${marker}.txt`,
    mimeType: 'text/plain',
    sha256: createHash('sha256').update(marker).digest('hex'),
    byteSize: 10,
    pageCount: 1,
    embeddingModel: 'test',
    chunks: [
      {
        pageStart: 1,
        pageEnd: 1,
        heading: null,
        text: `${marker} chunk`,
        embedding: axisVector(dimensions, 1),
      },
    ],
  });
  await storeMemory(pool, {
    userId,
    kind: 'fact',
    text: `${marker} locker code 4312`,
    embedding: axisVector(dimensions, 2),
    embeddingModel: 'test',
    conversationId: conversation,
  });
  const file = `${marker}-upload.bin`;
  await writeFile(path.join(options.uploadsDirectory, file), marker);
  await recordUpload(pool, {
    userId,
    conversationId: conversation,
    documentId,
    fileName: `${marker}.txt`,
    mimeType: 'text/plain',
    byteSize: 12,
    sha256: createHash('sha256').update(file).digest('hex'),
    path: file,
  });
  await recordUpload(pool, {
    userId,
    fileName: `${marker}-inline.txt`,
    mimeType: 'text/plain',
    byteSize: 12,
    sha256: createHash('sha256').update(`${file}-inline`).digest('hex'),
    data: Buffer.from(marker),
  });
  return userId;
}
