import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hybridSearch, resolveUser } from '../db/index.ts';
import { MediaError } from '../media/index.ts';
import {
  startDeepgramServer,
  startOpenAIServer,
  type DeepgramServer,
  type OpenAIServer,
} from '../test/fakes/index.ts';
import { countAllRows } from '../test/fixtures/ingest/database-state.ts';
import {
  meetingRecordings,
  recordingFixture,
  type MeetingFile,
} from '../test/fixtures/recordings/meeting.ts';
import { backends, createTestDatabase, type TestDatabase } from '../test/support/database.ts';
import { createDeepgramTranscriber } from './deepgram-transcriber.ts';
import { IngestError } from './errors.ts';
import { createOpenAITranscriber } from './openai-transcriber.ts';
import { ingestFile, type IngestDependencies } from './pipeline.ts';

const limits = { maxBytes: 25 * 1024 * 1024, maxPixels: 40_000_000, maxPages: 50, maxRecordingMs: 3_600_000 };

describe.each(backends)('recordings into searchable passages on %s', (backend) => {
  let test: TestDatabase;
  let deepgram: DeepgramServer;
  let openai: OpenAIServer;
  let userId: string;

  beforeAll(async () => {
    [test, deepgram, openai] = await Promise.all([
      createTestDatabase(backend, 8),
      startDeepgramServer({ recordings: meetingRecordings(), finalDelay: 0 }),
      startOpenAIServer(),
    ]);
  });
  afterAll(async () => {
    await Promise.all([test?.cleanup(), deepgram?.close(), openai?.close()]);
  });

  const throughDeepgram = (overrides: Partial<IngestDependencies> = {}): IngestDependencies => ({
    database: test.database,
    embedder: undefined,
    vision: undefined,
    transcriber: createDeepgramTranscriber({ baseUrl: deepgram.baseUrl, apiKey: 'k', model: 'nova-3' }),
    limits,
    ...overrides,
  });
  // Each test's files belong to a user of its own, so one test's recording is not "unchanged" in the next.
  beforeEach(async () => {
    userId = await resolveUser(test.database.pool, { kind: 'web', value: randomUUID() });
  });
  const ingest = (name: MeetingFile | 'corrupt.ogg', dependencies: IngestDependencies) =>
    ingestFile(
      { bytes: recordingFixture(name), fileName: name, ownerId: userId, sourceName: `test/${name}` },
      dependencies,
    );

  it.each(['meeting.ogg', 'meeting.mp4', 'meeting.flac'] as const)(
    'transcribes %s through the Deepgram SDK with speakers and times',
    async (name) => {
      const before = deepgram.requests.length;
      const result = await ingest(name, throughDeepgram());
      expect(result).toMatchObject({ kind: 'recording', outcome: 'created', pages: null, chunks: 1 });
      // From the container's headers (music-metadata), not from the service.
      expect(result.durationMs).toBeGreaterThan(6300);
      expect(result.durationMs).toBeLessThan(6600);

      const request = deepgram.requests[before];
      expect(request?.path).toBe('/v1/listen');
      for (const option of ['diarize', 'utterances', 'punctuate', 'smart_format'])
        expect(request?.query.get(option)).toBe('true');
      expect(request?.query.get('model')).toBe('nova-3');
      expect(request?.rawBody.equals(recordingFixture(name))).toBe(true);

      const [hit] = await hybridSearch(test.database.pool, { userId, text: 'dialed number' });
      expect(hit).toMatchObject({
        documentId: result.documentId,
        startMs: 110,
        endMs: 6230,
        speaker: 'Speaker 1',
      });
      expect(hit?.text).toBe(
        'Speaker 1: You are currently the only person in this conference.\n' +
          'Speaker 2: Your call cannot be completed as dialed. Please check the number and dial again.',
      );
    },
  );

  it('transcribes a WAV the fake decodes itself, one utterance per stretch of speech', async () => {
    const bytes = recordingFixture('meeting.wav');
    const unknown = await startDeepgramServer({
      transcripts: ['First part.', 'Second part.'],
      finalDelay: 0,
    });
    try {
      const transcriber = createDeepgramTranscriber({
        baseUrl: unknown.baseUrl,
        apiKey: 'k',
        model: 'nova-3',
      });
      const transcript = await transcriber.transcribe({
        bytes,
        mimeType: 'audio/wav',
        extension: 'wav',
        durationMs: 6400,
      });
      // The fixture's script gives the times the fake's own detector hears in the WAV.
      expect(transcript).toEqual({
        durationMs: 6400,
        utterances: [
          { startMs: 110, endMs: 2890, speaker: 0, text: 'First part.' },
          { startMs: 3780, endMs: 6230, speaker: 0, text: 'Second part.' },
        ],
      });
    } finally {
      await unknown.close();
    }
  });

  it('refuses a corrupt recording before asking any service, and stores nothing', async () => {
    const before = { rows: await countAllRows(test.database.pool), requests: deepgram.requests.length };
    const refusal = await ingest('corrupt.ogg', throughDeepgram()).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(MediaError);
    expect(refusal).toMatchObject({ code: 'corrupt', userFacing: true });
    expect((refusal as Error).message).toMatch(/could not be read: it looks damaged/);
    expect(await countAllRows(test.database.pool)).toEqual(before.rows);
    expect(deepgram.requests.length).toBe(before.requests);
  });

  it('refuses a recording over the duration limit before asking any service', async () => {
    const before = deepgram.requests.length;
    const refusal = await ingest(
      'meeting.mp3',
      throughDeepgram({ limits: { ...limits, maxRecordingMs: 5000 } }),
    ).catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'too-long' });
    expect((refusal as Error).message).toBe(
      'This recording is 6 seconds long; the limit is 5 seconds. Cut it into shorter parts and send them one at a time.',
    );
    expect(deepgram.requests.length).toBe(before);
  });

  it('refuses a recording when no transcription service is configured', async () => {
    const refusal = await ingest('meeting.mp3', throughDeepgram({ transcriber: undefined })).catch(
      (error: unknown) => error,
    );
    expect(refusal).toBeInstanceOf(IngestError);
    expect(refusal).toMatchObject({ code: 'transcription-required' });
  });

  it('says what failed when the service refuses the audio, and stores nothing', async () => {
    const stranger = await startDeepgramServer({ finalDelay: 0 });
    const before = await countAllRows(test.database.pool);
    try {
      const transcriber = createDeepgramTranscriber({
        baseUrl: stranger.baseUrl,
        apiKey: 'k',
        model: 'nova-3',
      });
      const refusal = await ingest('meeting.ogg', throughDeepgram({ transcriber })).catch(
        (error: unknown) => error,
      );
      expect(refusal).toMatchObject({ code: 'transcription-failed', retryable: true });
      expect((refusal as Error).message).toMatch(
        /^"meeting.ogg" \(6 seconds\) could not be transcribed: Deepgram/,
      );
      expect(await countAllRows(test.database.pool)).toEqual(before);
    } finally {
      await stranger.close();
    }
  });

  it('sends a WAV over the upload limit to OpenAI-compatible transcription in pieces, times shifted', async () => {
    const requests: { bytes: number; format: string | undefined }[] = [];
    openai.transcriber = (request) => {
      requests.push({ bytes: request.file.bytes.length, format: request.fields.response_format });
      const seconds = (request.wav?.duration ?? 0) / 1000;
      return {
        text: `piece ${request.index}`,
        segments: [{ start: 0.5, end: seconds, text: ` piece ${request.index}` }],
      };
    };
    const transcriber = createOpenAITranscriber({
      baseUrl: openai.baseUrl,
      apiKey: 'k',
      model: 'whisper-1',
      maxUploadBytes: 80_000,
    });
    const transcript = await transcriber.transcribe({
      bytes: recordingFixture('meeting.wav'),
      mimeType: 'audio/wav',
      extension: 'wav',
      durationMs: 6401,
    });
    expect(requests.map((request) => request.format)).toEqual([
      'verbose_json',
      'verbose_json',
      'verbose_json',
    ]);
    expect(Math.max(...requests.map((request) => request.bytes))).toBeLessThanOrEqual(80_000);
    const first = openai.requests.findIndex((request) => request.path.endsWith('/audio/transcriptions'));
    const offsets = transcript.utterances.map((utterance) => utterance.startMs - 500);
    // 16 kHz 16-bit mono: 79,956 bytes of samples per piece is 2,498.625 ms.
    expect(offsets).toEqual([0, 2499, 4997]);
    expect(transcript.utterances.map((utterance) => utterance.speaker)).toEqual([null, null, null]);
    expect(transcript.utterances.at(-1)?.endMs).toBe(6401);
    expect(first).toBeGreaterThanOrEqual(0);
  });

  it('refuses a compressed recording over the upload limit with what to do', async () => {
    const transcriber = createOpenAITranscriber({
      baseUrl: openai.baseUrl,
      apiKey: 'k',
      model: 'whisper-1',
      maxUploadBytes: 10_000,
    });
    const refusal = await transcriber
      .transcribe({
        bytes: recordingFixture('meeting.mp3'),
        mimeType: 'audio/mpeg',
        extension: 'mp3',
        durationMs: 6480,
      })
      .catch((error: unknown) => error);
    expect(refusal).toMatchObject({ code: 'too-large' });
    expect((refusal as Error).message).toMatch(/only WAV recordings can be cut here/);
  });
});
