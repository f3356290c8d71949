import { telemetry } from '@livekit/agents';
import { context, createContextKey, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type ReadableSpan,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { MeasuredTurn } from './metrics.ts';

/** Span attribute names shared by our spans and the framework's (see README, Observability). */
export const CONVERSATION_ID = 'assistant.conversation_id';
export const TURN_ID = 'assistant.turn_id';

const CONVERSATION_KEY = createContextKey(CONVERSATION_ID);

/** A finished turn as the traces need it (see agent/turn-recorder.ts). */
export interface TracedTurn extends MeasuredTurn {
  id: string;
  startedAt: number;
  interrupted: boolean;
}

/** Traces of one conversation: its span, and one span per turn with a child per stage. */
export interface ConversationTrace {
  /** Runs `operation` with the conversation as the active span, so framework spans join it. */
  within<Result>(operation: () => Result): Result;
  recordTurn(turn: TracedTurn): void;
  end(): void;
}

const NO_TRACE: ConversationTrace = {
  within: (operation) => operation(),
  recordTurn: () => undefined,
  end: () => undefined,
};

let provider: NodeTracerProvider | undefined;

/**
 * Exports traces over OTLP/HTTP (protobuf) to `endpoint` (OTEL_EXPORTER_OTLP_ENDPOINT;
 * spans go to `<endpoint>/v1/traces`). LiveKit Agents' own spans (agent_session,
 * user_turn, agent_turn, llm_node, tts_node, function_tool, eou_detection) go through
 * the same provider and nest under our conversation span. Idempotent.
 */
export function startTracing(endpoint: string, serviceName = 'voice-assistant'): void {
  if (provider) return;
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` });
  // The framework adds its processors (PII redaction of conversational content) here.
  const frameworkProcessors = new telemetry.FanoutSpanProcessor();
  provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [
      new ConversationIdProcessor(),
      frameworkProcessors,
      new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 }),
    ],
  });
  // Registers the async-hooks context manager that carries the active span across awaits.
  provider.register();
  telemetry.setTracerProvider(provider, {
    registerSpanProcessor: (processor) => frameworkProcessors.add(processor),
  });
}

/** Sends every finished span now (tests, shutdown). */
export async function flushTraces(): Promise<void> {
  await provider?.forceFlush();
}

/** Flushes and stops the exporter. */
export async function stopTracing(): Promise<void> {
  const current = provider;
  provider = undefined;
  await current?.shutdown();
}

/** Starts the trace of a conversation; a no-op when tracing is off. */
export function traceConversation(
  conversationId: string,
  attributes: Record<string, string> = {},
): ConversationTrace {
  if (!provider) return NO_TRACE;
  const tracer = provider.getTracer('voice-assistant');
  const span = tracer.startSpan('conversation', {
    attributes: { [CONVERSATION_ID]: conversationId, ...attributes },
  });
  const active = trace.setSpan(context.active(), span).setValue(CONVERSATION_KEY, conversationId);
  return {
    within: (operation) => context.with(active, operation),
    recordTurn: (turn) => recordTurnSpans(tracer, active, conversationId, turn),
    end: () => span.end(),
  };
}

/** The turn as a span under the conversation, each stage a child span, at their measured times. */
function recordTurnSpans(tracer: Tracer, parent: Context, conversationId: string, turn: TracedTurn): void {
  const at = (ms: number) => turn.startedAt + ms;
  const startMs = Math.min(0, ...turn.stages.map((stage) => stage.startMs));
  const endMs = Math.max(0, ...turn.stages.map((stage) => stage.endMs ?? stage.startMs));
  const ids = { [CONVERSATION_ID]: conversationId, [TURN_ID]: turn.id };
  const turnSpan: Span = tracer.startSpan(
    'turn',
    {
      startTime: at(startMs),
      attributes: {
        ...ids,
        'assistant.modality': turn.modality,
        'assistant.interrupted': turn.interrupted,
        ...(turn.voiceToVoiceMs !== null ? { 'assistant.voice_to_voice_ms': turn.voiceToVoiceMs } : {}),
      },
    },
    parent,
  );
  const turnContext = trace.setSpan(parent, turnSpan);
  for (const stage of turn.stages) {
    const detail = Object.fromEntries(
      Object.entries(stage.detail ?? {}).map(([key, value]) => [`assistant.${stage.name}.${key}`, value]),
    );
    const span = tracer.startSpan(
      stage.name,
      {
        startTime: at(stage.startMs),
        attributes: {
          ...ids,
          'assistant.stage': stage.name,
          ...(stage.firstMs !== undefined
            ? { 'assistant.first_output_ms': stage.firstMs - stage.startMs }
            : {}),
          ...(stage.endMs === null ? { 'assistant.unfinished': true } : {}),
          ...detail,
        },
      },
      turnContext,
    );
    span.end(at(stage.endMs ?? stage.startMs));
  }
  turnSpan.end(at(endMs));
}

/**
 * Stamps the conversation id on every span started inside a conversation (the
 * framework's included), so a trace backend can find them by the database's id.
 */
class ConversationIdProcessor implements SpanProcessor {
  onStart(span: Span, parentContext: Context): void {
    const conversationId = parentContext.getValue(CONVERSATION_KEY);
    if (typeof conversationId === 'string') span.setAttribute(CONVERSATION_ID, conversationId);
  }
  onEnd(_span: ReadableSpan): void {}
  forceFlush(): Promise<void> {
    return Promise.resolve();
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}
