import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { AudioFrame } from '@livekit/rtc-node';
import { loadConfig, type Config } from '../../config/load.ts';
import { initializeAgentsLogging } from '../../agent/logging.ts';
import { PacedAudioOutput, PushAudioInput } from '../../agent/roomless-audio.ts';
import {
  loadSharedModels,
  startVoiceSession,
  type SharedModels,
  type VoiceSession,
  type VoiceSessionOptions,
} from '../../agent/voice-session.ts';
import { saveDocument } from '../../db/index.ts';
import type { ConversationEvent } from '../../protocol/index.ts';
import { createEmbedder, type Embedder } from '../../ingest/embeddings.ts';
import { decodeWav, rootMeanSquare } from '../fakes/audio-signal.ts';
import { startDeepgramServer, type DeepgramServer } from '../fakes/deepgram-server.ts';
import { startElevenLabsServer, type ElevenLabsServer } from '../fakes/elevenlabs-server.ts';
import { startOpenAIServer, type OpenAIServer } from '../fakes/openai-server.ts';
import { createTestDatabase, type Backend, type TestDatabase } from './database.ts';

export const EMBEDDING_DIMENSIONS = 64;
const FRAME_MS = 20;

let models: Promise<SharedModels> | undefined;
/** VAD and end-of-turn model, loaded once per test process. */
export function sharedModels(): Promise<SharedModels> {
  initializeAgentsLogging(process.env.TEST_AGENT_LOG_LEVEL ?? 'fatal');
  models ??= loadSharedModels();
  return models;
}

/** Mono 16-bit PCM of a committed speech fixture (test/fixtures/audio/NAME.wav). */
export function speechFixture(name: string): { samples: Int16Array; sampleRate: number } {
  const wav = decodeWav(readFileSync(new URL(`../fixtures/audio/${name}.wav`, import.meta.url)));
  if (!wav) throw new Error(`test/fixtures/audio/${name}.wav is not a 16-bit WAV`);
  return { samples: wav.samples, sampleRate: wav.sampleRate };
}

/** Agent audio as it left the paced output, with the time each frame went out. */
export interface CapturedAudio {
  frames: { at: number; rms: number; durationMs: number }[];
  clears: number[];
}

/**
 * Everything a room-less voice test needs: wire-level fakes of every provider, a fresh
 * database, the configuration pointing at the fakes, and a way to start sessions whose
 * audio the test pushes and captures.
 */
export class VoiceHarness {
  events: ConversationEvent[] = [];
  readonly audio: CapturedAudio = { frames: [], clears: [] };
  private sessions: VoiceSession[] = [];
  private constructor(
    readonly openai: OpenAIServer,
    readonly deepgram: DeepgramServer,
    readonly elevenlabs: ElevenLabsServer,
    readonly test: TestDatabase,
    readonly config: Config,
    readonly embedder: Embedder,
  ) {}

  static async start(
    backend: Backend = 'embedded',
    latency?: { sttFinalMs?: number },
    /** More settings, over the harness's own (e.g. `RECORDING_MAX_MINUTES`). */
    env: Record<string, string> = {},
  ): Promise<VoiceHarness> {
    initializeAgentsLogging(process.env.TEST_AGENT_LOG_LEVEL ?? 'fatal');
    const [openai, deepgram, elevenlabs, test] = await Promise.all([
      startOpenAIServer({ embeddingDimensions: EMBEDDING_DIMENSIONS }),
      startDeepgramServer(latency?.sttFinalMs !== undefined ? { finalDelay: latency.sttFinalMs } : {}),
      startElevenLabsServer(),
      createTestDatabase(backend, EMBEDDING_DIMENSIONS),
    ]);
    const config = loadConfig({
      envFile: false,
      env: {
        OPENAI_API_KEY: 'fake-key',
        OPENAI_BASE_URL: openai.baseUrl,
        EMBEDDING_DIMENSIONS: String(EMBEDDING_DIMENSIONS),
        STT_PROVIDER: 'deepgram',
        DEEPGRAM_API_KEY: 'fake-key',
        DEEPGRAM_BASE_URL: deepgram.baseUrl,
        TTS_PROVIDER: 'elevenlabs',
        ELEVENLABS_API_KEY: 'fake-key',
        ELEVENLABS_BASE_URL: elevenlabs.baseUrl,
        DATA_DIR: test.dataDir,
        ...env,
      },
    });
    const embedder = createEmbedder({
      baseUrl: config.embedding.baseUrl,
      apiKey: 'fake-key',
      model: config.embedding.model,
      dimensions: EMBEDDING_DIMENSIONS,
      maxRetries: 0,
    });
    return new VoiceHarness(openai, deepgram, elevenlabs, test, config, embedder);
  }

