import type { Room, TextStreamReader } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { z } from 'zod';
import { LIVEKIT_VOICE_TOPIC, type VoiceChangedMessage } from '../protocol/index.ts';
import type { VoiceSession } from './voice-session.ts';

const voiceChangedSchema = z.strictObject({ type: z.literal('voice_changed') });
// A compile-time check that the schema and the shared protocol type agree.
type Parsed = z.infer<typeof voiceChangedSchema>;
const _agrees: [
  Parsed extends VoiceChangedMessage ? true : false,
  VoiceChangedMessage extends Parsed ? true : false,
] = [true, true];

/** Longer than any valid announcement: a stream past it is not read further. */
const MAX_MESSAGE_LENGTH = 200;

/**
 * The voice choice in LiveKit rooms: the choice is saved by the web process
 * (`POST /api/voice`), which cannot reach this job's session; the page then announces it on
 * {@link LIVEKIT_VOICE_TOPIC}, and the session reads the person's choice from the database
 * and speaks in it from the next answer on. Announcements from anyone but the
 * conversation's participant, or of another shape, are ignored.
 */
export function followVoiceChoice(
  room: Room,
  participantIdentity: string,
  voice: Pick<VoiceSession, 'useVoice'>,
  logger?: Logger,
): void {
  room.registerTextStreamHandler(LIVEKIT_VOICE_TOPIC, (reader: TextStreamReader, { identity }) => {
    void (async () => {
      if (identity !== participantIdentity) return await reader.close();
      let text = '';
      for await (const chunk of reader) {
        text += chunk;
        if (text.length > MAX_MESSAGE_LENGTH) break;
      }
      let json: unknown;
      try {
        json = text.length <= MAX_MESSAGE_LENGTH ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (!voiceChangedSchema.safeParse(json).success) {
        logger?.warn({ topic: LIVEKIT_VOICE_TOPIC }, 'ignored a malformed voice announcement');
        return;
      }
      await voice.useVoice();
    })().catch((error: unknown) => logger?.warn({ err: error }, 'could not switch to the chosen voice'));
  });
}
