import { ElevenLabsClient, ElevenLabsError } from '@elevenlabs/elevenlabs-js';
import { DEFAULT_API_CONNECT_OPTIONS, initializeLogger, tts } from '@livekit/agents';
import * as elevenlabs from '@livekit/agents-plugin-elevenlabs';
import type { AudioFrame } from '@livekit/rtc-node';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bytesToPcm, rootMeanSquare } from './audio-signal.ts';
import type { ElevenLabsServer } from './elevenlabs-server.ts';
import { DEFAULT_FAKE_VOICES, startElevenLabsServer } from './elevenlabs-server.ts';

let server: ElevenLabsServer;

beforeAll(async () => {
  initializeLogger({ pretty: false, level: 'fatal' });
  server = await startElevenLabsServer({ apiKey: 'fake-key' });
});
afterAll(() => server.close());
beforeEach(() => {
  server.connections.length = 0;
});

const speaker = (options: Partial<elevenlabs.TTSOptions> = {}) =>
  new elevenlabs.TTS({ baseURL: server.apiBaseUrl, apiKey: 'fake-key', ...options });

interface Spoken {
  frames: AudioFrame[];
  words: string[];
}

/** Streams text through the plugin and gathers every frame and timed word. */
async function speak(voice: elevenlabs.TTS, text: string, maxRetry = 3): Promise<Spoken> {
  const stream = voice.stream({
    connOptions: { ...DEFAULT_API_CONNECT_OPTIONS, maxRetry, retryIntervalMs: 50 },
  });
  stream.pushText(text);
  stream.endInput();
  const spoken: Spoken = { frames: [], words: [] };
  for await (const audio of stream) {
    if (audio === tts.SynthesizeStream.END_OF_STREAM) break;
    spoken.frames.push(audio.frame);
    spoken.words.push(...(audio.timedTranscripts ?? []).map((word) => word.text.trim()));
    if (audio.final) break;
  }
  stream.close();
  return spoken;
}

const sampleCount = (frames: AudioFrame[]) =>
  frames.reduce((total, frame) => total + frame.samplesPerChannel, 0);

describe('ElevenLabs fake with @livekit/agents-plugin-elevenlabs', () => {
  it('synthesizes a sentence into non-silent frames of the requested length, with aligned words', async () => {
    const voice = speaker();
    const spoken = await speak(voice, 'Hello there. The blue valve code is 4417.');
    await voice.close();

    expect(spoken.frames.every((frame) => frame.sampleRate === 22_050 && frame.channels === 1)).toBe(true);
    expect(sampleCount(spoken.frames)).toBe(8 * Math.round(0.06 * 22_050));
    const loudness = spoken.frames.map((frame) => rootMeanSquare(frame.data));
    expect(Math.min(...loudness)).toBeGreaterThan(0.05);
    expect(spoken.words.join(' ')).toBe('Hello there. The blue valve code is 4417.');

    const [connection] = server.connections;
    expect(connection?.voiceId).toBe('bIHbv24MWmeRgasZH58o');
    expect(connection?.headers['xi-api-key']).toBe('fake-key');
    expect(Object.fromEntries(connection?.query ?? [])).toMatchObject({
      model_id: 'eleven_turbo_v2_5',
      output_format: 'pcm_22050',
      auto_mode: 'true',
      sync_alignment: 'true',
      inactivity_timeout: '180',
    });
    const messages = connection?.received.map((entry) => entry.message) ?? [];
    const contextId = String(messages[0]?.context_id);
    expect(messages[0]).toEqual({ text: ' ', voice_settings: {}, context_id: contextId });
    // The plugin's sentence tokenizer joins sentences shorter than its minimum length.
    expect(messages.slice(1)).toEqual([
      { text: 'Hello there. The blue valve code is 4417. ', context_id: contextId, flush: true },
      { text: '', context_id: contextId, flush: true },
      { context_id: contextId, close_context: true },
    ]);
    const context = connection?.contexts[0];
    expect(context?.segments).toEqual(['Hello there. The blue valve code is 4417. ']);
    expect(Buffer.concat(context?.audioChunks ?? []).length).toBe(sampleCount(spoken.frames) * 2);
    expect(connection?.sent.at(-1)?.message).toEqual({ isFinal: true, contextId });
  });

  it('waits the first-audio latency, and honours other pcm formats', async () => {
    server.settings.firstAudioLatency = 250;
    try {
      const voice = speaker({ encoding: 'pcm_16000' });
      const spoken = await speak(voice, 'One two three.');
      await voice.close();
      expect(spoken.frames[0]?.sampleRate).toBe(16_000);
      const connection = server.connections[0];
      const context = connection?.contexts[0];
      const firstText = connection?.received[1]?.receivedAt ?? Infinity;
      expect((context?.firstAudioAt ?? 0) - firstText).toBeGreaterThanOrEqual(245);
    } finally {
      server.settings.firstAudioLatency = 150;
    }
  });

  it('fails a context with an error message, and refuses mp3 (no retries)', async () => {
    const errors: unknown[] = [];
    server.failNextConnection({ kind: 'error', message: 'quota exceeded' });
    const failing = speaker();
    failing.on('error', (error) => errors.push(error));
    expect((await speak(failing, 'This will not be spoken.', 0)).frames).toEqual([]);
    await failing.close();
    expect(server.connections[0]?.sent[0]?.message).toMatchObject({
      error: 'fake_error',
      message: 'quota exceeded',
    });

    const mp3 = speaker({ encoding: 'mp3_44100_128' });
    mp3.on('error', (error) => errors.push(error));
    expect((await speak(mp3, 'Nor this.', 0)).frames).toEqual([]);
    await mp3.close();
    expect(server.connections[1]?.rejectedWith).toBe(400);
    expect(errors).toHaveLength(2);
  });

  it('lets the plugin retry past a refused handshake and a dropped connection', async () => {
    server.failNextConnection({ kind: 'reject', status: 503 });
    const voice = speaker();
    expect(sampleCount((await speak(voice, 'Second time lucky.')).frames)).toBe(
      3 * Math.round(0.06 * 22_050),
    );
    await voice.close();
    expect(server.connections.map((connection) => connection.rejectedWith)).toEqual([503, undefined]);
  });

  it('drops a connection mid-synthesis, and the retry sends the text again (patched plugin)', async () => {
    server.failNextConnection({ kind: 'close', code: 1011, afterMessages: 2 });
    const dropped = speaker();
    const errors: unknown[] = [];
    dropped.on('error', (error) => errors.push(error));
    // Unpatched 1.9.0 retries with the text already consumed: an empty context, no audio.
    expect(sampleCount((await speak(dropped, 'Third time.', 1)).frames)).toBe(2 * Math.round(0.06 * 22_050));
    await dropped.close();
    expect(server.connections[0]?.closeCode).toBe(1011);
    expect(server.connections[0]?.received[1]?.message).toMatchObject({ text: 'Third time. ' });
    expect(server.connections[1]?.contexts.map((context) => context.text)).toEqual(['Third time. ']);
    expect(errors).toEqual([]);
  });

  it('serves HTTP synthesis for the plugin synthesize() path', async () => {
    const voice = speaker();
    const frame = await voice.synthesize('Four words of speech.').collect();
    expect(frame.sampleRate).toBe(22_050);
    expect(frame.samplesPerChannel).toBe(4 * Math.round(0.06 * 22_050));
    expect(rootMeanSquare(bytesToPcm(new Uint8Array(frame.data.buffer)))).toBeGreaterThan(0.1);
    expect(server.requests.at(-1)?.path).toBe('/v1/text-to-speech/bIHbv24MWmeRgasZH58o/stream');
    expect(server.requests.at(-1)?.query.get('output_format')).toBe('pcm_22050');
  });
});

