/**
 * Reading files off the main thread. Type sniffing, PDF parsing, page rendering,
 * text decoding and chunking run in a few reader processes (ingest/reader-child.ts),
 * so a 25 MB text file or a PDF with millions of text operators cannot stall live
 * conversations, and a file that makes a parser crash or run out of memory cannot
 * take the server down. Each file has caps: reader time and memory (a process over
 * either is stopped and replaced), and how much text, how many chunks and how many
 * rendered pages it may produce. A file over a cap is refused with a message that
 * says what to do.
 */
import { availableParallelism } from 'node:os';
import { MediaError, type MediaErrorCode } from '../media/index.ts';
import { IngestError, type IngestErrorCode } from './errors.ts';
import { ReadBudget } from './read-budget.ts';
import { ReaderChild, ReaderStoppedError } from './reader-child.ts';
import type { ContentCaps, ReaderResults, ReaderTask, WireTask } from './reader-tasks.ts';

/** How the reader pool is sized and capped; from configuration (DOCUMENT_* settings). */
export interface DocumentReaderOptions extends ContentCaps {
  /** Reader processes, each reading one file at a time. */
  readonly readers: number;
  /** Time one file may spend in the reader processes, in ms, all its tasks together. */
  readonly timeoutMs: number;
  /** JavaScript heap of each reader process, in MB (--max-old-space-size). */
  readonly memoryMb: number;
  /** Files waiting for a free reader before more are refused as busy. */
  readonly maxWaiting: number;
  /** Told of every rejection nobody handled inside a reader process (agent/stray-errors.ts counts them). */
  readonly onStrayError?: ((description: string) => void) | undefined;
}

/** The defaults that configuration starts from. */
export const DEFAULT_READER_OPTIONS: DocumentReaderOptions = Object.freeze({
  readers: Math.max(1, Math.floor(availableParallelism() / 2)),
  timeoutMs: 120_000,
  memoryMb: 512,
  maxWaiting: 100,
  maxTextCharacters: 5_000_000,
  maxChunks: 3_000,
  maxRenderedPages: 100,
});

/** A pool of reader processes. One per program is enough: see {@link sharedDocumentReader}. */
export class DocumentReader {
  readonly options: DocumentReaderOptions;
  /** Started processes with nothing to do; a process that stopped is dropped, a new one started on demand. */
  private readonly idle: ReaderChild[] = [];
  private readonly all = new Set<ReaderChild>();
  /** Tasks holding a reader; the rest wait in `waiting`. */
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  /** Options left undefined take {@link DEFAULT_READER_OPTIONS}. */
  constructor(options: Partial<DocumentReaderOptions> = {}) {
    const given = Object.entries(options).filter(([, value]) => value !== undefined);
    this.options = { ...DEFAULT_READER_OPTIONS, ...Object.fromEntries(given) };
  }

  /** The caps reader processes check (plain data: it crosses to the process with each task). */
  get caps(): ContentCaps {
    const { maxTextCharacters, maxChunks, maxRenderedPages } = this.options;
    return { maxTextCharacters, maxChunks, maxRenderedPages };
  }

  /** A fresh budget for one file; {@link ReadBudget.release} it when the file is done. */
  budget(signal?: AbortSignal): ReadBudget {
    return new ReadBudget(this.options.timeoutMs, signal);
  }

  /**
   * Runs a task on a reader process, within the file's budget. Throws the file's own
   * `MediaError`/`IngestError`, `IngestError` `too-slow`, `too-much-memory`,
   * `reader-failed` or `reader-busy`, or the budget signal's reason when cancelled.
   */
  async run<Type extends ReaderTask['type']>(
    task: Extract<ReaderTask, { type: Type }>,
    budget: ReadBudget,
  ): Promise<ReaderResults[Type]> {
    budget.signal?.throwIfAborted();
    if (budget.remainingMs <= 0) throw this.tooSlow();
    await this.acquireThread(budget.signal);
    const bytes = 'bytes' in task ? task.bytes : undefined;
    const spilled = bytes === undefined ? undefined : await budget.spill(bytes);
    const sent: WireTask = spilled === undefined ? task : { ...task, bytes: undefined, bytesPath: spilled };
    const child = this.idle.pop() ?? this.start();
    let outcome: Awaited<ReturnType<ReaderChild['run']>>;
    try {
      outcome = await child.run(sent, { signal: budget.signal, timeoutMs: budget.remainingMs });
    } catch (error) {
      budget.signal?.throwIfAborted();
      throw this.describeFailure(error);
    } finally {
      if (child.alive) this.idle.push(child);
      else this.all.delete(child);
      this.releaseThread();
    }
    budget.spend(outcome.busyMs);
    const { answer } = outcome;
    for (const stray of answer.strayRejections) this.options.onStrayError?.(stray);
    if (!answer.ok) throw reviveError(answer.error);
    return (task.type === 'render' ? asRenderedPage(answer.value) : answer.value) as ReaderResults[Type];
  }

