import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../protocol/index.ts';
import {
  recordingConversations,
  startTestServer,
  TestBrowser,
  type TestServer,
  type TestSocket,
} from './test-server.ts';

const isAnswer =
  (text: string) =>
  (message: ServerMessage): message is Extract<ServerMessage, { type: 'transcript' }> =>
    message.type === 'transcript' && message.role === 'assistant' && message.text === text;

describe('the direct socket protocol', () => {
  let server: TestServer;
  const conversations = recordingConversations(() => server);
  beforeAll(async () => {
    server = await startTestServer({ startConversation: conversations.start, helloTimeoutMs: 1000 });
  });
  afterAll(() => server?.close());

  async function connectedSocket(browser = new TestBrowser(server.url)): Promise<TestSocket> {
    await browser.postJson('/api/session');
    return browser.openSocket();
  }

  it('starts a conversation after hello, carries audio in and out, and ends it when the socket closes', async () => {
    const socket = await connectedSocket();
    const ready = await socket.hello(48_000);
    const conversation = conversations.started.at(-1);
    expect(conversation?.conversationId).toBe(ready.conversationId);

    socket.socket.send(Buffer.alloc(960 * 2), { binary: true });
    await waitUntil(() => conversation?.audio.length === 1);
    expect(conversation?.audio).toEqual([{ samples: 960, sampleRate: 48_000 }]);

    conversation?.channel.sendAudio(new Int16Array(480).fill(1000), 24_000);
    conversation?.channel.sendAudio(new Int16Array(480).fill(1000), 24_000);
    await waitUntil(() => socket.audioBytes === 1920);
    expect(socket.messages.filter((message) => message.type === 'audio_format')).toEqual([
      { type: 'audio_format', sampleRate: 24_000 },
    ]);
    expect(server.web.registry.size).toBe(1);

    socket.close();
    await waitUntil(() => conversation?.closed === true);
    expect(server.web.registry.size).toBe(0);
  });

  it.each([
    [
      'text that is not JSON',
      (socket: TestSocket) => socket.send('hello there'),
      'malformed message: not JSON',
    ],
    [
      'an unknown message type',
      (socket: TestSocket) => socket.send({ type: 'shout' }),
      'malformed message at type',
    ],
    [
      'a hello with an impossible rate',
      (socket: TestSocket) => socket.send({ type: 'hello', protocol: 1, sampleRate: 3 }),
      'malformed message at sampleRate',
    ],
    [
      'audio before hello',
      (socket: TestSocket) => socket.socket.send(Buffer.alloc(640), { binary: true }),
      'audio arrived before the hello message',
    ],
    [
      'a text before hello',
      (socket: TestSocket) => socket.send({ type: 'text', text: 'hi' }),
      'expected a hello',
    ],
  ])('closes the socket with 1008 on %s', async (_name, misbehave, reason) => {
    const socket = await connectedSocket();
    misbehave(socket);
    const closed = await socket.waitClosed();
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain(reason);
  });

  it.each([
    [
      'a second hello',
      (socket: TestSocket) => socket.send({ type: 'hello', protocol: 1, sampleRate: 16_000 }),
      'hello was already received',
    ],
    [
      'half a sample',
      (socket: TestSocket) => socket.socket.send(Buffer.alloc(641), { binary: true }),
      'whole 16-bit samples',
    ],
    [
      'two seconds of audio in one frame',
      (socket: TestSocket) => socket.socket.send(Buffer.alloc(64_000), { binary: true }),
      'longer than 1000 ms',
    ],
    [
      'an empty text',
      (socket: TestSocket) => socket.send({ type: 'text', text: '  ' }),
      'malformed message at text',
    ],
    [
      'extra fields',
      (socket: TestSocket) => socket.send({ type: 'camera_off', please: true }),
      'malformed message',
    ],
  ])(
    'after hello, closes the socket with 1008 on %s and ends its conversation',
    async (_name, misbehave, reason) => {
      const socket = await connectedSocket();
      await socket.hello();
      const conversation = conversations.started.at(-1);
      misbehave(socket);
      const closed = await socket.waitClosed();
      expect(closed).toMatchObject({ code: 1008 });
      expect(closed.reason).toContain(reason);
      await waitUntil(() => conversation?.closed === true);
    },
  );

  it('keeps two browsers in two independent conversations, and one misbehaving socket does not affect the other', async () => {
    const alice = await connectedSocket();
    const bob = await connectedSocket();
    const [aliceReady, bobReady] = await Promise.all([alice.hello(), bob.hello()]);
    expect(aliceReady.sessionId).not.toBe(bobReady.sessionId);
    const aliceConversation = conversations.started.find(
      (c) => c.conversationId === aliceReady.conversationId,
    );
    const bobConversation = conversations.started.find((c) => c.conversationId === bobReady.conversationId);
    expect(aliceConversation?.userId).not.toBe(bobConversation?.userId);

    alice.send({ type: 'text', text: 'I am Alice' });
    bob.send({ type: 'text', text: 'I am Bob' });
    await alice.waitFor(isAnswer('echo: I am Alice'));
    await bob.waitFor(isAnswer('echo: I am Bob'));
    expect(alice.messages.some(isAnswer('echo: I am Bob'))).toBe(false);
    expect(bob.messages.some(isAnswer('echo: I am Alice'))).toBe(false);

    alice.send('{"type": "text", "text": ');
    expect((await alice.waitClosed()).code).toBe(1008);
    bob.send({ type: 'text', text: 'still there?' });
    await bob.waitFor(isAnswer('echo: still there?'));
    expect(bob.closed).toBeUndefined();
    expect(bobConversation?.closed).toBe(false);
    bob.close();
  });

  it('closes a socket that never says hello', async () => {
    const socket = await connectedSocket();
    const started = Date.now();
    expect(await socket.waitClosed()).toEqual({ code: 1008, reason: 'expected a hello message first' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });

  it('refuses a socket from another site', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const { default: WebSocket } = await import('ws');
    const socket = new WebSocket(`${server.url.replace('http', 'ws')}/api/socket`, {
      headers: { cookie: browser.cookieHeader, origin: 'https://evil.example' },
    });
    const status = await new Promise<number | undefined>((resolve) => {
      socket.once('unexpected-response', (_request, response) => resolve(response.statusCode));
      socket.once('open', () => resolve(undefined));
    });
    expect(status).toBe(403);
  });

  it('refuses a socket from a browser without an identity', async () => {
    await expect(new TestBrowser(server.url).openSocket()).rejects.toThrow(/401/);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
