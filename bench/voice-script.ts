import type { ChatResponder, FakesOptions } from '../test/fakes/index.ts';

/**
 * What the fakes say in the voice benchmarks, and how slowly: latencies are published
 * medians (STT final 150 ms after the audio ends, LLM first token 450 ms, TTS first
 * audio 150 ms, embeddings 100 ms). Shared by in-process fakes and the fakes process.
 */

export const FAKE_LATENCY = {
  sttFinal: 150,
  llmFirstToken: 450,
  ttsFirstAudio: 150,
  embeddings: 100,
} as const;

export const EMBEDDING_DIMENSIONS = 1536;

/**
 * A spoken question: the WAV fixture, what the STT fake hears (as Deepgram renders it,
 * with its punctuation), what the LLM fake answers.
 */
export interface Question {
  fixture: string;
  transcript: string;
  answer: string;
}

export const QUESTIONS: readonly Question[] = [
  {
    fixture: 'question-blue-valve',
    transcript: 'What is the part number of the blue valve?',
    answer: 'The blue valve is part ZX-4471 [S1].',
  },
  {
    fixture: 'ask-locker',
    transcript: 'What is my locker code?',
    answer: 'I do not know your locker code yet.',
  },
  {
    fixture: 'remember-locker',
    transcript: 'Please remember that my locker code is four three one two.',
    answer: 'Sure, your locker code is four three one two.',
  },
];

export const BLUE_VALVE_FACT = 'The blue valve has part number ZX-4471 and sits behind the boiler.';

/** A reply that keeps the agent talking for about 20 s (200 ms of audio per word in barge-in). */
export const LONG_ANSWER = Array.from(
  { length: 12 },
  (_, index) => `This is sentence number ${index + 1} of a long answer about the boiler.`,
).join(' ');

export const LONG_REQUEST = 'tell me something long';

/** Lowercase words without punctuation, to match what was said whatever the STT's formatting. */
const wordsOnly = (text: string) => text.toLowerCase().replace(/[^\p{L}\p{N}' ]/gu, '');

/** Answers each scripted question with its answer, long requests at length, anything else briefly. */
export const benchResponder: ChatResponder = (request) => {
  const text = wordsOnly(request.lastUserText);
  const question = QUESTIONS.find((candidate) => text.includes(wordsOnly(candidate.transcript)));
  if (question) return { text: question.answer };
  if (text.includes(LONG_REQUEST)) return { text: LONG_ANSWER };
  return { text: 'Okay.' };
};

/** Options for `startFakes` with the benchmark latencies; `transcript` is what every utterance says. */
export function fakesOptions(transcript: () => string): FakesOptions {
  return {
    openai: {
      embeddingDimensions: EMBEDDING_DIMENSIONS,
      latency: { chatFirstToken: FAKE_LATENCY.llmFirstToken, embeddings: FAKE_LATENCY.embeddings },
      chatResponder: benchResponder,
    },
    deepgram: {
      finalDelay: FAKE_LATENCY.sttFinal,
      // The fake finalises only once it has heard this much silence, in the plugin's 100 ms
      // chunks: at 100 ms it knows in time, so finals go out 150 ms after the last voiced
      // audio arrived (at 150 ms they would go out about 200 ms after it).
      endOfSpeechSilence: 100,
      transcriber: () => transcript(),
    },
    elevenlabs: { firstAudioLatency: FAKE_LATENCY.ttsFirstAudio },
  };
}
