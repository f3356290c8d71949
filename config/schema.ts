import { z } from 'zod';

/**
 * The raw environment the assistant reads, one entry per variable. Every key here
 * is documented in `.env.example` and in the README's configuration table.
 * Values arrive as strings; empty strings count as "unset".
 */
const optionalText = z.string().trim().min(1).optional();

const url = (protocols: readonly string[]) =>
  z
    .string()
    .trim()
    .refine(
      (value) => {
        try {
          return protocols.includes(new URL(value).protocol);
        } catch {
          return false;
        }
      },
      { message: `expected a URL starting with ${protocols.map((p) => `${p}//`).join(' or ')}` },
    )
    .optional();

const httpUrl = url(['http:', 'https:']);

const integer = (minimum: number, maximum: number) =>
  z.coerce
    .number({ message: 'expected a whole number' })
    .int({ message: 'expected a whole number' })
    .min(minimum, { message: `expected at least ${minimum}` })
    .max(maximum, { message: `expected at most ${maximum}` });

export const environmentSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  DATA_DIR: z.string().trim().min(1).default('.data'),
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  PORT: integer(1, 65_535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  LIVEKIT_URL: url(['ws:', 'wss:', 'http:', 'https:']),
  LIVEKIT_API_KEY: optionalText,
  LIVEKIT_API_SECRET: optionalText,
  LIVEKIT_PUBLIC_URL: url(['ws:', 'wss:', 'http:', 'https:']),
  TRANSFER_PHONE_NUMBER: z
    .string()
    .trim()
    .regex(/^\+[1-9]\d{6,14}$/, { message: 'expected an E.164 phone number such as +15551234567' })
    .optional(),
  SIP_OUTBOUND_PASSWORD: optionalText,
  AGENT_NAME: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]+$/, { message: 'expected letters, digits, "-" or "_" only' })
    .default('assistant'),
  AGENT_HEALTH_PORT: integer(1, 65_535).default(8081),

  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: httpUrl,
  LLM_MODEL: z.string().trim().min(1).default('gpt-4.1-mini'),
  LLM_BASE_URL: httpUrl,
  VISION_MODEL: optionalText,
  EMBEDDING_MODEL: z.string().trim().min(1).default('text-embedding-3-small'),
  EMBEDDING_BASE_URL: httpUrl,
  EMBEDDING_DIMENSIONS: integer(2, 16_000).default(1536),

  STT_PROVIDER: z.enum(['deepgram', 'openai'], { message: 'expected "deepgram" or "openai"' }).optional(),
  STT_MODEL: optionalText,
  STT_BASE_URL: httpUrl,
  DEEPGRAM_API_KEY: optionalText,
  DEEPGRAM_BASE_URL: url(['ws:', 'wss:', 'http:', 'https:']),

  TTS_PROVIDER: z.enum(['elevenlabs', 'openai'], { message: 'expected "elevenlabs" or "openai"' }).optional(),
  TTS_MODEL: optionalText,
  TTS_VOICE: optionalText,
  TTS_VOICES: z
    .string()
    .trim()
    .regex(/^[\w.:-]+( *, *[\w.:-]+)*$/, {
      message: 'expected voice names separated by commas, such as alloy,nova',
    })
    .transform((value) => value.split(',').map((voice) => voice.trim()))
    .optional(),
  TTS_BASE_URL: httpUrl,
  ELEVENLABS_API_KEY: optionalText,
  ELEVENLABS_BASE_URL: url(['ws:', 'wss:', 'http:', 'https:']),
  ELEVENLABS_VOICE_ID: optionalText,

  APP_ACCESS_KEY: z.string().trim().min(12, { message: 'expected at least 12 characters' }).optional(),
  TRUST_PROXY: z
    .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  REDIS_URL: url(['redis:', 'rediss:']),
  OTEL_EXPORTER_OTLP_ENDPOINT: url(['http:', 'https:']),

  CAMERA_EVERY_TURN: z
    .enum(['true', 'false', '1', '0'], { message: 'expected true or false' })
    .default('false')
    .transform((value) => value === 'true' || value === '1'),
  UPLOAD_MAX_BYTES: integer(1024, 1024 * 1024 * 1024).default(25 * 1024 * 1024),
  IMAGE_MAX_PIXELS: integer(1, 1_000_000_000).default(40_000_000),
  PDF_MAX_PAGES: integer(1, 100_000).default(500),
  RECORDING_MAX_MINUTES: integer(1, 24 * 60).default(240),
  // Unset means one per CPU core (web/server/conversation-pool.ts); 0 runs them in the server's process.
  VOICE_PROCESSES: integer(0, 64).optional(),
  // Unset means the reader's default (ingest/document-reader.ts DEFAULT_READER_OPTIONS).
  DOCUMENT_READERS: integer(1, 256).optional(),
  DOCUMENT_READ_TIMEOUT_MS: integer(1000, 3_600_000).optional(),
  DOCUMENT_READER_MEMORY_MB: integer(256, 65_536).optional(),
  DOCUMENT_MAX_TEXT_CHARACTERS: integer(1000, 1_000_000_000).optional(),
  DOCUMENT_MAX_CHUNKS: integer(1, 1_000_000).optional(),
  DOCUMENT_MAX_RENDERED_PAGES: integer(0, 100_000).optional(),
});

export type Environment = z.infer<typeof environmentSchema>;

/** Every variable the assistant reads; `.env.example` must list each of them. */
export const environmentKeys = Object.keys(environmentSchema.shape) as (keyof Environment)[];
