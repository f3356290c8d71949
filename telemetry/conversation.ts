import { metrics } from './metrics.ts';
import { traceConversation, type TracedTurn } from './tracing.ts';

/** What a conversation reports to metrics and traces. */
export interface ConversationTelemetry {
  /** Runs `operation` inside the conversation's trace (framework spans started there join it). */
  within<Result>(operation: () => Result): Result;
  /** A finished turn: its stages into the histograms, its spans into the trace. */
  recordTurn(turn: TracedTurn): void;
  /** A provider failed after its retries. */
  recordProviderError(provider: string, error: unknown): void;
  /** The conversation ended (idempotent). */
  end(): void;
}

/** Counts a live conversation and opens its trace (when tracing is on). */
export function observeConversation(conversationId: string, channel: string): ConversationTelemetry {
  const processMetrics = metrics();
  const trace = traceConversation(conversationId, { 'assistant.channel': channel });
  processMetrics.liveSessions.inc();
  let ended = false;
  return {
    within: (operation) => trace.within(operation),
    recordTurn(turn) {
      processMetrics.recordTurn(turn);
      trace.recordTurn(turn);
    },
    recordProviderError: (provider, error) => processMetrics.recordProviderError(provider, error),
    end() {
      if (ended) return;
      ended = true;
      processMetrics.liveSessions.dec();
      trace.end();
    },
  };
}
