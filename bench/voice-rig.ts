import { createHash } from 'node:crypto';
import { voice } from '@livekit/agents';
import { AudioFrame } from '@livekit/rtc-node';
import * as silero from '@livekit/agents-plugin-silero';
import { Assistant } from '../agent/assistant.ts';
import { TURN_TAKING } from '../agent/turn-taking/decision.ts';
import { initializeAgentsLogging } from '../agent/logging.ts';
import { PacedAudioOutput, PushAudioInput } from '../agent/roomless-audio.ts';
import {
  loadSharedModels,
  startVoiceSession,
  type SharedModels,
  type VoiceSession,
} from '../agent/voice-session.ts';
import { loadConfig, type Config } from '../config/load.ts';
import { resolveUser, saveDocument, type Database } from '../db/index.ts';
import { createEmbedder, type Embedder } from '../ingest/embeddings.ts';
import { rootMeanSquare, startFakes, type Fakes } from '../test/fakes/index.ts';
import { embedText } from '../test/fakes/text-embedding.ts';
import { createTestDatabase, type Backend, type TestDatabase } from '../test/support/database.ts';
import { SyntheticCorpus } from './corpus.ts';
import { startFakesProcess } from './fakes-process.ts';
import { Microphone } from './microphone.ts';
import { ConversationPool } from '../web/server/conversation-pool.ts';
import type { TurnTimingsEvent } from '../protocol/index.ts';
import { waitFor } from '../test/support/voice-harness.ts';
import { applyWhatIf, type WhatIf } from './what-if.ts';
import { BLUE_VALVE_FACT, EMBEDDING_DIMENSIONS, fakesOptions, QUESTIONS } from './voice-script.ts';

/**
 * Room-less voice sessions for the benchmarks: wire-level fakes with published-median
 * latencies, the embedded database with a document corpus (so every turn retrieves),
 * the real Silero VAD and end-of-turn model, and per session a microphone that keeps
 * sending and a recorder of what came out and what the session reported, with times.
 */

/** One thing a session reported, with the wall-clock time it was observed (Date.now() ms). */
export type SessionRecord =
  | { kind: 'user-state'; at: number; state: string }
  | { kind: 'agent-state'; at: number; state: string }
  | { kind: 'final-transcript'; at: number; text: string }
  | { kind: 'speech-created'; at: number; speechId: string; source: string }
  | { kind: 'eou'; at: number; speechId: string; endOfUtteranceDelayMs: number; transcriptionDelayMs: number }
  | { kind: 'llm'; at: number; speechId: string; ttftMs: number }
  | { kind: 'tts'; at: number; speechId: string; ttfbMs: number }
  | { kind: 'eot-prediction'; at: number; probability: number; threshold: number; inferenceMs: number }
  | { kind: 'false-interruption'; at: number }
  /** The retrieval a user message got: when it started, and whether it reused an interim wording's embedding. */
  | { kind: 'retrieval'; at: number; startedAt: number; reusedEmbedding: boolean }
  | {
      kind: 'turn-decision';
      at: number;
      waitMs: number;
      verdict: string;
      shape: string;
      audio: string;
      probability: number | undefined;
    };

/** A running session with its microphone and everything it produced. */
export interface RigSession {
  voice: VoiceSession;
  microphone: Microphone;
  /** Agent audio frames as the paced output released them. */
  frames: { at: number; rms: number }[];
  /** Times the output was cleared (an interruption). */
  clears: number[];
  records: SessionRecord[];
  close(): Promise<void>;
}

export interface RigOptions {
  /** 'child' runs the fakes in another process (capacity measures this process alone). */
  fakes: 'in-process' | 'child';
  /** Shared chunks in the corpus (besides the boiler manual). */
  corpusChunks: number;
  /** The embedded database (default), or a throwaway one on TEST_DATABASE_URL's Postgres. */
  database?: Backend;
}

export class VoiceRig {
  /** What the STT fake hears in every utterance (in-process fakes only), unless {@link hear} was called. */
  transcript = QUESTIONS[0]!.transcript;
  private heard: { text: string; consumed: boolean } | undefined;

  private constructor(
    readonly fakes: Fakes | undefined,
    private readonly closeFakes: () => Promise<void> | void,
    readonly test: TestDatabase,
    readonly config: Config,
    readonly embedder: Embedder,
    readonly models: SharedModels,
  ) {}

