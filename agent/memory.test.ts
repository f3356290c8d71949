import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMemories, resolveUser } from '../db/index.ts';
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
});
