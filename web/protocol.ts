/**
 * What the browser and the server say to each other: the HTTP API's bodies and the
 * direct-mode WebSocket protocol. Shared by the server (web/server) and the client
 * (web/client), so it imports nothing and holds only types and constants.
 *
 * Direct-mode WebSocket (`SOCKET_PATH`), version {@link PROTOCOL_VERSION}:
 * - Binary frames are audio: 16-bit signed little-endian PCM, mono, no header.
 *   Client to server at the rate its `hello` stated (16000 or 48000 Hz; any whole rate
 *   from 8000 to 48000 is accepted), at most one second per frame (20 ms is usual).
 *   Server to client at the rate of the last `audio_format` message, released in real
 *   time (about 120 ms ahead of playback at most).
 * - Text frames are JSON: {@link ClientMessage} one way, {@link ServerMessage} the other.
 *   The client's first message must be `hello`; the server answers `ready` once the
 *   conversation runs (audio sent before `ready` is dropped).
 * - A message that is not valid JSON of a known shape, audio before `hello`, a second
 *   `hello` or an oversized frame closes that socket with code 1008 and a reason saying
 *   what was wrong. Other sockets are not affected.
 * - `audio_clear` means the agent was interrupted: drop all buffered agent audio now.
 */

export const PROTOCOL_VERSION = 1;

/** Path of the direct-mode WebSocket. */
export const SOCKET_PATH = '/api/socket';

/** Capture sample rates accepted in `hello`, in Hz. */
export const MIN_CAPTURE_SAMPLE_RATE = 8000;
export const MAX_CAPTURE_SAMPLE_RATE = 48_000;

/** Longest audio frame accepted from the client, in ms. */
export const MAX_AUDIO_FRAME_MS = 1000;

/** Largest camera frame accepted over the socket (decoded JPEG bytes). */
export const MAX_CAMERA_FRAME_BYTES = 512 * 1024;

/** Longest typed message, in characters. */
export const MAX_TEXT_LENGTH = 4000;

/** Close codes the server uses on the direct socket. */
export const CloseCode = {
  /** The client's message broke the protocol; the reason says how. */
  policyViolation: 1008,
  /** The server could not run the conversation (setup missing, internal failure). */
  internalError: 1011,
  /** The server is shutting down. */
  goingAway: 1001,
} as const;

/** Topics used in LiveKit mode (byte streams and text streams). */
export const LIVEKIT_UPLOAD_TOPIC = 'assistant.upload';
export const LIVEKIT_EVENTS_TOPIC = 'assistant.events';

export type AgentState = 'initializing' | 'listening' | 'thinking' | 'speaking' | 'idle';

/** A document passage an answer used. */
export interface Citation {
  documentId: string;
  title: string;
  page: number | null;
}

// ---------------------------------------------------------------- client to server

export type ClientMessage =
  /** First message: protocol version and the sample rate of the audio the client sends. */
  | { type: 'hello'; protocol: typeof PROTOCOL_VERSION; sampleRate: number }
  /** A typed message, answered like speech. */
  | { type: 'text'; text: string }
  /** The latest camera picture, base64 JPEG, at most one per second. */
  | { type: 'camera_frame'; jpeg: string }
  /** The camera was turned off: forget the last picture. */
  | { type: 'camera_off' };

// ---------------------------------------------------------------- server to client

/** A transcript line: interim ones are replaced by the next line of the same role. */
export type TranscriptMessage =
  | { type: 'transcript'; role: 'user'; text: string; final: boolean }
  | {
      type: 'transcript';
      role: 'assistant';
      text: string;
      final: boolean;
      interrupted?: boolean;
      citations?: Citation[];
    };

export type UploadStage = 'reading' | 'ready' | 'failed';

/** Where the server is with an uploaded file (documents are read in the background). */
export interface UploadProgressMessage {
  type: 'upload_progress';
  uploadId: string;
  fileName: string;
  stage: UploadStage;
  /** 0 to 100 while reading, when known. */
  percent?: number;
  /** Plain words: what happens now, or why it failed. */
  message?: string;
}

export type ServerMessage =
  | { type: 'ready'; sessionId: string; conversationId: string }
  | { type: 'audio_format'; sampleRate: number }
  | { type: 'audio_clear' }
  | TranscriptMessage
  | { type: 'agent_state'; state: AgentState }
  | { type: 'error'; message: string }
  | UploadProgressMessage;

// ---------------------------------------------------------------- HTTP

/** `POST /api/session`: how to reach the assistant. */
export type SessionResponse =
  | {
      mode: 'direct';
      socketPath: string;
      protocol: typeof PROTOCOL_VERSION;
      uploadMaxBytes: number;
    }
  | {
      mode: 'livekit';
      serverUrl: string;
      token: string;
      roomName: string;
      /** ISO time after which the token no longer admits anyone. */
      expiresAt: string;
      uploadTopic: string;
      eventsTopic: string;
      uploadMaxBytes: number;
    }
  /** No model provider is configured: nothing answers until these are set. */
  | { mode: 'setup_needed'; problems: string[] };

/** `POST /api/uploads?session=<sessionId>` answer. */
export interface UploadResponse {
  uploadId: string;
  kind: 'image' | 'document';
  /** `ready`: in the conversation now; `reading`: progress follows over the socket. */
  status: 'ready' | 'reading';
  message: string;
}

/** `POST /api/erase` answer: counts only. */
/**
 * `POST /api/phone-link`: a one-time code (valid 10 minutes) to say on a phone call,
 * so the caller's number joins this browser's account (memories and documents).
 */
export interface PhoneLinkResponse {
  code: string;
  expiresAt: string;
}

export interface EraseResponse {
  receiptId: string;
  erasedAt: string;
  rowsDeleted: Record<string, number>;
  filesDeleted: number;
}

/** Every refused request: a stable code and a sentence for people. */
export interface ApiError {
  error: string;
  message: string;
}
