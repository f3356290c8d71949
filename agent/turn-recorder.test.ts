import { llm } from '@livekit/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages, listTurns, resolveUser } from '../db/index.ts';
import type { TurnStage, TurnTimingsEvent } from '../protocol/index.ts';
import { flushTraces, startTracing, stopTracing, CONVERSATION_ID, TURN_ID } from '../telemetry/tracing.ts';
import { startOtlpCollector, type OtlpCollector } from '../test/fakes/otlp-collector.ts';
import { speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';
import { startTestServer, type TestServer } from '../web/server/test-server.ts';
import { TurnRecorder } from './turn-recorder.ts';

/** The fakes' latencies, ms: each must show up in its stage. */
const LATENCY = { sttFinal: 900, embeddings: 200, llmFirstToken: 500, ttsFirstAudio: 300 };
/** Two shared cores: a stage may take this much longer than its fake's latency. */
const SLACK_MS = 600;

const stage = (event: TurnTimingsEvent, name: TurnStage['name']) => {
  const found = event.stages.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`no ${name} stage in ${JSON.stringify(event.stages)}`);
  return found;
};
const duration = (found: TurnStage) => (found.endMs ?? Number.NaN) - found.startMs;

describe('the flight recorder of a voice turn', () => {
  let harness: VoiceHarness;
  let collector: OtlpCollector;
  let server: TestServer;
  let userId: string;

  beforeAll(async () => {
    collector = await startOtlpCollector();
    startTracing(collector.endpoint, 'turn-recorder-test');
    harness = await VoiceHarness.start('embedded', { sttFinalMs: LATENCY.sttFinal });
    harness.openai.latency.embeddings = LATENCY.embeddings;
    harness.openai.latency.chatFirstToken = LATENCY.llmFirstToken;
    harness.elevenlabs.settings.firstAudioLatency = LATENCY.ttsFirstAudio;
    userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'recorded-user' });
    await harness.storeDocument(
      userId,
      'Boiler manual',
      ['The blue valve has part number ZX-4471 and sits behind the boiler.'],
      3,
    );
    server = await startTestServer();
  });
  afterAll(async () => {
    await harness?.close();
    await server?.close();
    await stopTracing();
    await collector?.close();
  });

  it('records each stage at the fakes latencies, stores it with the turn, exports metrics and spans', async () => {
    harness.deepgram.transcripts.push('what is the part number of the blue valve');
    harness.openai.chatResponder = () => ({ text: 'The blue valve is part ZX-4471 [S1].' });
    const { voice, input } = await harness.startSession(userId);
    const lastVoiced = await speak(input, speechFixture('question-blue-valve'));
    const timings = await waitFor(
      () => harness.events.find((event): event is TurnTimingsEvent => event.type === 'turn_timings'),
      30_000,
      'the turn timings',
    );
    const startedAt = Date.parse(timings.startedAt);

    // The final transcript came the fake's delay after the last voiced audio (a transcript
    // that beat the VAD's end of speech counts as 0: the framework clamps it).
    const expectedTranscriptMs = Math.max(0, lastVoiced + LATENCY.sttFinal - startedAt);
    expect(stage(timings, 'transcription').endMs).toBeGreaterThanOrEqual(expectedTranscriptMs - 100);
    expect(stage(timings, 'transcription').endMs).toBeLessThanOrEqual(expectedTranscriptMs + SLACK_MS);
    // Retrieval embeds the question (the fake's embedding latency) and searches; prefetches
    // for earlier interim words may share the embedded database's one connection meanwhile.
    // A final that only went on from an interim wording searches with that wording's
    // embedding (asked for earlier): then the embedding is not in the retrieval's time.
    const ownEmbedding = stage(timings, 'retrieval').detail?.embedding !== 'reused';
    expect(duration(stage(timings, 'retrieval'))).toBeGreaterThanOrEqual(
      ownEmbedding ? LATENCY.embeddings : 0,
    );
    expect(duration(stage(timings, 'retrieval'))).toBeLessThanOrEqual(LATENCY.embeddings + 2 * SLACK_MS);
    expect(stage(timings, 'retrieval').detail).toMatchObject({ chunks: 1 });
    const llm = stage(timings, 'llm');
    expect((llm.firstMs ?? 0) - llm.startMs).toBeGreaterThanOrEqual(LATENCY.llmFirstToken);
    expect((llm.firstMs ?? 0) - llm.startMs).toBeLessThanOrEqual(LATENCY.llmFirstToken + SLACK_MS);
    const tts = stage(timings, 'tts');
    expect((tts.firstMs ?? 0) - tts.startMs).toBeGreaterThanOrEqual(LATENCY.ttsFirstAudio);
    // The plugin may hold text back until a sentence ends: at the latest, the answer's last token.
    expect(tts.firstMs).toBeLessThanOrEqual((llm.endMs ?? 0) + LATENCY.ttsFirstAudio + SLACK_MS);
    // Causality: retrieval before the model, its first token before synthesis, audio before playout.
    expect(stage(timings, 'retrieval').endMs).toBeLessThanOrEqual(llm.startMs + 5);
    expect(llm.firstMs).toBeLessThanOrEqual(tts.startMs + 5);
    const playout = stage(timings, 'playout');
    expect(playout.startMs).toBeGreaterThanOrEqual((tts.firstMs ?? 0) - 5);
    expect(duration(playout)).toBeGreaterThan(200);
    expect(timings.voiceToVoiceMs).toBeGreaterThanOrEqual(playout.startMs - 2);
    expect(timings.voiceToVoiceMs).toBeLessThanOrEqual(playout.startMs + 2);
    // The end-of-turn decision with the signals that made it.
    expect(stage(timings, 'end_of_turn').detail).toMatchObject({ verdict: expect.any(String) });
    expect(timings.citations).toEqual([expect.objectContaining({ title: 'Boiler manual', page: 3 })]);

    // Stored with the turn; the messages point at it by id, the answer carries its citations.
    await voice.close();
    const [stored] = await listTurns(harness.test.database.pool, voice.conversationId);
    expect(stored).toMatchObject({
      id: timings.turnId,
      modality: 'voice',
      stages: timings.stages,
      voiceToVoiceMs: timings.voiceToVoiceMs,
      question: 'what is the part number of the blue valve',
      answer: 'The blue valve is part ZX-4471.',
    });
    expect(stored?.sources).toEqual([
      expect.objectContaining({ title: 'Boiler manual', chunkId: expect.any(String) }),
    ]);
    const messages = await listMessages(harness.test.database.pool, voice.conversationId);
    expect(messages.map((message) => [message.role, message.turnId])).toEqual([
      ['user', timings.turnId],
      ['assistant', timings.turnId],
    ]);
    expect(messages[1]?.citations).toEqual(timings.citations);

    // GET /metrics exposes the stages (one registry per process).
    const exposition = await (await fetch(`${server.url}/metrics`)).text();
    for (const name of ['transcription', 'retrieval', 'llm', 'tts', 'playout'])
      expect(exposition).toMatch(
        new RegExp(`assistant_turn_stage_duration_ms_count\\{stage="${name}"\\} [1-9]`),
      );
    expect(exposition).toMatch(/assistant_voice_to_voice_ms_count [1-9]/);
    expect(exposition).toMatch(/assistant_turns_total\{modality="voice"\} [1-9]/);
    expect(exposition).toMatch(/assistant_database_query_duration_ms_count|assistant_live_sessions/);

    // The collector got the conversation, the turn under it, each stage under the turn,
    // and the framework's session span joined to the conversation, all with the database's ids.
    await flushTraces();
    const spans = await waitFor(
      () => {
        const found = collector.spans.filter(
          (span) => span.attributes[CONVERSATION_ID] === voice.conversationId,
        );
        return found.some((span) => span.name === 'conversation') ? found : undefined;
      },
      10_000,
      'the conversation span',
    );
    const conversation = spans.find((span) => span.name === 'conversation');
    const turn = spans.find((span) => span.name === 'turn');
    expect(turn).toMatchObject({ parentSpanId: conversation?.spanId, traceId: conversation?.traceId });
    expect(turn?.attributes[TURN_ID]).toBe(timings.turnId);
    const stageSpans = spans.filter((span) => span.parentSpanId === turn?.spanId);
    expect(stageSpans.map((span) => span.name).sort()).toEqual(
      timings.stages.map((found) => found.name).sort(),
    );
    expect(stageSpans.every((span) => span.attributes[TURN_ID] === timings.turnId)).toBe(true);
    const llmSpan = stageSpans.find((span) => span.name === 'llm');
    expect((llmSpan?.endMs ?? 0) - (llmSpan?.startMs ?? 0)).toBeCloseTo(duration(llm), -1);
    const session = spans.find((span) => span.name === 'agent_session');
    expect(session).toMatchObject({ parentSpanId: conversation?.spanId, traceId: conversation?.traceId });
  });
});

describe('voice-to-voice when the framework has no figure for it', () => {
  it('takes it from the playout start after the end of speech', () => {
    const finished: { voiceToVoiceMs: number | null }[] = [];
    const recorder = new TurnRecorder((turn) => finished.push(turn));
    const endOfSpeech = 1_000_000_000_000;
    const question = new llm.ChatMessage({
      role: 'user',
      content: ['what is the part number'],
      metrics: { stoppedSpeakingAt: endOfSpeech / 1000 },
    });
    recorder.userMessage(question, 'voice');
    recorder.onGenerationStarted(question.id, endOfSpeech + 200);
    recorder.onFirstToken(endOfSpeech + 650);
    // A loaded machine's VAD ran behind real time: the framework reports no e2eLatency.
    recorder.assistantMessage(
      new llm.ChatMessage({
        role: 'assistant',
        content: ['It is ZX-4471.'],
        metrics: {
          startedSpeakingAt: (endOfSpeech + 812) / 1000,
          stoppedSpeakingAt: (endOfSpeech + 2000) / 1000,
        },
      }),
    );
    recorder.finishOpenTurn();
    expect(finished.map((turn) => turn.voiceToVoiceMs)).toEqual([812]);
  });
});
