import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordingMediaPath, type ServerMessage, type UploadResponse } from '../../protocol/index.ts';
import { startDeepgramServer, type DeepgramServer } from '../../test/fakes/index.ts';
import { meetingRecordings, recordingFixture } from '../../test/fixtures/recordings/meeting.ts';
import { recordingConversations, startTestServer, TestBrowser, type TestServer } from './test-server.ts';

describe('a recording uploaded through the page, and played back from a citation', () => {
  let server: TestServer;
  let deepgram: DeepgramServer;
  const conversations = recordingConversations(() => server);
  beforeAll(async () => {
    deepgram = await startDeepgramServer({ recordings: meetingRecordings(), finalDelay: 0 });
    server = await startTestServer({
      env: { DEEPGRAM_API_KEY: 'fake-key', DEEPGRAM_BASE_URL: deepgram.baseUrl },
      startConversation: conversations.start,
    });
  });
  afterAll(async () => {
    await server?.close();
    await deepgram?.close();
  });

  /** A browser with a live conversation that uploaded meeting.ogg, once it has been listened to. */
  async function uploadMeeting(): Promise<{ browser: TestBrowser; documentId: string }> {
    const browser = new TestBrowser(server.url);
    await browser.postJson('/api/session');
    const socket = await browser.openSocket();
    const { sessionId } = await socket.hello();
    const form = new FormData();
    form.append(
      'file',
      new Blob([new Uint8Array(recordingFixture('meeting.ogg'))], { type: 'audio/ogg' }),
      'meeting.ogg',
    );
    const response = await browser.request(`/api/uploads?session=${sessionId}`, {
      method: 'POST',
      body: form,
    });
    expect(response.status).toBe(202);
    const body = (await response.json()) as UploadResponse;
    expect(body).toMatchObject({ kind: 'recording', status: 'reading' });
    expect(conversations.started.at(-1)?.spoken[0]).toBe("Got it, a 6-second recording; I'll listen to it.");
    await socket.waitFor(
      (message: ServerMessage): message is Extract<ServerMessage, { type: 'upload_progress' }> =>
        message.type === 'upload_progress' && message.uploadId === body.uploadId && message.stage === 'ready',
    );
    expect(conversations.started.at(-1)?.spoken.at(-1)).toBe(
      "I've listened to meeting. Ask me anything about it.",
    );
    const { rows } = await server.test.database.pool.query<{ document_id: string }>(
      'select document_id from uploads where id = $1',
      [body.uploadId],
    );
    socket.close();
    return { browser, documentId: rows[0]?.document_id ?? '' };
  }

  it('serves the uploader their recording, with Range requests so the page can seek to the moment', async () => {
    const { browser, documentId } = await uploadMeeting();
    const original = recordingFixture('meeting.ogg');

    const whole = await browser.request(recordingMediaPath(documentId));
    expect(whole.status).toBe(200);
    expect(whole.headers.get('content-type')).toBe('audio/ogg');
    expect(whole.headers.get('accept-ranges')).toBe('bytes');
    expect(Buffer.from(await whole.arrayBuffer()).equals(original)).toBe(true);

    const part = await browser.request(recordingMediaPath(documentId), {
      headers: { range: 'bytes=1000-1999' },
    });
    expect(part.status).toBe(206);
    expect(part.headers.get('content-range')).toBe(`bytes 1000-1999/${original.length}`);
    expect(Buffer.from(await part.arrayBuffer()).equals(original.subarray(1000, 2000))).toBe(true);
  });

  it('gives nobody else the recording, and erasing the uploader removes it and its transcript', async () => {
    const { browser, documentId } = await uploadMeeting();
    const stranger = new TestBrowser(server.url);
    await stranger.postJson('/api/session');
    expect((await stranger.request(recordingMediaPath(documentId))).status).toBe(404);
    expect((await browser.request(recordingMediaPath('00000000-0000-4000-8000-000000000000'))).status).toBe(
      404,
    );
    expect((await browser.request(recordingMediaPath('not-a-uuid'))).status).toBe(404);

    const filesBefore = (await readdir(server.config.database.uploadsDirectory)).length;
    const erased = await browser.postJson('/api/erase', { confirm: true });
    expect(erased.status).toBe(200);
    const pool = server.test.database.pool;
    const left = await pool.query('select 1 from chunks where document_id = $1', [documentId]);
    expect(left.rowCount).toBe(0);
    expect((await pool.query('select 1 from documents where id = $1', [documentId])).rowCount).toBe(0);
    expect((await readdir(server.config.database.uploadsDirectory)).length).toBe(filesBefore - 1);
    expect((await browser.request(recordingMediaPath(documentId))).status).toBe(404);
  });
});
