import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../db/index.ts';
import type { ServerMessage } from '../protocol/index.ts';
import { startFakes, type Fakes } from '../test/fakes/index.ts';
import { countAllRows } from '../test/fixtures/ingest/database-state.ts';
import { buildReportPdf } from '../test/fixtures/ingest/prose-pdf.ts';
import { startApp, stopApp, type RunningApp } from '../web/app-process.ts';
import { TestBrowser } from '../web/server/test-server.ts';

/**
 * `kill -9` of `npm start` while a document upload is being read, on the embedded
 * database: the next start's sweep (agent/startup-sweep.ts) removes the half-read upload's
 * row and file and ends the conversation, and the database opens and answers.
 */
describe('a server killed with SIGKILL in the middle of reading an upload', () => {
  let fakes: Fakes;
  let dataDir: string;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'assistant-kill-'));
    fakes = await startFakes();
  });
  afterAll(async () => {
    await stopApp(app?.process);
    await fakes?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves no upload row, file or open conversation after the restart, and an intact database', async () => {
    const settings = { ...fakes.environment, DATA_DIR: dataDir };
    const embeddingDimensions = Number(fakes.environment.EMBEDDING_DIMENSIONS);
    const uploads = path.join(dataDir, 'uploads');
    app = await startApp(settings);
    const browser = new TestBrowser(app.url);
    expect((await browser.postJson('/api/session')).ok).toBe(true);
    const socket = await browser.openSocket();
    const { sessionId } = await socket.hello();

    // The embeddings never answer: the document stays in the middle of being read.
    fakes.openai.latency.embeddings = 600_000;
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(buildReportPdf(3))], { type: 'application/pdf' }),
      'report.pdf',
    );
    const response = await browser.request(`/api/uploads?session=${sessionId}`, {
      method: 'POST',
      body: form,
    });
    expect(response.status).toBe(202);
    await socket.waitFor(
      (message): message is ServerMessage =>
        message.type === 'upload_progress' && message.stage === 'reading',
      30_000,
    );
    const deadline = Date.now() + 30_000;
    while (fakes.openai.requestsTo('/embeddings').length === 0) {
      if (Date.now() > deadline) throw new Error('the upload never reached its embeddings');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const storedBefore = await readdir(uploads);
    expect(storedBefore).toHaveLength(1);

    const killed = app.process;
    const exited = new Promise((resolve) => killed.once('exit', (_code, signal) => resolve(signal)));
    killed.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    socket.close();
    // What the killed process left: the file is still there (the row too, checked below by its absence after).
    expect(await readdir(uploads)).toEqual(storedBefore);

    fakes.openai.latency.embeddings = 0;
    app = await startApp(settings);
    // The sweep ran before the server listened: the file is gone already.
    expect(await readdir(uploads)).toEqual([]);
    await stopApp(app.process);
    app = undefined;

    const database = await openDatabase({ dataDir, embeddingDimensions });
    try {
      const rows = await countAllRows(database.pool);
      expect({ uploads: rows.uploads, documents: rows.documents, chunks: rows.chunks }).toEqual({
        uploads: 0,
        documents: 0,
        chunks: 0,
      });
      expect(rows.conversations).toBeGreaterThan(0);
      const open = await database.pool.query('select id from conversations where ended_at is null');
      expect(open.rows).toEqual([]);
      // Every table and index can be read end to end.
      await database.pool.query('vacuum analyze');
      const users = await database.pool.query<{ count: string }>('select count(*) from users');
      expect(Number(users.rows[0]?.count)).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  }, 240_000);
});
