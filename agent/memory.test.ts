import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMemories, resolveUser, storeMemory } from '../db/index.ts';
import { speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';

describe('memory across sessions', () => {
  let harness: VoiceHarness;

  beforeAll(async () => {
    harness = await VoiceHarness.start();
    harness.openai.chatResponder = (request) => {
      if (request.toolResult !== undefined) return { text: 'Got it, I will remember that.' };
      if (/remember/i.test(request.lastUserText)) {
        return { toolCalls: [{ name: 'remember', arguments: { fact: 'Their locker code is 4312.' } }] };
      }
      const context = JSON.stringify(request.body.messages);
      const known = /locker code is 4312/.exec(context);
      return { text: known ? 'Your locker code is 4312.' : 'I do not know your locker code.' };
    };
  });
  afterAll(() => harness?.close());

  it('remembers a fact in one session and recalls it in the next, for that user only', async () => {
    const pool = harness.test.database.pool;
    const owner = await resolveUser(pool, { kind: 'web', value: 'memory-owner' });
    const stranger = await resolveUser(pool, { kind: 'web', value: 'memory-stranger' });

    // Session 1, by voice: "remember that my locker code is 4312".
    harness.deepgram.transcripts.push('please remember that my locker code is 4312');
    const first = await harness.startSession(owner);
    await speak(first.input, speechFixture('remember-locker'));
    await waitFor(
      () =>
        harness.events.find(
          (event) => event.type === 'transcript' && event.role === 'assistant' && event.final,
        ),
      20_000,
      'the confirmation',
    );
    await first.voice.close();
    const facts = await listMemories(pool, owner, { kinds: ['fact'] });
    expect(facts.map((memory) => memory.text)).toEqual(['Their locker code is 4312.']);

    // Session 2, same user, by voice: the fact is in the model's context.
    harness.events = [];
    harness.deepgram.transcripts.push('what is my locker code');
    const second = await harness.startSession(owner);
    await speak(second.input, speechFixture('ask-locker'));
    const answer = await waitFor(
      () =>
        harness.events.find(
          (event) => event.type === 'transcript' && event.role === 'assistant' && event.final,
        ),
      20_000,
      'the answer',
    );
    expect(answer).toMatchObject({ text: 'Your locker code is 4312.' });
    const ownerRequest = harness.openai.chatBodies().at(-1);
    expect(JSON.stringify(ownerRequest?.messages)).toContain('locker code is 4312');
    await second.voice.close();

    // Another user's session does not see it.
    harness.events = [];
    const third = await harness.startSession(stranger);
    third.voice.sendText('what is my locker code');
    const strangerAnswer = await waitFor(
      () =>
        harness.events.find(
          (event) => event.type === 'transcript' && event.role === 'assistant' && event.final,
        ),
      20_000,
      "the stranger's answer",
    );
    expect(strangerAnswer).toMatchObject({ text: 'I do not know your locker code.' });
    const strangerRequest = harness.openai.chatBodies().at(-1);
    expect(JSON.stringify(strangerRequest?.messages)).not.toContain('4312');
    await third.voice.close();
  });

  it('forgets a fact only when the user asks to in this turn, and only the one they described', async () => {
    const pool = harness.test.database.pool;
    const userId = await resolveUser(pool, { kind: 'web', value: 'memory-forgetter' });
    for (const fact of ['Their locker code is 4312.', 'Their car is a blue Volvo.']) {
      const [embedding] = await harness.embedder.embed([fact]);
      await storeMemory(pool, {
        userId,
        kind: 'fact',
        text: fact,
        embedding: embedding ?? null,
        embeddingModel: 'test',
      });
    }
    const facts = async () =>
      (await listMemories(pool, userId, { kinds: ['fact'] })).map((memory) => memory.text).sort();
    const { voice } = await harness.startSession(userId);
    const toolOutputs = () =>
      harness.openai
        .chatBodies()
        .flatMap((body) => body.messages.filter((message) => message.role === 'tool'));
    async function turn(text: string, fact: string): Promise<string> {
      const before = harness.openai.chatBodies().length;
      harness.openai.chatReplies.push(
        { toolCalls: [{ name: 'forget', arguments: { fact } }] },
        { text: 'Okay.' },
      );
      voice.sendText(text);
      await waitFor(() => harness.openai.chatBodies().length >= before + 2, 20_000, 'the tool round trip');
      return String(toolOutputs().at(-1)?.content);
    }

    // The model decides on its own to forget: the user asked nothing of the kind.
    expect(await turn('what car do I drive', 'car')).toContain('did not ask to forget');
    // Asked, but the model describes something the user did not mention.
    expect(await turn('please forget my locker code', 'blue Volvo')).toContain("user's own words");
    expect(await facts()).toEqual(['Their car is a blue Volvo.', 'Their locker code is 4312.']);
    // Asked, and described with their words: that fact goes, the other stays.
    expect(await turn('please forget my locker code', 'locker code')).toContain(
      'Forgot: Their locker code is 4312.',
    );
    expect(await facts()).toEqual(['Their car is a blue Volvo.']);
    await voice.close();
  });
});
