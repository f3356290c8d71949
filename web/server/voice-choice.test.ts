import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PacedAudioOutput, PushAudioInput } from '../../agent/roomless-audio.ts';
import { startVoiceSession } from '../../agent/voice-session.ts';
import { linkIdentity, resolveUser } from '../../db/index.ts';
import type { ApiError, ServerMessage, VoiceChoiceResponse, VoicesResponse } from '../../protocol/index.ts';
import { decodeWav } from '../../test/fakes/audio-signal.ts';
import { startFakes, type Fakes } from '../../test/fakes/index.ts';
import { sharedModels, waitFor } from '../../test/support/voice-harness.ts';
import { TestBrowser, type TestServer, type TestSocket } from './test-server.ts';
import { startVoiceTestServer } from './voice-test-server.ts';

/**
 * Acceptance of the voice choice (issue 14): the page lists the configured text to
 * speech's voices, previews one, and the choice survives a reconnect and reaches the TTS
 * request (the ElevenLabs multi-stream URL's voice id, the OpenAI speech body's `voice`),
 * also on a linked phone and from the next answer of a live conversation.
 */

const RACHEL = '21m00Tcm4TlvDq8ikWAM';
const SARAH = 'EXAVITQu4vr4xnSDxMaL';
const GEORGE = 'JBFqnCBsd6RMkjVDRZzb';

type Transcript = Extract<ServerMessage, { type: 'transcript' }>;
const answer =
  (text: string) =>
  (message: ServerMessage): message is Transcript =>
    message.type === 'transcript' && message.role === 'assistant' && message.final && message.text === text;

/** Real voice sessions over the fakes, which answer "You said: ..." to everything. */
async function startVoiceServer(
  env: Record<string, string> = {},
): Promise<{ fakes: Fakes; server: TestServer }> {
  const fakes = await startFakes();
  fakes.openai.chatResponder = (request) => ({ text: `You said: ${request.lastUserText}` });
  return { fakes, server: await startVoiceTestServer(fakes, env) };
}

async function connect(browser: TestBrowser): Promise<{ socket: TestSocket; conversationId: string }> {
  const socket = await browser.openSocket();
  const { conversationId } = await socket.hello();
  return { socket, conversationId };
}

async function say(socket: TestSocket, text: string): Promise<void> {
  socket.send({ type: 'text', text });
  await socket.waitFor(answer(`You said: ${text}`), 20_000);
}

async function choose(browser: TestBrowser, voiceId: string): Promise<Response> {
  return browser.postJson('/api/voice', { voiceId });
}

