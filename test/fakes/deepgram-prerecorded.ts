import type { ServerResponse } from 'node:http';
import { decodeWav, pcmToBytes } from './audio-signal.ts';
import { prerecordedResponse } from './deepgram-messages.ts';
import type { DeepgramSettings } from './deepgram-connection.ts';
import type { RecordedHttpRequest } from './http-server.ts';
import { sendJson } from './http-server.ts';
import {
  recordingKey,
  recordingResponse,
  type RecordingScript,
  type ScriptedUtterance,
} from './deepgram-recordings.ts';
import { SpeechDetector } from './speech-detector.ts';
import { sleep } from './timing.ts';

/**
 * Deepgram's pre-recorded API (`POST /v1/listen` with a WAV or raw linear16 body),
 * which the plugin's `recognize()` uses. Audio with no speech gets an empty transcript
 * and leaves the transcript queue alone, as the real service would hear nothing.
 * A request asking for `utterances` or `diarize` (a whole recording, sent by
 * `@deepgram/sdk`) is answered by {@link answerRecording}.
 */
export async function answerPrerecorded(
  response: ServerResponse,
  recorded: RecordedHttpRequest,
  context: {
    settings: DeepgramSettings;
    nextTranscript: () => { transcript: string };
    signal: AbortSignal;
    recordings: ReadonlyMap<string, RecordingScript>;
  },
): Promise<void> {
  const { query } = recorded;
  if (query.get('utterances') === 'true' || query.get('diarize') === 'true')
    return answerRecording(response, recorded, context);
  const wav = decodeWav(recorded.rawBody);
  const sampleRate = wav?.sampleRate ?? Number(recorded.query.get('sample_rate') ?? 16_000);
  const channels = wav?.channels ?? Number(recorded.query.get('channels') ?? 1);
  const pcm = wav ? pcmToBytes(wav.samples) : recorded.rawBody;
  const detector = new SpeechDetector({ ...context.settings, sampleRate, channels });
  const events = [...detector.push(pcm), ...detector.finish()];
  const start = events.find((event) => event.type === 'start')?.at;
  const end = events.findLast((event) => event.type === 'end')?.at ?? 0;
  const heard = start !== undefined && end - start >= context.settings.minimumUtterance;
  const transcript = heard ? context.nextTranscript().transcript : '';
  await sleep(context.settings.finalDelay, context.signal);
  sendJson(
    response,
    200,
    prerecordedResponse({
      transcript,
      start: start ?? 0,
      end,
      duration: detector.position,
      requestId: `fake-prerecorded-${recorded.receivedAt.toFixed(0)}`,
      model: recorded.query.get('model') ?? 'nova-3',
    }),
  );
}

/**
 * A whole recording: the script the fake knows for these bytes (any container), or, for
 * a WAV it does not know, one utterance per stretch of speech its energy detector hears
 * (transcripts from the queue, all by speaker 0). Anything else is refused with 400, as
 * Deepgram refuses data it cannot decode.
 */
async function answerRecording(
  response: ServerResponse,
  recorded: RecordedHttpRequest,
  context: Parameters<typeof answerPrerecorded>[2],
): Promise<void> {
  const sha256 = recordingKey(recorded.rawBody);
  const requestId = `fake-prerecorded-${recorded.receivedAt.toFixed(0)}`;
  const script = context.recordings.get(sha256) ?? heardInWav(recorded.rawBody, context);
  await sleep(context.settings.finalDelay, context.signal);
  if (script === undefined) {
    return sendJson(response, 400, {
      err_code: 'Bad Request',
      err_msg: 'Bad Request: failed to process audio: corrupt or unsupported data',
      request_id: requestId,
    });
  }
  const { query } = recorded;
  sendJson(
    response,
    200,
    recordingResponse({
      script,
      diarize: query.get('diarize') === 'true',
      utterances: query.get('utterances') === 'true',
      requestId,
      model: query.get('model') ?? 'nova-3',
      sha256,
    }),
  );
}

function heardInWav(
  body: Buffer,
  context: Parameters<typeof answerPrerecorded>[2],
): RecordingScript | undefined {
  const wav = decodeWav(body);
  if (wav === undefined) return undefined;
  const detector = new SpeechDetector({
    ...context.settings,
    sampleRate: wav.sampleRate,
    channels: wav.channels,
  });
  const events = [...detector.push(pcmToBytes(wav.samples)), ...detector.finish()];
  const utterances: ScriptedUtterance[] = [];
  let start: number | undefined;
  for (const event of events) {
    if (event.type === 'start') start = event.at;
    else if (event.type === 'end' && start !== undefined) {
      if (event.at - start >= context.settings.minimumUtterance)
        utterances.push({
          startMs: start,
          endMs: event.at,
          speaker: 0,
          text: context.nextTranscript().transcript,
        });
      start = undefined;
    }
  }
  return { durationMs: detector.position, utterances };
}
