import type { Fakes } from '../test/fakes/index.ts';
import { waitFor } from '../test/support/voice-harness.ts';
import type { Spoken } from './microphone.ts';
import type { PooledSession, RigSession } from './voice-rig.ts';
import { retrievalKey } from '../agent/retrieval-prefetch.ts';
import { TURN_TAKING } from '../agent/turn-taking/decision.ts';
import { FAKE_LATENCY } from './voice-script.ts';

/**
 * The timeline of one spoken turn, put together from what the session reported and what
 * the fakes recorded, and its attribution along the critical path.
 *
 * With preemptive generation two branches run after the last voiced frame (t0):
 * - endpointing: Silero places the end of speech (its model keeps "speech" for a few
 *   windows after the last loud frame), needs `minSilenceDuration` of silence after it
 *   (400 ms as configured, counted in 32 ms windows: 416 ms), and the turn-taking decision
 *   (agent/turn-taking) commits the turn its chosen wait after the end of speech (0 to
 *   1100 ms, or `maxDelay`), or when the VAD's silence is over, whichever ends later;
 * - pipeline: the audio reaches the STT, its final comes back, the Assistant retrieves
 *   (embedding, hybrid search) and calls the LLM, whose first token arrives.
 * TTS starts when both are done (preemptive TTS is off), and its first audio is played.
 * So what the fakes and the configured endpointing account for is
 *   max(VAD speech end + max(VAD silence, endpointing delay), STT + embeddings + LLM) + TTS,
 * and everything above that is framework overhead (ours and LiveKit's). The VAD's own
 * placement of the end of speech counts as endpointing, not overhead; it is reported.
 */

/** Every field is milliseconds after t0 (the last voiced frame pushed), undefined when not observed. */
export interface TurnTimeline {
  voiceToVoice: number;
  /** Where Silero placed the end of speech (the commit time minus the end-of-utterance delay it reports). */
  vadSpeechEnd: number | undefined;
  vadEnd: number | undefined;
  turnCommitted: number | undefined;
  sttAudioArrived: number | undefined;
  sttFinalSent: number | undefined;
  transcriptReceived: number | undefined;
  embeddingsRequested: number | undefined;
  chatRequested: number | undefined;
  firstToken: number | undefined;
  ttsTextSent: number | undefined;
  ttsFirstAudio: number | undefined;
  /** The reply's speech was created before the turn was committed: preemptive generation was used. */
  preemptiveUsed: boolean;
  /** The answer's retrieval was started on interim words, before the final transcript. */
  retrievalPrefetched: boolean;
  /** It searched with the embedding of an interim wording that the final went on from. */
  embeddingReused: boolean;
  /** Generations started for this turn (more than one: a preemptive one was thrown away). */
  generations: number;
  /** The audio end-of-turn model's raw probability and its threshold. */
  eotProbability: number | undefined;
  eotThreshold: number | undefined;
  /** The turn-taking decision that committed the turn: its wait after the end of speech, verdict and signals. */
  decision:
    { waitMs: number; verdict: string; shape: string; audio: string; probability?: number } | undefined;
  /** Which branch finished last. */
  critical: 'endpointing' | 'pipeline' | undefined;
  /** What the fakes and the configured endpointing account for, and the rest. */
  accounted: number;
  overhead: number;
}

export interface TurnMarks {
  /** Date.now() of the first and the last voiced frame pushed. */
  onsetAt: number;
  lastVoicedAt: number;
  /** Counts of the fakes' records before the turn, to find this turn's entries. */
  openaiRequests: number;
  /** Whether this turn's Assistant retrieves (false in the no-retrieval comparison). */
  retrieval: boolean;
}

export function marksBefore(fakes: Fakes): Pick<TurnMarks, 'openaiRequests'> {
  return { openaiRequests: fakes.openai.requests.length };
}

/**
 * Endpointing as configured: voice-session.ts sets minDelay 300 ms (the decision's waits
 * replace it); Silero's minSilenceDuration (TURN_TAKING.vadMinSilenceMs) is reached in whole
 * windows of 32 ms.
 */
