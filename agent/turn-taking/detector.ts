import { Future, inference, type APIConnectOptions, type LanguageCode } from '@livekit/agents';
import { decideTurn, TURN_TAKING, type TurnDecision } from './decision.ts';
import { TurnTranscript } from './turn-transcript.ts';

/** The event a turn detector stream's prediction resolves to (not exported by the framework). */
type TurnDetectionEvent = Awaited<ReturnType<inference.TurnDetectorStreamImpl['predict']>['await']>;

/**
 * Silence the framework's VAD loop has seen when it asks for a prediction (its
 * `MIN_SILENCE_DURATION_MS`): the end of speech is this long before `predict()`.
 */
const SILENCE_BEFORE_PREDICT_MS = 200;
/** How long the decision waits for the audio model before deciding from the words alone. */
const AUDIO_MODEL_WAIT_MS = 400;

/** One turn-taking decision with its signals, for the turn recorder. */
export interface TurnTakingSignals extends TurnDecision {
  /** When the decision was made (Date.now() ms) and the silence after the end of speech by then. */
  at: number;
  silenceMs: number;
  /** The words the decision saw. */
  text: string;
  /** What made it decide: the audio model's prediction, or a transcript that came in while waiting. */
  trigger: 'prediction' | 'transcript' | 'audio-timeout';
}

export type TurnTakingListener = (signals: TurnTakingSignals) => void;

/**
 * LiveKit's audio end-of-turn detector (`v1-mini`) with the turn-taking decision on top.
 * The framework asks the detector's stream for a prediction after 200 ms of silence
 * and, once the VAD ends speech, waits for it: a probability at or above the threshold
 * commits the turn `minDelay` after the end of speech (already past), one below waits
 * `maxDelay`. This stream answers that prediction with the decision instead of the raw
 * probability: it waits for the model, reads the words the session heard
 * ({@link observeTranscript}), and resolves "end of turn" (1) when the decision's wait
 * has passed, or "unlikely" (0) at once when the decision is the long wait. A transcript
 * arriving meanwhile re-decides; new speech cancels the request (the framework does).
 * The raw probability and the decision go to the listeners ({@link onDecision}).
 */
export class TurnTakingDetector extends inference.TurnDetector {
  private readonly transcript = new TurnTranscript();
  private readonly decisionListeners = new Set<TurnTakingListener>();
  private current: TurnTakingStream | undefined;

  /** Called for every final and interim transcript of the user (the session's UserInputTranscribed). */
  observeTranscript(text: string, isFinal: boolean, language?: LanguageCode | null): void {
    this.transcript.observe(text, isFinal, language);
    this.current?.reconsider('transcript');
  }

  /** The words of the current turn so far (finals, then the latest interim). */
  get heardText(): string {
    return this.transcript.text;
  }

  /** Subscribes to decisions; returns the unsubscribe function. */
  onDecision(listener: TurnTakingListener): () => void {
    this.decisionListeners.add(listener);
    return () => this.decisionListeners.delete(listener);
  }

  override stream(options: { connOptions?: APIConnectOptions } = {}): inference.TurnDetectorStreamImpl {
    const cloudOpts =
      this._cloudOpts !== undefined
        ? { ...this._cloudOpts, connOptions: options.connOptions ?? this._cloudOpts.connOptions }
        : undefined;
    const stream = new TurnTakingStream(
      { detector: this, opts: this._opts, cloudOpts, model: this._model, executor: this._executor },
      { transcript: this.transcript, report: (signals) => this.report(signals) },
    );
    this._streams.add(stream);
    this.current = stream;
    return stream;
  }

  private report(signals: TurnTakingSignals): void {
    for (const listener of this.decisionListeners) listener(signals);
  }
}

interface PendingPrediction {
  decided: Future<TurnDetectionEvent>;
  speechEndedAt: number;
  model: TurnDetectionEvent | undefined;
  threshold: number | undefined;
  /** The audio model did not answer in time: decide from the words. */
  audioTimedOut: boolean;
  timer: NodeJS.Timeout | undefined;
  last: TurnDecision | undefined;
}

class TurnTakingStream extends inference.TurnDetectorStreamImpl {
  private pending: PendingPrediction | undefined;

