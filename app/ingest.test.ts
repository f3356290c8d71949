import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hybridSearch, openDatabase, resolveUser } from '../db/index.ts';
import { startFakes, type Fakes } from '../test/fakes/index.ts';
import { buildProsePdf, wrapText } from '../test/fixtures/ingest/prose-pdf.ts';
import { buildScannedPageJpeg } from '../test/fixtures/media/image-fixtures.ts';
import { buildPdf, buildPdfWithDamagedPages, fixturePath } from '../test/fixtures/media/pdf-fixtures.ts';
import { meetingRecordings, recordingFixture } from '../test/fixtures/recordings/meeting.ts';
import { runApp, type CommandOutcome } from '../test/support/run-command.ts';

const DIMENSIONS = 16;

/** One result of `--json`, the fields the tests look at. */
interface FileResult {
  file: string;
  status: string;
  pages: number | null;
  chunks: number | null;
  transcribedPages: number[];
  error: { code: string; message: string } | null;
}

// Each test runs the command as tsx child processes; on a loaded two-core machine one takes up to a minute.
vi.setConfig({ testTimeout: 400_000 });

describe('npm run ingest', () => {
  let fakes: Fakes;
  let root: string;
  let documents: string;
  let env: Record<string, string>;

  /** Runs the command's entry point as a child process, in `root`, on the embedded database. */
  const runIngest = (args: string[]): Promise<CommandOutcome> =>
    runApp(
      'ingest.ts',
      args,
      { ...env, DATABASE_URL: '', LOG_LEVEL: 'silent' },
      { cwd: root, timeoutMs: 240_000 },
    );

  beforeAll(async () => {
    fakes = await startFakes({
      openai: { embeddingDimensions: DIMENSIONS },
      deepgram: { recordings: meetingRecordings() },
    });
    fakes.openai.chatResponder = (request) => {
      if (request.images.length !== 1) return { text: '(no image)' };
      const transcribing = JSON.stringify(request.body.messages[0]).includes('transcribe');
      return {
        text: transcribing ? 'Meter reading 88213 recorded by the technician.' : 'A plain red square.',
      };
    };
    root = await mkdtemp(path.join(tmpdir(), 'ingest-cli-'));
    documents = path.join(root, 'documents');
    env = {
      ...fakes.environment,
      EMBEDDING_DIMENSIONS: String(DIMENSIONS),
      DATA_DIR: path.join(root, 'data'),
      VISION_MODEL: 'gpt-4o-mini',
    };
    await mkdir(path.join(documents, 'notes', '.drafts'), { recursive: true });
    await mkdir(path.join(documents, 'scans'), { recursive: true });
    await writeFile(
      path.join(documents, 'manual.pdf'),
      buildProsePdf([
        wrapText('Boiler manual. Bleed the radiators every autumn.'),
        wrapText('The boiler pressure should read 1.5 bar when cold.'),
      ]),
    );
    await writeFile(path.join(documents, 'notes', 'garden.md'), '# Garden\n\nWater the tomatoes at dawn.\n');
    await writeFile(path.join(documents, 'notes', '.drafts', 'hidden.txt'), 'Never ingested.');
    await writeFile(path.join(documents, 'notes', '.DS_Store'), 'Never ingested either.');
    await writeFile(path.join(documents, 'scans', 'meter.pdf'), buildPdf([await buildScannedPageJpeg()]));
    await writeFile(path.join(documents, 'scans', 'locked.pdf'), readFileSync(fixturePath('encrypted.pdf')));
    await writeFile(
      path.join(documents, 'photo.png'),
      await sharp({ create: { width: 32, height: 24, channels: 3, background: '#c33' } })
        .png()
        .toBuffer(),
    );
  });
  afterAll(async () => {
    await fakes?.close();
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('ingests a folder tree as shared documents, reports each file as JSON and fails for the bad ones', async () => {
    const run = await runIngest(['documents', 'missing.pdf', '--json']);
    expect(run.code).toBe(1);
    const results = JSON.parse(run.stdout) as FileResult[];
    const byFile = new Map(results.map((result) => [result.file, result]));
    expect([...byFile.keys()]).toEqual([
      path.join('documents', 'manual.pdf'),
      path.join('documents', 'notes', 'garden.md'),
      path.join('documents', 'photo.png'),
      path.join('documents', 'scans', 'locked.pdf'),
      path.join('documents', 'scans', 'meter.pdf'),
      'missing.pdf',
    ]);
    expect(byFile.get(path.join('documents', 'manual.pdf'))).toMatchObject({
      status: 'created',
      pages: 2,
      chunks: 2,
    });
    expect(byFile.get(path.join('documents', 'notes', 'garden.md'))).toMatchObject({
      status: 'created',
      chunks: 1,
    });
    expect(byFile.get(path.join('documents', 'photo.png'))).toMatchObject({ status: 'created', chunks: 1 });
    expect(byFile.get(path.join('documents', 'scans', 'meter.pdf'))).toMatchObject({
      status: 'created',
      transcribedPages: [1],
    });
    expect(byFile.get(path.join('documents', 'scans', 'locked.pdf'))).toMatchObject({
      status: 'failed',
      error: { code: 'encrypted', message: expect.stringMatching(/password-protected/) },
    });
    expect(byFile.get('missing.pdf')).toMatchObject({
      status: 'failed',
      error: { message: 'No such file or folder.' },
    });
    // Without a terminal, progress is one plain line per file on stderr.
    expect(run.stderr).toMatch(
      /^\[4\/5\] documents\/scans\/locked\.pdf: failed: This PDF is password-protected/m,
    );
    expect(run.stderr).not.toContain('\x1b[');
  });

  it('prints a summary table, skipping unchanged files without asking for embeddings', async () => {
    const embeddingRequests = fakes.openai.requestsTo('/embeddings').length;
    const chatRequests = fakes.openai.chatBodies().length;
    const run = await runIngest(['documents/manual.pdf', 'documents/scans/meter.pdf']);
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^file\s+pages\s+duration\s+chunks\s+time\s+status$/);
    expect(lines[1]).toMatch(/^documents\/manual\.pdf\s+2\s+-\s+2\s+\d+\.\d s\s+unchanged$/);
    expect(lines[2]).toMatch(/^documents\/scans\/meter\.pdf\s+1\s+-\s+1\s+\d+\.\d s\s+unchanged$/);
    expect(lines.at(-1)).toBe('2 files: 2 ingested as shared documents, 0 failed.');
    expect(fakes.openai.requestsTo('/embeddings').length).toBe(embeddingRequests);
    expect(fakes.openai.chatBodies().length).toBe(chatRequests);
  });

  it("stores a user's own documents with --user, searchable by them next to the shared ones", async () => {
    const run = await runIngest(['documents/notes', '--user', 'web:cli-tester', '--json']);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject([{ file: 'documents/notes/garden.md', status: 'created' }]);

    const database = await openDatabase({ dataDir: env.DATA_DIR as string, embeddingDimensions: DIMENSIONS });
    try {
      const { rows } = await database.pool.query<{ title: string; shared: boolean }>(
        'select title, owner_id is null as shared from documents order by title, shared',
      );
      expect(rows).toEqual([
        { title: 'Garden', shared: false },
        { title: 'Garden', shared: true },
        { title: 'manual.pdf', shared: true },
        { title: 'meter.pdf', shared: true },
        { title: 'photo.png', shared: true },
      ]);
      const owner = await resolveUser(database.pool, { kind: 'web', value: 'cli-tester' });
      const meter = await hybridSearch(database.pool, { userId: owner, text: 'meter reading technician' });
      expect(meter[0]).toMatchObject({ title: 'meter.pdf', pageStart: 1 });
      const garden = await hybridSearch(database.pool, { userId: owner, text: 'water tomatoes' });
      expect(garden.map((hit) => hit.title)).toEqual(['Garden', 'Garden']);
    } finally {
      await database.close();
    }
  });

  it('reads the files after a damaged PDF and prints its report', async () => {
    const folder = path.join(root, 'damaged');
    await mkdir(folder, { recursive: true });
    // Read in name order: the damaged PDF first, then a good file.
    await writeFile(path.join(folder, 'a-damaged.pdf'), buildPdfWithDamagedPages());
    await writeFile(path.join(folder, 'b-notes.txt'), 'The spare key is under the blue flower pot.\n');
    const run = await runIngest(['damaged', '--json']);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject([
      { file: 'damaged/a-damaged.pdf', status: 'failed', error: { code: 'corrupt' } },
      { file: 'damaged/b-notes.txt', status: 'created', chunks: 1 },
    ]);
  });

  it('transcribes a recording through Deepgram and prints the duration read from its headers', async () => {
    const folder = path.join(root, 'recordings');
    await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, 'meeting.mp3'), recordingFixture('meeting.mp3'));
    const table = await runIngest(['recordings/meeting.mp3']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split('\n');
    // music-metadata reads 6.48 s from the MP3's frames (the encoder's padding included).
    expect(lines[1]).toMatch(/^recordings\/meeting\.mp3\s+-\s+0:06\s+1\s+\d+\.\d s\s+created$/);
    const request = fakes.deepgram.requests.at(-1);
    expect(request?.query.get('diarize')).toBe('true');
    expect(request?.query.get('utterances')).toBe('true');

    const again = await runIngest(['recordings/meeting.mp3', '--json']);
    expect(again.code).toBe(0);
    // JSON alone on stdout.
    expect(JSON.parse(again.stdout)).toMatchObject([
      { file: 'recordings/meeting.mp3', status: 'unchanged', kind: 'recording', durationMs: 6480, chunks: 1 },
    ]);
    const database = await openDatabase({ dataDir: env.DATA_DIR as string, embeddingDimensions: DIMENSIONS });
    try {
      const anyone = await resolveUser(database.pool, { kind: 'web', value: 'recording-listener' });
      const [hit] = await hybridSearch(database.pool, { userId: anyone, text: 'dial the number again' });
      expect(hit).toMatchObject({ title: 'meeting.mp3', startMs: 110, endMs: 6230, speaker: 'Speaker 1' });
    } finally {
      await database.close();
    }
  });

  it('explains its usage and refuses a malformed --user before touching the database', async () => {
    const none = await runIngest([]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: Name at least one file or folder\. Usage: npm run ingest/);
    const badUser = await runIngest(['documents', '--user', 'phone:12345']);
    expect(badUser.code).toBe(1);
    expect(badUser.stderr).toMatch(/phone numbers are written in E\.164/);
    expect(badUser.stdout).toBe('');
  });
});
