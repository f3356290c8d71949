import type { Room } from '@livekit/rtc-node';
import type { ByteStreamReader } from '@livekit/rtc-node';
import type { ConversationEvent } from './conversation-events.ts';
import type { VoiceSession } from './voice-session.ts';

/** Byte-stream topic on which the page sends files in LiveKit mode (documented in web/README.md). */
export const UPLOAD_TOPIC = 'assistant.upload';
/** Text-stream topic on which the agent sends JSON events (citations, upload progress, errors). */
export const EVENTS_TOPIC = 'assistant.events';

/**
 * Files in LiveKit rooms: the participant's byte streams on {@link UPLOAD_TOPIC} go
 * through the same upload pipeline as the direct transport's HTTP uploads. A stream over
 * the size limit is refused from its declared size, or as soon as it passes the limit.
 */
export function receiveRoomUploads(
  room: Room,
  participantIdentity: string,
  voice: VoiceSession,
  maxBytes: number,
  emit: (event: ConversationEvent) => void,
): void {
  room.registerByteStreamHandler(UPLOAD_TOPIC, (reader: ByteStreamReader, { identity }) => {
    if (identity !== participantIdentity) return;
    void (async () => {
      const tooLarge = () =>
        emit({
          type: 'error',
          message: `"${reader.info.name}" is larger than the ${Math.round(maxBytes / 1048576)} MB limit.`,
        });
      if ((reader.info.totalSize ?? 0) > maxBytes) return tooLarge();
      const chunks: Uint8Array[] = [];
      let total = 0;
      for await (const chunk of reader) {
        total += chunk.length;
        if (total > maxBytes) return tooLarge();
        chunks.push(chunk);
      }
      try {
        await voice.receiveUpload({
          bytes: Buffer.concat(chunks),
          fileName: reader.info.name,
          claimedType: reader.info.mimeType,
        });
      } catch (error) {
        const userFacing = error instanceof Error && (error as { userFacing?: boolean }).userFacing === true;
        emit({
          type: 'error',
          message: userFacing
            ? (error as Error).message
            : 'That file could not be received. Please try again.',
        });
      }
    })();
  });
}

/** Sends the conversation's events to the room's participants as JSON on {@link EVENTS_TOPIC}. */
export function roomEventSender(room: Room): (event: ConversationEvent) => void {
  return (event) => {
    // Transcripts already travel as LiveKit transcriptions; the page needs the rest.
    if (event.type === 'transcript' && !(event.role === 'assistant' && event.final)) return;
    void room.localParticipant
      ?.sendText(JSON.stringify(event), { topic: EVENTS_TOPIC })
      .catch(() => undefined);
  };
}
