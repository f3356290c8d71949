import { createHash } from 'node:crypto';
import { timedWords } from './deepgram-messages.ts';

/**
 * What the Deepgram fake "hears" in a whole recording sent to its pre-recorded API
 * with `utterances` or `diarize` (as `@deepgram/sdk`'s `transcribeFile` does for us).
 * The fake decodes only WAV; for any other container (MP3, Ogg/Opus, MP4...) it must
 * know the recording's script beforehand, by the bytes' SHA-256, as a service that
 * really listened would know the words: test/fixtures/recordings/ holds the scripts
 * of the committed fixtures. Times are in ms.
 */
export interface RecordingScript {
  readonly durationMs: number;
  readonly utterances: readonly ScriptedUtterance[];
}

export interface ScriptedUtterance {
  readonly startMs: number;
  readonly endMs: number;
  /** 0-based, as Deepgram numbers speakers. */
  readonly speaker: number;
  readonly text: string;
}

/** The key a script is known by: the recording's bytes' SHA-256 (hex). */
export function recordingKey(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const seconds = (milliseconds: number) => Math.round(milliseconds) / 1000;

/**
 * The body of Deepgram's answer to a pre-recorded request with diarize/utterances, shaped
 * after the real service: `metadata` (request id, duration in s, channels, models),
 * `results.channels[0].alternatives[0]` (transcript, confidence, words with start/end and,
 * when diarized, speaker), and `results.utterances` (when asked for) with start, end,
 * speaker, transcript, words and an id each.
 */
export function recordingResponse(input: {
  script: RecordingScript;
  diarize: boolean;
  utterances: boolean;
  requestId: string;
  model: string;
  sha256: string;
}) {
  const modelUuid = '00000000-0000-4000-8000-00000000fa4e';
  const speakerOf = (speaker: number) => (input.diarize ? { speaker, speaker_confidence: 0.9 } : {});
  const wordsOf = (utterance: ScriptedUtterance) =>
    timedWords(utterance.text, utterance.startMs, utterance.endMs).map((word) => ({
      ...word,
      ...speakerOf(utterance.speaker),
    }));
  const transcript = input.script.utterances.map((utterance) => utterance.text).join(' ');
  return {
    metadata: {
      transaction_key: 'deprecated',
      request_id: input.requestId,
      sha256: input.sha256,
      created: new Date().toISOString(),
      duration: seconds(input.script.durationMs),
      channels: 1,
      models: [modelUuid],
      model_info: {
        [modelUuid]: { name: `general-${input.model}`, version: '2025-01-01.0', arch: input.model },
      },
    },
    results: {
      channels: [
        {
          alternatives: [
            {
              transcript,
              confidence: transcript ? 0.99 : 0,
              words: input.script.utterances.flatMap(wordsOf),
            },
          ],
        },
      ],
      ...(input.utterances
        ? {
            utterances: input.script.utterances.map((utterance, index) => ({
              start: seconds(utterance.startMs),
              end: seconds(utterance.endMs),
              confidence: 0.99,
              channel: 0,
              transcript: utterance.text,
              words: wordsOf(utterance),
              ...speakerOf(utterance.speaker),
              id: `00000000-0000-4000-8000-${index.toString().padStart(12, '0')}`,
            })),
          }
        : {}),
    },
  };
}
