import type { inference, voice } from '@livekit/agents';
import { Assistant } from '../agent/assistant.ts';
import { TURN_TAKING } from '../agent/turn-taking/decision.ts';
import { numberOption } from './report.ts';

/**
 * Settings to try without changing agent/ code, so that a proposed change comes with
 * numbers measured the same way as the configuration it would replace. A what-if run
 * writes its results under its own name and never over the real measurement.
 *
 * --max-delay-ms N       endpointing maxDelay (public `session.updateOptions`)
 * --eot-threshold P      the end-of-turn model's English "unlikely" threshold (public
 *                        `TurnDetector.updateOptions`; 0 means it always predicts the end)
 * --preemptive-tts       start TTS on the preemptive reply before the turn is committed
 * --min-interruption-ms N  speech needed to interrupt the agent (the session options the
 *                        framework reads on every VAD frame; no public setter in 1.9)
 * --no-prefetch          no retrieval started on stable interim transcripts (what it buys)
 * --vad-per-session      a Silero VAD loaded for each session instead of the shared one
 *                        (the shared VAD keeps every stream it ever made: see the README)
 * --no-embedding-reuse   a final transcript that only adds words to a prefetched interim
 *                        wording gets its own embedding instead of reusing that wording's
 * --vad-min-silence-ms N  Silero's minSilenceDuration (TURN_TAKING.vadMinSilenceMs): how long a silence
 *                        must last before the VAD reports the end of speech (a VAD per session)
 * --no-turn-recorder     sessions without the turn recorder (no stage timings, turn rows,
 *                        metrics or spans), for what recording costs
 */
export interface WhatIf {
  maxDelayMs?: number;
  eotThreshold?: number;
  preemptiveTts?: boolean;
  minInterruptionMs?: number;
  vadPerSession?: boolean;
  noPrefetch?: boolean;
  noTurnRecorder?: boolean;
  noEmbeddingReuse?: boolean;
  vadMinSilenceMs?: number;
}

export function whatIfFromOptions(options: Map<string, string>): WhatIf {
  const whatIf: WhatIf = {};
  if (options.has('max-delay-ms')) whatIf.maxDelayMs = numberOption(options, 'max-delay-ms', 3000);
  if (options.has('eot-threshold')) whatIf.eotThreshold = numberOption(options, 'eot-threshold', 0.36);
  if (options.has('preemptive-tts')) whatIf.preemptiveTts = true;
  if (options.has('vad-per-session')) whatIf.vadPerSession = true;
  if (options.has('no-prefetch')) whatIf.noPrefetch = true;
  if (options.has('no-turn-recorder')) whatIf.noTurnRecorder = true;
  if (options.has('no-embedding-reuse')) whatIf.noEmbeddingReuse = true;
  if (options.has('vad-min-silence-ms'))
    whatIf.vadMinSilenceMs = numberOption(options, 'vad-min-silence-ms', TURN_TAKING.vadMinSilenceMs);
  if (options.has('min-interruption-ms'))
    whatIf.minInterruptionMs = numberOption(options, 'min-interruption-ms', 400);
  return whatIf;
}

/** A short name for the what-if ("eot-threshold-0+preemptive-tts"), undefined when there is none. */
export function whatIfLabel(whatIf: WhatIf): string | undefined {
  const parts = [
    whatIf.maxDelayMs !== undefined ? `max-delay-${whatIf.maxDelayMs}` : undefined,
    whatIf.eotThreshold !== undefined ? `eot-threshold-${whatIf.eotThreshold}` : undefined,
    whatIf.preemptiveTts ? 'preemptive-tts' : undefined,
    whatIf.minInterruptionMs !== undefined ? `min-interruption-${whatIf.minInterruptionMs}` : undefined,
    whatIf.vadPerSession ? 'vad-per-session' : undefined,
    whatIf.noPrefetch ? 'no-prefetch' : undefined,
    whatIf.noTurnRecorder ? 'no-turn-recorder' : undefined,
    whatIf.noEmbeddingReuse ? 'no-embedding-reuse' : undefined,
    whatIf.vadMinSilenceMs !== undefined ? `vad-min-silence-${whatIf.vadMinSilenceMs}` : undefined,
  ].filter((part) => part !== undefined);
  return parts.length > 0 ? parts.join('+') : undefined;
}

/** Applies a what-if to a started session. */
export function applyWhatIf(session: voice.AgentSession, whatIf: WhatIf): void {
  const turnHandling = session.sessionOptions.turnHandling;
  if (whatIf.maxDelayMs !== undefined)
    session.updateOptions({ turnHandling: { endpointing: { maxDelay: whatIf.maxDelayMs } } });
  if (whatIf.eotThreshold !== undefined)
    (turnHandling.turnDetection as inference.TurnDetector).updateOptions({
      unlikelyThreshold: { en: whatIf.eotThreshold },
    });
  if (whatIf.preemptiveTts) turnHandling.preemptiveGeneration.preemptiveTts = true;
  if (whatIf.noPrefetch && session.currentAgent instanceof Assistant)
    session.currentAgent.prefetchRetrieval = () => Promise.resolve();
  if (whatIf.noEmbeddingReuse && session.currentAgent instanceof Assistant)
    session.currentAgent.retrievals.embeddingReuse = false;
  if (whatIf.minInterruptionMs !== undefined && turnHandling.interruption)
    turnHandling.interruption.minDuration = whatIf.minInterruptionMs;
}