  static async start(options: RigOptions): Promise<VoiceRig> {
    initializeAgentsLogging(process.env.BENCH_AGENT_LOG_LEVEL ?? 'fatal');
    const holder: { rig?: VoiceRig } = {};
    const transcript = () => holder.rig?.nextTranscript() ?? QUESTIONS[0]!.transcript;
    const [fakes, test, models] = await Promise.all([
      options.fakes === 'in-process' ? startFakes(fakesOptions(transcript)) : startFakesProcess(),
      createTestDatabase(options.database ?? 'embedded', EMBEDDING_DIMENSIONS),
      loadSharedModels(),
    ]);
    const config = loadConfig({
      envFile: false,
      env: {
        ...fakes.environment,
        EMBEDDING_DIMENSIONS: String(EMBEDDING_DIMENSIONS),
        DATA_DIR: test.dataDir,
        ...(test.url ? { DATABASE_URL: test.url } : {}),
        // What conversation processes log (startPool); this process's sessions log through initializeAgentsLogging.
        LOG_LEVEL: process.env.BENCH_AGENT_LOG_LEVEL ?? 'fatal',
      },
    });
    const embedder = createEmbedder({
      baseUrl: config.embedding.baseUrl,
      apiKey: config.embedding.apiKey ?? 'fake-key',
      model: config.embedding.model,
      dimensions: EMBEDDING_DIMENSIONS,
      maxRetries: 0,
    });
    const inProcess = 'openai' in fakes ? (fakes as Fakes) : undefined;
    const rig = new VoiceRig(inProcess, () => fakes.close(), test, config, embedder, models);
    holder.rig = rig;
    await seedCorpus(test.database, options.corpusChunks);
    return rig;
  }

  /**
   * The words of the segment being spoken now: the STT fake gives them to the next
   * utterance it hears, and nothing to further utterances (a pause inside the segment
   * longer than the fake's end-of-speech silence) until the next segment, as Deepgram
   * would transcribe each word once.
   */
  hear(text: string): void {
    this.heard = { text, consumed: false };
  }

  private nextTranscript(): string {
    if (!this.heard) return this.transcript;
    if (this.heard.consumed) return '';
    this.heard.consumed = true;
    return this.heard.text;
  }

  get database(): Database {
    return this.test.database;
  }

  async user(name: string): Promise<string> {
    return resolveUser(this.database.pool, { kind: 'web', value: name });
  }

  async startSession(userId: string, whatIf: WhatIf = {}): Promise<RigSession> {
    const frames: RigSession['frames'] = [];
    const clears: number[] = [];
    const records: SessionRecord[] = [];
    const input = new PushAudioInput();
    const output = new PacedAudioOutput({
      frame: (frame) => frames.push({ at: Date.now(), rms: rootMeanSquare(frame.data) }),
      clear: () => clears.push(Date.now()),
    });
    const session = await startVoiceSession(
      {
        config: this.config,
        database: this.database,
        models:
          whatIf.vadPerSession || whatIf.vadMinSilenceMs !== undefined
            ? {
                vad: await silero.VAD.load({
                  minSilenceDuration: whatIf.vadMinSilenceMs ?? TURN_TAKING.vadMinSilenceMs,
                }),
              }
            : this.models,
        embedder: this.embedder,
        userId,
        channel: 'web',
        greeting: null,
        ...(whatIf.noTurnRecorder ? { recordTurns: false } : {}),
      },
      { audioInput: input, audioOutput: output },
    );
    recordSession(session.session, records);
    session.turnTaking.onDecision((signals) =>
      records.push({
        kind: 'turn-decision',
        at: signals.at,
        waitMs: signals.waitMs,
        verdict: signals.verdict,
        shape: signals.shape,
        audio: signals.audio,
        probability: signals.audioProbability,
      }),
    );
    if (session.session.currentAgent instanceof Assistant)
      recordRetrievals(session.session.currentAgent, records);
    applyWhatIf(session.session, whatIf);
    const microphone = new Microphone((samples, sampleRate) =>
      input.pushFrame(new AudioFrame(samples, sampleRate, 1, samples.length)),
    );
    microphone.start();
    return {
      voice: session,
      microphone,
      frames,
      clears,
      records,
      async close() {
        microphone.stop();
        await session.close();
      },
    };
  }

  /**
   * Conversation processes as `npm start` runs them (web/server/conversation-pool.ts),
   * querying this rig's database through this process.
   */
  async startPool(processes: number): Promise<ConversationPool> {
    // --expose-gc: memory readings after full collections, as in this process.
    const pool = new ConversationPool({
      config: this.config,
      database: this.database,
      processes,
      nodeFlags: ['--expose-gc'],
    });
    this.pools.push(pool);
    await pool.ready();
    return pool;
  }

  /**
   * A conversation in one of `pool`'s processes, as the server starts one for a page: its
   * greeting has played out when this resolves. What it reports is what a page hears:
   * agent audio, events, and each turn's timings.
   */
  async startPooledSession(pool: ConversationPool, userId: string): Promise<PooledSession> {
    const frames: PooledSession['frames'] = [];
    const clears: number[] = [];
    const timings: PooledSession['timings'] = [];
    const conversation = await pool.start(userId, {
      send: (message) => {
        if (message.type === 'audio_clear') clears.push(Date.now());
        if (message.type === 'turn_timings') timings.push({ at: Date.now(), event: message });
      },
      sendAudio: (samples) => frames.push({ at: Date.now(), rms: rootMeanSquare(samples) }),
    });
    const microphone = new Microphone((samples, sampleRate) => conversation.pushAudio(samples, sampleRate));
    microphone.start();
    await waitFor(() => frames.length > 0 && Date.now() - frames.at(-1)!.at > 400, 20_000, 'the greeting');
    return {
      microphone,
      frames,
      clears,
      timings,
      async close() {
        microphone.stop();
        await conversation.close();
      },
    };
  }