export const ENDPOINTING = {
  vadSilence: Math.ceil(TURN_TAKING.vadMinSilenceMs / 32) * 32,
  minDelay: 300,
} as const;

export function analyzeTurn(session: RigSession, fakes: Fakes, marks: TurnMarks): TurnTimeline | undefined {
  const t0 = marks.lastVoicedAt;
  // The fakes stamp performance.now(); the session stamps Date.now().
  const toWall = (performanceTime: number | undefined) =>
    performanceTime === undefined ? undefined : performanceTime + (Date.now() - performance.now());
  const since = (at: number | undefined) => (at === undefined ? undefined : at - t0);

  const firstFrame = session.frames.find((frame) => frame.at >= t0);
  if (!firstFrame) return undefined;
  const inTurn = session.records.filter((record) => record.at >= marks.onsetAt && record.at <= firstFrame.at);
  const vadEnd = inTurn.find((record) => record.kind === 'user-state' && record.state === 'listening')?.at;
  const eou = inTurn.find((record) => record.kind === 'eou');
  const transcript = inTurn.find((record) => record.kind === 'final-transcript')?.at;
  const created = inTurn.filter(
    (record) => record.kind === 'speech-created' && record.source === 'generate_reply',
  );
  const reply =
    eou?.kind === 'eou'
      ? created.find((record) => 'speechId' in record && record.speechId === eou.speechId)
      : undefined;
  const llm = session.records.find(
    (record) => record.kind === 'llm' && eou?.kind === 'eou' && record.speechId === eou.speechId,
  );
  const eot = inTurn.filter((record) => record.kind === 'eot-prediction').at(-1);
  const decided = inTurn.filter((record) => record.kind === 'turn-decision').at(-1);
  const decision = decided?.kind === 'turn-decision' ? decided : undefined;

  const onsetPerformance = marks.onsetAt - (Date.now() - performance.now());
  const utterance = fakes.deepgram.connections
    .flatMap((connection) => connection.utterances)
    .find((candidate) => candidate.startedAt >= onsetPerformance - 200 && candidate.transcript !== '');
  const requests = fakes.openai.requests.slice(marks.openaiRequests);
  const firstFramePerformance = firstFrame.at - (Date.now() - performance.now());
  // The chat request that answered: the last one before the reply's audio.
  const chat = requests
    .filter(
      (request) => request.path.endsWith('/chat/completions') && request.receivedAt < firstFramePerformance,
    )
    .at(-1);
  // The embedding that answer used: the last one asked for before it (earlier ones were
  // retrievals started on interim words that the final did not match).
  const embeddings = requests
    .filter(
      (request) =>
        request.path.endsWith('/embeddings') && (chat === undefined || request.receivedAt <= chat.receivedAt),
    )
    .at(-1);
  // Started on interim words, before the final transcript was sent: off the critical path.
  const prefetched =
    embeddings !== undefined &&
    utterance?.finalSentAt !== undefined &&
    embeddings.receivedAt < utterance.finalSentAt;
  const preemptiveTts = session.voice.session.sessionOptions.turnHandling.preemptiveGeneration.preemptiveTts;
  const context = fakes.elevenlabs.connections
    .flatMap((connection) => connection.contexts.map((entry) => ({ connection, entry })))
    .find(({ entry }) => entry.firstTextAt >= onsetPerformance && entry.text.trim() !== '');
  const trigger = context?.connection.received.find(
    ({ message, receivedAt }) =>
      message.context_id === context.entry.id &&
      receivedAt >= context.entry.firstTextAt &&
      (message.flush === true || message.close_context === true),
  );

  const chatRequested = since(toWall(chat?.receivedAt));
  const firstToken =
    chatRequested !== undefined && llm?.kind === 'llm' ? chatRequested + llm.ttftMs : undefined;
  const turnCommitted = since(eou?.at);

  const vadSpeechEnd = eou?.kind === 'eou' ? since(eou.at - eou.endOfUtteranceDelayMs) : undefined;
  const sttAudioArrived = since(toWall(utterance?.speechEndedAt));
  const accounted = accountedFor({
    vadSpeechEnd: vadSpeechEnd ?? 0,
    sttSpeechEnd: sttAudioArrived,
    waitMs: decision?.waitMs ?? ENDPOINTING.minDelay,
    retrieval: marks.retrieval && !prefetched,
    preemptiveTts,
    vadMinSilenceMs: (session.voice.session.vad as { minSilenceDuration?: number } | undefined)
      ?.minSilenceDuration,
  });
  const voiceToVoice = firstFrame.at - t0;
  return {
    voiceToVoice,
    vadSpeechEnd,
    vadEnd: since(vadEnd),
    turnCommitted,
    sttAudioArrived,
    sttFinalSent: since(toWall(utterance?.finalSentAt)),
    transcriptReceived: since(transcript),
    embeddingsRequested: since(toWall(embeddings?.receivedAt)),
    chatRequested,
    firstToken,
    ttsTextSent: since(toWall(trigger?.receivedAt)),
    ttsFirstAudio: since(toWall(context?.entry.firstAudioAt)),
    preemptiveUsed: reply !== undefined && eou !== undefined && reply.at < eou.at,
    retrievalPrefetched: marks.retrieval && prefetched,
    embeddingReused:
      marks.retrieval &&
      prefetched &&
      utterance !== undefined &&
      retrievalKey(JSON.stringify((embeddings?.body as { input?: unknown } | undefined)?.input ?? '')) !==
        retrievalKey(utterance.transcript),
    generations: created.length,
    eotProbability: decision?.probability,
    eotThreshold: eot?.kind === 'eot-prediction' ? eot.threshold : undefined,
    decision: decision && {
      waitMs: decision.waitMs,
      verdict: decision.verdict,
      shape: decision.shape,
      audio: decision.audio,
      ...(decision.probability !== undefined ? { probability: decision.probability } : {}),
    },
    critical:
      turnCommitted === undefined || firstToken === undefined
        ? undefined
        : turnCommitted >= firstToken
          ? 'endpointing'
          : 'pipeline',
    accounted,
    overhead: voiceToVoice - accounted,
  };
}

