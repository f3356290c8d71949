import type { Queryable } from '../connection.ts';
import { transaction } from '../transaction.ts';
import type pg from 'pg';
import { AppError } from '../../protocol/index.ts';

export type IdentityKind = 'web' | 'phone';

export interface Identity {
  kind: IdentityKind;
  value: string;
}

/**
 * Refuses an identity with an empty or blank value: it would be one user shared by
 * everyone whose id went missing (one stranger's memories in another's conversation).
 */
function checked(identity: Identity): Identity {
  if (identity.value.trim() === '')
    throw new Error(`A ${identity.kind} identity needs a value; it was empty.`);
  return identity;
}

/**
 * The user behind an identity (a browser id, a phone number), created on first sight.
 * Safe under concurrency: two first visits at once resolve to one user.
 */
export async function resolveUser(pool: pg.Pool, identity: Identity): Promise<string> {
  checked(identity);
  const existing = await findUserByIdentity(pool, identity);
  if (existing) return existing;
  return transaction(pool, async (client) => {
    const { rows: users } = await client.query<{ id: string }>(
      'insert into users default values returning id',
    );
    const userId = (users[0] as { id: string }).id;
    const { rows } = await client.query<{ user_id: string }>(
      `insert into user_identities (user_id, kind, value) values ($1, $2, $3)
       on conflict (kind, value) do update set kind = excluded.kind
       returning user_id`,
      [userId, identity.kind, identity.value],
    );
    const owner = (rows[0] as { user_id: string }).user_id;
    // Someone else created the identity first: drop the user we made and use theirs.
    if (owner !== userId) await client.query('delete from users where id = $1', [userId]);
    return owner;
  });
}

export async function findUserByIdentity(db: Queryable, identity: Identity): Promise<string | undefined> {
  checked(identity);
  const { rows } = await db.query<{ user_id: string }>(
    'select user_id from user_identities where kind = $1 and value = $2',
    [identity.kind, identity.value],
  );
  return rows[0]?.user_id;
}

/** Thrown when an identity to link already belongs to another person. */
export class IdentityTakenError extends AppError<'identity-taken'> {
  constructor(identity: Identity) {
    super(
      'identity-taken',
      `That ${identity.kind === 'phone' ? 'phone number' : 'identity'} is already linked to another account.`,
      { userFacing: true, retryable: false },
    );
  }
}

/**
 * Links another identity (e.g. a phone number) to an existing user so both channels
 * share memories and documents. Linking an identity the user already has is a no-op.
 */
export async function linkIdentity(db: Queryable, userId: string, identity: Identity): Promise<void> {
  checked(identity);
  const { rows } = await db.query<{ user_id: string }>(
    `insert into user_identities (user_id, kind, value) values ($1, $2, $3)
     on conflict (kind, value) do update set kind = excluded.kind
     returning user_id`,
    [userId, identity.kind, identity.value],
  );
  if (rows[0]?.user_id !== userId) throw new IdentityTakenError(identity);
}

export async function listIdentities(db: Queryable, userId: string): Promise<Identity[]> {
  const { rows } = await db.query<Identity>(
    'select kind, value from user_identities where user_id = $1 order by kind, value',
    [userId],
  );
  return rows;
}

export async function userExists(db: Queryable, userId: string): Promise<boolean> {
  const { rows } = await db.query('select 1 from users where id = $1', [userId]);
  return rows.length > 0;
}