  constructor(
    args: ConstructorParameters<typeof inference.TurnDetectorStreamImpl>[0],
    private readonly context: { transcript: TurnTranscript; report: TurnTakingListener },
  ) {
    super(args);
  }

  /** The framework waits this long for a prediction; the longest hold must fit in it. */
  override get predictionTimeout(): number {
    return TURN_TAKING.maxDelayMs;
  }

  override predict(): Future<TurnDetectionEvent> {
    const speechEndedAt = Date.now() - SILENCE_BEFORE_PREDICT_MS;
    // Supersedes (and through cancelInference, resolves) any earlier request.
    const model = super.predict();
    const pending: PendingPrediction = {
      decided: new Future<TurnDetectionEvent>(),
      speechEndedAt,
      model: undefined,
      threshold: undefined,
      audioTimedOut: false,
      timer: undefined,
      last: undefined,
    };
    this.pending = pending;
    pending.timer = setTimeout(() => {
      pending.audioTimedOut = true;
      this.reconsider('audio-timeout');
    }, AUDIO_MODEL_WAIT_MS);
    void Promise.all([model.await, this.unlikelyThreshold(this.context.transcript.language)])
      .then(([event, threshold]) => {
        if (this.pending !== pending || pending.decided.done) return;
        pending.model = event;
        pending.threshold = threshold;
        this.reconsider('prediction');
      })
      .catch(() => {
        pending.audioTimedOut = true;
        this.reconsider('audio-timeout');
      });
    return pending.decided;
  }

  override cancelInference(options?: { timedOut?: boolean }): void {
    const pending = this.pending;
    this.pending = undefined;
    if (pending) {
      clearTimeout(pending.timer);
      if (!pending.decided.done) pending.decided.resolve(endOfTurnEvent(0));
    }
    super.cancelInference(options);
  }

  override flush(reason?: string): void {
    super.flush(reason);
    // A committed or cleared turn: the next one starts with no words.
    this.context.transcript.reset();
  }

  /** Decides (again) with what is known now; resolves the prediction when its wait is over. */
  reconsider(trigger: TurnTakingSignals['trigger']): void {
    const pending = this.pending;
    if (!pending || pending.decided.done) return;
    if (pending.model === undefined && !pending.audioTimedOut) return;
    const decision = decideTurn({
      audioProbability: pending.model?.endOfTurnProbability,
      audioThreshold: pending.threshold,
      text: this.context.transcript.text,
      textIsFinal: this.context.transcript.isFinal,
    });
    const now = Date.now();
    if (!sameDecision(decision, pending.last)) {
      pending.last = decision;
      this.context.report({
        ...decision,
        at: now,
        silenceMs: now - pending.speechEndedAt,
        text: this.context.transcript.text,
        trigger,
      });
    }
    clearTimeout(pending.timer);
    pending.timer = undefined;
    if (decision.verdict === 'mid-thought') {
      // The framework's own long wait (maxDelay), cancelled by new speech as always.
      pending.decided.resolve(endOfTurnEvent(0, pending.model));
      return;
    }
    const remaining = pending.speechEndedAt + decision.waitMs - now;
    if (remaining <= 0) pending.decided.resolve(endOfTurnEvent(1, pending.model));
    else
      pending.timer = setTimeout(() => {
        if (this.pending === pending && !pending.decided.done)
          pending.decided.resolve(endOfTurnEvent(1, pending.model));
      }, remaining);
  }
}

function sameDecision(a: TurnDecision, b: TurnDecision | undefined): boolean {
  return b !== undefined && a.waitMs === b.waitMs && a.shape === b.shape && a.audio === b.audio;
}

/** The prediction the framework reads: only the probability against its threshold matters to it. */
function endOfTurnEvent(probability: number, model?: TurnDetectionEvent): TurnDetectionEvent {
  return {
    type: 'eot_prediction',
    endOfTurnProbability: probability,
    lastSpeakingTimeMs: model?.lastSpeakingTimeMs ?? Date.now(),
    ...(model?.inferenceDuration !== undefined ? { inferenceDuration: model.inferenceDuration } : {}),
    ...(model?.detectionDelay !== undefined ? { detectionDelay: model.detectionDelay } : {}),
  };
}
