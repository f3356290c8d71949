import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { addressKey, KeyGuessLimiter, MAX_KEY_FAILURES } from './key-guess-limiter.ts';
import { rawRequest, type RawAnswer } from './raw-requests.ts';
import { startTestServer, TestBrowser, type TestServer } from './test-server.ts';

const ACCESS_KEY = 'correct horse battery staple';

describe('KeyGuessLimiter', () => {
  it('lets an address fail a few times per window, then makes it wait until the window ends', () => {
    let now = 1_000_000;
    const limiter = new KeyGuessLimiter({ maxFailures: 3, windowMs: 60_000 }, () => now);
    for (let failure = 0; failure < 3; failure++) {
      expect(limiter.waitMs('192.0.2.1')).toBe(0);
      limiter.recordFailure('192.0.2.1');
      now += 1000;
    }
    expect(limiter.waitMs('192.0.2.1')).toBe(57_000);
    expect(limiter.waitMs('192.0.2.2')).toBe(0);
    now += 57_000;
    expect(limiter.waitMs('192.0.2.1')).toBe(0);
  });

  it('counts an IPv6 /64 as one address, and IPv4-mapped addresses as IPv4', () => {
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe(addressKey('2001:0db8:0001:0002:ffff:1:2:3'));
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'));
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('64:ff9b::192.0.2.1')).toBe('64:ff9b:0:0::/64');
    expect(addressKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1');
  });
});

// One database for the servers below: they differ only in their limits.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('embedded', 8);
});
afterAll(() => database?.cleanup());

describe('wrong access keys, on every /api path and the socket', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database, env: { APP_ACCESS_KEY: ACCESS_KEY } });
  });
  afterAll(() => server?.close());

  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  /** One guess, on one of the ways a key can be given (they rotate). */
  const guess = (index: number, key: string): Promise<RawAnswer> => {
    const target = rawRequest.bind(undefined, server.url);
    switch (index % 5) {
      case 0:
        return target({ method: 'POST', target: '/api/session', headers: bearer(key) });
      case 1:
        return target({ method: 'POST', target: '/%61pi/erase', headers: bearer(key) });
      case 2:
        return target({ method: 'GET', target: '/api/socket', headers: bearer(key), upgrade: true });
      case 3:
        return target({ method: 'POST', target: '/api/phone-link', headers: { authorization: key } });
      default:
        return target({
          method: 'POST',
          target: '/api/access',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key }),
        });
    }
  };

  it('checks a handful of wrong keys per minute from one address, then answers 429 with Retry-After; the key holders are not held up', async () => {
    // A browser that gave the key earlier, and a script that sends it with every request.
    const browser = new TestBrowser(server.url);
    expect((await browser.postJson('/api/access', { key: ACCESS_KEY })).status).toBe(204);
    for (let index = 0; index < 10; index++) {
      const right = await rawRequest(server.url, {
        method: 'POST',
        target: '/api/session',
        headers: bearer(ACCESS_KEY),
      });
      expect(right.status).toBe(200);
    }

    const answers: RawAnswer[] = [];
    for (let index = 0; index < 40; index++) answers.push(await guess(index, `guess number ${index}`));
    const statuses = answers.map((answer) => answer.status);
    expect(statuses.slice(0, MAX_KEY_FAILURES).every((status) => status === 401)).toBe(true);
    expect(statuses.slice(MAX_KEY_FAILURES).every((status) => status === 429)).toBe(true);
    for (const answer of answers.slice(MAX_KEY_FAILURES)) {
      expect(answer.upgraded).toBe(false);
      expect(JSON.parse(answer.body)).toMatchObject({ error: 'too_many_attempts' });
      const retryAfter = Number(answer.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }

    // Locked out: even the right key is not checked now (a different answer would tell a guesser it hit).
    expect((await guess(0, ACCESS_KEY)).status).toBe(429);
    expect((await guess(4, ACCESS_KEY)).status).toBe(429);
    // The signed cookie is not a guess: the browser that gave the key goes on working.
    expect((await browser.postJson('/api/session')).status).toBe(200);
    // Without any key there is nothing to limit: the usual 401 that makes the page ask for it.
    const keyless = await rawRequest(server.url, { method: 'POST', target: '/api/session' });
    expect(keyless.status).toBe(401);
  });
});

describe('wrong access keys, after the window', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      database,
      env: { APP_ACCESS_KEY: ACCESS_KEY },
      keyGuessLimits: { maxFailures: 2, windowMs: 1000 },
    });
  });
  afterAll(() => server?.close());

  it('checks keys from the address again once its window has passed', async () => {
    const send = (key: string) =>
      rawRequest(server.url, {
        method: 'POST',
        target: '/api/session',
        headers: { authorization: `Bearer ${key}` },
      });
    expect((await send('wrong one')).status).toBe(401);
    expect((await send('wrong two')).status).toBe(401);
    const locked = await send(ACCESS_KEY);
    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBe('1');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await send(ACCESS_KEY)).status).toBe(200);
  });
});
