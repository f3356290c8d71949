import {
  Room,
  RoomEvent,
  Track,
  type Participant,
  type RemoteParticipant,
  type RemoteTrack,
  type TextStreamReader,
} from 'livekit-client';
import {
  LIVEKIT_VOICE_TOPIC,
  type AgentState,
  type ServerMessage,
  type SessionResponse,
  type VoiceChangedMessage,
} from '../../../protocol/index.ts';
import {
  describeMediaError,
  PlainError,
  type Transport,
  type TransportListener,
  type UploadListener,
} from './transport.ts';

type LiveKitSession = Extract<SessionResponse, { mode: 'livekit' }>;

/** Set by LiveKit Agents on the agent participant. */
const AGENT_STATE_ATTRIBUTE = 'lk.agent.state';
const TRANSCRIPTION_TOPIC = 'lk.transcription';
const TRANSCRIPTION_FINAL_ATTRIBUTE = 'lk.transcription_final';
const CHAT_TOPIC = 'lk.chat';
const AGENT_STATES: readonly AgentState[] = ['initializing', 'listening', 'thinking', 'speaking', 'idle'];

/**
 * The production transport: a LiveKit room with the agent dispatched into it. Audio
 * and video are WebRTC tracks, transcripts arrive as text streams, the agent state as
 * a participant attribute, files go as byte streams, and the assistant's own events
 * (citations, upload progress, errors) as JSON text streams on `eventsTopic`.
 */
export class LiveKitTransport implements Transport {
  private readonly room = new Room({
    adaptiveStream: true,
    dynacast: true,
    audioCaptureDefaults: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  private levelTimer: number | undefined;
  private closing = false;

  constructor(
    private readonly session: LiveKitSession,
    private readonly listener: TransportListener,
    private readonly preview: HTMLVideoElement,
  ) {}

  get microphoneOn(): boolean {
    return this.room.localParticipant.isMicrophoneEnabled;
  }

  async connect(): Promise<void> {
    const room = this.room;
    room.on(RoomEvent.TrackSubscribed, (track: RemoteTrack) => {
      if (track.kind === Track.Kind.Audio) document.body.append(track.attach());
    });
    room.on(RoomEvent.TrackUnsubscribed, (track: RemoteTrack) =>
      track.detach().forEach((element) => element.remove()),
    );
    room.on(RoomEvent.ParticipantAttributesChanged, (_changed, participant) => this.readState(participant));
    room.on(RoomEvent.ParticipantConnected, (participant: RemoteParticipant) => this.readState(participant));
    room.on(RoomEvent.Disconnected, () => {
      window.clearInterval(this.levelTimer);
      if (!this.closing) this.listener.lost('The connection to the assistant was lost.');
    });
    room.registerTextStreamHandler(
      TRANSCRIPTION_TOPIC,
      (reader, sender) => void this.readTranscript(reader, sender),
    );
    room.registerTextStreamHandler(this.session.eventsTopic, (reader) => void this.readEvent(reader));
    try {
      await room.connect(this.session.serverUrl, this.session.token);
    } catch {
      throw new PlainError('The assistant could not be reached. Please try again.');
    }
    await this.setMicrophone(true).catch((error: unknown) =>
      this.listener.message({ type: 'error', message: `${(error as Error).message} You can still type.` }),
    );
    this.levelTimer = window.setInterval(() => this.listener.level(room.localParticipant.audioLevel), 100);
  }

  async disconnect(): Promise<void> {
    this.closing = true;
    window.clearInterval(this.levelTimer);
    await this.room.disconnect();
  }

  async setMicrophone(on: boolean): Promise<void> {
    try {
      await this.room.localParticipant.setMicrophoneEnabled(on);
    } catch (error) {
      throw new PlainError(describeMediaError('microphone', error));
    }
  }

  async setCamera(on: boolean): Promise<void> {
    try {
      const publication = await this.room.localParticipant.setCameraEnabled(on);
      if (on) publication?.videoTrack?.attach(this.preview);
      else this.preview.srcObject = null;
    } catch (error) {
      throw new PlainError(describeMediaError('camera', error));
    }
  }

  sendText(text: string): void {
    void this.room.localParticipant.sendText(text, { topic: CHAT_TOPIC });
  }

  announceVoiceChange(): void {
    const message: VoiceChangedMessage = { type: 'voice_changed' };
    void this.room.localParticipant.sendText(JSON.stringify(message), { topic: LIVEKIT_VOICE_TOPIC });
  }

  async upload(file: File, onProgress: UploadListener): Promise<{ uploadId: string; message: string }> {
    // The agent's progress and failure events for this file carry the byte stream's id.
    const { id } = await this.room.localParticipant.sendFile(file, {
      topic: this.session.uploadTopic,
      mimeType: file.type,
      onProgress: (sentFraction) => onProgress({ sentFraction }),
    });
    return { uploadId: id, message: 'Sent to the assistant.' };
  }

  private readState(participant: Participant): void {
    if (participant.isLocal) return;
    const state = participant.attributes[AGENT_STATE_ATTRIBUTE] as AgentState | undefined;
    if (state && AGENT_STATES.includes(state)) this.listener.message({ type: 'agent_state', state });
  }

  /** The agent's answers stream as deltas; the user's words come as whole interim and final texts. */
  private async readTranscript(reader: TextStreamReader, sender: { identity: string }): Promise<void> {
    const role = sender.identity === this.room.localParticipant.identity ? 'user' : 'assistant';
    let text = '';
    for await (const chunk of reader) {
      text += chunk;
      if (role === 'assistant') this.listener.message({ type: 'transcript', role, text, final: false });
    }
    const final = role === 'assistant' || reader.info.attributes?.[TRANSCRIPTION_FINAL_ATTRIBUTE] === 'true';
    this.listener.message({ type: 'transcript', role, text, final });
  }

  private async readEvent(reader: TextStreamReader): Promise<void> {
    try {
      this.listener.message(JSON.parse(await reader.readAll()) as ServerMessage);
    } catch {
      // An event this page does not understand is not worth interrupting the conversation for.
    }
  }
}
