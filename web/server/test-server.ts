import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import WebSocket from 'ws';
import { loadConfig, type Config } from '../../config/load.ts';
import { createRecordingTranscriber } from '../../agent/provider-settings.ts';
import { createConversation } from '../../db/index.ts';
import { createTestDatabase, type TestDatabase } from '../../test/support/database.ts';
import { SOCKET_PATH, type ServerMessage } from '../../protocol/index.ts';
import type { NormalizedImage } from '../../media/index.ts';
import {
  ConversationUploads,
  type ReceivedFile,
  type UploadReceipt,
} from '../../agent/conversation-uploads.ts';
import type { ConversationChannel, LiveConversation, StartConversation } from './conversation.ts';
import { createWebServer, type WebServer } from './create-server.ts';
import type { KeyGuessLimits } from './key-guess-limiter.ts';

/** A web server on a random port over a fresh embedded database, for tests. */
export interface TestServer {
  url: string;
  web: WebServer;
  config: Config;
  test: TestDatabase;
  close(): Promise<void>;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  problems?: string[];
  startConversation?: StartConversation;
  embeddingDimensions?: number;
  /** A database to share between servers of one test file (it is not cleaned up by `close`). */
  database?: TestDatabase;
  helloTimeoutMs?: number;
  keyGuessLimits?: KeyGuessLimits;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const test = options.database ?? (await createTestDatabase('embedded', options.embeddingDimensions ?? 8));
  const config = loadConfig({
    envFile: false,
    env: {
      DATA_DIR: test.dataDir,
      EMBEDDING_DIMENSIONS: String(options.embeddingDimensions ?? 8),
      ...options.env,
    },
  });
  const web = await createWebServer({
    config,
    database: test.database,
    cookieSecret: randomBytes(32),
    problems: options.problems ?? [],
    startConversation:
      options.startConversation ?? (() => Promise.reject(new Error('this test starts no conversations'))),
    ...(options.helloTimeoutMs ? { helloTimeoutMs: options.helloTimeoutMs } : {}),
    ...(options.keyGuessLimits ? { keyGuessLimits: options.keyGuessLimits } : {}),
    // TEST_WEB_LOG_LEVEL=debug shows the server's logs while debugging a test.
    ...(process.env.TEST_WEB_LOG_LEVEL ? { logger: pino({ level: process.env.TEST_WEB_LOG_LEVEL }) } : {}),
  });
  await web.app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = web.app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    web,
    config,
    test,
    async close() {
      await web.close();
      if (!options.database) await test.cleanup();
    },
  };
}

/** A browser, as far as the server can tell: a cookie jar. */
export class TestBrowser {
  private readonly cookies = new Map<string, string>();

  constructor(private readonly baseUrl: string) {}

  get cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', this.cookieHeader);
    const response = await fetch(new URL(path, this.baseUrl), { ...init, headers });
    for (const header of response.headers.getSetCookie()) {
      const [pair] = header.split(';');
      const separator = pair?.indexOf('=') ?? -1;
      if (pair && separator > 0) this.cookies.set(pair.slice(0, separator), pair.slice(separator + 1));
    }
    return response;
  }

  postJson(path: string, body?: unknown): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      ...(body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  }

  /** Opens the direct socket with this browser's cookies; collects what the server sends. */
  async openSocket(): Promise<TestSocket> {
    const socket = new WebSocket(new URL(SOCKET_PATH, this.baseUrl.replace('http', 'ws')), {
      headers: { cookie: this.cookieHeader },
    });
    const opened = new TestSocket(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`socket refused with HTTP ${response.statusCode}`)),
      );
    });
    return opened;
  }
}

/** A direct socket seen from the client side. */
export class TestSocket {
  readonly messages: ServerMessage[] = [];
  audioBytes = 0;
  closed: { code: number; reason: string } | undefined;

  constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      if (isBinary) this.audioBytes += (data as Buffer).length;
      else this.messages.push(JSON.parse(String(data)) as ServerMessage);
    });
    socket.on('close', (code, reason) => (this.closed = { code, reason: reason.toString() }));
  }

  send(message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends hello and waits for `ready`. */
  async hello(sampleRate = 16_000): Promise<Extract<ServerMessage, { type: 'ready' }>> {
    this.send({ type: 'hello', protocol: 1, sampleRate });
    return this.waitFor(
      (message): message is Extract<ServerMessage, { type: 'ready' }> => message.type === 'ready',
    );
  }

  async waitFor<T extends ServerMessage>(
    predicate: (message: ServerMessage) => message is T,
    timeoutMs = 15_000,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (this.closed)
        throw new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting`);
      if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(this.messages.slice(-5))}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async waitClosed(timeoutMs = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('socket did not close');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return this.closed;
  }

  close(): void {
    this.socket.close();
  }
}

/** A conversation that records what the web layer hands it (protocol and route tests). */
export class RecordingConversation implements LiveConversation {
  readonly audio: { samples: number; sampleRate: number }[] = [];
  readonly texts: string[] = [];
  readonly images: { image: NormalizedImage; fileName: string }[] = [];
  /** What the assistant said (upload acknowledgements). */
  readonly spoken: string[] = [];
  cameraFrames = 0;
  camerasOff = 0;
  readonly voices: string[] = [];
  closed = false;
  private pipeline: ConversationUploads | undefined;

  constructor(
    readonly conversationId: string,
    readonly userId: string,
    readonly channel: ConversationChannel,
    private readonly uploads?: { config: Config; test: TestDatabase },
  ) {}

  pushAudio(samples: Int16Array, sampleRate: number): void {
    this.audio.push({ samples: samples.length, sampleRate });
  }
  sendText(text: string): void {
    this.texts.push(text);
    this.channel.send({ type: 'transcript', role: 'assistant', text: `echo: ${text}`, final: true });
  }
  async showCameraFrame(): Promise<void> {
    this.cameraFrames++;
  }
  hideCamera(): void {
    this.camerasOff++;
  }
  async useVoice(voiceId: string): Promise<void> {
    this.voices.push(voiceId);
  }
  /** The agent's real upload pipeline, with the language model side recorded instead. */
  receiveFile(file: ReceivedFile): Promise<UploadReceipt> {
    if (!this.uploads) throw new Error('this recording conversation takes no uploads');
    this.pipeline ??= new ConversationUploads({
      config: this.uploads.config,
      database: this.uploads.test.database,
      embedder: undefined,
      vision: undefined,
      transcriber: createRecordingTranscriber(this.uploads.config),
      userId: this.userId,
      conversationId: this.conversationId,
      addImage: async (image, fileName) => {
        this.images.push({ image, fileName });
      },
      say: (text) => this.spoken.push(text),
      emit: (event) => this.channel.send(event),
    });
    return this.pipeline.receive(file);
  }
  async close(): Promise<void> {
    this.closed = true;
    await this.pipeline?.close();
  }
}

/**
 * Starts {@link RecordingConversation}s (each with a real conversation row, so uploads
 * can refer to it) and keeps them for inspection.
 */
export function recordingConversations(server: () => Pick<TestServer, 'test' | 'config'>): {
  start: StartConversation;
  started: RecordingConversation[];
} {
  const started: RecordingConversation[] = [];
  return {
    started,
    start: async (userId, channel) => {
      const { test, config } = server();
      const conversationId = await createConversation(test.database.pool, userId, 'web');
      const conversation = new RecordingConversation(conversationId, userId, channel, { config, test });
      started.push(conversation);
      return conversation;
    },
  };
}