describe('choosing a voice with ElevenLabs text to speech', () => {
  let fakes: Fakes;
  let server: TestServer;
  beforeAll(async () => ({ fakes, server } = await startVoiceServer()));
  afterAll(async () => {
    await server?.close();
    await fakes?.close();
  });

  /** The voice id of the multi-stream connection that spoke `text`. */
  const voiceThatSpoke = (text: string) =>
    waitFor(
      () =>
        fakes.elevenlabs.connections.find((connection) =>
          connection.contexts.some((context) => context.text.includes(text)),
        )?.voiceId,
      20_000,
      `speech of "${text}"`,
    );

  it('says clearly when the voice library cannot be had, and the conversation goes on in its voice', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const { socket } = await connect(browser);
    // The SDK tries twice (maxRetries 1).
    fakes.elevenlabs.failNextVoiceList(500);
    fakes.elevenlabs.failNextVoiceList(500);
    const listed = await browser.request('/api/voices');
    expect(listed.status).toBe(503);
    expect((await listed.json()) as ApiError).toEqual({
      error: 'voices_unavailable',
      message: expect.stringMatching(/could not be loaded.*current voice keeps working/),
    });
    await say(socket, 'Still there?');
    expect(await voiceThatSpoke('You said: Still there?')).toBe(RACHEL);
    // A failure is not remembered: the next request asks again.
    expect((await browser.request('/api/voices')).status).toBe(200);
    socket.close();
  });

  it('lists the voice library through the SDK, with the configured voice in use', async () => {
    const browser = new TestBrowser(server.url);
    const response = await browser.request('/api/voices');
    expect(response.status).toBe(200);
    const body = (await response.json()) as VoicesResponse;
    expect(body.provider).toBe('elevenlabs');
    expect(body.current).toBe(RACHEL);
    expect(body.voices).toContainEqual({
      id: GEORGE,
      name: 'George',
      description: 'british, male, middle aged, mature',
    });
    const listRequests = fakes.elevenlabs.requests.filter((request) => request.path === '/v2/voices');
    expect(listRequests.length).toBeGreaterThan(0);
    expect(listRequests.every((request) => request.headers['xi-api-key'] === 'fake-elevenlabs-key')).toBe(
      true,
    );
  });

  it('previews a voice as playable WAV, pays for each (voice, text) once, and limits previews per browser', async () => {
    const browser = new TestBrowser(server.url);
    const synthesisCount = () =>
      fakes.elevenlabs.requests.filter((request) => request.path === `/v1/text-to-speech/${SARAH}`).length;
    const first = await browser.request(`/api/voices/${SARAH}/preview`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('audio/wav');
    const wav = decodeWav(Buffer.from(await first.arrayBuffer()));
    expect(wav).toMatchObject({ sampleRate: 24_000, channels: 1 });
    expect(wav?.duration).toBeGreaterThan(300);
    expect(fakes.elevenlabs.requests.at(-1)?.query.get('output_format')).toBe('pcm_24000');
    expect((await browser.request(`/api/voices/${SARAH}/preview`)).status).toBe(200);
    expect(synthesisCount()).toBe(1);

    const unknown = await browser.request('/api/voices/no-such-voice/preview');
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as ApiError).error).toBe('unknown_voice');

    const statuses: number[] = [];
    for (let index = 0; index < 10; index++)
      statuses.push((await browser.request(`/api/voices/${SARAH}/preview`)).status);
    expect(statuses.at(-1)).toBe(429);
    // Another browser has its own allowance.
    expect((await new TestBrowser(server.url).request(`/api/voices/${SARAH}/preview`)).status).toBe(200);
  });

  it('refuses a voice that is not in the library, with a clear message', async () => {
    const browser = new TestBrowser(server.url);
    const refused = await choose(browser, 'made-up-voice');
    expect(refused.status).toBe(400);
    expect((await refused.json()) as ApiError).toEqual({
      error: 'unknown_voice',
      message: 'There is no voice "made-up-voice" here. Choose one of the voices listed.',
    });
    expect((await browser.postJson('/api/voice', { voice: GEORGE })).status).toBe(400);
  });

  it('keeps the choice across a reconnect: the TTS socket of the next conversation opens on the chosen voice', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const chosen = await choose(browser, GEORGE);
    expect(chosen.status).toBe(200);
    expect(((await chosen.json()) as VoiceChoiceResponse).voice).toMatchObject({
      id: GEORGE,
      name: 'George',
    });
    expect(((await (await browser.request('/api/voices')).json()) as VoicesResponse).current).toBe(GEORGE);

    const first = await connect(browser);
    await say(first.socket, 'First visit');
    first.socket.close();
    await first.socket.waitClosed();

    const { socket } = await connect(browser);
    await say(socket, 'After reconnecting');
    expect(await voiceThatSpoke('You said: After reconnecting')).toBe(GEORGE);
    socket.close();
  });

  it('switches a live conversation from the next answer on, without restarting it', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const { socket } = await connect(browser);
    await say(socket, 'Before choosing');
    expect(await voiceThatSpoke('You said: Before choosing')).toBe(RACHEL);
    expect((await choose(browser, SARAH)).status).toBe(200);
    await say(socket, 'After choosing');
    expect(await voiceThatSpoke('You said: After choosing')).toBe(SARAH);
    expect(socket.closed).toBeUndefined();
    socket.close();
  });

  it('uses the choice on a phone linked to the account', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const { socket, conversationId } = await connect(browser);
    expect((await choose(browser, GEORGE)).status).toBe(200);
    socket.close();
    const { rows } = await server.test.database.pool.query<{ user_id: string }>(
      'select user_id from conversations where id = $1',
      [conversationId],
    );
    const webUser = rows[0]?.user_id ?? '';
    await linkIdentity(server.test.database.pool, webUser, { kind: 'phone', value: '+15550007777' });
    const caller = await resolveUser(server.test.database.pool, { kind: 'phone', value: '+15550007777' });
    expect(caller).toBe(webUser);

    const call = await startVoiceSession(
      {
        config: server.config,
        database: server.test.database,
        models: await sharedModels(),
        embedder: undefined,
        userId: caller,
        channel: 'phone',
        greeting: null,
      },
      {
        audioInput: new PushAudioInput(),
        audioOutput: new PacedAudioOutput({ frame: () => undefined, clear: () => undefined }),
      },
    );
    try {
      call.sendText('Calling from my phone');
      expect(await voiceThatSpoke('You said: Calling from my phone')).toBe(GEORGE);
    } finally {
      await call.close();
    }
  });
});

