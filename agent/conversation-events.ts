import type { Citation } from './reference-context.ts';

/** Agent states shown to the user. */
export type AgentState = 'initializing' | 'listening' | 'thinking' | 'speaking' | 'idle';

/**
 * What a client sees of a conversation, whatever the transport: the direct WebSocket
 * sends these as JSON; in LiveKit rooms the same information travels as
 * transcriptions and participant attributes.
 */
export type ConversationEvent =
  | { type: 'transcript'; role: 'user'; text: string; final: boolean }
  | {
      type: 'transcript';
      role: 'assistant';
      text: string;
      final: boolean;
      interrupted?: boolean;
      citations?: Citation[];
    }
  | { type: 'agent_state'; state: AgentState }
  | { type: 'error'; message: string }
  | UploadProgressEvent;

/** A file sent into the conversation, on its way to being read (same shape as web/protocol.ts). */
export interface UploadProgressEvent {
  type: 'upload_progress';
  uploadId: string;
  fileName: string;
  stage: 'reading' | 'ready' | 'failed';
  /** 0 to 100 while reading. */
  percent?: number;
  /** Plain words: what happens now, or why it failed. */
  message?: string;
}

export type ConversationEventListener = (event: ConversationEvent) => void;