describe('ElevenLabs fake with the ElevenLabs SDK (@elevenlabs/elevenlabs-js)', () => {
  // The SDK takes the bare REST origin and appends /v1 or /v2 itself.
  const client = (apiKey = 'fake-key') =>
    new ElevenLabsClient({ apiKey, baseUrl: server.apiBaseUrl.replace(/\/v1$/, ''), maxRetries: 0 });
  beforeEach(() => {
    server.requests.length = 0;
    server.voices = [...DEFAULT_FAKE_VOICES];
  });

  it('lists the voice library page by page through voices.search (GET /v2/voices), with the key', async () => {
    const first = await client().voices.search({ pageSize: 2 });
    expect(first.voices.map((voice) => voice.name)).toEqual(['Rachel', 'Sarah']);
    expect(first.voices[0]).toMatchObject({
      voiceId: '21m00Tcm4TlvDq8ikWAM',
      category: 'premade',
      labels: { accent: 'american', gender: 'female' },
    });
    expect(first).toMatchObject({ hasMore: true, totalCount: 3, nextPageToken: '2' });
    const second = await client().voices.search({ pageSize: 2, nextPageToken: first.nextPageToken ?? '' });
    expect(second.voices.map((voice) => voice.name)).toEqual(['George']);
    expect(second.hasMore).toBe(false);
    expect(server.requests.map((request) => [request.method, request.path])).toEqual([
      ['GET', '/v2/voices'],
      ['GET', '/v2/voices'],
    ]);
    expect(server.requests.every((request) => request.headers['xi-api-key'] === 'fake-key')).toBe(true);
    expect(server.requests[1]?.query.get('next_page_token')).toBe('2');
  });

  it('lists every voice through voices.getAll (GET /v1/voices)', async () => {
    const all = await client().voices.getAll();
    expect(all.voices.map((voice) => voice.voiceId)).toEqual(
      DEFAULT_FAKE_VOICES.map((voice) => voice.voice_id),
    );
    expect(server.requests.at(-1)?.path).toBe('/v1/voices');
  });

  it('refuses a wrong key with 401, and a queued failure with its status, as SDK errors', async () => {
    await expect(client('wrong-key').voices.search({})).rejects.toMatchObject({ statusCode: 401 });
    server.failNextVoiceList(503);
    const failure = await client()
      .voices.search({})
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ElevenLabsError);
    expect(failure).toMatchObject({ statusCode: 503 });
    expect((await client().voices.search({})).voices).toHaveLength(3);
  });

  it('speaks a sample through textToSpeech.convert as PCM in the asked format and voice', async () => {
    const stream = await client().textToSpeech.convert('JBFqnCBsd6RMkjVDRZzb', {
      text: 'Hello from George.',
      modelId: 'eleven_flash_v2_5',
      outputFormat: 'pcm_24000',
    });
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const samples = bytesToPcm(Buffer.concat(chunks));
    expect(samples.length).toBe(3 * Math.round(0.06 * 24_000));
    expect(rootMeanSquare(samples)).toBeGreaterThan(0.1);
    expect(server.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb',
      body: { text: 'Hello from George.', model_id: 'eleven_flash_v2_5' },
    });
    expect(server.requests.at(-1)?.query.get('output_format')).toBe('pcm_24000');
  });
});
