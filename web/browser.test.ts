import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWav, describeChatRequest, encodeWav, startFakes, type Fakes } from '../test/fakes/index.ts';
import { planBrowserTest } from '../test/support/chromium.ts';
import { explainPageFailure } from '../test/support/page-failure.ts';
import { startApp, stopApp, type RunningApp } from './app-process.ts';

/**
 * The page in headless Debian Chromium against `npm start`'s code path (app/start.ts in
 * a child process) with every provider pointed at the wire-level fakes. The fake
 * microphone plays a WAV of the spoken question; Chromium loops it, so the question is
 * padded with enough silence to be asked once.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ARTIFACTS = path.join(ROOT, 'test', 'artifacts');
const PLAN = planBrowserTest({ env: process.env });
// The one line `npm test` prints on a machine without Chromium (CI fails instead, below).
if (PLAN.action === 'skip') process.stderr.write(`${PLAN.reason}\n`);
const QUESTION = 'What is the part number of the blue valve?';
const ANSWER = 'The blue valve is part ZX-4471.';
const IMAGE_ANSWER = 'The picture shows a red square.';
const LONG_ANSWER = Array.from(
  { length: 12 },
  (_, index) => `This is sentence number ${index + 1} of a long story.`,
).join(' ');

describe.skipIf(PLAN.action === 'skip')('the page in a browser', () => {
  let fakes: Fakes;
  let app: RunningApp;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    if (PLAN.action !== 'run') throw new Error(PLAN.reason);
    await mkdir(ARTIFACTS, { recursive: true });
    const microphone = path.join(ARTIFACTS, 'fake-microphone.wav');
    await writeFile(microphone, await paddedQuestionWav());
    dataDir = await mkdtemp(path.join(tmpdir(), 'assistant-browser-'));
    fakes = await startFakes({ deepgram: { transcripts: [QUESTION] } });
    fakes.openai.chatResponder = (request) => {
      if (/blue valve/i.test(request.lastUserText)) return { text: ANSWER };
      if (/long story/i.test(request.lastUserText)) return { text: LONG_ANSWER };
      if (/picture/i.test(request.lastUserText) && request.images.length > 0) return { text: IMAGE_ANSWER };
      return { text: `You said: ${request.lastUserText}` };
    };
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

  it('hears a spoken question, answers aloud, uses an uploaded image, and works on phone and desktop', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await explainPageFailure(
      page,
      path.join(ARTIFACTS, 'page-failure.png'),
      () => app.output.join(''),
      () => converse(page, fakes, app.url),
    );
    expect(pageErrors).toEqual([]);
    await context.close();
  }, 120_000);
});

/** The whole visit: connect, speak, listen, share files, type, check both layouts, forget. */
async function converse(page: Page, fakes: Fakes, url: string): Promise<void> {
  await page.goto(url);
  // Right after it prints the URL the server loads the voice stack, which holds its one
  // thread for up to a second when idle (GET /healthz waited 0.6 to 1.0 s, with tsx as
  // compiled) and for several under a full test run: the page's session request waits.
  await expect.poll(() => page.locator('#connect').isEnabled(), { timeout: 20_000 }).toBe(true);
  await recordStates(page);
  await page.locator('#connect').click();
  await expect.poll(() => page.locator('#connect').textContent(), { timeout: 20_000 }).toBe('Disconnect');
  expect(await page.locator('#microphone').getAttribute('aria-pressed')).toBe('true');

  // The spoken question, transcribed, then the answer, heard.
  const userLine = page.locator('li.line.user[data-final="true"]', { hasText: 'blue valve' });
  await userLine.waitFor({ timeout: 30_000 });
  expect(await userLine.locator('.text').textContent()).toBe(QUESTION);
  // The level meter moved while the question was spoken.
  expect(await page.evaluate('window.__loudest')).toBeGreaterThan(30);
  await page
    .locator('li.line.assistant[data-final="true"]', { hasText: 'ZX-4471' })
    .waitFor({ timeout: 20_000 });
  // At least half a second of sound actually left the jitter buffer for the speakers.
  const played = await page.waitForFunction(
    `(() => { const stats = window.__assistantAudioStats;
        return stats && stats.nonSilentSamples > stats.sampleRate * 0.5 ? stats : undefined; })()`,
    undefined,
    { timeout: 15_000 },
  );
  expect(((await played.jsonValue()) as { nonSilentSamples: number }).nonSilentSamples).toBeGreaterThan(0);

  // Where the answer's time went: its waterfall opens to one bar per stage.
  const answer = page.locator('li.line.assistant[data-final="true"]', { hasText: 'ZX-4471' });
  const waterfall = answer.locator('details.waterfall');
  await waterfall.waitFor({ timeout: 20_000 });
  expect(await waterfall.locator('summary').textContent()).toMatch(/^Timing: \d+ ms to first audio$/);
  await waterfall.locator('summary').click();
  expect(await waterfall.locator('.stage-name').allTextContents()).toEqual(
    expect.arrayContaining([
      'end of turn',
      'transcript',
      'retrieval',
      'language model',
      'speech',
      'playback',
    ]),
  );
  expect(await waterfall.locator('.bar').first().isVisible()).toBe(true);
  await answer.screenshot({ path: path.join(ARTIFACTS, 'waterfall.png') });

  // A file the assistant cannot read is refused in plain words.
  await page.locator('#file-input').setInputFiles({
    name: 'setup.exe',
    mimeType: 'application/octet-stream',
    buffer: Buffer.from('MZ\u0090\u0000 not an image'),
  });
  await expect
    .poll(() => page.locator('.upload.failed').textContent(), { timeout: 10_000 })
    .toMatch(/setup\.exe.*(image|PDF)/);

  // An image mid-conversation, then a question about it.
  const red = await sharp({ create: { width: 400, height: 300, channels: 3, background: '#d00' } })
    .png()
    .toBuffer();
  await page.locator('#file-input').setInputFiles({ name: 'square.png', mimeType: 'image/png', buffer: red });
  await page
    .locator('li.line.assistant[data-final="true"]', { hasText: 'Got the picture' })
    .waitFor({ timeout: 20_000 });
  await page.locator('#text-input').fill('What is in the picture?');
  await page.locator('#text-input').press('Enter');
  await page
    .locator('li.line.assistant[data-final="true"]', { hasText: IMAGE_ANSWER })
    .waitFor({ timeout: 20_000 });
  const imageRequest = fakes.openai
    .chatBodies()
    .map((body, index) => describeChatRequest(body, index))
    .find((request) => request.lastUserText === 'What is in the picture?');
  expect(imageRequest?.images).toHaveLength(1);

  // Interrupting a long answer flushes the page's jitter buffer at once.
  await page.locator('#text-input').fill('Tell me a long story');
  await page.locator('#text-input').press('Enter');
  await page.locator('li.line.assistant', { hasText: 'sentence number 1' }).waitFor({ timeout: 20_000 });
  await page.waitForFunction('window.__assistantAudioStats.bufferedMs > 0', undefined, { timeout: 10_000 });
  await page.locator('#text-input').fill('Stop, thank you');
  await page.locator('#text-input').press('Enter');
  await page.waitForFunction('window.__assistantAudioStats.clears >= 1', undefined, { timeout: 10_000 });
  await page
    .locator('li.line.assistant[data-final="true"]', { hasText: 'You said: Stop, thank you' })
    .waitFor({ timeout: 20_000 });

  // The camera: a live preview, and its latest still goes with a turn about it.
  await page.locator('#camera').click();
  await page.waitForFunction("document.getElementById('camera-preview').videoWidth > 0", undefined, {
    timeout: 10_000,
  });
  expect(await page.locator('#camera').getAttribute('aria-pressed')).toBe('true');
  await page.waitForTimeout(1500);
  await page.locator('#text-input').fill('What does my camera show?');
  await page.locator('#text-input').press('Enter');
  await page
    .locator('li.line.assistant[data-final="true"]', { hasText: 'You said: What does my camera show?' })
    .waitFor({ timeout: 20_000 });
  const cameraRequest = fakes.openai
    .chatBodies()
    .map((body, index) => describeChatRequest(body, index))
    .find((request) => request.lastUserText === 'What does my camera show?');
  // The still rides on the question itself (the uploaded picture sits in an earlier message).
  const lastMessage = (cameraRequest?.body.messages.length ?? 0) - 1;
  expect(cameraRequest?.images.filter((image) => image.messageIndex === lastMessage)).toHaveLength(1);

  // A voice of the person's choosing: the ElevenLabs voice library (through the SDK, from
  // the fake), a preview that plays, and the next answer spoken in it.
  await page.locator('#voice-summary').click();
  await expect.poll(() => page.locator('#voice-select option').count(), { timeout: 10_000 }).toBe(3);
  expect(await page.locator('#voice-summary').textContent()).toBe('Voice: Rachel');
  await page.getByLabel("The assistant's voice").selectOption('JBFqnCBsd6RMkjVDRZzb');
  await page.locator('#voice-preview').click();
  await expect
    .poll(() => page.locator('#voice-status').textContent(), { timeout: 10_000 })
    .toBe('Playing a sample of George.');
  await page.locator('#voice-choose').click();
  await expect
    .poll(() => page.locator('#voice-summary').textContent(), { timeout: 10_000 })
    .toBe('Voice: George');
  await page.locator('#text-input').fill('Which voice is this?');
  await page.locator('#text-input').press('Enter');
  await page
    .locator('li.line.assistant[data-final="true"]', { hasText: 'You said: Which voice is this?' })
    .waitFor({ timeout: 20_000 });
  const spokeIn = fakes.elevenlabs.connections.find((connection) =>
    connection.contexts.some((context) => context.text.includes('You said: Which voice is this?')),
  )?.voiceId;
  expect(spokeIn).toBe('JBFqnCBsd6RMkjVDRZzb');

  const states = (await page.evaluate('window.__states')) as string[];
  expect(states).toEqual(expect.arrayContaining(['connecting', 'listening', 'thinking', 'speaking']));

  await page.screenshot({ path: path.join(ARTIFACTS, 'page-phone.png'), fullPage: false });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: path.join(ARTIFACTS, 'page-desktop.png'), fullPage: false });

  // Every control is reachable with the keyboard.
  const focused = new Set<string>();
  for (let press = 0; press < 20; press++) {
    await page.keyboard.press('Tab');
    focused.add((await page.evaluate('document.activeElement ? document.activeElement.id : ""')) as string);
  }
  expect([...focused]).toEqual(
    expect.arrayContaining([
      'text-input',
      'send',
      'connect',
      'microphone',
      'camera',
      'upload',
      'forget',
      'voice-select',
      'voice-preview',
      'voice-choose',
    ]),
  );

  // "Forget me", confirmed.
  // Linking a phone: the page shows a one-time code to say on a call.
  await page.locator('#phone-link').click();
  await page.getByText(/link my account, code \d \d \d \d \d \d \d \d"/).waitFor({ timeout: 10_000 });

  await page.locator('#forget').click();
  await page.locator('#forget-confirm').click();
  await expect
    .poll(() => page.locator('#alert-text').textContent(), { timeout: 20_000 })
    .toMatch(/Everything about you was erased/);
  expect(await page.locator('li.line').count()).toBe(0);
}

