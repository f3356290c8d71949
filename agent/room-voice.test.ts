import type { Room, TextStreamReader } from '@livekit/rtc-node';
import { expect, it } from 'vitest';
import { LIVEKIT_VOICE_TOPIC } from '../protocol/index.ts';
import { followVoiceChoice } from './room-voice.ts';

type Handler = (reader: TextStreamReader, participant: { identity: string }) => void;

/**
 * A room whose participants send text streams on the voice topic, and how often the
 * session was told to switch to the chosen voice.
 */
function room(): {
  send(identity: string, chunks: string[]): Promise<{ closed: boolean }>;
  switches: number;
} {
  let handler: Handler | undefined;
  const fake = {
    registerTextStreamHandler: (topic: string, registered: Handler) => {
      if (topic === LIVEKIT_VOICE_TOPIC) handler = registered;
    },
  } as unknown as Room;
  const state = {
    switches: 0,
    async send(identity: string, chunks: string[]) {
      const stream = { closed: false };
      let settle: () => void = () => undefined;
      const settled = new Promise<void>((resolve) => (settle = resolve));
      const reader = {
        async *[Symbol.asyncIterator]() {
          yield* chunks;
          stream.closed = true;
        },
        close: async () => {
          stream.closed = true;
        },
      } as unknown as TextStreamReader;
      handler?.(reader, { identity });
      // The handler works in the background: give it a few turns of the event loop.
      setTimeout(settle, 20);
      await settled;
      return stream;
    },
  };
  followVoiceChoice(fake, 'person', {
    useVoice: async () => {
      state.switches++;
    },
  });
  return state;
}

it("switches the session's voice when its participant announces a choice", async () => {
  const conversation = room();
  await conversation.send('person', ['{"type":', '"voice_changed"}']);
  expect(conversation.switches).toBe(1);
});

it('ignores announcements from others (closing their streams) and of another shape', async () => {
  const conversation = room();
  expect(await conversation.send('someone-else', ['{"type":"voice_changed"}'])).toEqual({ closed: true });
  await conversation.send('person', ['{"type":"voice_changed","voiceId":"x"}']);
  await conversation.send('person', ['not json']);
  await conversation.send('person', ['{"type":"voice_changed"}'.padEnd(500, ' ')]);
  expect(conversation.switches).toBe(0);
});
