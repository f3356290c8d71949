import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planBrowserTest } from '../../test/support/chromium.ts';
import { recordingConversations, startTestServer, TestBrowser, type TestServer } from './test-server.ts';

/**
 * A text frame over the socket's 1 MB limit must close that socket with 1009 (message too
 * big), as the client sees it: a client still sending its frame must get the close frame,
 * not a reset connection (which browsers report as 1006).
 */

// The same rule as web/browser.test.ts: skipped in one line without Chromium, a failure under CI.
const BROWSER = planBrowserTest({ env: process.env });
if (BROWSER.action === 'skip') process.stderr.write(`oversized-message.test.ts: ${BROWSER.reason}\n`);

const SIZES = [1100 * 1024, 2 * 1024 * 1024, 8 * 1024 * 1024];

describe('a text frame over the limit', () => {
  let server: TestServer;
  const conversations = recordingConversations(() => server);
  beforeAll(async () => {
    server = await startTestServer({ startConversation: conversations.start });
  });
  afterAll(() => server?.close());

  it.each(SIZES)(
    'of %i bytes reaches a client that is still sending it as a 1009 close frame',
    async (size) => {
      const browser = new TestBrowser(server.url);
      await browser.postJson('/api/session');
      expect(await closeCodeWhileSending(server.url, browser.cookieHeader, size)).toBe(1009);
    },
  );

  describe.skipIf(BROWSER.action === 'skip')('in Chromium', () => {
    let chrome: Browser;
    beforeAll(async () => {
      if (BROWSER.action !== 'run') throw new Error(BROWSER.reason);
      chrome = await chromium.launch({
        executablePath: BROWSER.executable,
        args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-sync'],
      });
    });
    afterAll(() => chrome?.close());

    it.each(SIZES)('of %i bytes closes the socket with 1009 as the page sees it', async (size) => {
      const page = await chrome.newPage();
      try {
        // Any page of the server's own origin: the socket's Origin check wants this site.
        await page.goto(`${server.url}/healthz`);
        // A string: this file is type-checked without the DOM library.
        const closed = await page.evaluate(`(async () => {
          await fetch('/api/session', { method: 'POST' });
          const socket = new WebSocket('ws://' + location.host + '/api/socket');
          await new Promise((resolve, reject) => {
            socket.onopen = resolve;
            socket.onerror = reject;
          });
          const ready = new Promise((resolve) => (socket.onmessage = resolve));
          socket.send(JSON.stringify({ type: 'hello', protocol: 1, sampleRate: 16000 }));
          await ready;
          const closing = new Promise((resolve) => (socket.onclose = resolve));
          socket.send(JSON.stringify({ type: 'text', text: 'x'.repeat(${size}) }));
          return (await closing).code;
        })()`);
        expect(closed).toBe(1009);
      } finally {
        await page.close();
      }
    });
  });
});

/**
 * Opens the socket by hand, announces a text frame of `size` bytes and sends the first
 * 64 KB, then more after a pause (as a slow uplink would), and only then reads: the close
 * code the server sent, or undefined when the connection was reset before it could be read.
 */
async function closeCodeWhileSending(url: string, cookie: string, size: number): Promise<number | undefined> {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => undefined);
  const pause = () => new Promise((resolve) => setTimeout(resolve, 200));
  try {
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      [
        'GET /api/socket HTTP/1.1',
        `Host: ${hostname}:${port}`,
        'Connection: Upgrade',
        'Upgrade: websocket',
        'Sec-WebSocket-Version: 13',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
        `Cookie: ${cookie}`,
        '',
        '',
      ].join('\r\n'),
    );
    let received = Buffer.alloc(0);
    await new Promise<void>((resolve) => {
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        const end = received.indexOf('\r\n\r\n');
        if (end < 0) return;
        received = received.subarray(end + 4);
        socket.off('data', onData);
        resolve();
      };
      socket.on('data', onData);
    });
    socket.pause();
    // A masked text frame with a 64-bit length: FIN + text, mask bit + 127, length, mask key.
    const header = Buffer.alloc(14);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(BigInt(size), 2);
    randomBytes(4).copy(header, 10);
    socket.write(Buffer.concat([header, Buffer.alloc(64 * 1024, 0x20)]));
    await pause();
    socket.write(Buffer.alloc(64 * 1024, 0x20));
    await pause();
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.resume();
    await pause();
    // A close frame from the server: 0x88, a 7-bit length, then the 16-bit code.
    const closeAt = received.indexOf(0x88);
    return closeAt >= 0 && received.length >= closeAt + 4 ? received.readUInt16BE(closeAt + 2) : undefined;
  } finally {
    socket.destroy();
  }
}
