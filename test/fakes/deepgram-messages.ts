import { wordsOf } from './audio-signal.ts';

/**
 * Builders for the JSON messages Deepgram's live API sends, shaped after the real
 * service and checked against what `@livekit/agents-plugin-deepgram@1.9.0` reads:
 * `type`, `is_final`, `speech_final`, `metadata.request_id` (read unconditionally, so
 * it must be present), `channel.alternatives[].transcript/confidence/words`.
 * Times on the wire are in seconds; every input here is in milliseconds.
 */

export type DeepgramMessage = Record<string, unknown>;

const modelUuid = '00000000-0000-4000-8000-00000000fa4e';

/** The fake's stand-in for Deepgram's model description. */
function modelInfo(model: string) {
  return { name: `general-${model}`, version: '2025-01-01.0', arch: model };
}

const seconds = (milliseconds: number) => Math.round(milliseconds) / 1000;

/** Words of a transcript spread evenly over `[start, end]`, with Deepgram's two spellings of each. */
export function timedWords(transcript: string, start: number, end: number) {
  const words = wordsOf(transcript);
  const step = words.length > 0 ? (end - start) / words.length : 0;
  return words.map((punctuated, index) => ({
    word: punctuated.toLowerCase().replace(/[^\p{L}\p{N}'-]/gu, ''),
    start: seconds(start + index * step),
    end: seconds(start + (index + 1) * step),
    confidence: 0.99,
    punctuated_word: punctuated,
  }));
}

/** The first words of a transcript, as much as an interim result would have after `voiced` ms. */
export function interimTranscript(transcript: string, voiced: number, msPerWord = 250): string {
  const words = wordsOf(transcript);
  const count = Math.min(words.length, Math.max(1, Math.ceil(voiced / msPerWord)));
  return words.slice(0, count).join(' ');
}

/** A `Results` message for one stretch of audio. */
export function resultsMessage(input: {
  transcript: string;
  /** Milliseconds of audio from the stream's start. */
  start: number;
  end: number;
  isFinal: boolean;
  speechFinal: boolean;
  fromFinalize?: boolean;
  requestId: string;
  model: string;
}): DeepgramMessage {
  return {
    type: 'Results',
    channel_index: [0, 1],
    duration: seconds(input.end - input.start),
    start: seconds(input.start),
    is_final: input.isFinal,
    speech_final: input.speechFinal,
    from_finalize: input.fromFinalize ?? false,
    channel: {
      alternatives: [
        {
          transcript: input.transcript,
          confidence: input.transcript ? 0.99 : 0,
          words: timedWords(input.transcript, input.start, input.end),
        },
      ],
    },
    metadata: { request_id: input.requestId, model_info: modelInfo(input.model), model_uuid: modelUuid },
  };
}

/** Sent (when `vad_events=true`) as soon as speech begins. */
export function speechStartedMessage(at: number): DeepgramMessage {
  return { type: 'SpeechStarted', channel: [0], timestamp: seconds(at) };
}

/** Sent (when `utterance_end_ms` is set) after the last word of an utterance. */
export function utteranceEndMessage(lastWordEnd: number): DeepgramMessage {
  return { type: 'UtteranceEnd', channel: [0, 1], last_word_end: seconds(lastWordEnd) };
}

/** Deepgram's last message before it closes a stream. */
export function metadataMessage(input: {
  requestId: string;
  duration: number;
  channels: number;
  model: string;
}) {
  return {
    type: 'Metadata',
    transaction_key: 'deprecated',
    request_id: input.requestId,
    sha256: '',
    created: new Date().toISOString(),
    duration: seconds(input.duration),
    channels: input.channels,
    models: [modelUuid],
    model_info: { [modelUuid]: modelInfo(input.model) },
  };
}

/** The body of a pre-recorded (`POST /v1/listen`) answer. */
export function prerecordedResponse(input: {
  transcript: string;
  start: number;
  end: number;
  duration: number;
  requestId: string;
  model: string;
}) {
  return {
    metadata: { ...metadataMessage({ ...input, channels: 1 }), type: undefined },
    results: {
      channels: [
        {
          alternatives: [
            {
              transcript: input.transcript,
              confidence: input.transcript ? 0.99 : 0,
              words: timedWords(input.transcript, input.start, input.end),
            },
          ],
        },
      ],
    },
  };
}
