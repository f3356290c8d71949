import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findUserByIdentity, resolveUser } from '../../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { rawRequest, type RawAnswer } from './raw-requests.ts';
import { startTestServer, TestBrowser, type TestServer } from './test-server.ts';

/**
 * Every /api route and the socket, under many spellings of its path: the router decodes
 * and matches paths, so the guards must come with the matched route, never from the
 * URL string. Each spelling either reaches no handler at all (400, 404) or meets the
 * route's guards.
 */

const ACCESS_KEY = 'correct horse battery staple';

interface ApiRoute {
  name: string;
  method: string;
  query?: string;
  body?: string;
  upgrade?: boolean;
}

const ROUTES: ApiRoute[] = [
  { name: 'session', method: 'POST' },
  { name: 'erase', method: 'POST', body: '{"confirm":true}' },
  { name: 'phone-link', method: 'POST' },
  { name: 'uploads', method: 'POST', query: `?session=${randomUUID()}` },
  { name: 'socket', method: 'GET', upgrade: true },
  { name: 'voices', method: 'GET' },
  { name: 'voice', method: 'POST', body: '{"voiceId":"alloy"}' },
];

const encodeAll = (text: string) =>
  [...text].map((character) => `%${character.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
const encodeFirst = (text: string) => `${encodeAll(text.slice(0, 1))}${text.slice(1)}`;

/**
 * Spellings of `/api/<name>`: each a way a path could name a route without being its
 * literal text. `true`: Fastify's router matches it to the route today, so the guard must
 * answer (this keeps the test from passing on 404s alone); `false`: it may reach no route.
 */
const SPELLINGS: [string, (name: string) => string, boolean][] = [
  ['as written', (name) => `/api/${name}`, true],
  ['an encoded letter in the prefix', (name) => `/%61pi/${name}`, true],
  ['an encoded letter in the route', (name) => `/api/${encodeFirst(name)}`, true],
  ['every character encoded', (name) => `/${encodeAll('api')}/${encodeAll(name)}`, true],
  ['a fragment', (name) => `/api/${name}#x`, true],
  ['an empty query', (name) => `/api/${name}?`, true],
  ['the absolute form', (name) => `http://127.0.0.1/api/${name}`, true],
  ['the absolute form naming another host', (name) => `http://evil.example/api/${name}`, true],
  ['upper-case hex escapes', (name) => `/%41%50%49/${name}`, false],
  ['a double-encoded letter', (name) => `/%2561pi/${name}`, false],
  ['upper case', (name) => `/API/${name.toUpperCase()}`, false],
  ['mixed case', (name) => `/Api/${name}`, false],
  ['a leading double slash', (name) => `//api/${name}`, false],
  ['a double slash inside', (name) => `/api//${name}`, false],
  ['a trailing slash', (name) => `/api/${name}/`, false],
  ['a dot segment', (name) => `/api/./${name}`, false],
  ['a dot-dot segment', (name) => `/x/../api/${name}`, false],
  ['an encoded dot-dot segment', (name) => `/x/%2e%2e/api/${name}`, false],
  ['a dot-dot out of the open route', (name) => `/api/access/../${name}`, false],
  ['an encoded slash', (name) => `/api%2f${name}`, false],
  ['a backslash', (name) => `/api\\${name}`, false],
  ['a semicolon parameter', (name) => `/api/${name};x=1`, false],
  ['a semicolon in the prefix', (name) => `/api;x=1/${name}`, false],
  ['an encoded NUL at the end', (name) => `/api/${name}%00`, false],
  ['an encoded space at the end', (name) => `/api/${name}%20`, false],
];

/** The cases: every route under every spelling, as [label, route, request target, routed]. */
const CASES = ROUTES.flatMap((route) =>
  SPELLINGS.map(([spelling, spell, routed]) => {
    const target = spell(route.name);
    // A query after a fragment would be part of the fragment.
    const query = route.query ? (target.includes('?') ? route.query.replace('?', '&') : route.query) : '';
    return [`${route.name} with ${spelling}`, route, `${target}${query}`, routed] as const;
  }),
);

function send(server: TestServer, route: ApiRoute, target: string, headers: Record<string, string> = {}) {
  return rawRequest(server.url, {
    method: route.method,
    target,
    headers: route.body ? { 'content-type': 'application/json', ...headers } : headers,
    ...(route.body ? { body: route.body } : {}),
    ...(route.upgrade ? { upgrade: true } : {}),
  });
}

/** The route was not reached at all: no handler for this spelling, or a malformed request. */
const unrouted = (answer: RawAnswer, routed: boolean) =>
  !routed && !answer.upgraded && [400, 404].includes(answer.status);

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('embedded', 8);
});
afterAll(() => database?.cleanup());

