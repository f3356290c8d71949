import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { ReceivedFile, UploadReceipt } from '../../agent/conversation-uploads.ts';
import type { Config } from '../../config/load.ts';
import type { Database } from '../../db/index.ts';
import { describeDatabase, isDatabaseRequest, serveDatabase } from '../../db/remote-database.ts';
import { AppError } from '../../protocol/index.ts';
import type { ConversationChannel, LiveConversation, StartConversation } from './conversation.ts';
import {
  errorFromWire,
  ownSamples,
  type FromConversationProcess,
  type ProcessStats,
  type ReplyValue,
  type ToConversationProcess,
} from './conversation-process-messages.ts';

/** How a conversation process is run: the commands' launcher (compiled, else under tsx). */
const LAUNCHER = fileURLToPath(new URL('../../app/launch.mjs', import.meta.url));
/** How long shutdown waits for a process to end its conversations (each saves a summary) before killing it. */
const SHUTDOWN_GRACE_MS = 20_000;
/** A process that dies this soon after it started is restarted after a growing pause (up to 30 s). */
const EARLY_EXIT_MS = 10_000;

export interface ConversationPoolOptions {
  config: Config;
  database: Database;
  /** Conversation processes to run (at least 1). */
  processes: number;
  logger?: Logger | undefined;
  /** Node flags of the conversation processes (the capacity bench: --expose-gc). */
  nodeFlags?: string[];
}

/** Said to a page whose conversation's process stopped. */
export const PROCESS_LOST_MESSAGE =
  'The conversation stopped because its voice process failed. Press Connect to start a new one.';

/**
 * Direct-mode conversations spread over child processes, so that they use every core
 * (one JavaScript thread carries the audio of every session it runs: at 20 sessions on
 * two cores, a single process made voice-to-voice 1.2 to 1.6x slower at the 95th
 * percentile) and a crash
 * ends only the conversations of the process that crashed. Each process loads the voice
 * models once and runs many conversations; a new conversation goes to the ready process
 * with the fewest. The embedded database stays in this process (only one process may open
 * it): conversation processes query it through this one (db/remote-database.ts); with
 * DATABASE_URL they connect to Postgres themselves.
 */
export class ConversationPool {
  private readonly members: PoolMember[] = [];
  private closing = false;

  constructor(private readonly options: ConversationPoolOptions) {
    // The first process starts alone, so that the first conversation can start sooner
    // (loading the voice models takes a core for about a second); the others follow.
    const first = new PoolMember('voice-1', options, () => this.closing);
    this.members.push(first);
    const firstSettled = first.ready.catch(() => undefined);
    for (let index = 1; index < Math.max(1, options.processes); index++)
      this.members.push(new PoolMember(`voice-${index + 1}`, options, () => this.closing, firstSettled));
  }

  /** Resolves once every process has loaded its voice models (rejects if one could not). */
  ready(): Promise<void> {
    return Promise.all(this.members.map((member) => member.ready)).then(() => undefined);
  }

  readonly start: StartConversation = async (userId, channel) => {
    if (this.closing)
      throw new AppError('shutting-down', 'The assistant is shutting down.', {
        userFacing: true,
        retryable: true,
      });
    // The least loaded of the ready processes; else one still starting; one being replaced last.
    const member = this.members.reduce((least, member) => (member.weight < least.weight ? member : least));
    return member.startConversation(userId, channel);
  };

  /** The processes' ids, in order (the capacity bench and tests watch them). */
  get pids(): (number | undefined)[] {
    return this.members.map((member) => member.pid);
  }

  /**
   * Each ready process's CPU time, memory and Prometheus metrics (as JSON). A process
   * that is starting or being replaced is left out rather than waited for (`GET /metrics`
   * must answer while one is down).
   */
  async stats(options: { settle?: boolean } = {}): Promise<ProcessStats[]> {
    const stats = await Promise.all(this.members.map((member) => member.stats(options.settle ?? false)));
    return stats.filter((each) => each !== undefined);
  }

