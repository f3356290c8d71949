import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { startFakes, type Fakes } from '../test/fakes/index.ts';
import { startApp, type RunningApp } from '../web/app-process.ts';

/** Generous for a loaded machine: it ends a conversation, summarizes it and closes the database. */
const EXIT_WITHIN_MS = 15_000;

describe('npm start', () => {
  let fakes: Fakes;
  let dataDir: string;
  let app: RunningApp | undefined;

  beforeAll(async () => {
    fakes = await startFakes();
    // Long enough that the agent is still speaking when the signal comes.
    fakes.openai.chatResponder = () => ({ text: 'Here is a long answer to keep me talking. '.repeat(30) });
    dataDir = await mkdtemp(path.join(tmpdir(), 'start-'));
  });
  afterAll(async () => {
    if (app?.process.exitCode === null) app.process.kill('SIGKILL');
    await fakes?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('exits with 0 on SIGTERM while the agent speaks through an open text-to-speech socket', async () => {
    app = await startApp({ ...fakes.environment, DATA_DIR: dataDir });
    const running = app;
    const session = await fetch(`${running.url}/api/session`, { method: 'POST' });
    const cookie = session.headers
      .getSetCookie()
      .map((header) => header.split(';')[0])
      .join('; ');
    const { socketPath } = (await session.json()) as { socketPath: string };
    const socket = new WebSocket(`${running.url.replace(/^http/, 'ws')}${socketPath}`, {
      headers: { cookie, origin: running.url },
    });
    const speaking = new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('open', () => socket.send(JSON.stringify({ type: 'hello', protocol: 1, sampleRate: 16000 })));
      socket.on('message', (data, isBinary) => {
        if (isBinary) return;
        const message = JSON.parse(data.toString()) as { type: string; state?: string };
        if (message.type === 'ready') socket.send(JSON.stringify({ type: 'text', text: 'tell me a story' }));
        if (message.type === 'agent_state' && message.state === 'speaking') resolve();
      });
    });
    await speaking;
    expect(fakes.elevenlabs.connections.some((connection) => connection.closedAt === undefined)).toBe(true);

    const signalled = Date.now();
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      running.process.once('exit', (code, signal) => resolve({ code, signal })),
    );
    running.process.kill('SIGTERM');
    const outcome = await Promise.race([
      exit,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), EXIT_WITHIN_MS)),
    ]);
    expect(outcome, running.output.join('')).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalled).toBeLessThan(EXIT_WITHIN_MS);
    socket.terminate();
  }, 180_000); // starting the app (page build, models, database) takes a minute on a loaded machine
});
