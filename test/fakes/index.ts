import type { DeepgramServer, DeepgramServerOptions } from './deepgram-server.ts';
import { startDeepgramServer } from './deepgram-server.ts';
import type { ElevenLabsServer, ElevenLabsServerOptions } from './elevenlabs-server.ts';
import { startElevenLabsServer } from './elevenlabs-server.ts';
import type { OpenAIServer, OpenAIServerOptions } from './openai-server.ts';
import { startOpenAIServer } from './openai-server.ts';

/**
 * The test kit: wire-level fakes of every external voice service, which the real
 * plugins and SDKs talk to by base URL. Start them all with `startFakes()`, or one at
 * a time with `startOpenAIServer`, `startDeepgramServer`, `startElevenLabsServer`.
 */

export * from './audio-signal.ts';
export type { HttpFault, SocketFault } from './faults.ts';
export type { RecordedFile, RecordedHttpRequest } from './http-server.ts';
export * from './deepgram-server.ts';
export * from './elevenlabs-server.ts';
export * from './espeak-speech.ts';
export * from './openai-server.ts';
export type { TranscriptionRequest, Transcriber } from './openai-audio.ts';
export * from './openai-chat.ts';
export { SpeechDetector } from './speech-detector.ts';
export * from './text-embedding.ts';
export { now, sleep, waitFor } from './timing.ts';

/** The keys the fakes require; the `environment` of `startFakes()` carries them. */
export const fakeKeys = {
  openai: 'fake-key',
  deepgram: 'fake-deepgram-key',
  elevenlabs: 'fake-elevenlabs-key',
} as const;

export interface FakesOptions {
  openai?: Omit<OpenAIServerOptions, 'apiKey'>;
  deepgram?: Omit<DeepgramServerOptions, 'apiKey'>;
  elevenlabs?: Omit<ElevenLabsServerOptions, 'apiKey'>;
}

/** All fakes, running, with the configuration that points the app at them. */
export interface Fakes {
  openai: OpenAIServer;
  deepgram: DeepgramServer;
  elevenlabs: ElevenLabsServer;
  /**
   * Configuration variables for the app (merge into `process.env` or pass to the config
   * loader). Base URLs take the same shape as the real defaults: `OPENAI_BASE_URL`
   * ends in `/v1`; `DEEPGRAM_BASE_URL` and `ELEVENLABS_BASE_URL` are bare `ws://` origins
   * (the ElevenLabs plugin's `baseURL` option then needs `/v1` appended, as for
   * `wss://api.elevenlabs.io`).
   */
  environment: Record<string, string>;
  close(): Promise<void>;
}

/**
 * Starts the OpenAI-compatible, Deepgram and ElevenLabs fakes, each requiring its
 * key so that tests also prove the app sends them.
 *
 * @example
 * const fakes = await startFakes({ deepgram: { transcripts: ['what is the code for the blue valve'] } });
 * const config = loadConfig({ env: fakes.environment, envFile: false });
 * fakes.openai.chatReplies.push({ text: 'It is 4417.' });
 * await fakes.close();
 */
export async function startFakes(options: FakesOptions = {}): Promise<Fakes> {
  const [openai, deepgram, elevenlabs] = await Promise.all([
    startOpenAIServer({ ...options.openai, apiKey: fakeKeys.openai }),
    startDeepgramServer({ ...options.deepgram, apiKey: fakeKeys.deepgram }),
    startElevenLabsServer({ ...options.elevenlabs, apiKey: fakeKeys.elevenlabs }),
  ]);
  return {
    openai,
    deepgram,
    elevenlabs,
    environment: {
      OPENAI_BASE_URL: openai.baseUrl,
      OPENAI_API_KEY: fakeKeys.openai,
      EMBEDDING_DIMENSIONS: String(openai.embedding.dimensions),
      STT_PROVIDER: 'deepgram',
      DEEPGRAM_BASE_URL: deepgram.baseUrl,
      DEEPGRAM_API_KEY: fakeKeys.deepgram,
      TTS_PROVIDER: 'elevenlabs',
      ELEVENLABS_BASE_URL: elevenlabs.baseUrl,
      ELEVENLABS_API_KEY: fakeKeys.elevenlabs,
    },
    close: async () => {
      await Promise.all([openai.close(), deepgram.close(), elevenlabs.close()]);
    },
  };
}
