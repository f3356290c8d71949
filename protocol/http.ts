import type { PROTOCOL_VERSION } from './direct-socket.ts';

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
  /** A recording (audio, or a video's sound) is transcribed in the background like a document is read. */
  kind: 'image' | 'document' | 'recording';
  /** `ready`: in the conversation now; `reading`: progress follows over the socket. */
  status: 'ready' | 'reading';
  message: string;
}

/**
 * `POST /api/phone-link`: a one-time code (valid 10 minutes) to say on a phone call,
 * so the caller's number joins this browser's account (memories and documents).
 */
export interface PhoneLinkResponse {
  code: string;
  expiresAt: string;
}

/** `POST /api/erase` answer: counts only. */
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

/** A voice the assistant can answer in. */
export interface VoiceOption {
  /** The provider's voice id (ElevenLabs) or name (OpenAI-compatible). */
  id: string;
  name: string;
  /** Accent, gender, age or a short description, when the provider gives one. */
  description?: string;
}

/** `GET /api/voices`: the voices on offer and the one this person's answers use. */
export interface VoicesResponse {
  provider: 'elevenlabs' | 'openai';
  voices: VoiceOption[];
  /** The voice in use: the person's choice, else the configured default. */
  current: string;
}

/**
 * `POST /api/voice {"voiceId": "..."}` answer: the choice is remembered for this person
 * (web and linked phone) and used from the next answer on.
 */
export interface VoiceChoiceResponse {
  voice: VoiceOption;
}
