import type { ServerMessage } from '../../protocol/index.ts';
import type { LiveConversation } from './conversation.ts';

/** One live direct-mode conversation, reachable by the session id its page was given. */
export interface LiveEntry {
  sessionId: string;
  userId: string;
  conversation: LiveConversation;
  /** Sends to that page's socket. */
  send(message: ServerMessage): void;
  /** Closes that page's socket; resolves once its conversation has ended. */
  disconnect(code: number, reason: string): Promise<void>;
}

/**
 * The conversations running in this process, so that an upload (a separate HTTP
 * request) reaches the right one, and "forget me" and shutdown can end them.
 */
export class ConversationRegistry {
  private readonly entries = new Map<string, LiveEntry>();

  add(entry: LiveEntry): void {
    this.entries.set(entry.sessionId, entry);
  }

  remove(sessionId: string): void {
    this.entries.delete(sessionId);
  }

  /** The conversation of `sessionId` if it belongs to `userId`; another user's is never returned. */
  find(sessionId: string, userId: string): LiveEntry | undefined {
    const entry = this.entries.get(sessionId);
    return entry?.userId === userId ? entry : undefined;
  }

  ofUser(userId: string): LiveEntry[] {
    return [...this.entries.values()].filter((entry) => entry.userId === userId);
  }

  get size(): number {
    return this.entries.size;
  }

  all(): LiveEntry[] {
    return [...this.entries.values()];
  }
}
