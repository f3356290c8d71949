import { stt } from '@livekit/agents';
import type { AudioBuffer } from '@livekit/agents';

/**
 * Wraps a speech-to-text provider so that its failure (retries exhausted: a dropped
 * socket that will not reconnect, a refused key) does not end the conversation. The
 * framework closes a session on any unrecoverable STT error; this reports the error as
 * recoverable to the session and calls `onFailure`, which apologizes and restarts the
 * recognition pipeline with a fresh connection.
 */
export class ResilientSpeechToText extends stt.STT {
  label: string;

  constructor(
    private readonly inner: stt.STT,
    private readonly onFailure: (error: Error) => void,
  ) {
    super(inner.capabilities);
    this.label = inner.label;
    inner.on('metrics_collected', (metrics) => this.emit('metrics_collected', metrics));
    inner.on('error', (error) => {
      this.emit('error', { ...error, recoverable: true });
      if (!error.recoverable) this.onFailure(error.error);
    });
  }

  override get model(): string {
    return this.inner.model;
  }

  override get provider(): string {
    return this.inner.provider;
  }

  protected override _recognize(frame: AudioBuffer, abortSignal?: AbortSignal): Promise<stt.SpeechEvent> {
    return this.inner.recognize(frame, abortSignal);
  }

  override stream(options?: Parameters<stt.STT['stream']>[0]): stt.SpeechStream {
    return this.inner.stream(options);
  }

  override async close(): Promise<void> {
    await this.inner.close();
    await super.close();
  }
}
