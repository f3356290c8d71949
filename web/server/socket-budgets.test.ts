import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerMessage } from '../../protocol/index.ts';
import {
  AUDIO_BURST_MS,
  AUDIO_RATE_FACTOR,
  CAMERA_BURST_FRAMES,
  MESSAGES_BURST,
  SocketBudgets,
  TEXT_BURST_MESSAGES,
  TokenBucket,
} from './socket-budget.ts';
import {
  recordingConversations,
  startTestServer,
  TestBrowser,
  type RecordingConversation,
  type TestServer,
  type TestSocket,
} from './test-server.ts';
import { MAX_UNSENT_AUDIO_BYTES } from './direct-socket.ts';
import { MAX_SOCKETS_PER_ADDRESS } from './socket-route.ts';

const SAMPLE_RATE = 16_000;
/** One 20 ms frame at 16 kHz, as the page sends. */
const FRAME_SAMPLES = 320;
const frame = () => Buffer.alloc(FRAME_SAMPLES * 2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TokenBucket and SocketBudgets', () => {
  it('refills at its rate up to its burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 5, () => now);
    expect([1, 2, 3, 4, 5, 6].map(() => bucket.take(1))).toEqual([true, true, true, true, true, false]);
    now += 100;
    expect(bucket.take(1)).toBe(true);
    expect(bucket.take(1)).toBe(false);
    now += 10_000;
    expect(bucket.take(5)).toBe(true);
    expect(bucket.take(1)).toBe(false);
  });

  it('lets audio through at real time for as long as it lasts, with a stall’s worth of burst', () => {
    let now = 0;
    const budgets = new SocketBudgets(() => now);
    budgets.startAudio(SAMPLE_RATE);
    // An hour of 20 ms frames at exactly real time.
    for (let index = 0; index < 180_000; index++) {
      expect(budgets.audioSamples(FRAME_SAMPLES)).toBeUndefined();
      now += 20;
    }
    // A network stall of most of the burst, then everything at once.
    now += AUDIO_BURST_MS - 500;
    for (let sent = 0; sent < AUDIO_BURST_MS - 500; sent += 20)
      expect(budgets.audioSamples(FRAME_SAMPLES)).toBeUndefined();
    // Twice real time for long enough is over.
    let over;
    for (let index = 0; index < 1000 && !over; index++) {
      over = budgets.audioSamples(FRAME_SAMPLES * 2);
      now += 20;
    }
    expect(over?.reason).toBe('audio arrived faster than real time');
  });
});

