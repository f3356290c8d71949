/**
 * One document reader process, forked from this one and spoken to over IPC. A
 * process, not a thread: a worker thread's heap limit is best-effort (a large
 * allocation in a thread can abort the whole program, nodejs/node#47224), and
 * pdf.js decodes streams into memory outside the JavaScript heap. Whatever a file
 * does to a reader process, the server's process stays up.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReaderAnswer, ReaderReply, ReaderRequest } from './reader-process.ts';
import type { WireTask } from './reader-tasks.ts';

const BOOTSTRAP = fileURLToPath(new URL('./reader-process-bootstrap.mjs', import.meta.url));

/** Why a task got no answer. */
export type ReaderStop =
  | { readonly reason: 'timeout' }
  | { readonly reason: 'out-of-memory' }
  | { readonly reason: 'crashed'; readonly detail: string };

/** Thrown by {@link ReaderChild.run} when the process stopped before answering. */
export class ReaderStoppedError extends Error {
  constructor(readonly stop: ReaderStop) {
    super(
      `the reader process stopped: ${stop.reason}${stop.reason === 'crashed' ? ` (${stop.detail})` : ''}`,
    );
    this.name = 'ReaderStoppedError';
  }
}

/** The process answered with an error that is not the file's own (a bug in a parser). */
export class ReaderTaskError extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = 'ReaderTaskError';
  }
}

export class ReaderChild {
  private readonly child: ChildProcess;
  private readonly ready: Promise<void>;
  /** The last few KB the process wrote to stderr: V8 writes "heap out of memory" there before it aborts. */
  private stderrTail = '';
  private exit: ((stop: ReaderStop) => void) | undefined;
  private reply: ((reply: ReaderReply) => void) | undefined;
  private stopped: ReaderStop | undefined;
  private nextId = 1;

  constructor(memoryMb: number) {
    this.child = fork(BOOTSTRAP, [], {
      // Only the heap limit: the parent's own flags (a test runner's, tsx's loader) are not the reader's.
      execArgv: [`--max-old-space-size=${memoryMb}`],
      serialization: 'advanced',
      // stdout is dropped: pdf.js prints warnings there, and `--json` output must stay clean.
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4096);
    });
    this.ready = new Promise<void>((resolve, reject) => {
      this.reply = (reply) => (reply.id === 0 ? resolve() : undefined);
      this.exit = (stop) => reject(new ReaderStoppedError(stop));
    });
    this.ready.catch(() => undefined);
    this.child.on('message', (reply: ReaderReply) => this.reply?.(reply));
    this.child.on('exit', (code, signal) => this.onExit(code, signal));
    this.child.on('error', (error) => this.onExit(null, null, error.message));
    this.idle();
  }

  /** Resolves once the process has loaded its modules and pdf.js; throws if it stopped first. */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Whether the process can take another task. */
  get alive(): boolean {
    return this.stopped === undefined;
  }

  /**
   * Runs one task. The time limit starts once the process has loaded, pdf.js included
   * (a cold start is not the file's fault). Throws {@link ReaderStoppedError} (and the process is
   * gone), {@link ReaderTaskError}, or `signal`'s reason (the process is killed).
   * Resolves with the answer and the time the process spent on it.
   */
  async run(
    task: WireTask,
    options: { signal: AbortSignal | undefined; timeoutMs: number },
  ): Promise<{ answer: ReaderAnswer; busyMs: number }> {
    this.busy();
    try {
      await this.untilAborted(this.ready, options.signal);
      const started = performance.now();
      const id = this.nextId++;
      const answer = new Promise<ReaderAnswer>((resolve, reject) => {
        this.reply = (reply) => {
          if (reply.id !== id) return;
          if ('answer' in reply) resolve(reply.answer);
          else reject(new ReaderTaskError(reply.failure));
        };
        this.exit = (stop) => reject(new ReaderStoppedError(stop));
      });
      const timer = setTimeout(() => this.kill({ reason: 'timeout' }), Math.max(0, options.timeoutMs));
      try {
        this.child.send({ id, task } satisfies ReaderRequest);
        return {
          answer: await this.untilAborted(answer, options.signal),
          busyMs: performance.now() - started,
        };
      } finally {
        clearTimeout(timer);
      }
    } finally {
      this.idle();
    }
  }

  /** Ends the process at once (SIGKILL: it may be stuck in a loop that never yields). */
  kill(stop: ReaderStop = { reason: 'crashed', detail: 'stopped' }): void {
    if (this.stopped) return;
    this.stopped = stop;
    this.child.kill('SIGKILL');
    this.exit?.(stop);
  }

  private async untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return work;
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        this.kill({ reason: 'crashed', detail: 'cancelled' });
        reject(signal.reason as Error);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([work, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null, error?: string): void {
    if (this.stopped) return;
    const outOfMemory = /heap out of memory|Allocation failed/.test(this.stderrTail) || signal === 'SIGKILL';
    this.stopped = outOfMemory
      ? { reason: 'out-of-memory' }
      : { reason: 'crashed', detail: error ?? `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}` };
    this.exit?.(this.stopped);
  }

  /** While a task runs, the process keeps this one alive; idle, it does not hold up exit. */
  private busy(): void {
    this.child.ref();
    this.child.channel?.ref();
  }

  private idle(): void {
    this.child.unref();
    this.child.channel?.unref();
  }
}
