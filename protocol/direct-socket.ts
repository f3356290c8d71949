import type { ConversationEvent } from './events.ts';

/**
 * The direct-mode WebSocket (`SOCKET_PATH`), version {@link PROTOCOL_VERSION}:
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
 *   what was wrong; a message over 1 MB with 1009; sending faster than the socket's
 *   budget (web/server/socket-budget.ts) with 4029. Other sockets are not affected.
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
  /** The server could not run the conversation (setup missing, internal failure, its process failed). */
  internalError: 1011,
  /** The server is shutting down. */
  goingAway: 1001,
  /** A message was larger than the socket accepts (1 MB); sent by the WebSocket library itself. */
  messageTooBig: 1009,
  /**
   * The client sent faster than its budget (audio faster than real time, camera frames
   * faster than about one a second, too many messages); an `error` message says so first
   * and the reason names which. Like HTTP 429.
   */
  overBudget: 4029,
} as const;

/** Client to server. */
export type ClientMessage =
  /** First message: protocol version and the sample rate of the audio the client sends. */
  | { type: 'hello'; protocol: typeof PROTOCOL_VERSION; sampleRate: number }
  /** A typed message, answered like speech. */
  | { type: 'text'; text: string }
  /** The latest camera picture, base64 JPEG, at most one per second. */
  | { type: 'camera_frame'; jpeg: string }
  /** The camera was turned off: forget the last picture. */
  | { type: 'camera_off' };

/** Server to client: the conversation's events and the socket's own messages. */
export type ServerMessage =
  | { type: 'ready'; sessionId: string; conversationId: string }
  | { type: 'audio_format'; sampleRate: number }
  | { type: 'audio_clear' }
  | ConversationEvent;
