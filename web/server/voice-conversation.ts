import { AudioFrame } from '@livekit/rtc-node';
import type { Logger } from 'pino';
import { CameraFrames } from '../../agent/camera.ts';
import type { ReceivedFile, UploadReceipt } from '../../agent/conversation-uploads.ts';
import { PacedAudioOutput, PushAudioInput } from '../../agent/roomless-audio.ts';
import { startVoiceSession, type SharedModels, type VoiceSession } from '../../agent/voice-session.ts';
import type { Config } from '../../config/load.ts';
import type { Database } from '../../db/index.ts';
import type { Embedder } from '../../ingest/embeddings.ts';
import type { ConversationChannel, LiveConversation, StartConversation } from './conversation.ts';

export interface VoiceConversationDependencies {
  config: Config;
  database: Database;
  /** Loaded once per process (Silero VAD, end-of-turn model). */
  models: () => Promise<SharedModels>;
  embedder: Embedder | undefined;
  logger?: Logger;
}

/** Conversations driven by the voice agent's room-less session (the direct transport). */
export function voiceConversations(dependencies: VoiceConversationDependencies): StartConversation {
  return async (userId, channel) => {
    // First: loading the models also initialises the agents framework's logging.
    const models = await dependencies.models();
    const input = new PushAudioInput();
    const output = new PacedAudioOutput({
      frame: (frame) => channel.sendAudio(monoSamples(frame), frame.sampleRate),
      clear: () => channel.send({ type: 'audio_clear' }),
    });
    const camera = new CameraFrames();
    const session = await startVoiceSession(
      {
        camera,
        config: dependencies.config,
        database: dependencies.database,
        models,
        embedder: dependencies.embedder,
        userId,
        channel: 'web',
        onEvent: (event) => channel.send(event),
        ...(dependencies.logger ? { logger: dependencies.logger } : {}),
      },
      { audioInput: input, audioOutput: output },
    );
    return new VoiceConversation(session, input, camera, channel, dependencies);
  };
}

class VoiceConversation implements LiveConversation {
  constructor(
    private readonly voiceSession: VoiceSession,
    private readonly input: PushAudioInput,
    private readonly camera: CameraFrames,
    private readonly channel: ConversationChannel,
    private readonly dependencies: VoiceConversationDependencies,
  ) {}

  get conversationId(): string {
    return this.voiceSession.conversationId;
  }

  pushAudio(samples: Int16Array, sampleRate: number): void {
    this.input.pushFrame(new AudioFrame(samples, sampleRate, 1, samples.length));
  }

  sendText(text: string): void {
    try {
      this.voiceSession.sendText(text);
    } catch (error) {
      this.dependencies.logger?.error({ err: error }, 'could not answer a typed message');
      this.channel.send({
        type: 'error',
        message: 'The assistant could not answer a typed message. Please try again.',
      });
    }
  }

  /** Kept at most once a second and attached to turns about it (agent/camera.ts). */
  showCameraFrame(jpeg: Buffer): Promise<void> {
    return this.camera.offerEncoded(jpeg, this.dependencies.config.limits.imageMaxPixels);
  }

  hideCamera(): void {
    this.camera.clear();
  }

  receiveFile(file: ReceivedFile): Promise<UploadReceipt> {
    return this.voiceSession.receiveUpload(file);
  }

  useVoice(voiceId: string): Promise<void> {
    return this.voiceSession.useVoice(voiceId);
  }

  close(): Promise<void> {
    return this.voiceSession.close();
  }
}

/** Agent audio as mono samples (TTS is mono; anything else is mixed down). */
function monoSamples(frame: AudioFrame): Int16Array {
  if (frame.channels === 1) return frame.data;
  const mono = new Int16Array(frame.samplesPerChannel);
  for (let index = 0; index < mono.length; index++) {
    let sum = 0;
    for (let channel = 0; channel < frame.channels; channel++)
      sum += frame.data[index * frame.channels + channel] ?? 0;
    mono[index] = Math.round(sum / frame.channels);
  }
  return mono;
}
