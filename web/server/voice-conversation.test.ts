import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { describeChatRequest, startFakes, type Fakes } from '../../test/fakes/index.ts';
import type { ServerMessage, UploadResponse } from '../../protocol/index.ts';
import { TestBrowser, type TestServer, type TestSocket } from './test-server.ts';
import { IMAGE_ACKNOWLEDGEMENT } from '../../agent/instructions.ts';
import { startVoiceTestServer } from './voice-test-server.ts';

type Transcript = Extract<ServerMessage, { type: 'transcript' }>;
const answer =
  (text: string | RegExp) =>
  (message: ServerMessage): message is Transcript =>
    message.type === 'transcript' &&
    message.role === 'assistant' &&
    message.final &&
    (typeof text === 'string' ? message.text === text : text.test(message.text));

// In this process, and through a conversation process as `npm start` runs them.
describe.each([
  { where: 'in the server process', pool: undefined },
  { where: 'in a conversation process', pool: { processes: 1 } },
])('direct-mode conversations through the voice agent, $where', ({ pool }) => {
  let fakes: Fakes;
  let server: TestServer;
  beforeAll(async () => {
    fakes = await startFakes();
    fakes.openai.chatResponder = (request) => {
      const last = request.images.at(-1);
      // The camera's still rides on the question itself; an upload is a message of its own.
      if (last && last.messageIndex === request.body.messages.length - 1)
        return { text: 'Your camera shows something blue.' };
      if (last) return { text: 'I see a red square.' };
      return { text: `You said: ${request.lastUserText}` };
    };
    server = await startVoiceTestServer(fakes, {}, pool ? { pool } : {});
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await fakes?.close();
  });

  const chatRequests = () => fakes.openai.chatBodies().map((body, index) => describeChatRequest(body, index));

  async function connect(): Promise<{ browser: TestBrowser; socket: TestSocket; sessionId: string }> {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const socket = await browser.openSocket();
    const { sessionId } = await socket.hello();
    return { browser, socket, sessionId };
  }

  it('holds two independent conversations at once, and a malformed message ends only its own', async () => {
    const [alice, bob] = await Promise.all([connect(), connect()]);
    alice.socket.send({ type: 'text', text: 'I am Alice' });
    bob.socket.send({ type: 'text', text: 'I am Bob' });
    await alice.socket.waitFor(answer('You said: I am Alice'), 20_000);
    await bob.socket.waitFor(answer('You said: I am Bob'), 20_000);
    expect(alice.socket.messages.some(answer(/Bob/))).toBe(false);
    expect(bob.socket.messages.some(answer(/Alice/))).toBe(false);
    // Each heard its own greeting and answer: audio reached both sockets.
    for (const { socket } of [alice, bob]) {
      expect(socket.audioBytes).toBeGreaterThan(10_000);
      expect(socket.messages).toContainEqual({ type: 'audio_format', sampleRate: expect.any(Number) });
    }
    const { rows } = await server.test.database.pool.query<{ user_id: string; text: string }>(
      `select c.user_id, m.text from messages m join conversations c on c.id = m.conversation_id
        where m.role = 'user' order by m.created_at`,
    );
    const owner = (text: string) => rows.find((row) => row.text === text)?.user_id;
    expect(owner('I am Alice')).toBeDefined();
    expect(owner('I am Alice')).not.toBe(owner('I am Bob'));

    alice.socket.send({ type: 'text' });
    expect(await alice.socket.waitClosed()).toEqual({
      code: 1008,
      reason: 'malformed message at text: Invalid input: expected string, received undefined',
    });
    bob.socket.send({ type: 'text', text: 'Are you still there?' });
    await bob.socket.waitFor(answer('You said: Are you still there?'), 20_000);
    bob.socket.close();
  });

  it('answers with an image uploaded mid-conversation, after saying it got it', async () => {
    const { browser, socket, sessionId } = await connect();
    socket.send({ type: 'text', text: 'Hello' });
    await socket.waitFor(answer('You said: Hello'), 20_000);

    const png = await sharp({ create: { width: 320, height: 200, channels: 3, background: '#d00' } })
      .png()
      .toBuffer();
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(png)], { type: 'image/png' }), 'square.png');
    const response = await browser.request(`/api/uploads?session=${sessionId}`, {
      method: 'POST',
      body: form,
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as UploadResponse).status).toBe('ready');
    await socket.waitFor(answer(IMAGE_ACKNOWLEDGEMENT), 20_000);

    socket.send({ type: 'text', text: 'What is in the picture?' });
    await socket.waitFor(answer('I see a red square.'), 20_000);
    const request = chatRequests().find((chat) => chat.lastUserText === 'What is in the picture?');
    expect(request?.images).toHaveLength(1);
    expect(request?.images[0]).toMatchObject({ mimeType: 'image/jpeg', detail: 'auto' });
    socket.close();
  });

  it('attaches the latest camera still to turns about it, one still, and not to other turns', async () => {
    const { socket } = await connect();
    const jpeg = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#00d' } })
      .jpeg()
      .toBuffer();
    socket.send({ type: 'camera_frame', jpeg: jpeg.toString('base64') });
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.send({ type: 'text', text: 'What do you see?' });
    await socket.waitFor(answer('Your camera shows something blue.'), 20_000);

    socket.send({ type: 'text', text: 'What is the time in Tokyo?' });
    await socket.waitFor(answer('You said: What is the time in Tokyo?'), 20_000);

    // A second still (the camera is sampled at most once a second) replaces the first.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    socket.send({ type: 'camera_frame', jpeg: jpeg.toString('base64') });
    await new Promise((resolve) => setTimeout(resolve, 300));
    socket.send({ type: 'text', text: 'What am I holding?' });
    await waitUntil(() => socket.messages.filter(answer('Your camera shows something blue.')).length === 2);
    const request = chatRequests().find((chat) => chat.lastUserText === 'What am I holding?');
    expect(request?.images).toHaveLength(1);
    expect(request?.images[0]).toMatchObject({ mimeType: 'image/jpeg' });
    socket.close();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