  private readonly pools: ConversationPool[] = [];

  async close(): Promise<void> {
    await Promise.all(this.pools.map((pool) => pool.close()));
    await this.closeFakes();
    await this.test.cleanup();
  }
}

/** A conversation in a conversation process, seen from the server's side. */
export interface PooledSession {
  microphone: Microphone;
  frames: { at: number; rms: number }[];
  clears: number[];
  /** Each finished turn's timings (the page's `turn_timings` event), with when it arrived. */
  timings: { at: number; event: TurnTimingsEvent }[];
  close(): Promise<void>;
}

/**
 * Records the retrieval each user message gets (for benches whose fakes run in another
 * process, so they cannot see the embedding requests: whether it started on the final).
 */
function recordRetrievals(assistant: Assistant, records: SessionRecord[]): void {
  const retrievals = assistant.retrievals;
  const forMessage = retrievals.forMessage.bind(retrievals);
  retrievals.forMessage = (messageId, text) => {
    const answer = forMessage(messageId, text);
    if (answer.isNew) {
      const { startedAt, reusedEmbedding } = answer.retrieval;
      records.push({ kind: 'retrieval', at: Date.now(), startedAt, reusedEmbedding });
    }
    return answer;
  };
}

function recordSession(session: voice.AgentSession, records: SessionRecord[]): void {
  const E = voice.AgentSessionEventTypes;
  session.on(E.UserStateChanged, (event) =>
    records.push({ kind: 'user-state', at: Date.now(), state: event.newState }),
  );
  session.on(E.AgentStateChanged, (event) =>
    records.push({ kind: 'agent-state', at: Date.now(), state: event.newState }),
  );
  session.on(E.UserInputTranscribed, (event) => {
    if (event.isFinal) records.push({ kind: 'final-transcript', at: Date.now(), text: event.transcript });
  });
  session.on(E.SpeechCreated, (event) =>
    records.push({
      kind: 'speech-created',
      at: Date.now(),
      speechId: event.speechHandle.id,
      source: event.source,
    }),
  );
  session.on(E.EotPrediction, (event) =>
    records.push({
      kind: 'eot-prediction',
      at: Date.now(),
      probability: event.probability,
      threshold: event.threshold,
      inferenceMs: event.inferenceDurationMs,
    }),
  );
  session.on(E.AgentFalseInterruption, () => records.push({ kind: 'false-interruption', at: Date.now() }));
  session.on(E.MetricsCollected, ({ metrics }) => {
    const at = Date.now();
    if (metrics.type === 'eou_metrics')
      records.push({
        kind: 'eou',
        at,
        speechId: metrics.speechId ?? '',
        endOfUtteranceDelayMs: metrics.endOfUtteranceDelayMs,
        transcriptionDelayMs: metrics.transcriptionDelayMs,
      });
    else if (metrics.type === 'llm_metrics')
      records.push({ kind: 'llm', at, speechId: metrics.speechId ?? '', ttftMs: metrics.ttftMs });
    else if (metrics.type === 'tts_metrics')
      records.push({ kind: 'tts', at, speechId: metrics.speechId ?? '', ttfbMs: metrics.ttfbMs });
  });
}

/**
 * Shared documents (owner null, so every user's search sees them) of generated text,
 * embedded as the embeddings fake would embed them, plus a boiler manual holding the
 * answer to the blue valve question, saved through the app's own `saveDocument`.
 */
async function seedCorpus(database: Database, chunks: number): Promise<void> {
  const corpus = new SyntheticCorpus({ dimensions: EMBEDDING_DIMENSIONS, seed: 3 });
  const settings = { dimensions: EMBEDDING_DIMENSIONS, synonyms: [] };
  const documents: string[][] = [[BLUE_VALVE_FACT, 'Clean the filter every month with warm water.']];
  for (let first = 0; first < chunks; first += 20)
    documents.push(Array.from({ length: Math.min(20, chunks - first) }, () => corpus.chunk().text));
  for (const [index, texts] of documents.entries()) {
    await saveDocument(database.pool, {
      ownerId: null,
      title: index === 0 ? 'Boiler manual' : `Handbook ${index}`,
      sourceName: `handbook-${index}.pdf`,
      mimeType: 'application/pdf',
      sha256: createHash('sha256').update(`bench-${index}`).digest('hex'),
      byteSize: 1000,
      pageCount: texts.length,
      embeddingModel: 'text-embedding-3-small',
      chunks: texts.map((text, ordinal) => ({
        pageStart: ordinal + 1,
        pageEnd: ordinal + 1,
        heading: null,
        text,
        embedding: embedText(text, settings),
      })),
    });
  }
  // What an ingest does after saving (the planner then walks the vector index).
  await database.refreshStatistics();
}
