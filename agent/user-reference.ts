import type pg from 'pg';
import { findUserByIdentity, resolveUser, userExists, type Identity } from '../db/index.ts';
import { AppError } from '../protocol/index.ts';
import { isE164 } from './sip/phone-number.ts';

/**
 * The one notion of "a user" that commands (`ask`, `ingest`, `erase`) and the LiveKit
 * dispatch metadata accept: a user id, or an identity the user is known by. Anything
 * else is refused with the same message everywhere.
 */
export type UserReference = { kind: 'user-id'; userId: string } | { kind: 'identity'; identity: Identity };

/** How a user may be written, for messages and usage texts. */
export const USER_REFERENCE_FORMS = 'a user id (UUID), web:<id> or phone:<E.164 number, like +15551234567>';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A user reference that names no one; the message says what to write instead. */
export class UserReferenceError extends AppError<'unknown-user'> {
  constructor(message: string) {
    super('unknown-user', message, { userFacing: true, retryable: false });
  }
}

/**
 * Parses `text` as {@link UserReference}. A plain name such as `alice` is refused, with
 * the hint to write `web:alice`: any non-empty `web:` id is a user of its own, created
 * on first use, which is how a person without a browser is named.
 */
export function parseUserReference(text: string): UserReference {
  const value = text.trim();
  if (UUID.test(value)) return { kind: 'user-id', userId: value.toLowerCase() };
  const match = /^(web|phone):(.*)$/s.exec(value);
  if (!match) {
    const hint = /^[\w.@-]+$/.test(value) ? ` For a person of your own naming, write web:${value}.` : '';
    throw new UserReferenceError(`"${text}" is not a user: write ${USER_REFERENCE_FORMS}.${hint}`);
  }
  const kind = match[1] as Identity['kind'];
  const id = (match[2] ?? '').trim();
  if (id === '') throw new UserReferenceError(`"${text}" names no one: write ${USER_REFERENCE_FORMS}.`);
  if (kind === 'phone' && !isE164(id)) {
    throw new UserReferenceError(
      `"${text}": phone numbers are written in E.164, like phone:+15551234567 (no spaces).`,
    );
  }
  return { kind: 'identity', identity: { kind, value: id } };
}

/**
 * The user a reference names. An identity seen for the first time becomes a new user
 * when `create` is set (asking, ingesting); a user id must exist either way. Undefined
 * when no such user exists (and was not created).
 */
export async function findReferencedUser(
  pool: pg.Pool,
  reference: UserReference,
  options: { create: boolean },
): Promise<string | undefined> {
  if (reference.kind === 'user-id')
    return (await userExists(pool, reference.userId)) ? reference.userId : undefined;
  return options.create
    ? resolveUser(pool, reference.identity)
    : findUserByIdentity(pool, reference.identity);
}

/** How to print a reference back to the person who wrote it. */
export function describeUserReference(reference: UserReference): string {
  return reference.kind === 'user-id'
    ? `user ${reference.userId}`
    : `${reference.identity.kind}:${reference.identity.value}`;
}