describe('the direct socket’s budgets', () => {
  let server: TestServer;
  const conversations = recordingConversations(() => server);
  beforeAll(async () => {
    server = await startTestServer({ startConversation: conversations.start });
  });
  afterAll(() => server?.close());

  async function connect(): Promise<{ socket: TestSocket; conversation: RecordingConversation }> {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const socket = await browser.openSocket();
    const ready = await socket.hello(SAMPLE_RATE);
    const conversation = conversations.started.find((each) => each.conversationId === ready.conversationId);
    if (!conversation) throw new Error('no conversation started');
    return { socket, conversation };
  }

  const samplesHeard = (conversation: RecordingConversation) =>
    conversation.audio.reduce((sum, chunk) => sum + chunk.samples, 0);
  const errorMessages = (socket: TestSocket) =>
    socket.messages.filter(
      (message): message is Extract<ServerMessage, { type: 'error' }> => message.type === 'error',
    );

  it('cuts off audio at 88x real time within a fraction of a second, drops the excess, and keeps serving another user', async () => {
    const alice = await connect();
    const bob = await connect();

    // 88x real time: 88 frames of 20 ms every 20 ms, for up to 3 s of wall time.
    const started = performance.now();
    let framesSent = 0;
    while (!alice.socket.closed && performance.now() - started < 3000) {
      for (
        let index = 0;
        index < 88 && alice.socket.socket.readyState === alice.socket.socket.OPEN;
        index++
      ) {
        alice.socket.socket.send(frame(), { binary: true });
        framesSent++;
      }
      bob.socket.send({ type: 'text', text: `still here at ${framesSent}` });
      await sleep(20);
    }
    const closed = await alice.socket.waitClosed();
    const elapsedSeconds = (performance.now() - started) / 1000;
    expect(closed).toEqual({ code: 4029, reason: 'audio arrived faster than real time' });
    expect(errorMessages(alice.socket).at(-1)?.message).toMatch(/faster than anyone can speak/);
    // Cut off quickly: well before the 3 s flood was over.
    expect(elapsedSeconds).toBeLessThan(1.5);

    // The conversation heard the burst and real time since, no more; the rest was dropped.
    await sleep(200);
    const heard = samplesHeard(alice.conversation);
    const allowed = SAMPLE_RATE * (AUDIO_BURST_MS / 1000 + AUDIO_RATE_FACTOR * elapsedSeconds);
    expect(heard).toBeGreaterThanOrEqual(SAMPLE_RATE * (AUDIO_BURST_MS / 1000));
    expect(heard).toBeLessThanOrEqual(allowed);
    expect(heard).toBeLessThan(framesSent * FRAME_SAMPLES);
    await sleep(300);
    expect(samplesHeard(alice.conversation)).toBe(heard);
    for (let waited = 0; !alice.conversation.closed && waited < 5000; waited += 20) await sleep(20);
    expect(alice.conversation.closed).toBe(true);

    // Bob was answered throughout, and still is.
    expect(bob.socket.closed).toBeUndefined();
    bob.socket.send({ type: 'text', text: 'and now?' });
    await bob.socket.waitFor(
      (message): message is ServerMessage =>
        message.type === 'transcript' && message.text === 'echo: and now?',
    );
    bob.socket.close();
  });

  it('takes audio at real time, and a stall’s worth at once', async () => {
    const { socket, conversation } = await connect();
    // A 2.5 s network stall released at once ...
    for (let index = 0; index < 125; index++) socket.socket.send(frame(), { binary: true });
    // ... then a second at real time.
    for (let index = 0; index < 50; index++) {
      socket.socket.send(frame(), { binary: true });
      await sleep(20);
    }
    await sleep(100);
    expect(socket.closed).toBeUndefined();
    expect(samplesHeard(conversation)).toBe(175 * FRAME_SAMPLES);
    socket.close();
  });

  it.each([
    [
      'camera frames',
      () => ({ type: 'camera_frame', jpeg: Buffer.from('not really a jpeg').toString('base64') }),
      CAMERA_BURST_FRAMES,
      'camera frames came faster than one a second',
      /camera sent pictures too quickly/,
    ],
    [
      'typed messages',
      () => ({ type: 'text', text: 'hello?' }),
      TEXT_BURST_MESSAGES,
      'typed messages came too quickly',
      /faster than anyone types/,
    ],
    [
      'messages',
      () => ({ type: 'camera_off' }),
      MESSAGES_BURST,
      'too many messages',
      /too many messages too quickly/,
    ],
  ])(
    'closes a socket sending %s too fast, after its burst, and says why',
    async (_name, message, burst, reason, words) => {
      const { socket, conversation } = await connect();
      for (let index = 0; index < burst * 3; index++) socket.send(message());
      expect(await socket.waitClosed()).toEqual({ code: 4029, reason });
      expect(errorMessages(socket).at(-1)?.message).toMatch(words);
      const acted = conversation.cameraFrames + conversation.texts.length + conversation.camerasOff;
      // The messages budget counts hello too.
      expect(acted).toBe(reason === 'too many messages' ? burst - 1 : burst);
    },
  );

  it('drops agent audio for a client that stops reading, instead of holding it in memory', async () => {
    const { socket, conversation } = await connect();
    socket.socket.pause();
    // 48 MB of agent audio (about 17 minutes at 24 kHz) for a client that reads none of it.
    const chunk = new Int16Array(12_000);
    for (let index = 0; index < 2000; index++) {
      conversation.channel.sendAudio(chunk, 24_000);
      if (index % 100 === 0) await sleep(10);
    }
    socket.socket.resume();
    await sleep(1000);
    // What reached the client: the server's allowance plus what the kernel's socket buffers held.
    expect(socket.audioBytes).toBeGreaterThan(MAX_UNSENT_AUDIO_BYTES);
    expect(socket.audioBytes).toBeLessThan(16 * 1024 * 1024);
    socket.close();
  });

  it('refuses a socket past the open sockets one address may hold, and says why', async () => {
    const sockets: TestSocket[] = [];
    const other = await startTestServer({ database: server.test, startConversation: conversations.start });
    try {
      for (let index = 0; index < MAX_SOCKETS_PER_ADDRESS; index++) {
        const browser = new TestBrowser(other.url);
        await browser.postJson('/api/session');
        sockets.push(await browser.openSocket());
      }
      const browser = new TestBrowser(other.url);
      await browser.postJson('/api/session');
      const refused = await browser.openSocket();
      expect(await refused.waitClosed()).toEqual({
        code: 4029,
        reason: 'too many connections from this address',
      });
      expect(errorMessages(refused).at(-1)?.message).toMatch(/Too many conversations are open/);
      // One closes: there is room again.
      sockets.pop()?.close();
      await sleep(200);
      const again = await browser.openSocket();
      await again.hello();
      expect(again.closed).toBeUndefined();
      sockets.push(again);
    } finally {
      for (const socket of sockets) socket.close();
      await other.close();
    }
  });
});