  /** Ends every process after its conversations ended (web.close() ends them first). */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.members.map((member) => member.shutdown()));
  }
}

interface Session {
  channel: ConversationChannel;
  /** Started (a failed start is answered by its own error instead). */
  live: boolean;
}

interface Pending {
  resolve: (value: ReplyValue | undefined) => void;
  reject: (error: Error) => void;
}

/** One conversation process, restarted when it dies. */
class PoolMember {
  private child: ChildProcess | undefined;
  private isReady = false;
  private readonly sessions = new Map<string, Session>();
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;
  private database!: ReturnType<typeof serveDatabase>;
  private startedAt = 0;
  private earlyExits = 0;
  private exited!: Promise<void>;
  private markReady!: () => void;
  private failReady!: (error: Error) => void;
  /** Settles once the current (or next) process has loaded its models. */
  ready!: Promise<void>;

  constructor(
    private readonly name: string,
    private readonly options: ConversationPoolOptions,
    private readonly closing: () => boolean,
    /** Starts its process once this settles (now without it). */
    after?: Promise<unknown>,
  ) {
    this.awaitReady();
    if (after) void after.then(() => this.closing() || this.spawn());
    else this.spawn();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Conversations it runs and those being started; more while it starts, far more while it is being replaced. */
  get weight(): number {
    return this.sessions.size + (this.isReady ? 0 : 500) + (this.child?.connected ? 0 : 1000);
  }

  /** A new `ready`, settled by the next process's `ready` or `failed`, or its exit before either. */
  private awaitReady(): void {
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = resolve;
      this.failReady = reject;
    });
    // Nobody may be waiting; a failure is logged where it happens.
    this.ready.catch(() => undefined);
  }

  private spawn(): void {
    const { config, database, logger } = this.options;
    this.startedAt = Date.now();
    const child = fork(LAUNCHER, ['conversation-process'], {
      serialization: 'advanced',
      // The launcher picks the compiled build or tsx itself; this process's flags (a test
      // runner's, tsx's) are not the child's.
      execArgv: this.options.nodeFlags ?? [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child = child;
    const send = (message: unknown) => {
      if (child.connected) child.send(message as object, ignoreSendError);
    };
    this.database = serveDatabase(database, send);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));

    child.on('message', (message: FromConversationProcess) => {
      if (isDatabaseRequest(message)) return this.database.handle(message);
      switch (message.type) {
        case 'ready':
          this.earlyExits = 0;
          this.isReady = true;
          this.markReady();
          return;
        case 'failed':
          this.failReady(
            new AppError('voice-unavailable', message.message, { userFacing: true, retryable: true }),
          );
          return;
        case 'send':
          this.sessions.get(message.sessionId)?.channel.send(message.message);
          return;
        case 'audio':
          this.sessions
            .get(message.sessionId)
            ?.channel.sendAudio(ownSamples(message.samples), message.sampleRate);
          return;
        case 'reply': {
          const waiting = this.pending.get(message.requestId);
          this.pending.delete(message.requestId);
          if (message.ok) waiting?.resolve(message.value);
          else waiting?.reject(errorFromWire(message.error));
        }
      }
    });
    child.on('error', (error) =>
      logger?.error({ err: error, process: this.name }, 'conversation process error'),
    );
    child.once('exit', (code, signal) => {
      const lost = new AppError('voice-process-lost', PROCESS_LOST_MESSAGE, {
        userFacing: true,
        retryable: true,
      });
      this.isReady = false;
      // Conversations waiting for this process to start are told it failed (a page can
      // connect again); those started from now on wait for the next process.
      this.failReady(lost);
      for (const waiting of this.pending.values()) waiting.reject(lost);
      this.pending.clear();
      for (const session of this.sessions.values())
        if (session.live) session.channel.end?.(PROCESS_LOST_MESSAGE);
      this.sessions.clear();
      void this.database.releaseAll();
      if (this.closing()) return;
      logger?.error({ process: this.name, code, signal }, 'a conversation process stopped; starting another');
      const early = Date.now() - this.startedAt < EARLY_EXIT_MS;
      this.earlyExits = early ? this.earlyExits + 1 : 0;
      const pause = early ? Math.min(30_000, 500 * 2 ** this.earlyExits) : 0;
      this.awaitReady();
      setTimeout(() => {
        if (!this.closing()) this.spawn();
      }, pause).unref();
    });

    const init: ToConversationProcess = {
      type: 'init',
      config,
      database: database.kind === 'embedded' ? describeDatabase(database) : null,
      name: this.name,
    };
    send(init);
  }

  private post(message: ToConversationProcess): void {
    if (this.child?.connected) this.child.send(message, ignoreSendError);
  }

  private request(message: ToConversationProcess & { requestId: number }): Promise<ReplyValue | undefined> {
    return new Promise((resolve, reject) => {
      if (!this.child?.connected)
        return reject(
          new AppError('voice-process-lost', PROCESS_LOST_MESSAGE, { userFacing: true, retryable: true }),
        );
      this.pending.set(message.requestId, { resolve, reject });
      this.post(message);
    });
  }

  private requestId(): number {
    return this.nextRequestId++;
  }

  async startConversation(userId: string, channel: ConversationChannel): Promise<LiveConversation> {
    const sessionId = randomUUID();
    // Counted from now, so that conversations started together spread over the processes.
    const session: Session = { channel, live: false };
    this.sessions.set(sessionId, session);
    try {
      await this.ready;
      const started = (await this.request({
        type: 'start',
        requestId: this.requestId(),
        sessionId,
        userId,
      })) as {
        conversationId: string;
      };
      session.live = true;
      return this.conversation(sessionId, started.conversationId);
    } catch (error) {
      this.sessions.delete(sessionId);
      throw error;
    }
  }

  private conversation(sessionId: string, conversationId: string): LiveConversation {
    let closed: Promise<void> | undefined;
    return {
      conversationId,
      pushAudio: (samples, sampleRate) => this.post({ type: 'audio', sessionId, samples, sampleRate }),
      sendText: (text) => this.post({ type: 'text', sessionId, text }),
      hideCamera: () => this.post({ type: 'camera_off', sessionId }),
      showCameraFrame: async (jpeg) => {
        await this.request({ type: 'camera', requestId: this.requestId(), sessionId, jpeg });
      },
      receiveFile: async (file: ReceivedFile) =>
        (await this.request({ type: 'file', requestId: this.requestId(), sessionId, file })) as UploadReceipt,
      useVoice: async (voiceId) => {
        await this.request({ type: 'voice', requestId: this.requestId(), sessionId, voiceId });
      },
      close: () =>
        (closed ??= (async () => {
          if (!this.sessions.has(sessionId)) return;
          try {
            await this.request({ type: 'close', requestId: this.requestId(), sessionId });
          } catch (error) {
            // Its process is gone, and the conversation with it.
            if (!(error instanceof AppError && error.code === 'voice-process-lost')) throw error;
          } finally {
            this.sessions.delete(sessionId);
          }
        })()),
    };
  }

  /** Undefined while it is not ready; a process that dies meanwhile answers undefined too. */
  async stats(settle: boolean): Promise<ProcessStats | undefined> {
    if (!this.isReady) return undefined;
    const stats = this.request({ type: 'stats', requestId: this.requestId(), settle });
    return (await stats.catch(() => undefined)) as ProcessStats | undefined;
  }

  async shutdown(): Promise<void> {
    const child = this.child;
    // Never started (the pool closes before it did), or gone already.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.post({ type: 'shutdown' });
    const timer = setTimeout(() => child.kill('SIGKILL'), SHUTDOWN_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * A send to a process that just died fails; its exit is handled once, in the exit
 * listener (one shared callback: audio is sent 50 times a second per conversation).
 */
function ignoreSendError(): void {}