/**
 * What the fakes and the committed endpointing account for in one turn (ms after t0):
 * max(VAD speech end + max(VAD silence, the decision's wait), STT + embeddings + LLM) + TTS,
 * where the embeddings count only when the retrieval started after the final transcript,
 * and with preemptive TTS the TTS starts on the first token, so only the pipeline waits for it:
 * max(endpointing, STT + embeddings + LLM + TTS). The pipeline starts at t0, or earlier
 * when the STT closed the utterance before the last voiced frame (a clip whose pause
 * the STT took as its end, its last words a new utterance): taking t0 there gave such
 * turns a negative overhead.
 */
export function accountedFor(turn: {
  vadSpeechEnd: number;
  /** Where the STT heard the utterance end (ms after t0), when known. */
  sttSpeechEnd?: number | undefined;
  waitMs: number;
  retrieval: boolean;
  preemptiveTts?: boolean;
  /** The VAD's minSilenceDuration when not the default (a what-if). */
  vadMinSilenceMs?: number;
}): number {
  const vadSilence =
    turn.vadMinSilenceMs === undefined ? ENDPOINTING.vadSilence : Math.ceil(turn.vadMinSilenceMs / 32) * 32;
  const endpointing = turn.vadSpeechEnd + Math.max(vadSilence, turn.waitMs);
  const pipeline =
    Math.min(0, turn.sttSpeechEnd ?? 0) +
    FAKE_LATENCY.sttFinal +
    (turn.retrieval ? FAKE_LATENCY.embeddings : 0) +
    FAKE_LATENCY.llmFirstToken;
  return turn.preemptiveTts
    ? Math.max(endpointing, pipeline + FAKE_LATENCY.ttsFirstAudio)
    : Math.max(endpointing, pipeline) + FAKE_LATENCY.ttsFirstAudio;
}

