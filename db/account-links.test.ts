import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  appendMessage,
  createConversation,
  createLinkCode,
  hybridSearch,
  listIdentities,
  recallMemories,
  redeemLinkCode,
  resolveUser,
  saveDocument,
  storeMemory,
} from './index.ts';
import { backends, createTestDatabase, type TestDatabase } from '../test/support/database.ts';

describe.each(backends)('linking a phone number to a web user on %s', (backend) => {
  let test: TestDatabase;
  beforeAll(async () => {
    test = await createTestDatabase(backend, 8);
  });
  afterAll(() => test.cleanup());

  it('merges the web user into the caller with a one-time code, so both share documents and memories', async () => {
    const pool = test.database.pool;
    const web = await resolveUser(pool, { kind: 'web', value: 'browser-42' });
    const caller = await resolveUser(pool, { kind: 'phone', value: '+15550004242' });
    await saveDocument(pool, {
      ownerId: web,
      title: 'Lease',
      sourceName: 'lease.pdf',
      mimeType: 'application/pdf',
      sha256: createHash('sha256').update('lease').digest('hex'),
      byteSize: 10,
      pageCount: 4,
      embeddingModel: null,
      chunks: [
        {
          pageStart: 4,
          pageEnd: 4,
          heading: null,
          text: 'The rent is due on the third of each month.',
          embedding: null,
        },
      ],
    });
    await storeMemory(pool, {
      userId: web,
      kind: 'fact',
      text: 'Prefers morning appointments.',
      embedding: null,
      embeddingModel: null,
    });
    const conversation = await createConversation(pool, web, 'web');
    await appendMessage(pool, {
      conversationId: conversation,
      role: 'user',
      modality: 'text',
      text: 'hello',
    });

    const { code, expiresAt } = await createLinkCode(pool, web);
    expect(code).toMatch(/^\d{6}$/);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now());
    expect(await redeemLinkCode(pool, caller, '000000' === code ? '111111' : '000000')).toBe(false);
    expect(await redeemLinkCode(pool, caller, code.split('').join(' '))).toBe(true);
    // A code works once.
    expect(await redeemLinkCode(pool, caller, code)).toBe(false);

    expect(await resolveUser(pool, { kind: 'web', value: 'browser-42' })).toBe(caller);
    expect(await listIdentities(pool, caller)).toEqual([
      { kind: 'phone', value: '+15550004242' },
      { kind: 'web', value: 'browser-42' },
    ]);
    expect((await hybridSearch(pool, { userId: caller, text: 'when is the rent due' }))[0]?.title).toBe(
      'Lease',
    );
    expect((await recallMemories(pool, { userId: caller, text: 'appointments' }))[0]?.text).toBe(
      'Prefers morning appointments.',
    );

    // Nothing in any table still belongs to the merged-away user.
    const { rows: tables } = await pool.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`,
    );
    for (const { table_name: table } of tables) {
      const { rows } = await pool.query<{ row: string }>(`select to_jsonb(t)::text as row from ${table} t`);
      for (const { row } of rows) expect(row, `${table} still references the merged user`).not.toContain(web);
    }
  });

  it('refuses an expired code', async () => {
    const pool = test.database.pool;
    const web = await resolveUser(pool, { kind: 'web', value: 'browser-late' });
    const caller = await resolveUser(pool, { kind: 'phone', value: '+15550009999' });
    const { code } = await createLinkCode(pool, web);
    await pool.query(
      `update account_link_codes set expires_at = now() - interval '1 second' where user_id = $1`,
      [web],
    );
    expect(await redeemLinkCode(pool, caller, code)).toBe(false);
    expect(await resolveUser(pool, { kind: 'web', value: 'browser-late' })).toBe(web);
  });
});
