import { voice, type llm } from '@livekit/agents';
import type { Logger } from 'pino';
import { appendMessage, type Database, type Modality } from '../db/index.ts';
import type { AssistantObserver } from './assistant.ts';
import type { ConversationEventListener } from '../protocol/index.ts';
import type { Citation } from '../protocol/index.ts';

/** Seconds (the framework's unit for message metrics) to ms. */
const toMs = (seconds: number | undefined) => (seconds === undefined ? null : seconds * 1000);

/**
 * Persists every user and assistant message of a conversation with its timings, and
 * tells the client about transcripts, agent state and citations. It is also the
 * Assistant's observer, so citations found while streaming reach the saved answer.
 */
export class TranscriptRecorder implements AssistantObserver {
  /** Citations of recent answers by their text: a spoken `say()` may land in between. */
  private answerCitations: { text: string; citations: Citation[] }[] = [];
  private firstTokenAt: number | undefined;
  private lastUserSpeechEndedAt: number | undefined;
  private nextUserModality: Modality = 'voice';
  private writes: Promise<unknown> = Promise.resolve();
  /** Number of messages written; a conversation with none gets no summary. */
  userMessages = 0;

  constructor(
    private readonly database: Database,
    private readonly conversationId: string,
    private readonly emit: ConversationEventListener,
    private readonly logger?: Logger,
  ) {}

  /** Subscribes to a session's events. */
  attach(session: voice.AgentSession): void {
    session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (event) => {
      this.emit({ type: 'transcript', role: 'user', text: event.transcript, final: event.isFinal });
    });
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (event) => {
      this.emit({ type: 'agent_state', state: event.newState });
    });
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (event) => {
      if (event.item.type === 'message') this.record(event.item);
    });
  }

  /** The next user message was typed, not spoken. */
  expectTypedMessage(): void {
    this.nextUserModality = 'text';
  }

  onGenerationStarted(): void {
    this.firstTokenAt = undefined;
  }

  onFirstToken(at: number): void {
    this.firstTokenAt ??= at;
  }

  onCitations(citations: Citation[], answer: string): void {
    if (citations.length === 0) return;
    this.answerCitations = [...this.answerCitations.slice(-4), { text: answer.trim(), citations }];
  }

  /** The citations of the answer this message is (or, when interrupted, begins). */
  private takeCitations(text: string): Citation[] {
    if (text === '') return [];
    const index = this.answerCitations.findIndex((answer) => answer.text.startsWith(text));
    if (index < 0) return [];
    const [match] = this.answerCitations.splice(index, 1);
    return match?.citations ?? [];
  }

  /** Resolves when every message so far is in the database. */
  flushed(): Promise<void> {
    return this.writes.then(() => undefined);
  }

  private record(message: llm.ChatMessage): void {
    if (message.role !== 'user' && message.role !== 'assistant') return;
    const text = (message.textContent ?? '').trim();
    if (message.role === 'user') {
      const modality = this.nextUserModality;
      this.nextUserModality = 'voice';
      const endedAt = message.metrics.stoppedSpeakingAt;
      this.lastUserSpeechEndedAt = endedAt === undefined ? message.createdAt : endedAt * 1000;
      this.userMessages++;
      if (modality === 'text') this.emit({ type: 'transcript', role: 'user', text, final: true });
      this.write({
        role: 'user',
        modality,
        text,
        speechEndedAt: endedAt === undefined ? null : new Date(endedAt * 1000),
        transcriptDelayMs: toMs(message.metrics.transcriptionDelay),
      });
      return;
    }
    const citations = this.takeCitations(text);
    const reference = this.lastUserSpeechEndedAt;
    this.write({
      role: 'assistant',
      modality: 'voice',
      text,
      interrupted: message.interrupted,
      citations,
      firstTokenDelayMs:
        reference !== undefined && this.firstTokenAt !== undefined ? this.firstTokenAt - reference : null,
      firstAudioDelayMs: toMs(message.metrics.e2eLatency),
    });
    this.emit({
      type: 'transcript',
      role: 'assistant',
      text,
      final: true,
      interrupted: message.interrupted,
      ...(citations.length > 0 ? { citations } : {}),
    });
  }

  private write(message: Omit<Parameters<typeof appendMessage>[1], 'conversationId'>): void {
    // Writes are chained so messages keep their order.
    this.writes = this.writes
      .then(() => appendMessage(this.database.pool, { ...message, conversationId: this.conversationId }))
      .catch((error: unknown) => this.logger?.error({ err: error }, 'could not save a transcript message'));
  }
}
