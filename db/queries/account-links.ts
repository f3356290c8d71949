import { createHash, randomInt } from 'node:crypto';
import type pg from 'pg';
import type { Queryable } from '../connection.ts';
import { transaction } from '../transaction.ts';

/** How long a link code stays valid. */
export const LINK_CODE_LIFETIME_MS = 10 * 60 * 1000;

const hashCode = (code: string) => createHash('sha256').update(code.replace(/\D/g, '')).digest('hex');

/**
 * A fresh six-digit code that lets another channel (the phone) join this user.
 * Earlier codes of the user stop working.
 */
export async function createLinkCode(
  db: Queryable,
  userId: string,
): Promise<{ code: string; expiresAt: Date }> {
  await db.query('delete from account_link_codes where user_id = $1 or expires_at < now()', [userId]);
  for (;;) {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    const expiresAt = new Date(Date.now() + LINK_CODE_LIFETIME_MS);
    const result = await db.query(
      'insert into account_link_codes (user_id, code_hash, expires_at) values ($1, $2, $3) on conflict (code_hash) do nothing',
      [userId, hashCode(code), expiresAt],
    );
    if ((result.rowCount ?? 0) > 0) return { code, expiresAt };
  }
}

/**
 * Redeems a link code for `userId` (the caller): the code's owner (the web user) is
 * merged into `userId`, so one person keeps everything from both channels. Returns
 * false for a wrong or expired code. One transaction.
 */
export async function redeemLinkCode(pool: pg.Pool, userId: string, code: string): Promise<boolean> {
  return transaction(pool, async (client) => {
    const { rows } = await client.query<{ user_id: string }>(
      'delete from account_link_codes where code_hash = $1 and expires_at > now() returning user_id',
      [hashCode(code)],
    );
    const owner = rows[0]?.user_id;
    if (!owner) return false;
    if (owner !== userId) await mergeUsersWithin(client, owner, userId);
    return true;
  });
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