/**
 * What the fakes and the configured endpointing account for in a turn of a conversation
 * in a conversation process, whose first agent audio came at `firstFrameAt`: from the
 * turn's timings (the page's `turn_timings` event, sent once the turn finished), all a
 * page sees of it.
 */
export async function accountedFromTimings(
  session: Pick<PooledSession, 'timings'>,
  spoken: Spoken,
  firstFrameAt: number,
): Promise<number> {
  // The turn starts where the VAD placed the end of speech, before the first audio.
  const timing = await waitFor(
    () =>
      session.timings.find(({ event }) => {
        const start = Date.parse(event.startedAt);
        return event.modality === 'voice' && start >= spoken.onsetAt && start <= firstFrameAt;
      })?.event,
    5000,
    'the turn timings',
  );
  const stage = (name: string) => timing.stages.find((candidate) => candidate.name === name);
  const retrieval = stage('retrieval');
  const transcribed = stage('transcription')?.endMs;
  const turnStart = Date.parse(timing.startedAt) - spoken.lastVoicedAt;
  return accountedFor({
    vadSpeechEnd: turnStart,
    // The final came sttFinal after the audio end the STT heard, which is before the last
    // voiced frame when it took a pause inside the clip for the end.
    sttSpeechEnd:
      typeof transcribed === 'number' ? turnStart + transcribed - FAKE_LATENCY.sttFinal : undefined,
    waitMs: Number(stage('end_of_turn')?.detail?.waitMs ?? 0),
    retrieval:
      retrieval !== undefined &&
      retrieval.detail?.embedding !== 'reused' &&
      (transcribed === undefined || transcribed === null || retrieval.startMs >= transcribed),
  });
}

/** Differences between consecutive points of the critical path, for "where the time goes". */
export function stages(turn: TurnTimeline): Record<string, number | undefined> {
  const minus = (later: number | undefined, earlier: number | undefined) =>
    later === undefined || earlier === undefined ? undefined : later - earlier;
  const joined =
    turn.turnCommitted === undefined || turn.firstToken === undefined
      ? undefined
      : Math.max(turn.turnCommitted, turn.firstToken);
  // The embedding stages describe a retrieval that started on the final transcript; a
  // prefetched one (requested while the user spoke) has none on the critical path.
  const embeddedAfterFinal =
    turn.embeddingsRequested !== undefined &&
    turn.transcriptReceived !== undefined &&
    turn.embeddingsRequested >= turn.transcriptReceived;
  const embeddingsRequested = embeddedAfterFinal ? turn.embeddingsRequested : undefined;
  const retrieval = minus(turn.chatRequested, embeddingsRequested);
  return {
    'vad-speech-end-after-last-voiced-frame': turn.vadSpeechEnd,
    'vad-silence-detected-after-speech-end': minus(turn.vadEnd, turn.vadSpeechEnd),
    'turn-committed-after-vad': minus(turn.turnCommitted, turn.vadEnd),
    'audio-to-stt': turn.sttAudioArrived,
    'stt-final-after-audio': minus(turn.sttFinalSent, turn.sttAudioArrived),
    'stt-final-to-session': minus(turn.transcriptReceived, turn.sttFinalSent),
    'transcript-to-embeddings-request': minus(embeddingsRequested, turn.transcriptReceived),
    'transcript-to-llm-request': minus(turn.chatRequested, turn.transcriptReceived),
    // Hybrid search, memory recall and prompt assembly: the retrieval minus the embedding fake's latency.
    'search-after-embeddings': retrieval === undefined ? undefined : retrieval - FAKE_LATENCY.embeddings,
    'llm-first-token': minus(turn.firstToken, turn.chatRequested),
    'tts-request-after-join': minus(turn.ttsTextSent, joined),
    'tts-first-audio': minus(turn.ttsFirstAudio, turn.ttsTextSent),
    'first-audio-to-frame-out': minus(turn.voiceToVoice, turn.ttsFirstAudio),
  };
}
