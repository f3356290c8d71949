import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listMessages, resolveUser } from '../db/index.ts';
import { speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';

const LONG_ANSWER = Array.from(
  { length: 12 },
  (_, index) => `This is sentence number ${index + 1} of a long answer.`,
).join(' ');

describe('barge-in', () => {
  let harness: VoiceHarness;
  let userId: string;

  beforeAll(async () => {
    harness = await VoiceHarness.start();
    // About 200 ms of audio per word: the long answer plays for many seconds.
    harness.elevenlabs.settings.msPerWord = 200;
    harness.openai.chatResponder = () => ({ text: LONG_ANSWER });
    userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'barge-in-user' });
  });
  afterAll(() => harness?.close());

  /** Starts a session and gets the agent talking; resolves once its audio flows. */
  async function agentSpeaking() {
    const started = await harness.startSession(userId);
    started.voice.sendText('tell me something long');
    await waitFor(() => harness.audio.frames.some((frame) => frame.rms > 0.01), 15_000, 'agent audio');
    await new Promise((resolve) => setTimeout(resolve, 500));
    return started;
  }

  it('stops agent audio when the user starts speaking, and marks the reply interrupted', async () => {
    const { voice, input } = await agentSpeaking();
    harness.deepgram.transcripts.push('wait stop that is enough');
    const clearsBefore = harness.audio.clears.length;
    const onset = Date.now();
    const speaking = speak(input, speechFixture('interrupt-stop'), 800);

    const clearedAt = await waitFor(
      () => harness.audio.clears[clearsBefore],
      8_000,
      'the agent audio to be cleared',
    );
    // Agent audio stopped flowing soon after the user's speech began: paused at the VAD's
    // speech onset, cleared once the interruption was confirmed. (bench/ measures it precisely.)
    const lastFrameAt = Math.max(
      ...harness.audio.frames.filter((frame) => frame.at <= clearedAt).map((frame) => frame.at),
    );
    expect(lastFrameAt - onset).toBeLessThan(1_000);
    const framesAfterClear = harness.audio.frames.filter(
      (frame) => frame.at > clearedAt + 50 && frame.at < clearedAt + 1000,
    );
    expect(framesAfterClear.filter((frame) => frame.rms > 0.01)).toEqual([]);
    await speaking;

    await voice.close();
    const saved = await listMessages(harness.test.database.pool, voice.conversationId);
    const interrupted = saved.find(
      (message) => message.role === 'assistant' && message.text.startsWith('This is sentence'),
    );
    expect(interrupted?.interrupted).toBe(true);
  });

  it('goes on with the answer after an "uh-huh" said over it, which is not a turn', async () => {
    const { voice, input } = await agentSpeaking();
    harness.deepgram.transcripts.push('Uh-huh.');
    const chats = () =>
      harness.openai.requests.filter((request) => request.path.endsWith('/chat/completions')).length;
    const chatsBefore = chats();
    const clearsBefore = harness.audio.clears.length;
    const onset = Date.now();
    await speak(input, speechFixture('uh-huh'), 2_000);
    await waitFor(() => harness.audio.frames.some((frame) => frame.at > onset + 1_500), 5_000, 'more answer');

    // It paused under the user's voice, and went on soon after it ended: the framework's
    // resume after a pause with no turn waits 3 s (see voice-session.ts).
    const audible = harness.audio.frames.filter((frame) => frame.at > onset - 200 && frame.rms > 0.01);
    const gaps = audible.slice(1).map((frame, index) => frame.at - audible[index]!.at);
    const longestGap = Math.max(...gaps);
    expect(longestGap).toBeGreaterThan(200);
    expect(longestGap).toBeLessThan(2_000);
    // Never cleared, no new answer, no user message.
    expect(harness.audio.clears.length).toBe(clearsBefore);
    expect(chats()).toBe(chatsBefore);
    await voice.close();
    const saved = await listMessages(harness.test.database.pool, voice.conversationId);
    expect(saved.filter((message) => message.role === 'user' && message.modality === 'voice')).toEqual([]);
  });

  it('does not stop for a cough-length blip', async () => {
    const { voice, input } = await agentSpeaking();
    const clearsBefore = harness.audio.clears.length;
    await speak(input, speechFixture('cough'), 1500);
    expect(harness.audio.clears.length).toBe(clearsBefore);
    await voice.close();
    const saved = await listMessages(harness.test.database.pool, voice.conversationId);
    expect(saved.filter((message) => message.role === 'user' && message.modality === 'voice')).toEqual([]);
  });
});
