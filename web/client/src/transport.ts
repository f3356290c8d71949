import type { ServerMessage } from '../../../protocol/index.ts';

/** What a transport tells the page. */
export interface TransportListener {
  /** Transcripts, agent state, upload progress, errors. */
  message(message: ServerMessage): void;
  /** Microphone level, 0 to 1, about 50 times a second while the microphone is on. */
  level(level: number): void;
  /** The connection ended without the person asking; `reason` is in plain words. */
  lost(reason: string): void;
}

/** Upload progress as the page shows it: bytes sent, then what the server does with the file. */
export type UploadListener = (progress: { sentFraction?: number; message?: string }) => void;

/** How the page talks to the assistant: the direct WebSocket, or a LiveKit room. */
export interface Transport {
  /** Whether the microphone is capturing (connecting turns it on when the browser allows). */
  readonly microphoneOn: boolean;
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  setMicrophone(on: boolean): Promise<void>;
  setCamera(on: boolean): Promise<void>;
  sendText(text: string): void;
  /**
   * The person chose another voice (saved by `POST /api/voice`). Direct mode: nothing to
   * do, the server switched the conversation. LiveKit: the agent runs elsewhere and is told.
   */
  announceVoiceChange(): void;
  /** Sends a file into the conversation; resolves with the id the assistant's events about it carry and a sentence about what happens next. */
  upload(file: File, onProgress: UploadListener): Promise<{ uploadId: string; message: string }>;
}

/** A failure with a message written for people. */
export class PlainError extends Error {
  override name = 'PlainError';
}

/** Turns a media permission failure into words a person can act on. */
export function describeMediaError(device: 'microphone' | 'camera', error: unknown): string {
  const name = error instanceof DOMException ? error.name : '';
  if (name === 'NotAllowedError' || name === 'SecurityError')
    return `The ${device} is blocked. Allow it in your browser's site settings, then try again.`;
  if (name === 'NotFoundError' || name === 'OverconstrainedError')
    return `No ${device} was found on this device.`;
  if (name === 'NotReadableError') return `The ${device} is in use by another application.`;
  if (!window.isSecureContext) return `The ${device} only works over HTTPS or on localhost.`;
  return `The ${device} could not be started.`;
}
