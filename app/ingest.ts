import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import {
  describeUserReference,
  findReferencedUser,
  UserReferenceError,
  type UserReference,
} from '../agent/user-reference.ts';
import { recordStrayRejection } from '../agent/stray-errors.ts';
import { DocumentReader } from '../ingest/document-reader.ts';
import { describeFileError, findFiles } from '../ingest/find-files.ts';
import { ingestFile, type IngestDependencies, type IngestResult } from '../ingest/pipeline.ts';
import type { IngestProgress } from '../ingest/progress.ts';
import { describeBytes, MediaError, type MediaLimits } from '../media/index.ts';
import { formatTimestamp, isUserFacing } from '../protocol/index.ts';
import { parseCommandLine, parseUserArgument, runCommand, UsageError } from './cli.ts';
import { openConfiguredDatabase } from './open-database.ts';
import {
  createConfiguredEmbedder,
  createRecordingTranscriber,
  createVisionClient,
} from '../agent/provider-settings.ts';
import type { Database } from '../db/index.ts';

const USAGE = `Usage: npm run ingest -- <files or folders...> [--user <id>] [--json]

Reads PDFs, images, text, Markdown and HTML files, and recordings (WAV, MP3, M4A,
Ogg/Opus, WebM, FLAC; MP4, WebM and MOV videos for their sound) into the assistant's
documents, so it can answer from them with citations. Folders are read recursively,
skipping names that start with a dot. A file ingested again is skipped when unchanged
and replaced when changed. Scanned pages and images need VISION_MODEL; recordings
need DEEPGRAM_API_KEY (or OpenAI-compatible transcription).
  --user <id>  whose documents they become: a user id (UUID), web:<id> or
               phone:+15551234567 (a new web: or phone: user is created on first use).
               Without it they are shared documents, searchable by every user.
  --json       print one JSON array with a result per file instead of the table

Exits with status 1 when any file failed; the other files are still ingested.`;

/** What happened to one file, as printed in the table and in --json output. */
interface FileReport {
  file: string;
  status: IngestResult['outcome'] | 'failed';
  documentId: string | null;
  title: string | null;
  kind: string | null;
  pages: number | null;
  /** A recording's length in ms, read from its headers; null for other files. */
  durationMs: number | null;
  chunks: number | null;
  unreadablePages: readonly number[];
  transcribedPages: readonly number[];
  embedded: boolean;
  note: string | null;
  timeMs: number;
  error: { code: string; message: string } | null;
}

runCommand(async () => {
  const parsed = parseCommandLine(
    USAGE,
    { user: { type: 'string' }, json: { type: 'boolean' } },
    { positionals: true },
  );
  if (!parsed) return;
  if (parsed.positionals.length === 0) throw new UsageError('Name at least one file or folder.', USAGE);
  const user = parsed.values.user === undefined ? undefined : parseUserArgument(parsed.values.user, USAGE);
  const json = parsed.values.json === true;

  const config = loadConfig();
  const vision = createVisionClient(config);
  const transcriber = createRecordingTranscriber(config);
  const embedder = createConfiguredEmbedder(config);
  if (embedder === undefined) {
    process.stderr.write(
      'note: no embedding model can be used (set OPENAI_API_KEY, or EMBEDDING_BASE_URL for a local server); ' +
        'documents will be found by full-text search only.\n',
    );
  }
  const found = await findFiles(parsed.positionals);
  const database = await openConfiguredDatabase(config);
  const reader = new DocumentReader({
    ...config.documentReader,
    onStrayError: (description) => recordStrayRejection(description, 'a document reader process'),
  });
  try {
    const ownerId = user === undefined ? null : await findOwner(database.pool, user);
    const limits: MediaLimits = {
      maxBytes: config.limits.uploadMaxBytes,
      maxPixels: config.limits.imageMaxPixels,
      maxPages: config.limits.pdfMaxPages,
      maxRecordingMs: config.limits.recordingMaxMs,
    };
    const dependencies: IngestDependencies = { database, embedder, vision, transcriber, limits, reader };
    const display = new ProgressDisplay(process.stderr, found.files.length);
    const reports: FileReport[] = [];
    for (const [index, file] of found.files.entries()) {
      const shown = showPath(file);
      display.start(index, shown);
      const report = await ingestOne(file, shown, ownerId, dependencies, (progress) =>
        display.update(progress),
      );
      display.finish(report);
      reports.push(report);
    }
    for (const problem of found.problems) {
      reports.push(failedReport(problem.path, 0, { code: 'unreadable-path', message: problem.message }));
    }
    if (json) console.log(JSON.stringify(reports, null, 2));
    else printSummary(reports, user);
    return reports.some((report) => report.status === 'failed') ? 1 : 0;
  } finally {
    await reader.close();
    await database.close();
  }
});

async function findOwner(pool: Database['pool'], user: UserReference): Promise<string> {
  const userId = await findReferencedUser(pool, user, { create: true });
  if (userId === undefined) throw new UserReferenceError(`There is no ${describeUserReference(user)}.`);
  return userId;
}

