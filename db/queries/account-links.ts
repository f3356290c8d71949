import { createHash, randomInt } from 'node:crypto';
import type pg from 'pg';
import { transaction } from '../transaction.ts';

/** How long a link code stays valid. */
export const LINK_CODE_LIFETIME_MS = 10 * 60 * 1000;
/** Digits in a link code: 10^8 codes, read out on the phone as two groups of four. */
export const LINK_CODE_DIGITS = 8;
/** Wrong codes one call may try; then linking is locked for the rest of the call. */
export const LINK_FAILURES_PER_CALL = 3;
/** Wrong codes a caller may try in a row before waiting; the budget refills over time. */
export const LINK_TRIES_PER_CALLER = 5;
/** Time for one spent try to come back (so at most 5 tries an hour, sustained). */
export const LINK_TRY_REFILL_MS = 12 * 60 * 1000;

const CODE_SPACE = 10 ** LINK_CODE_DIGITS;
const digitsOf = (code: string) => code.replace(/\D/g, '');
const hashCode = (digits: string) => createHash('sha256').update(digits).digest('hex');

/**
 * A fresh eight-digit code that lets another channel (the phone) join this user.
 * Earlier codes of the user stop working: a user has at most one live code.
 */
export async function createLinkCode(
  pool: pg.Pool,
  userId: string,
): Promise<{ code: string; expiresAt: Date }> {
  return transaction(pool, async (client) => {
    // One issuer at a time per user, so the one-live-code rule holds under concurrent requests.
    await client.query('select 1 from users where id = $1 for update', [userId]);
    await client.query('delete from account_link_codes where user_id = $1 or expires_at < now()', [userId]);
    for (;;) {
      const code = String(randomInt(0, CODE_SPACE)).padStart(LINK_CODE_DIGITS, '0');
      const expiresAt = new Date(Date.now() + LINK_CODE_LIFETIME_MS);
      const result = await client.query(
        'insert into account_link_codes (user_id, code_hash, expires_at) values ($1, $2, $3) on conflict (code_hash) do nothing',
        [userId, hashCode(code), expiresAt],
      );
      if ((result.rowCount ?? 0) > 0) return { code, expiresAt };
    }
  });
}

/** What became of one try to redeem a code. */
export type LinkOutcome =
  | { status: 'linked' }
  /** Not eight digits: not counted as a try. */
  | { status: 'malformed' }
  | { status: 'wrong'; triesLeft: number }
  /** `call`: this call used its tries; `caller`: the caller's budget is spent until `until`. */
  | { status: 'locked'; scope: 'call' | 'caller'; until: Date | null };

interface CallerState {
  now: Date;
  link_tries: number | null;
  link_tries_at: Date | null;
  link_failures: number;
}

/**
 * Redeems a link code for `userId` (the caller) during `conversationId` (the call): the
 * code's owner (the web user) is merged into `userId`, so one person keeps everything
 * from both channels. Guessing is limited: a call gets LINK_FAILURES_PER_CALL wrong
 * codes, and a caller LINK_TRIES_PER_CALLER, refilled one per LINK_TRY_REFILL_MS; the
 * counts live in the database so a new call does not reset them, and concurrent tries
 * of one caller are serialised by a row lock. One transaction.
 */
export async function redeemLinkCode(
  pool: pg.Pool,
  userId: string,
  code: string,
  conversationId: string,
): Promise<LinkOutcome> {
  const digits = digitsOf(code);
  if (digits.length !== LINK_CODE_DIGITS) return { status: 'malformed' };
  return transaction(pool, async (client) => {
    // Lock the caller first; read the call's count after, in a statement of its own, so it
    // sees what tries that held the lock before committed (read committed: a new snapshot).
    const { rows } = await client.query<Omit<CallerState, 'link_failures'>>(
      'select now() as now, link_tries, link_tries_at from users where id = $1 for update',
      [userId],
    );
    const { rows: calls } = await client.query<{ link_failures: number }>(
      'select link_failures from conversations where id = $1 and user_id = $2',
      [conversationId, userId],
    );
    const caller = rows[0];
    const failures = calls[0]?.link_failures;
    if (!caller || failures === undefined) return { status: 'locked', scope: 'call', until: null };
    const state: CallerState = { ...caller, link_failures: failures };
    if (state.link_failures >= LINK_FAILURES_PER_CALL)
      return { status: 'locked', scope: 'call', until: null };
    const tries = triesAvailable(state);
    if (tries < 1) {
      const until = new Date(state.now.getTime() + (1 - tries) * LINK_TRY_REFILL_MS);
      return { status: 'locked', scope: 'caller', until };
    }

    const { rows: owners } = await client.query<{ user_id: string }>(
      'delete from account_link_codes where code_hash = $1 and expires_at > now() returning user_id',
      [hashCode(digits)],
    );
    const owner = owners[0]?.user_id;
    if (owner) {
      if (owner !== userId) await mergeUsersWithin(client, owner, userId);
      return { status: 'linked' };
    }
    await client.query('update users set link_tries = $2, link_tries_at = $3 where id = $1', [
      userId,
      tries - 1,
      state.now,
    ]);
    await client.query('update conversations set link_failures = link_failures + 1 where id = $1', [
      conversationId,
    ]);
    const leftInCall = LINK_FAILURES_PER_CALL - state.link_failures - 1;
    return { status: 'wrong', triesLeft: Math.max(0, Math.min(leftInCall, Math.floor(tries - 1))) };
  });
}

/** The caller's tries now: what was left, plus what came back since, up to the budget. */
function triesAvailable(state: CallerState): number {
  if (state.link_tries === null || state.link_tries_at === null) return LINK_TRIES_PER_CALLER;
  const refilled = (state.now.getTime() - state.link_tries_at.getTime()) / LINK_TRY_REFILL_MS;
  return Math.min(LINK_TRIES_PER_CALLER, state.link_tries + Math.max(0, refilled));
}

/**
 * Moves everything of user `from` to user `into` and deletes `from`. A document both
 * already have (same bytes) is kept once.
 */
async function mergeUsersWithin(client: pg.PoolClient, from: string, into: string): Promise<void> {
  await client.query(
    `delete from documents d where d.owner_id = $1
       and exists (select 1 from documents o where o.owner_id = $2 and o.sha256 = d.sha256)`,
    [from, into],
  );
  for (const [table, column] of MERGED_COLUMNS) {
    await client.query(`update ${table} set ${column} = $2 where ${column} = $1`, [from, into]);
  }
  await client.query('delete from users where id = $1', [from]);
}

/** Every per-user column; the merge test checks the catalog so none is forgotten. */
const MERGED_COLUMNS: readonly [table: string, column: string][] = [
  ['user_identities', 'user_id'],
  ['conversations', 'user_id'],
  ['messages', 'user_id'],
  ['documents', 'owner_id'],
  ['chunks', 'owner_id'],
  ['memories', 'user_id'],
  ['uploads', 'user_id'],
  ['account_link_codes', 'user_id'],
];