describe('the access key, under every spelling of every /api path', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database, env: { APP_ACCESS_KEY: ACCESS_KEY } });
  });
  afterAll(() => server?.close());

  it.each(CASES)('refuses %s without the key', async (_label, route, target, routed) => {
    const answer = await send(server, route, target);
    if (unrouted(answer, routed)) return;
    expect(answer.upgraded).toBe(false);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'access_key_required' });
    expect(answer.headers['set-cookie']).toBeUndefined();
  });

  it('lets the key through on the written path (so the refusals above mean something)', async () => {
    const browser = new TestBrowser(server.url);
    const authorization = `Bearer ${ACCESS_KEY}`;
    const session = await send(server, ROUTES[0] as ApiRoute, '/api/session', { authorization });
    expect(session.status).toBe(200);
    await browser.request('/api/session', { method: 'POST', headers: { authorization } });
    const socket = await send(server, ROUTES[4] as ApiRoute, '/api/socket', {
      authorization,
      cookie: browser.cookieHeader,
    });
    expect(socket.upgraded).toBe(true);
  });
});

describe('the socket’s identity and Origin rules, under every spelling of its path', () => {
  let server: TestServer;
  let browser: TestBrowser;
  let origin: string;
  const socketRoute = ROUTES[4] as ApiRoute;
  const socketCases = CASES.filter(([, route]) => route === socketRoute);
  beforeAll(async () => {
    server = await startTestServer({ database });
    browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    origin = new URL(server.url).origin;
  });
  afterAll(() => server?.close());

  it.each(socketCases)('refuses %s without an identity cookie', async (_label, _route, target, routed) => {
    const answer = await send(server, socketRoute, target, { origin });
    if (unrouted(answer, routed)) return;
    expect(answer.upgraded).toBe(false);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'no_identity' });
  });

  it.each(socketCases)(
    'refuses %s from another site, with the browser’s cookie',
    async (_label, _route, target, routed) => {
      const answer = await send(server, socketRoute, target, {
        origin: 'https://evil.example',
        cookie: browser.cookieHeader,
      });
      if (unrouted(answer, routed)) return;
      expect(answer.upgraded).toBe(false);
      expect(answer.status).toBe(403);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'wrong_origin' });
    },
  );

  it.each([
    ['another scheme', () => origin.replace('http:', 'https:')],
    ['another port', () => `http://127.0.0.1:${Number(new URL(server.url).port) + 1}`],
    ['another host on the same port', () => origin.replace('127.0.0.1', 'localhost')],
    ['an opaque origin', () => 'null'],
    ['an origin with a path', () => `${origin}/evil`],
    ['not a URL', () => 'evil'],
  ])('refuses an Origin with %s', async (_name, otherOrigin) => {
    const answer = await send(server, socketRoute, '/api/socket', {
      origin: otherOrigin(),
      cookie: browser.cookieHeader,
    });
    expect(answer.upgraded).toBe(false);
    expect(answer.status).toBe(403);
  });

  it('opens for this site’s own page with its identity (so the refusals above mean something)', async () => {
    const answer = await send(server, socketRoute, '/api/socket', { origin, cookie: browser.cookieHeader });
    expect(answer.upgraded).toBe(true);
  });

  it('never created a user with an empty identity, and the database refuses one', async () => {
    const pool = server.test.database.pool;
    const { rows } = await pool.query<{ count: number }>(
      "select count(*)::int as count from user_identities where trim(value) = ''",
    );
    expect(rows[0]?.count).toBe(0);
    for (const value of ['', ' ']) {
      await expect(resolveUser(pool, { kind: 'web', value })).rejects.toThrow(/needs a value/);
      await expect(findUserByIdentity(pool, { kind: 'web', value })).rejects.toThrow(/needs a value/);
    }
  });
});

describe('the socket’s Origin rule behind a reverse proxy (TRUST_PROXY)', () => {
  it.each([
    ['trusted', 'true', true],
    ['not trusted', 'false', false],
  ])(
    'with the proxy %s, takes the scheme and host from X-Forwarded-Proto and -Host: %s',
    async (_name, trustProxy, opens) => {
      const server = await startTestServer({ database, env: { TRUST_PROXY: trustProxy } });
      try {
        const browser = new TestBrowser(server.url);
        await browser.postJson('/api/session');
        const answer = await rawRequest(server.url, {
          method: 'GET',
          target: '/api/socket',
          upgrade: true,
          headers: {
            cookie: browser.cookieHeader,
            origin: 'https://assistant.example.com',
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'assistant.example.com',
          },
        });
        expect(answer.upgraded).toBe(opens);
      } finally {
        await server.close();
      }
    },
  );
});
