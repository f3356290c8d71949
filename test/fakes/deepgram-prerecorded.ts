import type { ServerResponse } from 'node:http';
import { decodeWav, pcmToBytes } from './audio-signal.ts';
import { prerecordedResponse } from './deepgram-messages.ts';
import type { DeepgramSettings } from './deepgram-connection.ts';
import type { RecordedHttpRequest } from './http-server.ts';
import { sendJson } from './http-server.ts';
import { SpeechDetector } from './speech-detector.ts';
import { sleep } from './timing.ts';

/**
 * Deepgram's pre-recorded API (`POST /v1/listen` with a WAV or raw linear16 body),
 * which the plugin's `recognize()` uses. Audio with no speech gets an empty transcript
 * and leaves the transcript queue alone, as the real service would hear nothing.
 */
export async function answerPrerecorded(
  response: ServerResponse,
  recorded: RecordedHttpRequest,
  context: {
    settings: DeepgramSettings;
    nextTranscript: () => { transcript: string };
    signal: AbortSignal;
  },
): Promise<void> {
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
