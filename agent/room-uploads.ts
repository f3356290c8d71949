import type { Room } from '@livekit/rtc-node';
import type { ByteStreamReader } from '@livekit/rtc-node';
import {
  LIVEKIT_EVENTS_TOPIC,
  LIVEKIT_UPLOAD_TOPIC,
  userMessage,
  type ConversationEvent,
} from '../protocol/index.ts';
import { cleanFileName } from '../media/index.ts';
import type { VoiceSession } from './voice-session.ts';

/**
 * Files in LiveKit rooms: the participant's byte streams on {@link LIVEKIT_UPLOAD_TOPIC} go
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
  room.registerByteStreamHandler(LIVEKIT_UPLOAD_TOPIC, (reader: ByteStreamReader, { identity }) => {
    if (identity !== participantIdentity) return;
    // The page knows the upload by its stream's id (sendFile's answer): every word about it carries that id.
    const fileName = cleanFileName(reader.info.name);
    const about = { type: 'upload_progress', uploadId: reader.info.streamId, fileName } as const;
    const fail = (message: string) => emit({ ...about, stage: 'failed', message });
    void (async () => {
      const tooLarge = () =>
        fail(`"${fileName}" is larger than the ${Math.round(maxBytes / 1048576)} MB limit.`);
      if ((reader.info.totalSize ?? 0) > maxBytes) return tooLarge();
      const chunks: Uint8Array[] = [];
      let total = 0;
      for await (const chunk of reader) {
        total += chunk.length;
        if (total > maxBytes) return tooLarge();
        chunks.push(chunk);
      }
      try {
        const receipt = await voice.receiveUpload({
          bytes: Buffer.concat(chunks),
          fileName,
          claimedType: reader.info.mimeType,
          senderUploadId: reader.info.streamId,
        });
        // A document announced itself (reading, then progress); a picture is ready at once.
        if (receipt.status === 'ready') emit({ ...about, stage: 'ready', message: receipt.message });
      } catch (error) {
        fail(userMessage(error, 'That file could not be received. Please try again.'));
      }
    })();
  });
}

/** Sends the conversation's events to the room's participants as JSON on {@link LIVEKIT_EVENTS_TOPIC}. */
export function roomEventSender(room: Room): (event: ConversationEvent) => void {
  return (event) => {
    // Transcripts already travel as LiveKit transcriptions; the page needs the rest.
    if (event.type === 'transcript' && !(event.role === 'assistant' && event.final)) return;
    void room.localParticipant
      ?.sendText(JSON.stringify(event), { topic: LIVEKIT_EVENTS_TOPIC })
      .catch(() => undefined);
  };
}
