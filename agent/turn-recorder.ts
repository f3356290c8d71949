import { randomUUID } from 'node:crypto';
import { voice, type llm } from '@livekit/agents';
import type { Citation, TurnStage, TurnStageName } from '../protocol/index.ts';

/** What the end-of-turn decision was based on (probabilities, delays, which detector decided). */
export type TurnSignals = Record<string, string | number | boolean>;

/** A finished turn: where its time went, what it used. Times in ms from the turn's start. */
export interface TurnRecord {
  id: string;
  modality: 'voice' | 'text';
  /** Wall-clock start (Date.now() ms): end of user speech, or the typed message. */
  startedAt: number;
  stages: TurnStage[];
  /** End of user speech to first agent audio; null for typed turns or without audio. */
  voiceToVoiceMs: number | null;
  interrupted: boolean;
  /** Passages retrieval offered the model. */
  sources: RetrievedSource[];
  /** Passages the answer cited. */
  citations: Citation[];
}

/** A passage retrieval offered the model: which stored chunk, of which document and page. */
export interface RetrievedSource extends Citation {
  chunkId: string;
}

/** A stage while it runs: wall-clock times (Date.now() ms). */
interface OpenStage {
  name: TurnStageName;
  start: number;
  end?: number;
  first?: number;
  detail?: TurnSignals;
}

/** Data gathered for one turn, before and after its user message is committed. */
class TurnInProgress {
  readonly id = randomUUID();
  modality: 'voice' | 'text' = 'voice';
  startedAt: number | undefined;
  userMessageId: string | undefined;
  stages: OpenStage[] = [];
  sources: RetrievedSource[] = [];
  citations: Citation[] = [];
  signals: TurnSignals = {};
  answered = false;
  interrupted = false;
  voiceToVoiceMs: number | null = null;
  finished = false;
  /** The language model stage of the newest generation, until its speech synthesis starts. */
  awaitingSpeech: OpenStage | undefined;

  add(stage: OpenStage): OpenStage {
    this.stages.push(stage);
    return stage;
  }

  /** A newer generation for another user message replaced this one's preemptive work. */
  discardGenerations(): void {
    this.stages = this.stages.filter((stage) => !GENERATION_STAGES.has(stage.name));
    this.sources = [];
    this.citations = [];
  }
}

/** Progress of one speech synthesis (Date.now() ms). */
export interface SpeechSynthesisProgress {
  textStarted(at: number): void;
  firstAudio(at: number): void;
  ended(at: number): void;
}

const IGNORED_SYNTHESIS: SpeechSynthesisProgress = {
  textStarted: () => undefined,
  firstAudio: () => undefined,
  ended: () => undefined,
};

const GENERATION_STAGES = new Set<TurnStageName>(['retrieval', 'llm', 'tool', 'tts']);
const seconds = (value: number | undefined) => (value === undefined ? undefined : value * 1000);

/**
 * The flight recorder of a conversation: one id per turn, carried through every stage
 * (end-of-turn decision, transcription, retrieval, language model, tools, speech
 * synthesis, playout, interruption). The Assistant reports the stages it runs; the
 * session's events and the framework's per-message metrics give the rest. Work done
 * before the user's message is committed (preemptive generation, retrieval) belongs to
 * the turn that message starts.
 */
export class TurnRecorder {
  private pending = new TurnInProgress();
  private open: TurnInProgress | undefined;
  /** The turn whose generation last started: speech synthesis that follows belongs to it. */
  private generating: TurnInProgress | undefined;
  private agentState: voice.AgentState = 'initializing';
  private pendingGenerationMessageId: string | undefined;

  /** Called once per finished turn. */
  constructor(private readonly onTurn: (turn: TurnRecord) => void) {}

  attach(session: voice.AgentSession): void {
    session.on(voice.AgentSessionEventTypes.AgentStateChanged, (event) => {
      this.agentState = event.newState;
      this.finishWhenDone();
    });
    session.on(voice.AgentSessionEventTypes.UserStateChanged, (event) => {
      const turn = this.open;
      if (event.newState !== 'speaking' || this.agentState !== 'speaking' || !turn || turn.finished) return;
      turn.add({ name: 'interruption', start: event.createdAt, end: event.createdAt });
    });
    session.on(voice.AgentSessionEventTypes.AgentFalseInterruption, () => {
      const interruption = this.open?.stages.findLast((stage) => stage.name === 'interruption');
      if (interruption) interruption.detail = { ...interruption.detail, resumed: true };
    });
    session.on(voice.AgentSessionEventTypes.FunctionToolsExecuted, (event) => {
      const turn = this.generating;
      if (!turn || turn.finished) return;
      for (const [call, output] of voice.zipFunctionCallsAndOutputs(event)) {
        const detail = { name: call.name, ...(output.isError ? { failed: true } : {}) };
        turn.add({ name: 'tool', start: call.createdAt, end: output.createdAt, detail });
      }
    });
    session.on(voice.AgentSessionEventTypes.EotPrediction, (event) => {
      // What the framework got from the turn detector: with agent/turn-taking this is the
      // decision (1 or 0); the detector's own signals (audio probability, words) come via recordDecision.
      this.recordDecision({
        detectorProbability: event.probability,
        detectorThreshold: event.threshold,
        detectorInferenceMs: Math.round(event.inferenceDurationMs),
      });
    });
  }

