import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveUser } from '../db/index.ts';
import { buildProsePdf, wrapText } from '../test/fixtures/ingest/prose-pdf.ts';
import { VoiceHarness, waitFor } from '../test/support/voice-harness.ts';

const PAGES = [
  'This manual describes the installation of the boiler in a family house and the tools you need for it.',
  'Safety first. The emergency shutoff code for the boiler is QX-7731. Enter it on the front panel and wait for the red light.',
  'Maintenance. Clean the filter every spring and check the pressure gauge once a month.',
];

describe('a document uploaded mid-conversation', () => {
  let harness: VoiceHarness;
  beforeAll(async () => {
    harness = await VoiceHarness.start();
  });
  afterAll(() => harness?.close());

  it('is acknowledged by voice, read with progress, and answered from with a page citation', async () => {
    const userId = await resolveUser(harness.test.database.pool, { kind: 'web', value: 'uploader' });
    harness.openai.chatResponder = (request) => {
      const context = JSON.stringify(request.body.messages);
      return {
        text: context.includes('QX-7731') ? 'The shutoff code is QX-7731 [S1].' : 'I do not know yet.',
      };
    };
    const { voice } = await harness.startSession(userId);
    const spoken = () =>
      harness.elevenlabs.connections.flatMap((connection) =>
        connection.contexts.map((context) => context.text),
      );

    const receipt = await voice.receiveUpload({
      bytes: buildProsePdf(PAGES.map((text) => wrapText(text))),
      fileName: 'boiler-manual.pdf',
      claimedType: 'application/pdf',
    });
    expect(receipt).toMatchObject({ kind: 'document', status: 'reading' });
    await waitFor(
      () => spoken().some((text) => text.includes('Got it, reading your 3-page PDF.')),
      10_000,
      'the acknowledgement',
    );

    const progress = () =>
      harness.events.flatMap((event) =>
        event.type === 'upload_progress' && event.uploadId === receipt.uploadId ? [event] : [],
      );
    await waitFor(
      () => progress().some((event) => event.stage === 'ready'),
      20_000,
      'the document to be read',
    );
    const percents = progress().flatMap((event) =>
      event.stage === 'reading' && event.percent !== undefined ? [event.percent] : [],
    );
    expect(percents.length).toBeGreaterThan(2);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    await waitFor(
      () => spoken().some((text) => text.includes('I have read')),
      10_000,
      'the spoken "I have read"',
    );

    voice.sendText('What is the emergency shutoff code?');
    const answer = await waitFor(
      () =>
        harness.events.find(
          (event) =>
            event.type === 'transcript' &&
            event.role === 'assistant' &&
            event.final &&
            event.text.includes('QX-7731'),
        ),
      20_000,
      'the answer',
    );
    const request = harness.openai
      .chatBodies()
      .find((body) => JSON.stringify(body.messages).includes('emergency shutoff code?'));
    expect(JSON.stringify(request?.messages)).toContain(
      'The emergency shutoff code for the boiler is QX-7731',
    );
    expect(answer).toMatchObject({
      text: 'The shutoff code is QX-7731.',
      citations: [{ title: 'boiler-manual.pdf', page: 2 }],
    });
    await voice.close();
  });
});
