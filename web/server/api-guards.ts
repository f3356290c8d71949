import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import {
  browserIdOf,
  hasAccessCookie,
  isSameOrigin,
  issueBrowserId,
  sameSecret,
  type BrowserId,
} from './access.ts';
import type { KeyGuessLimiter } from './key-guess-limiter.ts';
import { refuse } from './replies.ts';

/**
 * The guards of the /api routes, as onRequest hooks. They are added to the encapsulated
 * plugin that holds the routes (create-server.ts), so Fastify runs them for whatever
 * route a request matched, however its path was spelled: the router decodes
 * percent-escapes and drops fragments before it matches, so a guard that read the URL
 * string would be walked around.
 */

type Guard = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;

const identities = new WeakMap<FastifyRequest, BrowserId>();

/**
 * The browser identity the identity guard established for this request. Throws when the
 * route has no identity guard: a wiring mistake must fail, never run as an empty user.
 */
export function identityOf(request: FastifyRequest): BrowserId {
  const browserId = identities.get(request);
  if (!browserId) throw new Error(`${request.routeOptions.url ?? 'this route'} has no identity guard`);
  return browserId;
}

export interface AccessGuardOptions {
  /** APP_ACCESS_KEY; undefined lets everyone in. */
  accessKey: string | undefined;
  limiter: KeyGuessLimiter;
  logger?: Logger | undefined;
}

/** Whether a key someone sent is the access key; or how long their address must wait first. */
export type KeyCheck = { outcome: 'right' } | { outcome: 'wrong' } | { outcome: 'wait'; waitMs: number };

/**
 * Checks a key under the per-address limit on wrong guesses (the Authorization header
 * and `POST /api/access` share it). Compared in constant time.
 */
export function checkKey(options: AccessGuardOptions, address: string, given: string): KeyCheck {
  const { accessKey, limiter, logger } = options;
  if (!accessKey) return { outcome: 'right' };
  const waitMs = limiter.waitMs(address);
  if (waitMs > 0) return { outcome: 'wait', waitMs };
  if (sameSecret(given, accessKey)) return { outcome: 'right' };
  limiter.recordFailure(address);
  if (limiter.waitMs(address) > 0)
    logger?.warn({ address }, 'too many wrong access keys: refusing keys from this address for a while');
  return { outcome: 'wrong' };
}

/** 429 with Retry-After, for an address that sent too many wrong keys. */
export function refuseGuessing(reply: FastifyReply, waitMs: number): FastifyReply {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  reply.header('retry-after', String(seconds));
  return refuse(
    reply,
    429,
    'too_many_attempts',
    `Too many wrong access keys came from this address. Try again in ${seconds} seconds.`,
  );
}

/**
 * With an access key configured: lets through the signed access cookie, or
 * `Authorization: Bearer <key>` (limited per address); refuses everything else with 401.
 */
export function accessKeyGuard(options: AccessGuardOptions): Guard {
  return async (request, reply) => {
    if (!options.accessKey || hasAccessCookie(request)) return;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const bearer = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
      const check = checkKey(options, request.ip, bearer);
      if (check.outcome === 'right') return;
      if (check.outcome === 'wait') return refuseGuessing(reply, check.waitMs);
    }
    return refuse(
      reply,
      401,
      'access_key_required',
      'This assistant needs its access key. Enter it to continue.',
    );
  };
}

/**
 * Establishes who the browser is. A WebSocket upgrade must come from this site's own
 * page and bring its identity cookie (an upgrade cannot set one; the page gets it from
 * `POST /api/session` first), so no conversation runs without an identity. Any other
 * request gets a new identity when it has none.
 */
export function identityGuard(): Guard {
  return async (request, reply) => {
    if (request.ws) {
      if (!isSameOrigin(request))
        return refuse(reply, 403, 'wrong_origin', 'Connect from the assistant page itself.');
      const browserId = browserIdOf(request);
      if (!browserId) return refuse(reply, 401, 'no_identity', 'Reload the page, then connect again.');
      identities.set(request, browserId);
      return;
    }
    identities.set(request, browserIdOf(request) ?? issueBrowserId(request, reply));
  };
}