  /** The id of the turn being decided now (the next user message will start it). */
  get nextTurnId(): string {
    return this.pending.id;
  }

  /**
   * Attaches the signals that made (or are making) the end-of-turn decision to the turn
   * being decided; later signals of the same name replace earlier ones.
   */
  recordDecision(
    signals: Record<string, string | number | boolean | undefined>,
    turnId: string = this.pending.id,
  ): void {
    const turn = [this.pending, this.open].find((candidate) => candidate?.id === turnId);
    if (!turn) return;
    for (const [name, value] of Object.entries(signals)) if (value !== undefined) turn.signals[name] = value;
  }

  /** Wall-clock start of a committed turn that is still open. */
  startOf(turnId: string): number | undefined {
    return this.open?.id === turnId ? this.open.startedAt : undefined;
  }

  /** The user's message was committed: it starts a turn. Returns the turn's id. */
  userMessage(message: llm.ChatMessage, modality: 'voice' | 'text'): string {
    if (this.open && !this.open.finished) this.finish(this.open);
    const turn = this.pending;
    this.pending = new TurnInProgress();
    this.pendingGenerationMessageId = undefined;
    this.open = turn;
    turn.modality = modality;
    turn.userMessageId = message.id;
    const stoppedSpeakingAt = seconds(message.metrics.stoppedSpeakingAt);
    turn.startedAt =
      modality === 'voice' && stoppedSpeakingAt !== undefined ? stoppedSpeakingAt : message.createdAt;
    const start = turn.startedAt;
    const endOfTurn = seconds(message.metrics.endOfTurnDelay);
    if (modality === 'voice' && endOfTurn !== undefined)
      turn.add({ name: 'end_of_turn', start, end: start + endOfTurn });
    const transcription = seconds(message.metrics.transcriptionDelay);
    if (modality === 'voice' && transcription !== undefined)
      turn.add({ name: 'transcription', start, end: start + transcription });
    return turn.id;
  }

  /** An answer was committed (after its playout ended or was cut). Returns its turn's id. */
  assistantMessage(
    message: llm.ChatMessage,
  ): { turnId: string; citations: Citation[]; firstTokenMs: number | null } | undefined {
    const turn = this.open;
    if (!turn || turn.finished || !turn.stages.some((stage) => stage.name === 'llm')) return undefined;
    turn.answered = true;
    turn.interrupted ||= message.interrupted;
    const playStart = seconds(message.metrics.startedSpeakingAt);
    const playEnd = seconds(message.metrics.stoppedSpeakingAt);
    if (playStart !== undefined) turn.add({ name: 'playout', start: playStart, end: playEnd ?? playStart });
    // The framework's own figure; when it has none (it can lose the end of user speech when
    // the VAD runs behind real time on a loaded machine), playout start after the turn's start.
    const e2e =
      seconds(message.metrics.e2eLatency) ??
      (playStart !== undefined && turn.startedAt !== undefined ? playStart - turn.startedAt : undefined);
    if (turn.modality === 'voice' && e2e !== undefined && turn.voiceToVoiceMs === null)
      turn.voiceToVoiceMs = e2e;
    const firstToken = turn.stages.find((stage) => stage.name === 'llm' && stage.first !== undefined)?.first;
    const firstTokenMs =
      firstToken === undefined || turn.startedAt === undefined ? null : firstToken - turn.startedAt;
    queueMicrotask(() => this.finishWhenDone());
    return { turnId: turn.id, citations: turn.citations, firstTokenMs };
  }

  // ------------------------------------------------------------ reported by the Assistant

  /** A generation for the user message `userMessageId` started. */
  onGenerationStarted(userMessageId: string | undefined, at = Date.now()): void {
    const turn = this.turnFor(userMessageId);
    turn.awaitingSpeech = turn.add({ name: 'llm', start: at });
    this.generating = turn;
  }