  /** Starts a reader process (it loads pdf.js before it is ready), so the first upload does not wait for it. */
  async warmUp(): Promise<void> {
    const child = this.idle.find((candidate) => candidate.alive) ?? this.start();
    if (!this.idle.includes(child)) this.idle.push(child);
    await child.whenReady();
  }

  /** Stops every reader process; files still being read fail. */
  async close(): Promise<void> {
    for (const child of this.all) child.kill();
    this.all.clear();
    this.idle.length = 0;
  }

  private start(): ReaderChild {
    const child = new ReaderChild(this.options.memoryMb);
    this.all.add(child);
    return child;
  }

  private async acquireThread(signal: AbortSignal | undefined): Promise<void> {
    if (this.running < this.options.readers) {
      this.running++;
      return;
    }
    if (this.waiting.length >= this.options.maxWaiting) {
      throw new IngestError('reader-busy', 'Too many files are being read right now. Try again in a minute.');
    }
    await new Promise<void>((resolve, reject) => {
      const turn = () => {
        signal?.removeEventListener('abort', cancel);
        resolve();
      };
      const cancel = () => {
        this.waiting.splice(this.waiting.indexOf(turn), 1);
        reject(signal?.reason as Error);
      };
      signal?.addEventListener('abort', cancel, { once: true });
      this.waiting.push(turn);
    });
  }

  private releaseThread(): void {
    const next = this.waiting.shift();
    // The thread passes straight to the next file waiting; `running` stays the same.
    if (next) next();
    else this.running--;
  }

  private tooSlow(cause?: unknown): IngestError {
    return new IngestError(
      'too-slow',
      `Reading this file took longer than ${Math.round(this.options.timeoutMs / 1000)} s, the limit per file, ` +
        `so it was stopped. ${ADVICE}`,
      { cause },
    );
  }

  private describeFailure(error: unknown): IngestError {
    const stop = error instanceof ReaderStoppedError ? error.stop.reason : undefined;
    if (stop === 'timeout') return this.tooSlow(error);
    if (stop === 'out-of-memory') {
      return new IngestError(
        'too-much-memory',
        `Reading this file needed more than ${this.options.memoryMb} MB of memory, the limit per file, ` +
          `so it was stopped. ${ADVICE}`,
        { cause: error },
      );
    }
    return new IngestError(
      'reader-failed',
      'This file could not be read: the reader stopped on it. It may be damaged; try saving it again.',
      { cause: error },
    );
  }
}

const ADVICE = 'Split it into smaller files and send them one at a time.';

/** The file's own error, rebuilt as the class it was in the reader process. */
function reviveError(error: { name: string; code: string; message: string }): Error {
  if (error.name === 'MediaError') return new MediaError(error.code as MediaErrorCode, error.message);
  return new IngestError(error.code as IngestErrorCode, error.message);
}

/** A rendered page's bytes arrive as a plain Uint8Array; callers expect a Buffer. */
function asRenderedPage(value: unknown): ReaderResults['render'] {
  const page = value as ReaderResults['render'];
  return { ...page, data: Buffer.from(page.data.buffer, page.data.byteOffset, page.data.byteLength) };
}

let shared: DocumentReader | undefined;
let sharedOptions: Partial<DocumentReaderOptions> = {};

/**
 * Sets the options of the process's reader pool (from configuration). Entry points
 * call it before reading anything; a pool created earlier is closed and replaced.
 */
export function configureSharedDocumentReader(options: Partial<DocumentReaderOptions>): DocumentReader {
  sharedOptions = options;
  const previous = shared;
  shared = new DocumentReader(sharedOptions);
  void previous?.close();
  return shared;
}

/** The program's reader pool: reader processes are a per-machine resource, shared by every conversation. */
export function sharedDocumentReader(): DocumentReader {
  shared ??= new DocumentReader(sharedOptions);
  return shared;
}

export { ReadBudget } from './read-budget.ts';
