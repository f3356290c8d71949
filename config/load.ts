import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';
import type { z } from 'zod';
import { environmentSchema, type Environment } from './schema.ts';
import { AppError } from '../protocol/index.ts';

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** The assistant's configuration: parsed once at start, frozen, passed down explicitly. */
export interface Config {
  readonly database: {
    /** Postgres URL, or undefined for the embedded database. */
    readonly url: string | undefined;
    /** Where the embedded database and uploaded files live. Absolute. */
    readonly dataDir: string;
    /** Uploaded files kept on disk; upload rows store paths relative to it. */
    readonly uploadsDirectory: string;
  };
  readonly server: {
    readonly host: string;
    readonly port: number;
    readonly accessKey: string | undefined;
    /** Behind a reverse proxy: take the client's address, scheme and host from X-Forwarded-*. */
    readonly trustProxy: boolean;
  };
  readonly logLevel: Environment['LOG_LEVEL'];
  /** LiveKit server; undefined means the embedded direct WebSocket transport. */
  readonly livekit:
    | {
        readonly url: string;
        /** The URL browsers connect to (differs from `url` inside a container network). */
        readonly publicUrl: string;
        readonly apiKey: string;
        readonly apiSecret: string;
        /** Port of the worker's health check (`GET /` 200 while registered with LiveKit), on HOST. */
        readonly healthPort: number;
      }
    | undefined;
  readonly telephony: {
    /** Where "talk to a person" transfers a phone caller; undefined: no transfers. */
    readonly transferNumber: string | undefined;
    /** Password of the outbound SIP trunk, for `npm run sip:setup -- --outbound`. */
    readonly outboundPassword: string | undefined;
  };
  readonly agentName: string;
  readonly llm: OpenAICompatible;
  /** VISION_MODEL as set (served at LLM_BASE_URL); agent/providers.ts decides the default. */
  readonly visionModel: string | undefined;
  readonly embedding: OpenAICompatible & { readonly dimensions: number };
  /** Speech to text as configured; agent/providers.ts picks the provider and its defaults. */
  readonly stt: {
    readonly provider: 'deepgram' | 'openai' | undefined;
    readonly model: string | undefined;
    /** STT_BASE_URL (else OPENAI_BASE_URL) and OPENAI_API_KEY. */
    readonly openai: Omit<OpenAICompatible, 'model'>;
    readonly deepgram: { readonly baseUrl: string | undefined; readonly apiKey: string | undefined };
  };
  /** Text to speech as configured; agent/providers.ts picks the provider and its defaults. */
  readonly tts: {
    readonly provider: 'elevenlabs' | 'openai' | undefined;
    readonly model: string | undefined;
    /**
     * TTS_BASE_URL (else OPENAI_BASE_URL), OPENAI_API_KEY, TTS_VOICE, and TTS_VOICES (the
     * voices offered to people; unset means OpenAI's built-in voices for the model).
     */
    readonly openai: Omit<OpenAICompatible, 'model'> & {
      readonly voice: string | undefined;
      readonly voices: readonly string[] | undefined;
    };
    readonly elevenlabs: {
      readonly baseUrl: string | undefined;
      readonly apiKey: string | undefined;
      readonly voiceId: string | undefined;
    };
  };
  readonly redisUrl: string | undefined;
  /** OTLP/HTTP collector base URL: traces go to `<url>/v1/traces` when set. */
  readonly otlpEndpoint: string | undefined;
  /** Attach the camera's latest still to every turn (low detail), not only turns about it. */
  readonly cameraEveryTurn: boolean;
  readonly limits: {
    readonly uploadMaxBytes: number;
    readonly imageMaxPixels: number;
    readonly pdfMaxPages: number;
    /** Longest recording accepted, in ms (RECORDING_MAX_MINUTES). */
    readonly recordingMaxMs: number;
  };
  /**
   * Processes that run direct-mode conversations (VOICE_PROCESSES; default one per CPU
   * core): 0 runs them in the server's own process. LiveKit mode has its own job processes.
   */
  readonly voiceProcesses: number;
  /** The reader processes that parse documents, and their per-file caps; undefined: the reader's default. */
  readonly documentReader: {
    readonly readers: number | undefined;
    readonly timeoutMs: number | undefined;
    readonly memoryMb: number | undefined;
    readonly maxTextCharacters: number | undefined;
    readonly maxChunks: number | undefined;
    readonly maxRenderedPages: number | undefined;
  };
}

/** An OpenAI-compatible endpoint: OpenAI itself, or Ollama, vLLM, llama.cpp, a test fake. */
export interface OpenAICompatible {
  readonly model: string;
  readonly baseUrl: string;
  /** May be undefined for local servers that need no key. */
  readonly apiKey: string | undefined;
}

/** A configuration problem, with a message that names the variable and says how to fix it. */
export class ConfigError extends AppError<'configuration'> {
  constructor(message: string) {
    super('configuration', message, { userFacing: true, retryable: false });
  }
}

export interface LoadConfigOptions {
  /** Defaults to `process.env`. Values here win over the `.env` file. */
  env?: Record<string, string | undefined>;
  /** Path of the `.env` file; defaults to `.env` in the working directory. `false` skips it. */
  envFile?: string | false;
  /** Base for relative paths such as DATA_DIR; defaults to the working directory. */
  cwd?: string;
}

