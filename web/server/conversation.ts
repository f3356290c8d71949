import type { ReceivedFile, UploadReceipt } from '../../agent/conversation-uploads.ts';
import type { ServerMessage } from '../../protocol/index.ts';

/**
 * What the web layer needs of a live conversation, whatever drives it. The direct
 * socket feeds it; the upload route hands it files. Implemented over the voice agent's
 * room-less session in voice-conversation.ts; tests may use another implementation.
 */
export interface LiveConversation {
  readonly conversationId: string;
  /** The user's microphone audio: 16-bit mono PCM at `sampleRate` Hz. */
  pushAudio(samples: Int16Array, sampleRate: number): void;
  /** A typed message, answered like speech. */
  sendText(text: string): void;
  /** The latest camera picture (JPEG bytes); attached to the user's next turn. */
  showCameraFrame(jpeg: Buffer): Promise<void>;
  /** The camera was turned off. */
  hideCamera(): void;
  /**
   * A file sent into the conversation: the agent's one upload pipeline (images join at
   * once; documents are read in the background, with progress over the socket). Throws
   * `MediaError` for a file it cannot use.
   */
  receiveFile(file: ReceivedFile): Promise<UploadReceipt>;
  /** The person chose another voice: the next answer is spoken in it. */
  useVoice(voiceId: string): Promise<void>;
  /** Ends the conversation (transcript and summary are saved). */
  close(): Promise<void>;
}

/** Where a conversation's output goes: the browser's socket. */
export interface ConversationChannel {
  send(message: ServerMessage): void;
  /** Agent audio, 16-bit mono PCM, released in real time. */
  sendAudio(samples: Int16Array, sampleRate: number): void;
  /**
   * The conversation stopped on its own (its process failed): tell the person `message`
   * and close. The conversation is not to be closed again.
   */
  end?(message: string): void;
}

/** Starts a conversation for a user (created on first sight by the caller). */
export type StartConversation = (userId: string, channel: ConversationChannel) => Promise<LiveConversation>;
