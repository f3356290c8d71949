import { readdir } from 'node:fs/promises';
import { spokenTitle } from './instructions.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveUser } from '../db/index.ts';
import { citationLabel } from '../protocol/index.ts';
import { encodeWav } from '../test/fakes/audio-signal.ts';
import { countAllRows } from '../test/fixtures/ingest/database-state.ts';
import { meetingRecordings, recordingFixture } from '../test/fixtures/recordings/meeting.ts';
import { VoiceHarness, waitFor } from '../test/support/voice-harness.ts';

describe('a recording uploaded mid-conversation', () => {
  let harness: VoiceHarness;
  beforeAll(async () => {
    // A one-minute limit, so a refused recording can be small.
    harness = await VoiceHarness.start('embedded', undefined, { RECORDING_MAX_MINUTES: '1' });
    for (const { bytes, script } of meetingRecordings()) harness.deepgram.knowRecording(bytes, script);
  });
  afterAll(() => harness?.close());

  const spoken = () =>
    harness.elevenlabs.connections.flatMap((connection) =>
      connection.contexts.map((context) => context.text),
    );
  const filesOnDisk = async () =>
    (await readdir(harness.config.database.uploadsDirectory).catch(() => [])).length;

  it.each([
    { name: 'meeting.wav', type: 'audio/wav', said: 'a 6-second recording' },
    { name: 'meeting.ogg', type: 'audio/ogg', said: 'a 6-second recording' },
    { name: 'meeting.mp4', type: 'video/mp4', said: 'a 6-second video' },
  ] as const)(
    '$name is acknowledged with its length, transcribed through the SDK, and answered from citing the moment',
    async ({ name, type, said }) => {
      const userId = await resolveUser(harness.test.database.pool, {
        kind: 'web',
        value: `listener-${name}`,
      });
      harness.openai.chatResponder = (request) => {
        const context = JSON.stringify(request.body.messages);
        return {
          text: context.includes('check the number and dial again')
            ? 'The recording says to check the number and dial again [S1].'
            : 'I do not know yet.',
        };
      };
      const { voice } = await harness.startSession(userId);
      const requests = harness.deepgram.requests.length;
      const receipt = await voice.receiveUpload({
        bytes: recordingFixture(name),
        fileName: name,
        claimedType: type,
      });
      expect(receipt).toMatchObject({
        kind: 'recording',
        status: 'reading',
        message: 'Listening to the recording.',
      });
      await waitFor(
        () => spoken().some((text) => text.includes(`Got it, ${said}; I'll listen to it.`)),
        10_000,
        'the acknowledgement',
      );
      const progress = () =>
        harness.events.flatMap((event) =>
          event.type === 'upload_progress' && event.uploadId === receipt.uploadId ? [event] : [],
        );
      await waitFor(() => progress().some((event) => event.stage === 'ready'), 20_000, 'the transcript');
      expect(progress()[0]).toMatchObject({
        stage: 'reading',
        percent: 0,
        message: 'Listening to the recording.',
      });
      expect(progress().at(-1)).toMatchObject({
        stage: 'ready',
        percent: 100,
        message: `Listened to "${name}".`,
      });
      await waitFor(
        () => spoken().some((text) => text.includes(`I've listened to ${spokenTitle(name)}.`)),
        10_000,
        'the spoken "I\'ve listened to"',
      );
      const request = harness.deepgram.requests[requests];
      for (const option of ['diarize', 'utterances', 'punctuate', 'smart_format'])
        expect(request?.query.get(option)).toBe('true');

      const { rows } = await harness.test.database.pool.query<{
        start_ms: number;
        end_ms: number;
        speaker: string;
      }>(
        `select c.start_ms, c.end_ms, c.speaker from chunks c join documents d on d.id = c.document_id
          where d.owner_id = $1`,
        [userId],
      );
      expect(rows).toEqual([{ start_ms: 110, end_ms: 6230, speaker: 'Speaker 1' }]);

      const eventsBefore = harness.events.length;
      voice.sendText('What does the recording tell me to do?');
      const answer = await waitFor(
        () =>
          harness.events
            .slice(eventsBefore)
            .find(
              (event) =>
                event.type === 'transcript' &&
                event.role === 'assistant' &&
                event.final &&
                event.text.includes('dial again'),
            ),
        20_000,
        'the answer',
      );
      const citations = answer.type === 'transcript' && answer.role === 'assistant' ? answer.citations : [];
      expect(citations).toEqual([
        { documentId: expect.any(String), title: name, page: null, startMs: 110, speaker: 'Speaker 1' },
      ]);
      expect(citations?.map(citationLabel)).toEqual([`${name}, 0:00 (Speaker 1)`]);
      // The model was told the moment and the speakers, as data.
      const asked = harness.openai
        .chatBodies()
        .find((body) => JSON.stringify(body.messages).includes('What does the recording tell me to do?'));
      expect(JSON.stringify(asked?.messages)).toContain('\\"at\\":\\"0:00\\",\\"speaker\\":\\"Speaker 1\\"');
      await voice.close();
    },
  );

  it.each([
    {
      what: 'a corrupt recording',
      bytes: () => recordingFixture('corrupt.ogg'),
      code: 'corrupt',
      message: /damaged/,
    },
    {
      what: 'a recording over the length limit',
      // 61 s of near-silence, 8 kHz: over RECORDING_MAX_MINUTES=1.
      bytes: () => encodeWav(new Int16Array(8000 * 61), 8000),
      code: 'too-long',
      message: /^This recording is 1 minute 1 second long; the limit is 1 minute\./,
    },
  ])(
    'refuses $what at once, with a clear message, leaving no rows or files',
    async ({ bytes, code, message }) => {
      const database = harness.test.database.pool;
      const userId = await resolveUser(database, { kind: 'web', value: `refused-${code}` });
      const { voice } = await harness.startSession(userId);
      const stored = async () => {
        const { uploads, documents, chunks } = await countAllRows(database);
        return { uploads, documents, chunks, files: await filesOnDisk() };
      };
      const before = await stored();
      const requests = harness.deepgram.requests.length;
      const refusal = await voice
        .receiveUpload({ bytes: bytes(), fileName: 'call.ogg', claimedType: 'audio/ogg' })
        .catch((error: unknown) => error);
      expect(refusal).toMatchObject({ code, userFacing: true, message: expect.stringMatching(message) });
      expect(await stored()).toEqual(before);
      expect(harness.deepgram.requests.length).toBe(requests);
      await voice.close();
    },
  );
});
