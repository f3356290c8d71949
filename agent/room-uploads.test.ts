import type { ByteStreamReader, Room } from '@livekit/rtc-node';
import { describe, expect, it } from 'vitest';
import { MediaError } from '../media/index.ts';
import { LIVEKIT_UPLOAD_TOPIC, type ConversationEvent } from '../protocol/index.ts';
import type { ReceivedFile, UploadReceipt } from './conversation-uploads.ts';
import { receiveRoomUploads } from './room-uploads.ts';
import type { VoiceSession } from './voice-session.ts';

type Handler = (reader: ByteStreamReader, participant: { identity: string }) => void;

/**
 * A room with one participant sending one file over a byte stream, and what the agent
 * told the page about it. `receive` stands in for the conversation's upload pipeline.
 */
async function sendFile(
  file: { streamId: string; name: string; bytes: Buffer; declaredSize?: number },
  receive: (received: ReceivedFile) => Promise<UploadReceipt>,
): Promise<{ events: ConversationEvent[]; received: ReceivedFile[] }> {
  let handler: Handler | undefined;
  const room = {
    registerByteStreamHandler: (topic: string, registered: Handler) => {
      if (topic === LIVEKIT_UPLOAD_TOPIC) handler = registered;
    },
  } as unknown as Room;
  const received: ReceivedFile[] = [];
  const voice = {
    receiveUpload: (upload: ReceivedFile) => {
      received.push(upload);
      return receive(upload);
    },
  } as unknown as VoiceSession;
  const events: ConversationEvent[] = [];
  let settle: () => void = () => undefined;
  const settled = new Promise<void>((resolve) => (settle = resolve));
  receiveRoomUploads(room, 'person', voice, 1024, (event) => {
    events.push(event);
    settle();
  });
  const reader = {
    info: {
      streamId: file.streamId,
      name: file.name,
      mimeType: 'application/octet-stream',
      topic: LIVEKIT_UPLOAD_TOPIC,
      timestamp: 0,
      totalSize: file.declaredSize ?? file.bytes.length,
    },
    async *[Symbol.asyncIterator]() {
      yield new Uint8Array(file.bytes);
    },
  } as unknown as ByteStreamReader;
  handler?.(reader, { identity: 'person' });
  await settled;
  return { events, received };
}

describe('uploads over LiveKit', () => {
  it('tells the page about the file under the byte stream id the page got from sendFile', async () => {
    const { events, received } = await sendFile(
      { streamId: 'stream-7', name: 'red.png', bytes: Buffer.from('png') },
      async () => ({
        uploadId: 'stored-upload-id',
        kind: 'image',
        status: 'ready',
        message: 'The assistant can see the picture now.',
      }),
    );
    expect(received[0]?.senderUploadId).toBe('stream-7');
    expect(events).toEqual([
      {
        type: 'upload_progress',
        uploadId: 'stream-7',
        fileName: 'red.png',
        stage: 'ready',
        message: 'The assistant can see the picture now.',
      },
    ]);
  });

  it('reports a refused file as that upload failing, with the reason', async () => {
    const refused = await sendFile(
      { streamId: 'stream-8', name: 'setup.exe', bytes: Buffer.from('MZ') },
      () => Promise.reject(new MediaError('unsupported-type', '"setup.exe" is not an image or a PDF.')),
    );
    expect(refused.events).toEqual([
      {
        type: 'upload_progress',
        uploadId: 'stream-8',
        fileName: 'setup.exe',
        stage: 'failed',
        message: '"setup.exe" is not an image or a PDF.',
      },
    ]);

    const tooLarge = await sendFile(
      { streamId: 'stream-9', name: 'huge.pdf', bytes: Buffer.alloc(10), declaredSize: 4096 },
      () => Promise.reject(new Error('not reached')),
    );
    expect(tooLarge.received).toEqual([]);
    expect(tooLarge.events).toMatchObject([
      { uploadId: 'stream-9', stage: 'failed', message: expect.stringMatching(/huge\.pdf.*limit/) },
    ]);
  });
});
