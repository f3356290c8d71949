import { voice } from '@livekit/agents';
import type { AudioFrame } from '@livekit/rtc-node';
import { ReadableStream, type ReadableStreamDefaultController } from 'node:stream/web';

/**
 * Audio input for a session without a room: whoever owns the transport (the direct
 * WebSocket, a test, a benchmark) pushes frames in as they arrive.
 */
export class PushAudioInput extends voice.AudioInput {
  private controller: ReadableStreamDefaultController<AudioFrame> | undefined;
  private closed = false;

  constructor() {
    super();
    this.multiStream.addInputStream(
      new ReadableStream<AudioFrame>({
        start: (controller) => {
          this.controller = controller;
        },
      }),
    );
  }

  /** Feeds one frame of the user's audio (any sample rate; the pipeline resamples). */
  pushFrame(frame: AudioFrame): void {
    if (this.closed) return;
    this.controller?.enqueue(frame);
  }

  override async close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      try {
        this.controller?.close();
      } catch {
        // Already errored or closed by a reader cancel.
      }
    }
    await super.close();
  }
}

/** Where paced agent audio goes: a socket, a test recorder. */
export interface AudioSink {
  /** A frame leaves now (paced to real time, `leadMs` ahead at most). */
  frame(frame: AudioFrame): void;
  /** Playback was interrupted: the client must drop what it buffered. */
  clear(): void;
}

/**
 * Audio output for a session without a room. Frames from TTS arrive faster than real
 * time; they are released to the sink at the pace a listener hears them (at most
 * `leadMs` ahead, which is what the client's jitter buffer holds), so that an
 * interruption stops the audio within that lead instead of after everything was sent.
 */
export class PacedAudioOutput extends voice.AudioOutput {
  private queue: AudioFrame[] = [];
  /** Audio released in the current segment, in ms, and when the segment started (Date.now()). */
  private releasedMs = 0;
  private segmentStartedAt = 0;
  private capturing = false;
  private flushed = false;
  private pausedAt: number | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly sink: AudioSink,
    private readonly leadMs = 120,
    sampleRate?: number,
  ) {
    super(sampleRate, undefined, { pause: true });
  }

  override async captureFrame(frame: AudioFrame): Promise<void> {
    await super.captureFrame(frame);
    // A new segment while the previous one is still playing out: that one is done.
    if (this.capturing && this.flushed) this.finishSegment(this.releasedMs, false);
    if (!this.capturing) {
      this.capturing = true;
      this.flushed = false;
      this.releasedMs = 0;
      this.segmentStartedAt = Date.now();
      this.onPlaybackStarted(this.segmentStartedAt);
    }
    this.queue.push(frame);
    this.pump();
  }

  override flush(): void {
    super.flush();
    if (!this.capturing) return;
    this.flushed = true;
    this.pump();
  }

  /**
   * Holds playback (a possible interruption is being checked). Nothing more is released;
   * the client plays out at most its lead. {@link resume} continues where it stopped.
   */
  override pause(): void {
    super.pause();
    if (!this.capturing || this.pausedAt !== undefined) return;
    this.pausedAt = Date.now();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  override resume(): void {
    super.resume();
    if (this.pausedAt === undefined) return;
    // Shift the segment's clock by the pause, so pacing and positions ignore it.
    this.segmentStartedAt += Date.now() - this.pausedAt;
    this.pausedAt = undefined;
    if (this.capturing) this.pump();
  }

  override clearBuffer(): void {
    if (!this.capturing) return;
    if (this.pausedAt !== undefined) {
      this.segmentStartedAt += Date.now() - this.pausedAt;
      this.pausedAt = undefined;
    }
    this.queue = [];
    this.sink.clear();
    const playedMs = Math.min(Date.now() - this.segmentStartedAt, this.releasedMs);
    this.finishSegment(playedMs, true);
  }

  /** Releases frames while they are within the lead, then waits for real time to catch up. */
  private pump(): void {
    if (this.timer || this.pausedAt !== undefined) return;
    const elapsed = Date.now() - this.segmentStartedAt;
    while (this.queue.length > 0 && this.releasedMs - elapsed <= this.leadMs) {
      const frame = this.queue.shift() as AudioFrame;
      this.releasedMs += (frame.samplesPerChannel / frame.sampleRate) * 1000;
      this.sink.frame(frame);
    }
    if (this.queue.length > 0) {
      this.schedule(this.releasedMs - this.leadMs - elapsed);
    } else if (this.flushed) {
      // Everything is out; the segment ends when the listener has heard the last frame.
      const remaining = this.releasedMs - elapsed;
      if (remaining <= 0) this.finishSegment(this.releasedMs, false);
      else this.schedule(remaining);
    }
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        if (this.capturing) this.pump();
      },
      Math.max(1, Math.ceil(delayMs)),
    );
  }

  private finishSegment(playedMs: number, interrupted: boolean): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.capturing = false;
    this.flushed = false;
    this.pausedAt = undefined;
    this.onPlaybackFinished({ playbackPosition: playedMs / 1000, interrupted });
  }
}