/** 1.5 s of silence, the question (16 kHz espeak-ng speech), then 40 s of silence. */
async function paddedQuestionWav(): Promise<Buffer> {
  const wav = decodeWav(
    await readFile(path.join(ROOT, 'test', 'fixtures', 'audio', 'question-blue-valve.wav')),
  );
  if (!wav) throw new Error('question-blue-valve.wav is not a 16-bit WAV');
  const samples = new Int16Array(Math.round(wav.sampleRate * 41.5) + wav.samples.length);
  samples.set(wav.samples, Math.round(wav.sampleRate * 1.5));
  return encodeWav(samples, wav.sampleRate);
}

/**
 * Keeps every state the status badge shows, in order, and the loudest microphone level
 * shown (in-page code as text: this file has no DOM types).
 */
async function recordStates(page: Page): Promise<void> {
  await page.evaluate(`(() => {
    const status = document.getElementById('status');
    const meter = document.querySelector('.meter');
    window.__states = [];
    window.__loudest = 0;
    new MutationObserver(() => window.__states.push(status.dataset.state)).observe(status, {
      attributes: true,
      attributeFilter: ['data-state'],
    });
    new MutationObserver(() => {
      window.__loudest = Math.max(window.__loudest, Number(meter.getAttribute('aria-valuenow')));
    }).observe(meter, { attributes: true, attributeFilter: ['aria-valuenow'] });
  })()`);
}
