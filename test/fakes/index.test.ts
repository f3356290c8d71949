import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { chooseSpeechToText, chooseTextToSpeech } from '../../agent/provider-settings.ts';
import { loadConfig } from '../../config/load.ts';
import type { Fakes } from './index.ts';
import { fakeKeys, startFakes } from './index.ts';
import { now } from './timing.ts';

let fakes: Fakes | undefined;
afterEach(async () => {
  await fakes?.close();
  fakes = undefined;
});

/** Resolves with the HTTP status of a refused handshake, or 101 when the socket opens. */
function handshakeStatus(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers });
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      socket.terminate();
    });
    socket.once('error', reject);
  });
}

describe('startFakes', () => {
  it('gives an environment the config loader accepts, pointing every provider at a fake', async () => {
    fakes = await startFakes({ openai: { embeddingDimensions: 384 } });
    const config = loadConfig({ env: fakes.environment, envFile: false });
    expect(config.llm.baseUrl).toBe(fakes.openai.baseUrl);
    expect(config.embedding.dimensions).toBe(384);
    expect(chooseSpeechToText(config)).toMatchObject({
      provider: 'deepgram',
      baseUrl: fakes.deepgram.baseUrl,
    });
    expect(chooseTextToSpeech(config)).toMatchObject({
      provider: 'elevenlabs',
      baseUrl: fakes.elevenlabs.baseUrl,
    });
    expect(fakes.environment).toMatchObject({
      OPENAI_API_KEY: 'fake-key',
      STT_PROVIDER: 'deepgram',
      TTS_PROVIDER: 'elevenlabs',
      EMBEDDING_DIMENSIONS: '384',
    });
  });

  it('requires each service key, so tests prove the app sends them', async () => {
    fakes = await startFakes();
    const listen = `${fakes.deepgram.baseUrl}/v1/listen?encoding=linear16&sample_rate=16000`;
    expect(await handshakeStatus(listen, { authorization: 'Token nope' })).toBe(401);
    expect(await handshakeStatus(listen, { authorization: `Token ${fakeKeys.deepgram}` })).toBe(101);
    const speak = `${fakes.elevenlabs.baseUrl}/v1/text-to-speech/voice/multi-stream-input?output_format=pcm_16000`;
    expect(await handshakeStatus(speak, { 'xi-api-key': 'nope' })).toBe(401);
    expect(await handshakeStatus(speak, { 'xi-api-key': fakeKeys.elevenlabs })).toBe(101);
    const client = new OpenAI({ baseURL: fakes.openai.baseUrl, apiKey: 'nope', maxRetries: 0 });
    await expect(client.models.list()).rejects.toMatchObject({ status: 401 });
  });

  it('closes every fake promptly, open sockets included', async () => {
    fakes = await startFakes();
    const { deepgram, elevenlabs } = fakes;
    const open = new WebSocket(`${deepgram.baseUrl}/v1/listen`, {
      headers: { authorization: `Token ${fakeKeys.deepgram}` },
    });
    await new Promise((resolve) => open.once('open', resolve));
    const closed = new Promise((resolve) => open.once('close', resolve));
    const started = now();
    await fakes.close();
    fakes = undefined;
    await closed;
    expect(now() - started).toBeLessThan(500);
    await expect(handshakeStatus(`${elevenlabs.baseUrl}/v1/voices`, {})).rejects.toThrow(/ECONNREFUSED/);
  });
});