describe('choosing a voice with OpenAI-compatible text to speech', () => {
  let fakes: Fakes;
  let server: TestServer;
  beforeAll(
    async () => ({ fakes, server } = await startVoiceServer({ TTS_PROVIDER: 'openai', TTS_MODEL: 'tts-1' })),
  );
  afterAll(async () => {
    await server?.close();
    await fakes?.close();
  });

  const speechBodies = () =>
    fakes.openai
      .requestsTo('/audio/speech')
      .map((request) => request.body as { input: string; voice: string });

  it("lists OpenAI's built-in voices for the model, and previews one through the speech endpoint", async () => {
    const browser = new TestBrowser(server.url);
    const body = (await (await browser.request('/api/voices')).json()) as VoicesResponse;
    expect(body).toMatchObject({ provider: 'openai', current: 'alloy' });
    // tts-1 has no ballad, verse, marin or cedar.
    expect(body.voices.map((voice) => voice.id).sort()).toEqual([
      'alloy',
      'ash',
      'coral',
      'echo',
      'fable',
      'nova',
      'onyx',
      'sage',
      'shimmer',
    ]);
    expect((await choose(browser, 'verse')).status).toBe(400);

    const preview = await browser.request('/api/voices/nova/preview');
    expect(preview.status).toBe(200);
    expect(decodeWav(Buffer.from(await preview.arrayBuffer()))?.sampleRate).toBe(24_000);
    expect(speechBodies().at(-1)).toMatchObject({ voice: 'nova', model: 'tts-1', response_format: 'pcm' });
  });

  it('switches a live conversation from the next answer on: the next speech request carries the voice', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const { socket } = await connect(browser);
    const spokenIn = (text: string) =>
      waitFor(
        () => speechBodies().find((body) => body.input.includes(text))?.voice,
        20_000,
        `speech of "${text}"`,
      );
    await say(socket, 'In the old voice');
    expect(await spokenIn('You said: In the old voice')).toBe('alloy');
    expect((await choose(browser, 'sage')).status).toBe(200);
    await say(socket, 'In the new voice');
    expect(await spokenIn('You said: In the new voice')).toBe('sage');
    socket.close();
  });

  it('keeps the choice across a reconnect: the speech request carries the chosen voice', async () => {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    expect((await choose(browser, 'onyx')).status).toBe(200);
    const first = await connect(browser);
    first.socket.close();
    await first.socket.waitClosed();
    const { socket } = await connect(browser);
    await say(socket, 'Speak to me');
    const spoken = await waitFor(
      () => speechBodies().find((body) => body.input.includes('You said: Speak to me')),
      20_000,
      'the speech request of the answer',
    );
    expect(spoken.voice).toBe('onyx');
    socket.close();
  });
});
