import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenVerifier, TrackSource } from 'livekit-server-sdk';
import { createConversation, findUserByIdentity, redeemLinkCode, resolveUser } from '../../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import type { EraseResponse, PhoneLinkResponse, SessionResponse } from '../../protocol/index.ts';
import { ACCESS_COOKIE, IDENTITY_COOKIE } from './access.ts';
import { TOKEN_TTL_SECONDS } from './livekit-token.ts';
import { startTestServer, TestBrowser, type TestServer } from './test-server.ts';

const ACCESS_KEY = 'correct horse battery staple';
const LIVEKIT = {
  LIVEKIT_URL: 'ws://livekit.internal:7880',
  LIVEKIT_PUBLIC_URL: 'wss://rooms.example.com',
  LIVEKIT_API_KEY: 'test-api-key',
  LIVEKIT_API_SECRET: 'test-api-secret-that-is-long-enough-0123456789',
  AGENT_NAME: 'helper',
};

// One database for the whole file: the servers below differ only in configuration.
let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase('embedded', 8);
});
afterAll(() => database?.cleanup());

describe('web server in LiveKit mode with an access key', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database, env: { ...LIVEKIT, APP_ACCESS_KEY: ACCESS_KEY } });
  });
  afterAll(() => server?.close());

  it('issues no token, and refuses every API route and the socket, without the access key', async () => {
    const browser = new TestBrowser(server.url);
    const session = await browser.postJson('/api/session');
    expect(session.status).toBe(401);
    const body = await session.text();
    expect(body).not.toMatch(/token/i);
    expect(JSON.parse(body)).toMatchObject({ error: 'access_key_required' });
    expect((await browser.postJson('/api/erase', { confirm: true })).status).toBe(401);
    expect((await browser.request('/api/uploads?session=x', { method: 'POST' })).status).toBe(401);
    await expect(browser.openSocket()).rejects.toThrow(/401/);
    expect((await browser.postJson('/api/session', undefined)).status).toBe(401);
    const wrong = await browser.request('/api/session', {
      method: 'POST',
      headers: { authorization: 'Bearer not the key' },
    });
    expect(wrong.status).toBe(401);
    expect((await browser.postJson('/api/access', { key: 'not the key' })).status).toBe(401);
    expect(browser.cookie(ACCESS_COOKIE)).toBeUndefined();
    // The page and the health check stay reachable.
    expect((await browser.request('/healthz')).status).toBe(200);
    expect((await browser.request('/')).status).toBe(200);
  });

  it('issues a short-lived token with minimal grants that dispatches the agent, once the key was given', async () => {
    const browser = new TestBrowser(server.url);
    expect((await browser.postJson('/api/access', { key: ACCESS_KEY })).status).toBe(204);
    expect(browser.cookie(ACCESS_COOKIE)).toBeDefined();
    const response = await browser.postJson('/api/session');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const session = (await response.json()) as Extract<SessionResponse, { mode: 'livekit' }>;
    expect(session).toMatchObject({ mode: 'livekit', serverUrl: LIVEKIT.LIVEKIT_PUBLIC_URL });

    const claims = await new TokenVerifier(LIVEKIT.LIVEKIT_API_KEY, LIVEKIT.LIVEKIT_API_SECRET).verify(
      session.token,
    );
    expect(claims.sub).toBe(browser.cookie(IDENTITY_COOKIE)?.split('.')[0]);
    expect((claims.exp ?? 0) - (claims.nbf ?? 0)).toBe(TOKEN_TTL_SECONDS);
    expect(Math.abs(Date.parse(session.expiresAt) / 1000 - (claims.exp ?? 0))).toBeLessThanOrEqual(2);
    expect(claims.video).toEqual({
      roomJoin: true,
      room: session.roomName,
      canPublish: true,
      canPublishSources: [TrackSource.MICROPHONE, TrackSource.CAMERA].map((source) =>
        source === TrackSource.MICROPHONE ? 'microphone' : 'camera',
      ),
      canPublishData: true,
      canSubscribe: true,
      canUpdateOwnMetadata: false,
    });
    const dispatch = claims.roomConfig?.agents[0];
    expect(dispatch?.agentName).toBe('helper');
    expect(JSON.parse(dispatch?.metadata ?? '{}')).toEqual({ userIdentity: `web:${claims.sub}` });

    // Every session is a new room; the browser identity stays.
    const again = (await (await browser.postJson('/api/session')).json()) as typeof session;
    expect(again.roomName).not.toBe(session.roomName);
    const claimsAgain = await new TokenVerifier(LIVEKIT.LIVEKIT_API_KEY, LIVEKIT.LIVEKIT_API_SECRET).verify(
      again.token,
    );
    expect(claimsAgain.sub).toBe(claims.sub);
  });

  it('accepts the key as a bearer header too (for scripts)', async () => {
    const response = await new TestBrowser(server.url).request('/api/session', {
      method: 'POST',
      headers: { authorization: `Bearer ${ACCESS_KEY}` },
    });
    expect(response.status).toBe(200);
  });

  it('refuses a forged identity cookie and gives a fresh one', async () => {
    const browser = new TestBrowser(server.url);
    const response = await browser.request('/api/session', {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ACCESS_KEY}`,
        cookie: `${IDENTITY_COOKIE}=someone-elses-id-1234.forged`,
      },
    });
    expect(response.status).toBe(200);
    expect(browser.cookie(IDENTITY_COOKIE)).not.toContain('someone-elses-id');
  });
});

describe('web server in direct mode', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database });
  });
  afterAll(() => server?.close());

  it('tells the page how to open the socket and keeps one identity per browser', async () => {
    const browser = new TestBrowser(server.url);
    const first = (await (await browser.postJson('/api/session')).json()) as SessionResponse;
    expect(first).toEqual({
      mode: 'direct',
      socketPath: '/api/socket',
      protocol: 1,
      uploadMaxBytes: 26_214_400,
    });
    const identity = browser.cookie(IDENTITY_COOKIE);
    expect(identity).toBeDefined();
    await browser.postJson('/api/session');
    expect(browser.cookie(IDENTITY_COOKIE)).toBe(identity);
    expect(new TestBrowser(server.url).cookie(IDENTITY_COOKIE)).toBeUndefined();
  });

  it('erases the browser’s user and gives the browser a new identity', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const browserId = decodeURIComponent(browser.cookie(IDENTITY_COOKIE) ?? '').split('.')[0] as string;
    const pool = server.test.database.pool;
    await resolveUser(pool, { kind: 'web', value: browserId });

    expect((await browser.postJson('/api/erase', {})).status).toBe(400);
    const response = await browser.postJson('/api/erase', { confirm: true });
    expect(response.status).toBe(200);
    const receipt = (await response.json()) as EraseResponse;
    expect(receipt.rowsDeleted).toMatchObject({ users: 1, user_identities: 1 });
    expect(await findUserByIdentity(pool, { kind: 'web', value: browserId })).toBeUndefined();
    expect(decodeURIComponent(browser.cookie(IDENTITY_COOKIE) ?? '').split('.')[0]).not.toBe(browserId);
  });

  it('gives a one-time code that links a phone number to this browser’s account', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const browserId = decodeURIComponent(browser.cookie(IDENTITY_COOKIE) ?? '').split('.')[0] as string;
    const response = await browser.postJson('/api/phone-link');
    expect(response.status).toBe(200);
    const { code, expiresAt } = (await response.json()) as PhoneLinkResponse;
    expect(code).toMatch(/^\d{8}$/);
    expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
    // The caller says the code on the phone: their number joins this browser's account.
    const pool = server.test.database.pool;
    const caller = await resolveUser(pool, { kind: 'phone', value: '+15550007777' });
    const call = await createConversation(pool, caller, 'phone');
    expect(await redeemLinkCode(pool, caller, code, call)).toEqual({ status: 'linked' });
    expect(await findUserByIdentity(pool, { kind: 'web', value: browserId })).toBe(caller);
  });

  it('reports health', async () => {
    const response = await new TestBrowser(server.url).request('/healthz');
    expect(await response.json()).toEqual({ status: 'ok', mode: 'direct', conversations: 0 });
  });
});

describe('web server without a model provider', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ database, problems: ['The language model needs OPENAI_API_KEY.'] });
  });
  afterAll(() => server?.close());

  it('says what to set, and starts no conversation', async () => {
    const browser = new TestBrowser(server.url);
    const session = await (await browser.postJson('/api/session')).json();
    expect(session).toEqual({ mode: 'setup_needed', problems: ['The language model needs OPENAI_API_KEY.'] });
    const socket = await browser.openSocket();
    expect(await socket.waitClosed()).toEqual({ code: 1011, reason: 'the assistant is not set up' });
  });
});
