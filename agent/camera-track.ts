import {
  RoomEvent,
  TrackKind,
  VideoBufferType,
  VideoStream,
  type RemoteParticipant,
  type RemoteTrack,
  type Room,
} from '@livekit/rtc-node';
import type { CameraFrames } from './camera.ts';

/**
 * Feeds a LiveKit participant's camera into {@link CameraFrames}. Node agents have no
 * built-in camera sampling: frames are read from a `VideoStream`, and only when a still
 * is due are they converted (I420 to RGBA, native) and encoded, so a 30 fps camera
 * costs about one conversion a second.
 */
export function followCamera(room: Room, participantIdentity: string, camera: CameraFrames): void {
  const readers = new Map<string, VideoStream>();

  const follow = (track: RemoteTrack) => {
    if (track.kind !== TrackKind.KIND_VIDEO || !track.sid || readers.has(track.sid)) return;
    const stream = new VideoStream(track);
    readers.set(track.sid, stream);
    void sample(stream, camera);
  };

  // The camera may already be on when the agent joins.
  for (const publication of room.remoteParticipants.get(participantIdentity)?.trackPublications.values() ??
    []) {
    if (publication.track) follow(publication.track as RemoteTrack);
  }
  room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack, _publication, participant: RemoteParticipant) => {
    if (participant.identity === participantIdentity) follow(track);
  });
  room.on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) => {
    if (!track.sid || !readers.has(track.sid)) return;
    void readers.get(track.sid)?.cancel();
    readers.delete(track.sid);
    camera.clear();
  });
}

async function sample(stream: VideoStream, camera: CameraFrames): Promise<void> {
  for await (const event of stream) {
    if (!camera.wantsFrame()) continue;
    const rgba = event.frame.convert(VideoBufferType.RGBA);
    await camera
      .offerRaw({ data: rgba.data, width: rgba.width, height: rgba.height, layout: 'rgba' })
      .catch(() => undefined);
  }
}