async function ingestOne(
  file: string,
  shown: string,
  ownerId: string | null,
  dependencies: IngestDependencies,
  onProgress: (progress: IngestProgress) => void,
): Promise<FileReport> {
  const started = performance.now();
  const fileName = path.basename(file);
  try {
    // Checked before reading, so a 5 GB file is refused without loading it.
    const { size } = await stat(file);
    if (size > dependencies.limits.maxBytes) {
      throw new MediaError(
        'too-large',
        `"${fileName}" is ${describeBytes(size)}; the limit is ${describeBytes(dependencies.limits.maxBytes)}.`,
      );
    }
    const bytes = await readFile(file);
    const result = await ingestFile({ bytes, fileName, ownerId, sourceName: file }, dependencies, onProgress);
    return {
      file: shown,
      status: result.outcome,
      documentId: result.documentId,
      title: result.title,
      kind: result.kind,
      pages: result.pages,
      durationMs: result.durationMs,
      chunks: result.chunks,
      unreadablePages: result.unreadablePages,
      transcribedPages: result.transcribedPages,
      embedded: result.embedded,
      note: result.note ?? null,
      timeMs: Math.round(performance.now() - started),
      error: null,
    };
  } catch (error) {
    const timeMs = Math.round(performance.now() - started);
    if (isUserFacing(error)) {
      const code = (error as { code?: unknown }).code;
      return failedReport(shown, timeMs, {
        code: typeof code === 'string' ? code : 'error',
        message: error.message,
      });
    }
    if (error instanceof Error && 'syscall' in error) {
      return failedReport(shown, timeMs, { code: 'unreadable-file', message: describeFileError(error) });
    }
    // A bug, not the file's fault: keep the stack for the report, and go on with the other files.
    process.stderr.write(`\nunexpected error on ${shown}: ${(error as Error).stack ?? String(error)}\n`);
    return failedReport(shown, timeMs, {
      code: 'unexpected',
      message: `Unexpected error: ${(error as Error).message}`,
    });
  }
}

function failedReport(file: string, timeMs: number, error: FileReport['error']): FileReport {
  return {
    file,
    status: 'failed',
    documentId: null,
    title: null,
    kind: null,
    pages: null,
    durationMs: null,
    chunks: null,
    unreadablePages: [],
    transcribedPages: [],
    embedded: false,
    note: null,
    timeMs,
    error,
  };
}

/** The path as the user would type it: relative to the working folder when inside it. */
function showPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

/**
 * Progress on stderr: one line rewritten in place on a terminal; elsewhere (a
 * log, a pipe) a plain line per finished file.
 */
class ProgressDisplay {
  private index = 0;
  private shown = '';
  private lastDrawn = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly total: number,
  ) {}

  start(index: number, shown: string): void {
    this.index = index;
    this.shown = shown;
    this.draw(`reading`, 0, true);
  }

  update(progress: IngestProgress): void {
    const detail =
      progress.stage === 'transcribing' && progress.pages !== undefined
        ? `transcribing page ${progress.page ?? 0}/${progress.pages}`
        : progress.stage;
    this.draw(detail, progress.fraction, false);
  }

  finish(report: FileReport): void {
    const outcome =
      report.status === 'failed'
        ? `failed: ${report.error?.message ?? ''}`
        : `${report.status}, ${report.chunks ?? 0} chunks, ${formatSeconds(report.timeMs)}`;
    if (this.stream.isTTY) this.stream.write('\r\x1b[2K');
    else this.stream.write(`${this.counter()} ${this.shown}: ${outcome}\n`);
  }

  private draw(detail: string, fraction: number, force: boolean): void {
    if (!this.stream.isTTY) return;
    // At most ten redraws a second: a terminal repainting per page slows a 500-page ingest.
    const now = performance.now();
    if (!force && now - this.lastDrawn < 100) return;
    this.lastDrawn = now;
    const columns = this.stream.columns || 80;
    const line = `${this.counter()} ${this.shown}  ${detail}  ${Math.round(fraction * 100)}%`;
    this.stream.write(`\r\x1b[2K${line.slice(0, Math.max(10, columns - 1))}`);
  }

  private counter(): string {
    return `[${this.index + 1}/${this.total}]`;
  }
}

function formatSeconds(timeMs: number): string {
  return `${(timeMs / 1000).toFixed(1)} s`;
}

function describeStatus(report: FileReport): string {
  if (report.status === 'failed') return `failed: ${report.error?.message ?? ''}`;
  const remarks: string[] = [];
  if (report.unreadablePages.length > 0) {
    const pages = report.unreadablePages;
    remarks.push(
      `${pages.length === 1 ? 'page' : 'pages'} ${pages.join(', ')} not read (scanned; set VISION_MODEL to read)`,
    );
  }
  if (report.transcribedPages.length > 0)
    remarks.push(`${report.transcribedPages.length} scanned pages read`);
  if (report.note !== null) remarks.push(report.note);
  return remarks.length === 0 ? report.status : `${report.status} (${remarks.join('; ')})`;
}

function printSummary(reports: readonly FileReport[], user: UserReference | undefined): void {
  const rows = reports.map((report) => [
    report.file,
    report.pages === null ? '-' : String(report.pages),
    report.durationMs === null ? '-' : formatTimestamp(report.durationMs),
    report.chunks === null ? '-' : String(report.chunks),
    formatSeconds(report.timeMs),
    describeStatus(report),
  ]);
  const header = ['file', 'pages', 'duration', 'chunks', 'time', 'status'];
  const widths = header.map((cell, column) =>
    Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const format = (cells: readonly string[]): string =>
    cells
      .map((cell, column) =>
        column === cells.length - 1
          ? cell
          : column === 0
            ? cell.padEnd(widths[column] ?? 0)
            : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  console.log(format(header));
  for (const row of rows) console.log(format(row));
  const failed = reports.filter((report) => report.status === 'failed').length;
  const owner = user === undefined ? 'as shared documents' : `for ${describeUserReference(user)}`;
  console.log(
    `\n${reports.length} ${reports.length === 1 ? 'file' : 'files'}: ${reports.length - failed} ingested ${owner}, ${failed} failed.`,
  );
}
