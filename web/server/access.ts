import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Who is asking, and whether they may: the access key (when `APP_ACCESS_KEY` is set)
 * and the stable browser identity, both kept in cookies signed with one secret.
 */

/** Signed cookie holding the browser's identity (a random id; memory follows it across visits). */
export const IDENTITY_COOKIE = 'assistant_browser';
/** Signed cookie proving the access key was given; valid while the key stays the same. */
export const ACCESS_COOKIE = 'assistant_access';

/** Browsers cap cookie lifetimes at 400 days. */
const IDENTITY_MAX_AGE_SECONDS = 400 * 24 * 3600;
const ACCESS_MAX_AGE_SECONDS = 30 * 24 * 3600;
const ACCESS_GRANTED = 'granted';
const SECRET_FILE = 'cookie-secret';

/**
 * The secret cookies are signed with. With an access key it is derived from the key,
 * so every instance behind a load balancer agrees and changing the key signs everyone
 * out (and gives every browser a new identity). Without one it is 32 random bytes kept
 * in `DATA_DIR/cookie-secret`, created on first start.
 */
export async function loadCookieSecret(dataDir: string, accessKey: string | undefined): Promise<Buffer> {
  if (accessKey) return createHmac('sha256', 'assistant cookie secret v1').update(accessKey).digest();
  const file = path.join(dataDir, SECRET_FILE);
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(dataDir, { recursive: true });
  const secret = randomBytes(32);
  try {
    // 'wx': two processes starting at once must not overwrite each other's secret.
    await writeFile(file, `${secret.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'hex');
  }
}

/** Compares secrets in constant time (hashing first makes the lengths equal). */
export function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** Whether the request carries the signed cookie that `POST /api/access` gives (unforgeable without the secret). */
export function hasAccessCookie(request: FastifyRequest): boolean {
  const cookie = request.cookies[ACCESS_COOKIE];
  if (!cookie) return false;
  const unsigned = request.unsignCookie(cookie);
  return unsigned.valid && unsigned.value === ACCESS_GRANTED;
}

/** Remembers in this browser that the access key was given. */
export function grantAccess(request: FastifyRequest, reply: FastifyReply): void {
  reply.setCookie(ACCESS_COOKIE, ACCESS_GRANTED, {
    ...cookieOptions(request),
    maxAge: ACCESS_MAX_AGE_SECONDS,
  });
}

/**
 * A browser's identity: never empty, only URL-safe characters (what {@link issueBrowserId}
 * makes). Only {@link parseBrowserId} and {@link issueBrowserId} produce one.
 */
export type BrowserId = string & { readonly brand: 'BrowserId' };

/** A browser id, or undefined for anything that is not one (empty, too short, odd characters). */
export function parseBrowserId(value: string | undefined): BrowserId | undefined {
  return value !== undefined && /^[A-Za-z0-9_-]{16,64}$/.test(value) ? (value as BrowserId) : undefined;
}

/** The browser's identity from its signed cookie, or undefined when absent or forged. */
export function browserIdOf(request: FastifyRequest): BrowserId | undefined {
  const cookie = request.cookies[IDENTITY_COOKIE];
  if (!cookie) return undefined;
  const unsigned = request.unsignCookie(cookie);
  return unsigned.valid && unsigned.value !== null ? parseBrowserId(unsigned.value) : undefined;
}

/** Gives the browser a new random identity (first visit, or after "forget me"). */
export function issueBrowserId(request: FastifyRequest, reply: FastifyReply): BrowserId {
  const browserId = randomBytes(18).toString('base64url') as BrowserId;
  reply.setCookie(IDENTITY_COOKIE, browserId, {
    ...cookieOptions(request),
    maxAge: IDENTITY_MAX_AGE_SECONDS,
  });
  return browserId;
}

function cookieOptions(request: FastifyRequest) {
  return {
    signed: true,
    httpOnly: true,
    // Lax: sent when the page is opened from a link, never on another site's POST or socket.
    sameSite: 'lax' as const,
    path: '/',
    secure: request.protocol === 'https',
  };
}

/**
 * Whether a WebSocket upgrade comes from this site's own page: its Origin must be this
 * server's origin, scheme, host and port alike (a page on another port or over plain
 * http is another site's page, and may carry this site's cookies). Browsers always send
 * Origin on WebSocket handshakes; other clients (tests, tools) may omit it, and carry no
 * victim's cookies. Behind a reverse proxy the scheme and host come from
 * X-Forwarded-Proto and X-Forwarded-Host only when TRUST_PROXY is set.
 */
export function isSameOrigin(request: FastifyRequest): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) return true;
  try {
    // Both sides normalised by URL (lower case, default ports dropped); a path or "null" never matches.
    return (
      origin === new URL(origin).origin && origin === new URL(`${request.protocol}://${request.host}`).origin
    );
  } catch {
    return false;
  }
}
