/**
 * What a client sees of a conversation, whatever the transport: the direct WebSocket
 * sends these as JSON text frames; in LiveKit rooms transcripts and the agent state
 * travel as LiveKit transcriptions and attributes, and the rest as JSON on
 * `LIVEKIT_EVENTS_TOPIC`.
 */

/** Agent states shown to the user (the framework's own names). */
export type AgentState = 'initializing' | 'listening' | 'thinking' | 'speaking' | 'idle';

/** A document passage an answer used: which document, which page, or which moment of a recording. */
export interface Citation {
  documentId: string;
  title: string;
  /** 1-based page of a PDF; null for documents without pages. */
  page: number | null;
  /** Of a recording: where the cited passage starts, in ms (absent or null for documents). */
  startMs?: number | null;
  /** Of a recording: who speaks at `startMs` ("Speaker 2"), when the transcription told speakers apart. */
  speaker?: string | null;
}

/** A transcript line: an interim one is replaced by the next line of the same role. */
export type TranscriptEvent =
  | {
      type: 'transcript';
      role: 'user';
      text: string;
      final: boolean;
      /** The turn this message starts (final lines only). */
      turnId?: string;
    }
  | {
      type: 'transcript';
      role: 'assistant';
      text: string;
      final: boolean;
      interrupted?: boolean;
      citations?: Citation[];
      /** The turn this answer belongs to (final lines only): its timings follow as a {@link TurnTimingsEvent}. */
      turnId?: string;
    };

export interface AgentStateEvent {
  type: 'agent_state';
  state: AgentState;
}

/** Where a file sent into the conversation is (documents are read in the background). */
export type UploadStage = 'reading' | 'ready' | 'failed';

export interface UploadProgressEvent {
  type: 'upload_progress';
  uploadId: string;
  fileName: string;
  stage: UploadStage;
  /** 0 to 100 while reading, when known. */
  percent?: number;
  /** Plain words: what happens now, or why it failed. */
  message?: string;
}

/** Something went wrong; `message` is plain words to show as is. */
export interface ErrorEvent {
  type: 'error';
  message: string;
  /** The stable code of the error (see `AppError`), when it has one. */
  code?: string;
  /** Whether trying again later may work. */
  retryable?: boolean;
}

/**
 * The stages of one turn, as recorded by the agent.
 * - `end_of_turn`: end of user speech to the decision that the user finished.
 * - `transcription`: end of user speech to the final transcript.
 * - `retrieval`: searching documents and memory for the answer (`detail.chunks`;
 *   `detail.embedding: 'reused'` when it searched with an interim wording's embedding).
 * - `llm`: the language model, request to last token (`firstMs`: first token).
 * - `tool`: one tool call (`detail.name`).
 * - `tts`: text to speech, first text in to last audio out (`firstMs`: first audio).
 * - `playout`: the answer's audio, first frame played to last.
 * - `interruption`: the user spoke over the answer (a point: `endMs` equals `startMs`).
 */
export type TurnStageName =
  'end_of_turn' | 'transcription' | 'retrieval' | 'llm' | 'tool' | 'tts' | 'playout' | 'interruption';

/** One stage of a turn. Times are ms from the start of the turn. */
export interface TurnStage {
  name: TurnStageName;
  startMs: number;
  /** Null when the stage never finished (the turn was interrupted or failed). */
  endMs: number | null;
  /** The first output within the stage: first token (`llm`), first audio (`tts`). */
  firstMs?: number;
  /** What the stage used or decided: chunk count, tool name, end-of-turn signals. */
  detail?: Record<string, string | number | boolean>;
}

/**
 * Where the time of one answer went. A turn starts at the end of user speech (voice)
 * or when a typed message arrives; its id is the one the database and traces use.
 */
export interface TurnTimingsEvent {
  type: 'turn_timings';
  turnId: string;
  /** Wall-clock start of the turn, ISO 8601. */
  startedAt: string;
  modality: 'voice' | 'text';
  stages: TurnStage[];
  /** End of user speech to the first agent audio, ms; null for typed turns or no audio. */
  voiceToVoiceMs: number | null;
  interrupted: boolean;
  citations: Citation[];
}

/** Everything the agent tells a client about a conversation. */
export type ConversationEvent =
  TranscriptEvent | AgentStateEvent | UploadProgressEvent | ErrorEvent | TurnTimingsEvent;

export type ConversationEventListener = (event: ConversationEvent) => void;