/**
 * Reads the environment (and a `.env` file when present), validates it and returns
 * a deeply frozen {@link Config}. Throws {@link ConfigError} listing every bad variable.
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const fileValues = readEnvFile(options.envFile === undefined ? path.join(cwd, '.env') : options.envFile);
  const merged: Record<string, string> = { ...fileValues };
  for (const [key, value] of Object.entries(options.env ?? process.env)) {
    if (value !== undefined) merged[key] = value;
  }
  // An empty value means "unset", as in most dotenv tooling.
  for (const key of Object.keys(merged)) if (merged[key]?.trim() === '') delete merged[key];

  const parsed = environmentSchema.safeParse(merged);
  if (!parsed.success) throw new ConfigError(describeIssues(parsed.error.issues, merged));
  return deepFreeze(buildConfig(parsed.data, cwd));
}

function readEnvFile(file: string | false): Record<string, string> {
  if (file === false || !existsSync(file)) return {};
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new ConfigError(`Could not read ${file}: ${(error as Error).message}. Fix or remove the file.`);
  }
}

function describeIssues(issues: readonly z.core.$ZodIssue[], values: Record<string, string>): string {
  const lines = issues.map((issue) => {
    const key = String(issue.path[0] ?? '(environment)');
    const value = values[key];
    const shown = value === undefined ? 'it is not set' : `got ${JSON.stringify(redact(key, value))}`;
    return `  ${key}: ${issue.message} (${shown}). Set ${key} in the environment or in .env; see .env.example.`;
  });
  return `Invalid configuration:\n${lines.join('\n')}`;
}

function redact(key: string, value: string): string {
  return /KEY|SECRET|PASSWORD|TOKEN/.test(key) ? '***' : value;
}

function buildConfig(env: Environment, cwd: string): Config {
  const problems: string[] = [];
  const require = (condition: boolean, message: string) => condition || problems.push(`  ${message}`);

  let livekit: Config['livekit'];
  if (env.LIVEKIT_URL) {
    require(!!env.LIVEKIT_API_KEY, 'LIVEKIT_API_KEY: required when LIVEKIT_URL is set. Set it to your LiveKit API key.');
    require(!!env.LIVEKIT_API_SECRET, 'LIVEKIT_API_SECRET: required when LIVEKIT_URL is set. Set it to your LiveKit API secret.');
    livekit = {
      url: env.LIVEKIT_URL,
      publicUrl: env.LIVEKIT_PUBLIC_URL ?? env.LIVEKIT_URL,
      apiKey: env.LIVEKIT_API_KEY ?? '',
      apiSecret: env.LIVEKIT_API_SECRET ?? '',
      healthPort: env.AGENT_HEALTH_PORT,
    };
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);

  const openaiBaseUrl = trimSlash(env.OPENAI_BASE_URL ?? OPENAI_DEFAULT_BASE_URL);
  const openai = (model: string, baseUrl: string | undefined): OpenAICompatible => ({
    model,
    baseUrl: trimSlash(baseUrl ?? openaiBaseUrl),
    apiKey: env.OPENAI_API_KEY,
  });
  const llm = openai(env.LLM_MODEL, env.LLM_BASE_URL);

  return {
    database: {
      url: env.DATABASE_URL,
      dataDir: path.resolve(cwd, env.DATA_DIR),
      uploadsDirectory: path.resolve(cwd, env.DATA_DIR, 'uploads'),
    },
    server: { host: env.HOST, port: env.PORT, accessKey: env.APP_ACCESS_KEY, trustProxy: env.TRUST_PROXY },
    logLevel: env.LOG_LEVEL,
    livekit,
    telephony: { transferNumber: env.TRANSFER_PHONE_NUMBER, outboundPassword: env.SIP_OUTBOUND_PASSWORD },
    agentName: env.AGENT_NAME,
    llm,
    visionModel: env.VISION_MODEL,
    embedding: {
      ...openai(env.EMBEDDING_MODEL, env.EMBEDDING_BASE_URL),
      dimensions: env.EMBEDDING_DIMENSIONS,
    },
    stt: {
      provider: env.STT_PROVIDER,
      model: env.STT_MODEL,
      openai: { baseUrl: trimSlash(env.STT_BASE_URL ?? openaiBaseUrl), apiKey: env.OPENAI_API_KEY },
      deepgram: { baseUrl: env.DEEPGRAM_BASE_URL, apiKey: env.DEEPGRAM_API_KEY },
    },
    tts: {
      provider: env.TTS_PROVIDER,
      model: env.TTS_MODEL,
      openai: {
        baseUrl: trimSlash(env.TTS_BASE_URL ?? openaiBaseUrl),
        apiKey: env.OPENAI_API_KEY,
        voice: env.TTS_VOICE,
        voices: env.TTS_VOICES,
      },
      elevenlabs: {
        baseUrl: env.ELEVENLABS_BASE_URL,
        apiKey: env.ELEVENLABS_API_KEY,
        voiceId: env.ELEVENLABS_VOICE_ID,
      },
    },
    redisUrl: env.REDIS_URL,
    otlpEndpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT,
    cameraEveryTurn: env.CAMERA_EVERY_TURN,
    limits: {
      uploadMaxBytes: env.UPLOAD_MAX_BYTES,
      imageMaxPixels: env.IMAGE_MAX_PIXELS,
      pdfMaxPages: env.PDF_MAX_PAGES,
      recordingMaxMs: env.RECORDING_MAX_MINUTES * 60_000,
    },
    voiceProcesses: env.VOICE_PROCESSES ?? availableParallelism(),
    documentReader: {
      readers: env.DOCUMENT_READERS,
      timeoutMs: env.DOCUMENT_READ_TIMEOUT_MS,
      memoryMb: env.DOCUMENT_READER_MEMORY_MB,
      maxTextCharacters: env.DOCUMENT_MAX_TEXT_CHARACTERS,
      maxChunks: env.DOCUMENT_MAX_CHUNKS,
      maxRenderedPages: env.DOCUMENT_MAX_RENDERED_PAGES,
    },
  };
}

function trimSlash(value: string): string {
  return value.replace(/\/+$/, '');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
