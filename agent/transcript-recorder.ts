import { voice, type llm } from '@livekit/agents';
import type { Logger } from 'pino';
import { appendMessage, finishTurn, insertTurn, type Database, type Modality } from '../db/index.ts';
import type { ConversationEventListener } from '../protocol/index.ts';
import { TurnRecorder, type TurnRecord } from './turn-recorder.ts';

/**
 * The longest that the writes of a turn wait for its answer to start (ms): the user's
 * message and the turn row are written once the answer's audio started (or the agent
 * went back to listening), so that database work, on the embedded database in this
 * very thread, stays off the path between the end of speech and the first audio out.
 */
const WRITE_HOLD_MS = 3000;
/** How long after the answer's audio started the held writes go (ms). */
const FIRST_FRAMES_MS = 100;

/** Seconds (the framework's unit for message metrics) to ms. */
const toMs = (seconds: number | undefined) => (seconds === undefined ? null : seconds * 1000);

export interface TranscriptRecorderOptions {
  /** Record turns (stage timings, turn rows, turn_timings events); default true. */
  recordTurns?: boolean;
  /** Also told about every finished turn (metrics, traces). */
  onTurn?: (turn: TurnRecord) => void;
}

/**
 * Persists every user and assistant message of a conversation, and every turn with
 * its stage timings (through its {@link TurnRecorder}), and tells the client about
 * transcripts, agent state, citations and turn timings. Messages, citations and turns
 * are linked by the turn's id.
 */
export class TranscriptRecorder {
  /** The flight recorder: give it to the Assistant as its observer. */
  readonly turns: TurnRecorder;
  private nextUserModality: Modality = 'voice';
  private writes: Promise<unknown> = Promise.resolve();
  /** Writes wait for this while an answer is on its way (see {@link WRITE_HOLD_MS}). */
  private hold: Promise<void> = Promise.resolve();
  private releaseHold: (() => void) | undefined;
  /** Number of messages written; a conversation with none gets no summary. */
  userMessages = 0;

  constructor(
    private readonly database: Database,
    private readonly conversationId: string,
    private readonly emit: ConversationEventListener,
    private readonly logger?: Logger,
    private readonly options: TranscriptRecorderOptions = {},
  ) {
    this.turns = new TurnRecorder((turn) => this.finishTurn(turn));
  }

  /** Subscribes to a session's events. */
  attach(session: voice.AgentSession): void {
    session.on(voice.AgentSessionEventTypes.UserInputTranscribed, (event) => {
      this.emit({ type: 'transcript', role: 'user', text: event.transcript, final: event.isFinal });
    });
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (event) => {
      this.emit({ type: 'agent_state', state: event.newState });
      // Once speaking, after the first frames are out (the writes then run beside playout).
      if (event.newState === 'speaking') setTimeout(() => this.releaseWrites(), FIRST_FRAMES_MS).unref();
      if (event.newState === 'listening') this.releaseWrites();
    });
    session.on(voice.AgentSessionEventTypes.ConversationItemAdded, (event) => {
      if (event.item.type === 'message') this.record(event.item);
    });
    if (this.options.recordTurns ?? true) this.turns.attach(session);
  }

  /** The next user message was typed, not spoken. */
  expectTypedMessage(): void {
    this.nextUserModality = 'text';
  }

  /** Finishes the turn still open (call once the session closed) and waits until everything is saved. */
  flushed(): Promise<void> {
    this.releaseWrites();
    this.turns.finishOpenTurn();
    return this.writes.then(() => undefined);
  }

  private record(message: llm.ChatMessage): void {
    if (message.role !== 'user' && message.role !== 'assistant') return;
    const text = (message.textContent ?? '').trim();
    if (message.role === 'user') {
      const modality = this.nextUserModality;
      this.nextUserModality = 'voice';
      const turnId = this.turns.userMessage(message, modality === 'text' ? 'text' : 'voice');
      const startedAt = this.turns.startOf(turnId) ?? message.createdAt;
      const endedAt = message.metrics.stoppedSpeakingAt;
      this.userMessages++;
      if (modality === 'text') this.emit({ type: 'transcript', role: 'user', text, final: true, turnId });
      const recordTurn = this.options.recordTurns ?? true;
      if (modality === 'voice') this.holdWritesUntilAnswer();
      this.write(async () => {
        if (recordTurn)
          await insertTurn(this.database.pool, {
            id: turnId,
            conversationId: this.conversationId,
            modality: modality === 'text' ? 'text' : 'voice',
            startedAt: new Date(startedAt),
          });
        await appendMessage(this.database.pool, {
          conversationId: this.conversationId,
          turnId: recordTurn ? turnId : null,
          role: 'user',
          modality,
          text,
          speechEndedAt: endedAt === undefined ? null : new Date(endedAt * 1000),
          transcriptDelayMs: toMs(message.metrics.transcriptionDelay),
        });
      });
      return;
    }
    const answer = this.turns.assistantMessage(message);
    const citations = answer?.citations ?? [];
    this.write(() =>
      appendMessage(this.database.pool, {
        conversationId: this.conversationId,
        turnId: answer?.turnId ?? null,
        role: 'assistant',
        modality: 'voice',
        text,
        interrupted: message.interrupted,
        citations,
        firstTokenDelayMs: answer?.firstTokenMs ?? null,
        firstAudioDelayMs: toMs(message.metrics.e2eLatency),
      }),
    );
    this.emit({
      type: 'transcript',
      role: 'assistant',
      text,
      final: true,
      interrupted: message.interrupted,
      ...(citations.length > 0 ? { citations } : {}),
      ...(answer ? { turnId: answer.turnId } : {}),
    });
  }

  private finishTurn(turn: TurnRecord): void {
    if (!(this.options.recordTurns ?? true)) return;
    this.write(() => finishTurn(this.database.pool, turn.id, turn));
    this.emit({
      type: 'turn_timings',
      turnId: turn.id,
      startedAt: new Date(turn.startedAt).toISOString(),
      modality: turn.modality,
      stages: turn.stages,
      voiceToVoiceMs: turn.voiceToVoiceMs,
      interrupted: turn.interrupted,
      citations: turn.citations,
    });
    this.logger?.debug(
      { turnId: turn.id, voiceToVoiceMs: turn.voiceToVoiceMs, stages: turn.stages.length },
      'turn finished',
    );
    try {
      this.options.onTurn?.(turn);
    } catch (error) {
      this.logger?.warn({ err: error, turnId: turn.id }, 'a turn listener failed');
    }
  }

  private holdWritesUntilAnswer(): void {
    if (this.releaseHold) return;
    let release!: () => void;
    this.hold = new Promise<void>((resolve) => (release = resolve));
    const timer = setTimeout(() => this.releaseWrites(), WRITE_HOLD_MS);
    timer.unref();
    this.releaseHold = () => {
      clearTimeout(timer);
      release();
    };
  }

  private releaseWrites(): void {
    const release = this.releaseHold;
    this.releaseHold = undefined;
    release?.();
  }

  private write(operation: () => Promise<unknown>): void {
    // Writes are chained so messages and turns keep their order.
    this.writes = this.writes
      .then(() => this.hold)
      .then(operation)
      .catch((error: unknown) => this.logger?.error({ err: error }, 'could not save a transcript message'));
  }
}
