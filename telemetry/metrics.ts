import { AggregatorRegistry, Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { TurnStage } from '../protocol/index.ts';

/** Buckets in ms for voice stages: tens of ms (database, tools) to several seconds (a slow model). */
const LATENCY_BUCKETS_MS = [10, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000];
/** Buckets in ms for uploads and document reading: up to minutes for a long PDF. */
const DOCUMENT_BUCKETS_MS = [50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 180_000];
/** Buckets in ms for single database queries. */
const QUERY_BUCKETS_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500];

/** What the metrics need to know of a finished turn (see agent/turn-recorder.ts). */
export interface MeasuredTurn {
  modality: 'voice' | 'text';
  stages: readonly TurnStage[];
  voiceToVoiceMs: number | null;
}

/**
 * The Prometheus metrics of one process, served at `GET /metrics`. Names end in `_ms`
 * because every time in this project is in ms; the histograms' `le` labels are ms too.
 */
export class AssistantMetrics {
  readonly registry = new Registry();
  readonly stageDuration = new Histogram({
    name: 'assistant_turn_stage_duration_ms',
    help: 'Duration of each stage of a turn (end_of_turn, transcription, retrieval, llm, tool, tts, playout), ms',
    labelNames: ['stage'] as const,
    buckets: LATENCY_BUCKETS_MS,
    registers: [this.registry],
  });
  readonly stageFirstOutput = new Histogram({
    name: 'assistant_turn_stage_first_output_ms',
    help: 'Time from the start of a stage to its first output: first token (llm), first audio (tts), ms',
    labelNames: ['stage'] as const,
    buckets: LATENCY_BUCKETS_MS,
    registers: [this.registry],
  });
  readonly voiceToVoice = new Histogram({
    name: 'assistant_voice_to_voice_ms',
    help: 'End of user speech to the first agent audio, per voice turn, ms',
    buckets: LATENCY_BUCKETS_MS,
    registers: [this.registry],
  });
  readonly liveSessions = new Gauge({
    name: 'assistant_live_sessions',
    help: 'Conversations running now in this process',
    registers: [this.registry],
  });
  readonly turns = new Counter({
    name: 'assistant_turns_total',
    help: 'Finished turns, by how the user spoke (voice or text)',
    labelNames: ['modality'] as const,
    registers: [this.registry],
  });
  readonly interruptions = new Counter({
    name: 'assistant_interruptions_total',
    help: 'Times the user spoke over an answer',
    registers: [this.registry],
  });
  readonly falseInterruptions = new Counter({
    name: 'assistant_false_interruptions_total',
    help: 'Interruptions after which the answer resumed (noise, a cough, a short backchannel)',
    registers: [this.registry],
  });
  readonly providerErrors = new Counter({
    name: 'assistant_provider_errors_total',
    help: 'Provider failures in live conversations after retries, by provider (stt, llm, tts) and kind',
    labelNames: ['provider', 'kind'] as const,
    registers: [this.registry],
  });
  readonly uploadDuration = new Histogram({
    name: 'assistant_upload_duration_ms',
    help: 'A file sent into a conversation, received to accepted (or refused), by kind and outcome, ms',
    labelNames: ['kind', 'outcome'] as const,
    buckets: DOCUMENT_BUCKETS_MS,
    registers: [this.registry],
  });
  readonly ingestDuration = new Histogram({
    name: 'assistant_ingest_duration_ms',
    help: 'Reading a document into searchable chunks (parse, chunk, embed, store), by outcome, ms',
    labelNames: ['outcome'] as const,
    buckets: DOCUMENT_BUCKETS_MS,
    registers: [this.registry],
  });
  readonly queryDuration = new Histogram({
    name: 'assistant_database_query_duration_ms',
    help: 'One database query, by backend (embedded or postgres), ms',
    labelNames: ['backend'] as const,
    buckets: QUERY_BUCKETS_MS,
    registers: [this.registry],
  });

