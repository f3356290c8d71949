/**
 * A document reader process (see ingest/document-reader.ts): runs reader tasks sent
 * over IPC, one at a time, and answers with plain data, errors included, since class
 * instances do not survive the trip between processes. Started through
 * reader-process-bootstrap.mjs.
 */
import { AppError } from '../protocol/index.ts';
import { readFile } from 'node:fs/promises';
import { runReaderTask, type ReaderTask, type WireTask } from './reader-tasks.ts';
import { onePagePdf } from './warm-up.ts';

/** An error of the file's own (a `MediaError` or `IngestError`), as data. */
export interface ErrorData {
  readonly name: string;
  readonly code: string;
  readonly message: string;
}

/** A task's answer, with the rejections nobody handled in this process since the last answer. */
export type ReaderAnswer =
  | { readonly ok: true; readonly value: unknown; readonly strayRejections: string[] }
  | { readonly ok: false; readonly error: ErrorData; readonly strayRejections: string[] };

/** What the main process sends, and what comes back. */
export interface ReaderRequest {
  readonly id: number;
  readonly task: WireTask;
}
export type ReaderReply =
  { readonly id: number; readonly answer: ReaderAnswer } | { readonly id: number; readonly failure: string };

let strayRejections: string[] = [];
// Unhandled, a rejection would end this process and the file with it: noted and
// reported to the main process, which logs and counts it.
process.on('unhandledRejection', (reason) => {
  strayRejections.push(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
});

function takeStrayRejections(): string[] {
  const taken = strayRejections;
  strayRejections = [];
  return taken;
}

/** Runs one task; anything not the file's own fault is thrown. */
export async function answerReaderTask(task: ReaderTask): Promise<ReaderAnswer> {
  try {
    const value = await runReaderTask(task);
    return { ok: true, value, strayRejections: takeStrayRejections() };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return {
      ok: false,
      error: { name: error.name, code: error.code, message: error.message },
      strayRejections: takeStrayRejections(),
    };
  }
}

/** The task with its bytes, read from the temporary copy when they came as a path. */
async function receive(task: WireTask): Promise<ReaderTask> {
  if (!('bytesPath' in task)) return task as ReaderTask;
  const { bytesPath, ...rest } = task;
  return { ...rest, bytes: await readFile(bytesPath) } as ReaderTask;
}

if (process.send) {
  // The main process went away (it ended, or was killed): nothing is left to read for.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (request: ReaderRequest) => {
    receive(request.task)
      .then(answerReaderTask)
      .then(
        (answer) => process.send?.({ id: request.id, answer } satisfies ReaderReply),
        (error: unknown) =>
          process.send?.({
            id: request.id,
            failure: error instanceof Error ? (error.stack ?? error.message) : String(error),
          } satisfies ReaderReply),
      );
  });
  // pdf.js loads its parser on the first PDF (about a second): before this process
  // says it is ready, so no file's time limit pays for it.
  const limits = { maxBytes: 1_000_000, maxPixels: 1, maxPages: 1, maxRecordingMs: 3_600_000 };
  await runReaderTask({ type: 'inspect-pdf', bytes: onePagePdf(), limits }).catch(() => undefined);
  process.send({ id: 0, answer: { ok: true, value: 'ready', strayRejections: [] } } satisfies ReaderReply);
}
