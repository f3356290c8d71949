import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { resolveUser } from '../db/index.ts';
import { sharedModels, speak, speechFixture, VoiceHarness, waitFor } from '../test/support/voice-harness.ts';

// A full collection on demand, to tell "collectable" from "not collected yet".
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

const SESSIONS = 6;

describe('what an ended session leaves behind', () => {
  let harness: VoiceHarness;
  beforeAll(async () => {
    harness = await VoiceHarness.start();
    harness.openai.chatResponder = () => ({ text: 'Fine.' });
  });
  afterAll(() => harness?.close());

  it('keeps no stream of an ended session (patches/@livekit+agents-plugin-silero)', async () => {
    const { vad } = await sharedModels();
    const created: WeakRef<object>[] = [];
    const createStream = vad.stream.bind(vad);
    vad.stream = () => {
      const stream = createStream();
      created.push(new WeakRef(stream));
      return stream;
    };
    try {
      const userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'vad-streams' });
      for (let index = 0; index < SESSIONS; index++) {
        const { voice, input } = await harness.startSession(userId);
        // Speech, so each stream buffers audio as a real conversation's does.
        harness.deepgram.transcripts.push('what is my locker code');
        await speak(input, speechFixture('ask-locker'), 600);
        await waitFor(() => created.length > index, 10_000, 'the session to open a VAD stream');
        await voice.close();
      }
    } finally {
      vad.stream = createStream;
    }
    expect(created.length).toBeGreaterThanOrEqual(SESSIONS);
    // Collection is not immediate: give finalizers and pending closes a few turns.
    let alive = created.length;
    for (let attempt = 0; attempt < 20 && alive > 0; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      collectGarbage();
      alive = created.filter((reference) => reference.deref() !== undefined).length;
    }
    expect(alive).toBe(0);
  });

  it('closes its text-to-speech socket', async () => {
    const userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'tts-socket' });
    const { voice } = await harness.startSession(userId);
    const before = harness.events.length;
    voice.sendText('say something');
    await waitFor(
      () =>
        harness.events
          .slice(before)
          .some((event) => event.type === 'transcript' && event.role === 'assistant' && event.final),
      20_000,
      'the spoken answer',
    );
    expect(harness.elevenlabs.connections.length).toBeGreaterThan(0);
    await voice.close();
    await waitFor(
      () => harness.elevenlabs.connections.every((connection) => connection.closedAt !== undefined),
      5_000,
      'every text-to-speech socket to close',
    );
  });
});
