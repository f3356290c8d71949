import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakes, type Fakes } from '../../test/fakes/index.ts';
import type { ServerMessage } from '../../protocol/index.ts';
import { AssistantMetrics } from '../../telemetry/metrics.ts';
import { PROCESS_LOST_MESSAGE, type ConversationPool } from './conversation-pool.ts';
import { TestBrowser, type TestServer, type TestSocket } from './test-server.ts';
import { startVoiceTestServer } from './voice-test-server.ts';
import { speechFixture } from '../../test/support/voice-harness.ts';

type Transcript = Extract<ServerMessage, { type: 'transcript' }>;
const answer =
  (text: string) =>
  (message: ServerMessage): message is Transcript =>
    message.type === 'transcript' && message.role === 'assistant' && message.final && message.text === text;

describe('conversations in conversation processes', () => {
  let fakes: Fakes;
  let server: TestServer & { pool: ConversationPool | undefined };
  beforeAll(async () => {
    fakes = await startFakes();
    fakes.openai.chatResponder = (request) => ({ text: `You said: ${request.lastUserText}` });
    server = await startVoiceTestServer(fakes, {}, { pool: { processes: 2 } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await fakes?.close();
  });

  async function connect(): Promise<TestSocket> {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const socket = await browser.openSocket();
    await socket.hello();
    return socket;
  }

  /** Live conversations per process, from each process's own metrics. */
  async function liveSessions(): Promise<number[]> {
    const stats = await server.pool!.stats();
    return stats.map((process) => {
      const gauge = process.metrics.find(
        (metric) => (metric as { name: string }).name === 'assistant_live_sessions',
      ) as { values: { value: number }[] };
      return gauge.values[0]?.value ?? 0;
    });
  }

  it('hears speech sent over the socket and answers it aloud', async () => {
    const socket = await connect();
    fakes.deepgram.transcripts.push('what is the code for the blue valve');
    const speech = speechFixture('question-blue-valve');
    const frame = speech.sampleRate / 50;
    const greeted = socket.audioBytes;
    // The greeting plays first; then the question in real time, then silence as a microphone sends it.
    const samples = new Int16Array(speech.samples.length + speech.sampleRate * 2);
    samples.set(speech.samples);
    for (let offset = 0; offset < samples.length; offset += frame) {
      socket.socket.send(Buffer.from(samples.slice(offset, offset + frame).buffer));
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const heard = await socket.waitFor(
      (message): message is Transcript =>
        message.type === 'transcript' && message.role === 'user' && message.final,
      20_000,
    );
    // Exactly the words: audio arriving through the process boundary is the audio sent.
    expect(heard.text).toBe('what is the code for the blue valve');
    await socket.waitFor(answer('You said: what is the code for the blue valve'), 20_000);
    expect(socket.audioBytes).toBeGreaterThan(greeted);
    socket.close();
  }, 60_000);

  it('spreads conversations over the processes; a process that dies ends only its own, and is replaced', async () => {
    const pool = server.pool!;
    // The conversation of the test before has ended (its summary saved).
    await waitUntil(async () => (await liveSessions()).every((count) => count === 0), 20_000);
    const [alice, bob] = await Promise.all([connect(), connect()]);
    expect(await liveSessions()).toEqual([1, 1]);
    alice.send({ type: 'text', text: 'I am Alice' });
    await alice.waitFor(answer('You said: I am Alice'), 20_000);

    // Alice's process dies (a crash in a native module, the kernel's OOM killer).
    const [first, second] = pool.pids;
    const before = await liveSessions();
    process.kill(first!, 'SIGKILL');
    const closed = await alice.waitClosed(10_000).catch(() => bob.waitClosed(10_000));
    const [dead, alive] = alice.closed ? [alice, bob] : [bob, alice];
    expect(closed).toEqual({ code: 1011, reason: 'the conversation stopped' });
    expect(dead.messages).toContainEqual({ type: 'error', message: PROCESS_LOST_MESSAGE });
    expect(before).toEqual([1, 1]);
    // Metrics answer without waiting for the process being replaced.
    expect(await liveSessions()).toEqual([1]);

    // The other conversation goes on.
    alive.send({ type: 'text', text: 'Still there?' });
    await alive.waitFor(answer('You said: Still there?'), 20_000);
    expect(alive.closed).toBeUndefined();

    // Someone connecting right away is served by the running process.
    const dave = await connect();
    dave.send({ type: 'text', text: 'I am Dave' });
    await dave.waitFor(answer('You said: I am Dave'), 20_000);
    dave.close();
    // A new process took the dead one's place; new conversations start on it.
    await waitUntil(() => pool.pids[0] !== first && pool.pids[0] !== undefined, 20_000);
    await pool.ready();
    expect(pool.pids[1]).toBe(second);
    await waitUntil(async () => (await liveSessions()).toString() === '0,1', 20_000);
    const carol = await connect();
    carol.send({ type: 'text', text: 'I am Carol' });
    await carol.waitFor(answer('You said: I am Carol'), 20_000);
    expect(await liveSessions()).toEqual([1, 1]);
    carol.close();
    alive.close();
    await waitUntil(async () => (await liveSessions()).every((count) => count === 0), 20_000);
  }, 90_000);
});

describe('metrics of several processes', () => {
  it('GET /metrics sums the conversation processes into the server own', async () => {
    const server = new AssistantMetrics({ processMetrics: false });
    const child = new AssistantMetrics({ processMetrics: false });
    server.turns.inc({ modality: 'text' });
    child.turns.inc({ modality: 'voice' }, 2);
    child.liveSessions.set(3);
    server.includeProcesses(async () => [await child.registry.getMetricsAsJSON()]);
    const text = await server.render();
    expect(text).toContain('assistant_turns_total{modality="text"} 1');
    expect(text).toContain('assistant_turns_total{modality="voice"} 2');
    expect(text).toContain('assistant_live_sessions 3');
  });
});

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
