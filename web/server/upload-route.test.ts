import { readdir } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { buildReportPdf } from '../../test/fixtures/ingest/prose-pdf.ts';
import { fixturePath } from '../../test/fixtures/media/pdf-fixtures.ts';
import { readFileSync } from 'node:fs';
import type { ServerMessage, UploadResponse } from '../../protocol/index.ts';
import {
  recordingConversations,
  startTestServer,
  TestBrowser,
  type TestServer,
  type TestSocket,
} from './test-server.ts';

const LIMIT = 256 * 1024;

describe('POST /api/uploads', () => {
  let server: TestServer;
  const conversations = recordingConversations(() => server);
  beforeAll(async () => {
    server = await startTestServer({
      env: { UPLOAD_MAX_BYTES: String(LIMIT) },
      startConversation: conversations.start,
    });
  });
  afterAll(() => server?.close());

  async function connect(): Promise<{ browser: TestBrowser; socket: TestSocket; sessionId: string }> {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const socket = await browser.openSocket();
    const { sessionId } = await socket.hello();
    return { browser, socket, sessionId };
  }

  function upload(browser: TestBrowser, sessionId: string, bytes: Buffer, fileName: string, type: string) {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(bytes)], { type }), fileName);
    return browser.request(`/api/uploads?session=${sessionId}`, { method: 'POST', body: form });
  }

  const storedFiles = () => readdir(server.config.database.uploadsDirectory).catch(() => [] as string[]);

  it('puts an uploaded image into the live conversation, stored under a random name and recorded', async () => {
    const { browser, socket, sessionId } = await connect();
    const png = await sharp({ create: { width: 3000, height: 1000, channels: 3, background: '#c00' } })
      .png()
      .toBuffer();
    const response = await upload(browser, sessionId, png, '../../etc/holiday photo.png', 'image/png');
    expect(response.status).toBe(200);
    const body = (await response.json()) as UploadResponse;
    expect(body).toMatchObject({ kind: 'image', status: 'ready' });

    const conversation = conversations.started.at(-1);
    expect(conversation?.images).toHaveLength(1);
    expect(conversation?.images[0]).toMatchObject({
      // The client's path is dropped: only the name is kept.
      fileName: 'holiday photo.png',
      image: { mime: 'image/jpeg', width: 2048, height: 683 },
    });
    const files = await storedFiles();
    expect(files).toContainEqual(expect.stringMatching(/^[0-9a-f-]{36}\.png$/));
    const { rows } = await server.test.database.pool.query(
      'select file_name, mime_type, byte_size::int as byte_size, path, conversation_id from uploads where id = $1',
      [body.uploadId],
    );
    expect(rows[0]).toMatchObject({
      file_name: 'holiday photo.png',
      mime_type: 'image/png',
      byte_size: png.length,
      conversation_id: conversation?.conversationId,
    });
    expect(files).toContain(rows[0].path);
    socket.close();
  });

  it.each([
    ['a NUL', 'report\u0000 final.png', 'report final.png'],
    ['only control characters', '\u0000\u0001.png', '.png'],
    ['a bell and an escape', 'bell\u0007\u001b.png', 'bell .png'],
    ['a right-to-left override', 'photo\u202Egnp.exe.png', 'photognp.exe.png'],
  ])('takes a file whose name has %s, under a cleaned name', async (_name, fileName, stored) => {
    const { browser, socket, sessionId } = await connect();
    const png = await sharp({ create: { width: 20, height: 10, channels: 3, background: '#0c0' } })
      .png()
      .toBuffer();
    const response = await upload(browser, sessionId, png, fileName, 'image/png');
    expect(response.status).toBe(200);
    const body = (await response.json()) as UploadResponse;
    const { rows } = await server.test.database.pool.query('select file_name from uploads where id = $1', [
      body.uploadId,
    ]);
    expect(rows[0]).toEqual({ file_name: stored });
    expect(conversations.started.at(-1)?.images[0]?.fileName).toBe(stored);
    socket.close();
  });

  it('refuses a declared oversize body with 413 at once, without reading it', async () => {
    const { browser, socket, sessionId } = await connect();
    const before = await storedFiles();
    const started = Date.now();
    const result = await new Promise<{ status: number; sentBytes: number }>((resolve, reject) => {
      const url = new URL(`/api/uploads?session=${sessionId}`, server.url);
      const request = httpRequest(url, {
        method: 'POST',
        headers: {
          cookie: browser.cookieHeader,
          'content-type': 'multipart/form-data; boundary=x',
          'content-length': String(100 * 1024 * 1024),
        },
      });
      let sentBytes = 0;
      request.on('response', (response) => {
        response.resume();
        resolve({ status: response.statusCode ?? 0, sentBytes });
        request.destroy();
      });
      request.on('error', reject);
      // Only a little of the announced 100 MB is ever sent.
      const chunk = Buffer.alloc(16 * 1024);
      request.write(chunk);
      sentBytes += chunk.length;
    });
    expect(result.status).toBe(413);
    expect(result.sentBytes).toBe(16 * 1024);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await storedFiles()).toEqual(before);
    socket.close();
  });

  it('refuses a streamed body with 413 as soon as it passes the limit, before it has all been sent', async () => {
    const { browser, socket, sessionId } = await connect();
    const before = await storedFiles();
    const result = await new Promise<{ status: number; body: string; sentBytes: number }>(
      (resolve, reject) => {
        const url = new URL(`/api/uploads?session=${sessionId}`, server.url);
        // Chunked: no length announced, so only counting the bytes can catch it.
        const request = httpRequest(url, {
          method: 'POST',
          headers: { cookie: browser.cookieHeader, 'content-type': 'multipart/form-data; boundary=x' },
        });
        let sentBytes = 0;
        let answered = false;
        request.on('response', (response) => {
          answered = true;
          let body = '';
          response.on('data', (data: Buffer) => (body += data.toString()));
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body, sentBytes }));
        });
        request.on('error', (error) => (answered ? undefined : reject(error)));
        request.write('--x\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n');
        request.write('Content-Type: image/png\r\n\r\n');
        const chunk = Buffer.alloc(32 * 1024, 1);
        const pump = () => {
          // Up to 40 times the limit, unless the server answers first.
          if (answered || sentBytes > 40 * LIMIT) return request.end();
          request.write(chunk, () => {
            sentBytes += chunk.length;
            setTimeout(pump, 2);
          });
        };
        pump();
      },
    );
    expect(result.status).toBe(413);
    expect(JSON.parse(result.body)).toMatchObject({
      error: 'too_large',
      message: expect.stringContaining('256 KB'),
    });
    expect(result.sentBytes).toBeLessThan(20 * LIMIT);
    expect(await storedFiles()).toEqual(before);
    socket.close();
  });

  it('refuses uploads outside the browser’s own live conversation', async () => {
    const alice = await connect();
    const mallory = new TestBrowser(server.url);
    await mallory.postJson('/api/session');
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } })
      .png()
      .toBuffer();
    expect((await upload(mallory, alice.sessionId, png, 'x.png', 'image/png')).status).toBe(409);
    expect(
      (await upload(alice.browser, '00000000-0000-4000-8000-000000000000', png, 'x.png', 'image/png')).status,
    ).toBe(409);
    const missing = await alice.browser.request('/api/uploads', { method: 'POST' });
    expect(missing.status).toBe(400);
    alice.socket.close();
  });

  it('refuses files it cannot read, in plain words', async () => {
    const { browser, socket, sessionId } = await connect();
    const response = await upload(
      browser,
      sessionId,
      Buffer.from('MZ\x90\x00binary'),
      'setup.exe',
      'application/octet-stream',
    );
    expect(response.status).toBe(415);
    expect(((await response.json()) as { message: string }).message).toMatch(/image|PDF/);
    const fake = await upload(browser, sessionId, Buffer.from('just text'), 'photo.png', 'image/png');
    expect(fake.status).toBe(415);
    socket.close();
  });

  it('reads a PDF in the background: spoken at once, 202, then progress and the result over the socket', async () => {
    const { browser, socket, sessionId } = await connect();
    const response = await upload(browser, sessionId, buildReportPdf(2), 'manual.pdf', 'application/pdf');
    expect(response.status).toBe(202);
    const body = (await response.json()) as UploadResponse;
    expect(body).toMatchObject({ kind: 'document', status: 'reading' });
    const conversation = conversations.started.at(-1);
    expect(conversation?.spoken[0]).toBe('Got it, reading your 2-page PDF.');
    const isProgress =
      (stage: string) =>
      (message: ServerMessage): message is Extract<ServerMessage, { type: 'upload_progress' }> =>
        message.type === 'upload_progress' && message.uploadId === body.uploadId && message.stage === stage;
    await socket.waitFor(isProgress('ready'));
    const percents = socket.messages.filter(isProgress('reading')).map((message) => message.percent ?? 0);
    expect(percents.length).toBeGreaterThan(1);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(conversation?.spoken.at(-1)).toMatch(/^I have read .+\. Ask me anything about it\.$/);
    const { rows } = await server.test.database.pool.query('select document_id from uploads where id = $1', [
      body.uploadId,
    ]);
    expect(rows[0]?.document_id).toMatch(/^[0-9a-f-]{36}$/);
    socket.close();
  });

  it('refuses a locked PDF at once, and undoes a document that turns out unreadable', async () => {
    const { browser, socket, sessionId } = await connect();
    const before = await storedFiles();
    const locked = await upload(
      browser,
      sessionId,
      readFileSync(fixturePath('encrypted.pdf')),
      'locked.pdf',
      'application/pdf',
    );
    expect(locked.status).toBe(422);
    expect(((await locked.json()) as { message: string }).message).toMatch(/password/i);

    // Text with nothing in it to search: accepted, then refused while reading.
    const blank = (await (
      await upload(browser, sessionId, Buffer.from(' \n \n'), 'notes.txt', 'text/plain')
    ).json()) as UploadResponse;
    const failed = await socket.waitFor(
      (message): message is Extract<ServerMessage, { type: 'upload_progress' }> =>
        message.type === 'upload_progress' &&
        message.uploadId === blank.uploadId &&
        message.stage === 'failed',
    );
    expect(failed.message).toBe('"notes.txt" contains no text to search.');
    expect(conversations.started.at(-1)?.spoken.at(-1)).toMatch(/^Sorry, I could not read that file\./);
    const { rows } = await server.test.database.pool.query('select 1 from uploads where id = $1', [
      blank.uploadId,
    ]);
    expect(rows).toEqual([]);
    expect(await storedFiles()).toEqual(before);
    socket.close();
  });
});
