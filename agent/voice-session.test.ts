import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages, resolveUser } from '../db/index.ts';
import { speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';

const VALVE_FACT = 'The blue valve has part number ZX-4471 and sits behind the boiler.';

describe('a spoken turn through a room-less session', () => {
  let harness: VoiceHarness;
  let userId: string;

  beforeAll(async () => {
    harness = await VoiceHarness.start();
    userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'voice-user' });
    await harness.storeDocument(
      userId,
      'Boiler manual',
      [VALVE_FACT, 'Clean the filter every month with warm water.'],
      3,
    );
  });
  afterAll(() => harness?.close());

  it('hears the question, retrieves the passage, answers out loud with a citation, and saves the turn', async () => {
    harness.deepgram.transcripts.push('what is the part number of the blue valve');
    harness.openai.chatResponder = (request) => {
      const sawPassage = request.body.messages.some((message) =>
        JSON.stringify(message.content ?? '').includes('ZX-4471'),
      );
      return { text: sawPassage ? 'The blue valve is part ZX-4471 [S1].' : 'I do not know.' };
    };
    const { voice, input } = await harness.startSession(userId);
    const lastVoiced = await speak(input, speechFixture('question-blue-valve'));

    const answer = await waitFor(
      () =>
        harness.events.find(
          (event) => event.type === 'transcript' && event.role === 'assistant' && event.final,
        ),
      20_000,
      'the final assistant transcript',
    );
    // The fake Deepgram's transcript reached the model together with the matching chunk.
    const request = harness.openai
      .chatBodies()
      .find((body) => JSON.stringify(body.messages).includes('blue valve'));
    expect(request).toBeDefined();
    const messages = JSON.stringify(request?.messages);
    expect(messages).toContain('what is the part number of the blue valve');
    expect(messages).toContain(VALVE_FACT);
    expect(messages).toMatch(/untrusted/i);

    // Spoken without the marker, shown with the citation.
    expect(answer).toMatchObject({
      text: 'The blue valve is part ZX-4471.',
      citations: [{ title: 'Boiler manual', page: 3 }],
    });
    const spokenText = harness.elevenlabs.connections.flatMap((connection) =>
      connection.contexts.map((context) => context.text),
    );
    expect(JSON.stringify(spokenText)).not.toContain('[S1]');

    // The fake ElevenLabs audio came out as agent audio frames, after the user stopped speaking.
    const agentAudio = harness.audio.frames.filter((frame) => frame.at > lastVoiced && frame.rms > 0.01);
    const voicedMs = agentAudio.reduce((total, frame) => total + frame.durationMs, 0);
    expect(voicedMs).toBeGreaterThan(200);

    await voice.close();
    const saved = await listMessages(harness.test.database.pool, voice.conversationId);
    const user = saved.find((message) => message.role === 'user');
    const assistant = saved.find((message) => message.role === 'assistant');
    expect(user).toMatchObject({ modality: 'voice', text: 'what is the part number of the blue valve' });
    expect(user?.speechEndedAt).toBeInstanceOf(Date);
    expect(user?.transcriptDelayMs).toBeGreaterThanOrEqual(0);
    expect(assistant).toMatchObject({
      text: 'The blue valve is part ZX-4471.',
      citations: [{ title: 'Boiler manual', page: 3 }],
    });
    expect(assistant?.firstTokenDelayMs).toBeGreaterThan(0);
    expect(assistant?.firstAudioDelayMs).toBeGreaterThan(0);
  });
});