  constructor(options: { processMetrics?: boolean } = {}) {
    // CPU, memory, event-loop lag and garbage collection of this process.
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts a finished turn and observes each of its stages. */
  recordTurn(turn: MeasuredTurn): void {
    this.turns.inc({ modality: turn.modality });
    if (turn.voiceToVoiceMs !== null) this.voiceToVoice.observe(turn.voiceToVoiceMs);
    for (const stage of turn.stages) {
      if (stage.name === 'interruption') {
        this.interruptions.inc();
        if (stage.detail?.resumed === true) this.falseInterruptions.inc();
        continue;
      }
      if (stage.endMs !== null)
        this.stageDuration.observe({ stage: stage.name }, stage.endMs - stage.startMs);
      if (stage.firstMs !== undefined)
        this.stageFirstOutput.observe({ stage: stage.name }, stage.firstMs - stage.startMs);
    }
  }

  /** A provider failed in a live conversation; `kind` is the error's class or code. */
  recordProviderError(provider: string, error: unknown): void {
    this.providerErrors.inc({ provider: providerLabel(provider), kind: errorKind(error) });
  }

  /** Times receiving one file into a conversation; a refused file counts as kind `refused`. */
  async timeUpload<Result extends { kind: string }>(operation: () => Promise<Result>): Promise<Result> {
    let kind = 'refused';
    return timed(
      async () => {
        const result = await operation();
        kind = result.kind;
        return result;
      },
      (ms, outcome) => this.uploadDuration.observe({ kind, outcome }, ms),
    );
  }

  /** Times reading one document into searchable chunks. */
  timeIngest<Result>(operation: () => Promise<Result>): Promise<Result> {
    return timed(operation, (ms, outcome) => this.ingestDuration.observe({ outcome }, ms));
  }

  /**
   * Other processes whose metrics `GET /metrics` adds to this one's (the conversation
   * processes: web/server/conversation-pool.ts), as prom-client's JSON, one array each.
   */
  private otherProcesses: (() => Promise<object[][]>) | undefined;

  includeProcesses(source: (() => Promise<object[][]>) | undefined): void {
    this.otherProcesses = source;
  }

  /** The text exposition format for `GET /metrics`: this process's metrics, summed with the others'. */
  async render(): Promise<string> {
    if (!this.otherProcesses) return this.registry.metrics();
    const others = await this.otherProcesses().catch(() => []);
    return AggregatorRegistry.aggregate([await this.registry.getMetricsAsJSON(), ...others]).metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

async function timed<Result>(
  operation: () => Promise<Result>,
  observe: (ms: number, outcome: 'ok' | 'failed') => void,
): Promise<Result> {
  const start = performance.now();
  let outcome: 'ok' | 'failed' = 'failed';
  try {
    const result = await operation();
    outcome = 'ok';
    return result;
  } finally {
    observe(performance.now() - start, outcome);
  }
}

/** Short, bounded provider labels: "speech to text" and the framework's "stt_error" are both `stt`. */
function providerLabel(provider: string): string {
  const name = provider.toLowerCase();
  if (name.includes('stt') || name.includes('speech to text')) return 'stt';
  if (name.includes('tts') || name.includes('text to speech')) return 'tts';
  if (name.includes('llm') || name.includes('language')) return 'llm';
  return 'other';
}

/** A bounded error kind: our stable code, else the error's class name. */
function errorKind(error: unknown): string {
  if (error && typeof error === 'object') {
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string' && /^[a-z][a-z0-9_-]{0,40}$/i.test(code)) return code;
    const name = (error as { name?: unknown }).name;
    if (typeof name === 'string' && name !== '') return name.slice(0, 60);
  }
  return 'unknown';
}

let processMetrics: AssistantMetrics | undefined;

/** The metrics of this process (one registry, shared by the server, the agent and the database). */
export function metrics(): AssistantMetrics {
  processMetrics ??= new AssistantMetrics();
  return processMetrics;
}
