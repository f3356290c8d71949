import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeWav, startFakes, type Fakes } from '../test/fakes/index.ts';
import { meetingRecordings, recordingFixture } from '../test/fixtures/recordings/meeting.ts';
import { planBrowserTest } from '../test/support/chromium.ts';
import { explainPageFailure } from '../test/support/page-failure.ts';
import { startApp, stopApp, type RunningApp } from './app-process.ts';

/**
 * A recording dropped into the page in headless Debian Chromium, against `npm start`'s
 * code path with every provider pointed at the wire-level fakes: it is acknowledged,
 * listened to, an answer cites its moment, and the ▶ beside the citation plays the
 * stored upload from there (through the server's Range requests).
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
const PLAN = planBrowserTest({ env: process.env });
if (PLAN.action === 'skip') process.stderr.write(`${PLAN.reason}\n`);
const ANSWER = 'It says to check the number and dial again.';

describe.skipIf(PLAN.action === 'skip')('a recording in the page', () => {
  let fakes: Fakes;
  let app: RunningApp;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    if (PLAN.action !== 'run') throw new Error(PLAN.reason);
    await mkdir(ARTIFACTS, { recursive: true });
    // A silent microphone: this visit is typed.
    const microphone = path.join(ARTIFACTS, 'silent-microphone.wav');
    await writeFile(microphone, encodeWav(new Int16Array(16_000), 16_000));
    dataDir = await mkdtemp(path.join(tmpdir(), 'assistant-recording-'));
    fakes = await startFakes({ deepgram: { recordings: meetingRecordings() } });
    fakes.openai.chatResponder = (request) =>
      JSON.stringify(request.body.messages).includes('dial again')
        ? { text: `${ANSWER} [S1]` }
        : { text: `You said: ${request.lastUserText}` };
    [app, browser] = await Promise.all([
      startApp({ ...fakes.environment, DATA_DIR: dataDir }),
      chromium.launch({
        executablePath: PLAN.executable,
        args: [
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          `--use-file-for-fake-audio-capture=${microphone}`,
          '--autoplay-policy=no-user-gesture-required',
        ],
      }),
    ]);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await stopApp(app?.process);
    await fakes?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('is listened to, cited as "title, m:ss (speaker)", and played from the cited moment', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await explainPageFailure(
      page,
      path.join(ARTIFACTS, 'recording-failure.png'),
      () => app.output.join(''),
      async () => {
        await page.goto(app.url);
        await expect.poll(() => page.locator('#connect').isEnabled()).toBe(true);
        await page.locator('#connect').click();
        await expect
          .poll(() => page.locator('#connect').textContent(), { timeout: 20_000 })
          .toBe('Disconnect');

        await page.locator('#file-input').setInputFiles({
          name: 'meeting.ogg',
          mimeType: 'audio/ogg',
          buffer: recordingFixture('meeting.ogg'),
        });
        const line = (text: string) =>
          page.locator('li.line.assistant[data-final="true"]', { hasText: text });
        await line("Got it, a 6-second recording; I'll listen to it.").waitFor({ timeout: 20_000 });
        await line("I've listened to meeting.").waitFor({ timeout: 30_000 });

        await page.locator('#text-input').fill('What does the recording say?');
        await page.locator('#text-input').press('Enter');
        const answer = line(ANSWER);
        await answer.waitFor({ timeout: 20_000 });
        const citation = answer.locator('.citations li');
        expect(await citation.innerText()).toMatch(/^meeting\.ogg, 0:00 \(Speaker 1\)/);

        await citation.locator('button.play-moment').click();
        const audio = citation.locator('audio');
        // Playing, and past the cited moment: the server answered the element's Range requests.
        await audio.evaluate(
          (element: { paused: boolean; currentTime: number }) =>
            new Promise<void>((resolve) => {
              const check = () =>
                !element.paused && element.currentTime > 0.5 ? resolve() : setTimeout(check, 50);
              check();
            }),
          undefined,
          { timeout: 15_000 },
        );
        expect(await audio.getAttribute('src')).toMatch(/^\/api\/recordings\/[0-9a-f-]{36}\/media#t=0\.11$/);
        await answer.screenshot({ path: path.join(ARTIFACTS, 'recording-citation.png') });
      },
    );
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 150_000);
});