  /** Starts a room-less session for a user; returns it with its audio input. */
  async startSession(
    userId: string,
    options: Partial<
      Pick<VoiceSessionOptions, 'greeting' | 'connOptions' | 'channel' | 'call' | 'camera' | 'logger'>
    > = {},
  ): Promise<{ voice: VoiceSession; input: PushAudioInput }> {
    const input = new PushAudioInput();
    const output = new PacedAudioOutput({
      frame: (frame) => {
        this.audio.frames.push({
          at: Date.now(),
          rms: rootMeanSquare(frame.data),
          durationMs: (frame.samplesPerChannel / frame.sampleRate) * 1000,
        });
      },
      clear: () => this.audio.clears.push(Date.now()),
    });
    const voice = await startVoiceSession(
      {
        config: this.config,
        database: this.test.database,
        models: await sharedModels(),
        embedder: this.embedder,
        userId,
        channel: options.channel ?? 'web',
        onEvent: (event) => this.events.push(event),
        // No greeting unless asked for; `greeting: undefined` given explicitly means the default.
        greeting: 'greeting' in options ? options.greeting : null,
        ...(options.call ? { call: options.call } : {}),
        ...(options.camera ? { camera: options.camera } : {}),
        ...(options.connOptions ? { connOptions: options.connOptions } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      },
      { audioInput: input, audioOutput: output },
    );
    this.sessions.push(voice);
    return { voice, input };
  }

  /**
   * Stores a PDF-like document of `userId` with one embedded chunk per page (pages
   * numbered from `firstPage`), as ingestion would: what retrieval finds in voice tests.
   */
  async storeDocument(
    userId: string,
    title: string,
    pages: readonly string[],
    firstPage = 1,
  ): Promise<string> {
    const embeddings = await this.embedder.embed([...pages]);
    const { documentId } = await saveDocument(this.test.database.pool, {
      ownerId: userId,
      title,
      sourceName: `${title}.pdf`,
      mimeType: 'application/pdf',
      sha256: createHash('sha256')
        .update(`${userId}:${title}:${pages.join('\n')}`)
        .digest('hex'),
      byteSize: 1000,
      pageCount: firstPage + pages.length - 1,
      embeddingModel: this.embedder.model,
      chunks: pages.map((text, index) => ({
        pageStart: firstPage + index,
        pageEnd: firstPage + index,
        heading: null,
        text,
        embedding: embeddings[index] ?? null,
      })),
    });
    return documentId;
  }

  async close(): Promise<void> {
    for (const session of this.sessions) await session.close().catch(() => undefined);
    await Promise.all([this.openai.close(), this.deepgram.close(), this.elevenlabs.close()]);
    await this.test.cleanup();
  }
}

/**
 * Pushes PCM into a session in real time, 20 ms frames, then `trailingSilenceMs` of
 * silence (a microphone keeps sending while the user is quiet). Returns the time the
 * last voiced frame was pushed.
 */
export async function speak(
  input: PushAudioInput,
  audio: { samples: Int16Array; sampleRate: number },
  trailingSilenceMs = 1500,
): Promise<number> {
  const samplesPerFrame = (audio.sampleRate * FRAME_MS) / 1000;
  const silentFrames = Math.ceil(trailingSilenceMs / FRAME_MS);
  const total = Math.ceil(audio.samples.length / samplesPerFrame) + silentFrames;
  const started = performance.now();
  let lastVoiced = Date.now();
  for (let index = 0; index < total; index++) {
    const chunk = new Int16Array(samplesPerFrame);
    chunk.set(audio.samples.subarray(index * samplesPerFrame, (index + 1) * samplesPerFrame));
    input.pushFrame(new AudioFrame(chunk, audio.sampleRate, 1, samplesPerFrame));
    if (rootMeanSquare(chunk) > 0.01) lastVoiced = Date.now();
    const due = started + (index + 1) * FRAME_MS;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  return lastVoiced;
}

/** Waits until `predicate` holds, polling every 20 ms; fails after `timeoutMs`. */
export async function waitFor<T>(
  predicate: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
