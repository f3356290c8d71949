import type { Logger } from 'pino';
import type { ConversationChannel, LiveConversation, StartConversation } from './conversation.ts';
import {
  errorToWire,
  ownSamples,
  type FromConversationProcess,
  type ProcessStats,
  type ReplyValue,
  type ToConversationProcess,
} from './conversation-process-messages.ts';

export interface ConversationHostOptions {
  /** Starts conversations in this process (the voice agent's room-less sessions). */
  startConversation: StartConversation;
  send: (message: FromConversationProcess) => void;
  /** This process's Prometheus metrics as JSON. */
  metrics: () => Promise<object[]>;
  logger?: Logger;
}

/**
 * The conversation process's side of the pool (web/server/conversation-pool.ts): runs
 * the conversations the server hands it, feeding each the messages addressed to it and
 * sending its events and audio back. One failing conversation answers its own request
 * with an error; the others go on.
 */
export class ConversationHost {
  private readonly conversations = new Map<string, Promise<LiveConversation | undefined>>();
  /** The started ones: audio frames (50 a second each) reach them without a promise per frame. */
  private readonly started = new Map<string, LiveConversation>();

  constructor(private readonly options: ConversationHostOptions) {}

  handle(message: ToConversationProcess): void {
    switch (message.type) {
      case 'start':
        this.start(message.requestId, message.sessionId, message.userId);
        return;
      case 'audio': {
        const samples = ownSamples(message.samples);
        const live = this.started.get(message.sessionId);
        if (live) live.pushAudio(samples, message.sampleRate);
        else
          void this.live(message.sessionId)?.then((later) => later?.pushAudio(samples, message.sampleRate));
        return;
      }
      case 'text':
        void this.live(message.sessionId)?.then((live) => live?.sendText(message.text));
        return;
      case 'camera_off':
        void this.live(message.sessionId)?.then((live) => live?.hideCamera());
        return;
      case 'camera':
        this.answer(
          message.requestId,
          (live) => live.showCameraFrame(Buffer.from(message.jpeg)),
          message.sessionId,
        );
        return;
      case 'file':
        this.answer(
          message.requestId,
          (live) => live.receiveFile({ ...message.file, bytes: Buffer.from(message.file.bytes) }),
          message.sessionId,
        );
        return;
      case 'voice':
        this.answer(message.requestId, (live) => live.useVoice(message.voiceId), message.sessionId);
        return;
      case 'close':
        this.answer(message.requestId, () => this.close(message.sessionId));
        return;
      case 'stats':
        this.answer(message.requestId, async (): Promise<ProcessStats> => {
          if (message.settle) await settle();
          return {
            cpu: process.cpuUsage(),
            rss: process.memoryUsage().rss,
            metrics: await this.options.metrics(),
          };
        });
        return;
      case 'init':
      case 'shutdown':
        return;
    }
  }

  /** Ends every conversation (each saves its transcript and summary). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.conversations.keys()].map((sessionId) => this.close(sessionId)));
  }

  private start(requestId: number, sessionId: string, userId: string): void {
    const channel: ConversationChannel = {
      send: (message) => this.options.send({ type: 'send', sessionId, message }),
      sendAudio: (samples, sampleRate) =>
        this.options.send({ type: 'audio', sessionId, samples, sampleRate }),
    };
    const started = this.options.startConversation(userId, channel);
    // Messages that arrive while it starts wait for it; a failed start leaves nothing.
    this.conversations.set(
      sessionId,
      started.catch(() => undefined),
    );
    started.then(
      (live) => {
        if (this.conversations.has(sessionId)) this.started.set(sessionId, live);
        this.options.send({
          type: 'reply',
          requestId,
          ok: true,
          value: { conversationId: live.conversationId },
        });
      },
      (error: unknown) => {
        this.conversations.delete(sessionId);
        this.options.logger?.error({ err: error, sessionId }, 'could not start a conversation');
        this.options.send({ type: 'reply', requestId, ok: false, error: errorToWire(error) });
      },
    );
  }

  private live(sessionId: string): Promise<LiveConversation | undefined> | undefined {
    return this.conversations.get(sessionId);
  }

  private async close(sessionId: string): Promise<void> {
    const live = await this.conversations.get(sessionId);
    this.conversations.delete(sessionId);
    this.started.delete(sessionId);
    await live?.close();
  }

  /** Runs a request and sends its outcome back under `requestId`. */
  private answer(
    requestId: number,
    run: (live: LiveConversation) => Promise<ReplyValue | void>,
    sessionId?: string,
  ): void {
    void (async () => {
      try {
        let live: LiveConversation | undefined;
        if (sessionId !== undefined) {
          live = await this.live(sessionId);
          if (!live) throw new Error('This conversation is not running in this process.');
        }
        const value = await run(live as LiveConversation);
        this.options.send({ type: 'reply', requestId, ok: true, ...(value ? { value } : {}) });
      } catch (error) {
        this.options.send({ type: 'reply', requestId, ok: false, error: errorToWire(error) });
      }
    })();
  }
}

/** Full collections, when the process runs with --expose-gc (the capacity bench's processes do). */
async function settle(): Promise<void> {
  for (let round = 0; round < 3 && globalThis.gc; round++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
