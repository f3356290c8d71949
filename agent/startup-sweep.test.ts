import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConversation, recordUpload, resolveUser } from '../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { sweepAfterCrash } from './startup-sweep.ts';

describe('the sweep at start', () => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase('embedded');
  });
  afterAll(() => test?.cleanup());

  it('removes what a killed process left: unread uploads and their files, stray files, open conversations', async () => {
    const pool = test.database.pool;
    const uploads = path.join(test.dataDir, 'uploads');
    await mkdir(uploads, { recursive: true });
    const userId = await resolveUser(pool, { kind: 'web', value: 'killed-mid-upload' });
    const conversationId = await createConversation(pool, userId, 'web');
    const upload = (fileName: string, mimeType: string, file: string) =>
      recordUpload(pool, {
        userId,
        conversationId,
        fileName,
        mimeType,
        byteSize: 3,
        sha256: 'a'.repeat(64),
        path: file,
      });
    await upload('half-read.pdf', 'application/pdf', 'half-read.pdf');
    await upload('photo.png', 'image/png', 'photo.png');
    for (const file of ['half-read.pdf', 'photo.png', 'written-before-its-row.pdf']) {
      await writeFile(path.join(uploads, file), 'abc');
    }
    const startedAt = new Date(Date.now() + 1000);

    expect(await sweepAfterCrash(test.database, uploads, startedAt)).toEqual({
      removedUploads: 1,
      endedConversations: 1,
      removedFiles: 2,
      compactedTables: [],
    });
    expect(await readdir(uploads)).toEqual(['photo.png']);
    const { rows } = await pool.query<{ file_name: string }>('select file_name from uploads');
    expect(rows).toEqual([{ file_name: 'photo.png' }]);
    const ended = await pool.query<{ ended: boolean }>(
      'select ended_at is not null as ended from conversations where id = $1',
      [conversationId],
    );
    expect(ended.rows).toEqual([{ ended: true }]);
    // Nothing newer than the process start is touched, and a second sweep finds nothing.
    expect(await sweepAfterCrash(test.database, uploads, new Date(0))).toEqual({
      removedUploads: 0,
      endedConversations: 0,
      removedFiles: 0,
      compactedTables: [],
    });
  });
});
