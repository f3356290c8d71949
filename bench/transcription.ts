/**
 * Recording transcription throughput, in minutes of audio per wall-clock second,
 * against the Deepgram fake (no latency, so what is measured is our own overhead):
 * - a recording through `ingestFile` (type sniffed and length read from the headers in
 *   a reader process, `@deepgram/sdk`'s pre-recorded request, transcript chunked by
 *   utterances, one transaction into the database; embeddings off), against
 * - the raw SDK call (`listen.prerecorded.transcribeFile` with the same options) on the
 *   same bytes, to the same fake, in the same run.
 * The two sides alternate, one run each, so machine noise hits both alike; the ratio is
 * taken per pair, then its median. The fake runs in this process and knows the
 * recording's script (it hashes the body and answers; it decodes nothing), so its cost
 * is the same on both sides.
 *
 * The recording is the committed fixture's speech (test/fixtures/recordings/meeting.wav)
 * repeated to `--minutes` (default 10: a 19 MB WAV, under OpenAI's 25 MB too).
 *
 *   npx tsx bench/transcription.ts [--json] [--minutes 10] [--repetitions 15]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createClient } from '@deepgram/sdk';
import { openDatabase } from '../db/index.ts';
import { DEEPGRAM_PRERECORDED_OPTIONS, createDeepgramTranscriber } from '../ingest/deepgram-transcriber.ts';
import { sharedDocumentReader } from '../ingest/document-reader.ts';
import { ingestFile, type IngestDependencies } from '../ingest/pipeline.ts';
import { decodeWav, encodeWav } from '../test/fakes/audio-signal.ts';
import { startDeepgramServer, type RecordingScript } from '../test/fakes/index.ts';
import { MEETING_SCRIPT, recordingFixture } from '../test/fixtures/recordings/meeting.ts';
import {
  benchArguments,
  humanOutput,
  measurePairs,
  medianRatio,
  numberOption,
  percentile,
  printTable,
  throughputMetric,
  timed,
  writeResults,
} from './report.ts';

const { json, options } = benchArguments();
const minutes = numberOption(options, 'minutes', 10);
const repetitions = numberOption(options, 'repetitions', 15);
const out = humanOutput(json);

/** The fixture's speech repeated to `minutes`, and the script of what is said when. */
function longRecording(): { bytes: Buffer; script: RecordingScript; durationMs: number } {
  const wav = decodeWav(recordingFixture('meeting.wav'));
  if (!wav) throw new Error('meeting.wav is not a 16-bit PCM WAV');
  const copies = Math.max(1, Math.round((minutes * 60_000) / wav.duration));
  const samples = new Int16Array(wav.samples.length * copies);
  for (let copy = 0; copy < copies; copy++) samples.set(wav.samples, copy * wav.samples.length);
  const durationMs = (samples.length / wav.sampleRate) * 1000;
  const utterances = Array.from({ length: copies }, (_, copy) =>
    MEETING_SCRIPT.utterances.map((utterance) => ({
      ...utterance,
      startMs: utterance.startMs + copy * wav.duration,
      endMs: utterance.endMs + copy * wav.duration,
    })),
  ).flat();
  return { bytes: encodeWav(samples, wav.sampleRate), script: { durationMs, utterances }, durationMs };
}

const recording = longRecording();
const deepgram = await startDeepgramServer({ finalDelay: 0 });
deepgram.knowRecording(recording.bytes, recording.script);
const dataDir = await mkdtemp(path.join(tmpdir(), 'bench-transcription-'));
const database = await openDatabase({ dataDir, embeddingDimensions: 8, checkDimensions: false });
try {
  const dependencies: IngestDependencies = {
    database,
    embedder: undefined,
    vision: undefined,
    transcriber: createDeepgramTranscriber({ baseUrl: deepgram.baseUrl, apiKey: 'bench', model: 'nova-3' }),
    limits: { maxBytes: 1024 * 1024 * 1024, maxPixels: 1, maxPages: 1, maxRecordingMs: 24 * 3_600_000 },
  };
  let chunks = 0;
  const ours = (): Promise<number> =>
    timed(async () => {
      const result = await ingestFile(
        { bytes: recording.bytes, fileName: 'meeting.wav', ownerId: null, sourceName: 'bench/meeting.wav' },
        dependencies,
      );
      chunks = result.chunks;
      // Timed on purpose: a real ingest ends with its rows stored; the next run must find nothing.
      await database.pool.query('delete from documents where id = $1', [result.documentId]);
    });
  const client = createClient({
    key: 'bench',
    global: { fetch: { options: { url: deepgram.baseUrl.replace(/^ws/, 'http') } } },
  });
  const baseline = (): Promise<number> =>
    timed(async () => {
      const { error } = await client.listen.prerecorded.transcribeFile(recording.bytes, {
        model: 'nova-3',
        ...DEEPGRAM_PRERECORDED_OPTIONS,
      });
      if (error) throw error;
    });

  const { oursMs, baselineMs } = await measurePairs(repetitions, ours, baseline);
  const ratio = medianRatio(baselineMs, oursMs);
  const audioMinutes = recording.durationMs / 60_000;
  out.write(
    `recording: ${audioMinutes.toFixed(1)} min of 16 kHz WAV (${(recording.bytes.length / 1e6).toFixed(1)} MB), ` +
      `${recording.script.utterances.length} utterances, ${chunks} chunks, ${database.kind} database, ` +
      `run time p50 ours ${percentile(oursMs, 50).toFixed(0)} ms, SDK ${percentile(baselineMs, 50).toFixed(0)} ms\n`,
  );
  const metrics = [
    throughputMetric(
      'transcription.pipeline.audio_minutes_per_second',
      'audio min/s',
      audioMinutes,
      oursMs,
      ratio,
    ),
    throughputMetric('transcription.sdk.audio_minutes_per_second', 'audio min/s', audioMinutes, baselineMs),
  ];
  printTable('transcription', metrics, out);
  await writeResults('transcription', metrics, json);
} finally {
  await database.close();
  await deepgram.close();
  await sharedDocumentReader().close();
  await rm(dataDir, { recursive: true, force: true });
}