  onFirstToken(at: number): void {
    const stage = this.generating?.stages.findLast((candidate) => candidate.name === 'llm');
    if (stage) stage.first ??= at;
  }

  /** The generation's stream ended; `citations` are the sources it cited. */
  onGenerationEnded(citations: Citation[], at = Date.now()): void {
    const turn = this.generating;
    const stage = turn?.stages.findLast((candidate) => candidate.name === 'llm');
    if (!turn || !stage) return;
    stage.end ??= at;
    for (const citation of citations)
      if (!turn.citations.some((known) => sameCitation(known, citation))) turn.citations.push(citation);
  }

  onRetrieval(
    userMessageId: string | undefined,
    timing: { start: number; end: number; reusedEmbedding?: boolean },
    sources: readonly RetrievedSource[],
  ): void {
    const turn = this.turnFor(userMessageId);
    const { reusedEmbedding, ...span } = timing;
    // A reused embedding (an interim wording's, see Assistant) is not in this retrieval's time.
    const detail = { chunks: sources.length, ...(reusedEmbedding ? { embedding: 'reused' } : {}) };
    turn.add({ name: 'retrieval', ...span, detail });
    turn.sources = sources.map(({ chunkId, documentId, title, page, startMs, speaker }) => ({
      chunkId,
      documentId,
      title,
      page,
      ...(startMs === undefined || startMs === null ? {} : { startMs, speaker: speaker ?? null }),
    }));
  }

  /**
   * Speech synthesis was set up for the newest generation; the callbacks report its
   * progress (first text in, first audio out, last audio out).
   */
  onSpeechSynthesis(at = Date.now()): SpeechSynthesisProgress {
    const turn = this.generating;
    // A `say()` (greeting, acknowledgement) has no generation of its own.
    if (!turn || turn.finished || !turn.awaitingSpeech) return IGNORED_SYNTHESIS;
    turn.awaitingSpeech = undefined;
    const stage = turn.add({ name: 'tts', start: at });
    let started = false;
    return {
      textStarted: (time) => {
        if (!started) stage.start = time;
        started = true;
      },
      firstAudio: (time) => (stage.first ??= time),
      ended: (time) => (stage.end ??= time),
    };
  }

  /** Finishes the open turn now (the session is closing). */
  finishOpenTurn(): void {
    if (this.open && !this.open.finished) this.finish(this.open);
  }

  /** The turn that work for `userMessageId` belongs to. */
  private turnFor(userMessageId: string | undefined): TurnInProgress {
    const open = this.open;
    if (open && !open.finished && userMessageId !== undefined && userMessageId === open.userMessageId)
      return open;
    // Preemptive generation restarted for a newer transcript: the earlier work was wasted.
    if (this.pendingGenerationMessageId !== undefined && this.pendingGenerationMessageId !== userMessageId)
      this.pending.discardGenerations();
    this.pendingGenerationMessageId = userMessageId;
    return this.pending;
  }

  /** A turn is done once its answer was committed and the agent listens again with no tool running. */
  private finishWhenDone(): void {
    const turn = this.open;
    if (!turn || turn.finished || !turn.answered) return;
    if (this.agentState !== 'listening' && this.agentState !== 'idle') return;
    this.finish(turn);
  }

  private finish(turn: TurnInProgress): void {
    turn.finished = true;
    const origin = turn.startedAt ?? Date.now();
    const relative = (time: number) => Math.round(time - origin);
    const stages = turn.stages
      .map((stage): TurnStage => ({
        name: stage.name,
        startMs: relative(stage.start),
        endMs: stage.end === undefined ? null : relative(stage.end),
        ...(stage.first !== undefined ? { firstMs: relative(stage.first) } : {}),
        ...detailOf(stage.name === 'end_of_turn' ? turn.signals : stage.detail),
      }))
      .sort((a, b) => a.startMs - b.startMs);
    this.onTurn({
      id: turn.id,
      modality: turn.modality,
      startedAt: origin,
      stages,
      voiceToVoiceMs: turn.voiceToVoiceMs === null ? null : Math.round(turn.voiceToVoiceMs),
      interrupted: turn.interrupted,
      sources: turn.sources,
      citations: turn.citations,
    });
  }
}

function detailOf(detail: TurnSignals | undefined): { detail?: TurnSignals } {
  return detail && Object.keys(detail).length > 0 ? { detail } : {};
}

function sameCitation(a: Citation, b: Citation): boolean {
  return a.documentId === b.documentId && a.page === b.page && (a.startMs ?? null) === (b.startMs ?? null);
}
