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
  | { type: 'error'; message: string };

export type ConversationEventListener = (event: ConversationEvent) => void;
