import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import {
  appendMessage,
  createConversation,
  createLinkCode,
  hybridSearch,
  LINK_CODE_DIGITS,
  LINK_FAILURES_PER_CALL,
  LINK_TRY_REFILL_MS,
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
    expect(code).toMatch(/^\d{8}$/);
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now());
    const call = await createConversation(pool, caller, 'phone');
    expect(await redeemLinkCode(pool, caller, wrongCode(code), call)).toEqual({
      status: 'wrong',
      triesLeft: 2,
    });
    expect(await redeemLinkCode(pool, caller, code.split('').join(' '), call)).toEqual({ status: 'linked' });
    // A code works once.
    expect(await redeemLinkCode(pool, caller, code, call)).toMatchObject({ status: 'wrong' });

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
    const call = await createConversation(pool, caller, 'phone');
    expect(await redeemLinkCode(pool, caller, code, call)).toMatchObject({ status: 'wrong' });
    expect(await resolveUser(pool, { kind: 'web', value: 'browser-late' })).toBe(web);
  });

  it('locks a call after three wrong codes, even for the right one, and a thousand parallel tries make three', async () => {
    const pool = test.database.pool;
    const web = await resolveUser(pool, { kind: 'web', value: 'browser-victim' });
    const caller = await resolveUser(pool, { kind: 'phone', value: '+15550001111' });
    const { code } = await createLinkCode(pool, web);
    const call = await createConversation(pool, caller, 'phone');
    const guesses = Array.from({ length: 1000 }, (_, index) => wrongCode(code, index));
    const outcomes = await Promise.all(guesses.map((guess) => redeemLinkCode(pool, caller, guess, call)));
    expect(outcomes.filter((outcome) => outcome.status === 'wrong')).toHaveLength(LINK_FAILURES_PER_CALL);
    expect(outcomes.filter((outcome) => outcome.status === 'locked')).toHaveLength(
      1000 - LINK_FAILURES_PER_CALL,
    );
    expect(await redeemLinkCode(pool, caller, code, call)).toEqual({
      status: 'locked',
      scope: 'call',
      until: null,
    });
    expect(await resolveUser(pool, { kind: 'web', value: 'browser-victim' })).toBe(web);
  });

  it("keeps a caller's spent tries across calls, locks them out, and gives tries back over time", async () => {
    const pool = test.database.pool;
    const web = await resolveUser(pool, { kind: 'web', value: 'browser-patient' });
    const caller = await resolveUser(pool, { kind: 'phone', value: '+15550002222' });
    const { code } = await createLinkCode(pool, web);
    const statuses: string[] = [];
    // New calls keep coming: each may try three codes, the caller five in all.
    for (let call = 0; call < 3; call += 1) {
      const conversation = await createConversation(pool, caller, 'phone');
      for (let guess = 0; guess < 3; guess += 1) {
        statuses.push(
          (await redeemLinkCode(pool, caller, wrongCode(code, call * 3 + guess), conversation)).status,
        );
      }
    }
    expect(statuses).toEqual([
      'wrong',
      'wrong',
      'wrong',
      'wrong',
      'wrong',
      'locked',
      'locked',
      'locked',
      'locked',
    ]);
    const fresh = await createConversation(pool, caller, 'phone');
    const locked = await redeemLinkCode(pool, caller, code, fresh);
    expect(locked).toMatchObject({ status: 'locked', scope: 'caller' });
    const until = locked.status === 'locked' ? (locked.until?.getTime() ?? 0) : 0;
    expect(until - Date.now()).toBeGreaterThan(LINK_TRY_REFILL_MS - 60_000);
    expect(until - Date.now()).toBeLessThanOrEqual(LINK_TRY_REFILL_MS + 1_000);

    // One refill period later, one try is back.
    await pool.query(
      `update users set link_tries_at = link_tries_at - $2 * interval '1 millisecond' where id = $1`,
      [caller, LINK_TRY_REFILL_MS],
    );
    expect(await redeemLinkCode(pool, caller, code, fresh)).toEqual({ status: 'linked' });
    expect(await resolveUser(pool, { kind: 'web', value: 'browser-patient' })).toBe(caller);
  });

  it('does not count what is not an eight-digit code, and keeps one live code per user', async () => {
    const pool = test.database.pool;
    const web = await resolveUser(pool, { kind: 'web', value: 'browser-many-codes' });
    const caller = await resolveUser(pool, { kind: 'phone', value: '+15550003333' });
    const call = await createConversation(pool, caller, 'phone');
    for (const guess of ['123456', '12345', 'one two three', '123456789']) {
      expect(await redeemLinkCode(pool, caller, guess, call)).toEqual({ status: 'malformed' });
    }
    const issued = await Promise.all(Array.from({ length: 10 }, () => createLinkCode(pool, web)));
    const { rows } = await pool.query<{ code_hash: string }>(
      'select code_hash from account_link_codes where user_id = $1',
      [web],
    );
    expect(rows).toHaveLength(1);
    const live = issued.filter(
      ({ code }) => createHash('sha256').update(code).digest('hex') === rows[0]?.code_hash,
    );
    expect(live).toHaveLength(1);
  });
});

/** An eight-digit code other than `code`, different for each `index`. */
function wrongCode(code: string, index = 0): string {
  const value = (Number(code) + 1 + index) % 10 ** LINK_CODE_DIGITS;
  return String(value).padStart(LINK_CODE_DIGITS, '0');
}
