import { OPENAI_DEFAULT_BASE_URL, type Config, type OpenAICompatible } from '../config/load.ts';
import { createDeepgramTranscriber } from '../ingest/deepgram-transcriber.ts';
import { createEmbedder, type Embedder } from '../ingest/embeddings.ts';
import { createOpenAITranscriber } from '../ingest/openai-transcriber.ts';
import type { RecordingTranscriber } from '../ingest/transcription.ts';
import { createVisionModel, type VisionModel } from '../ingest/vision.ts';
import { AppError } from '../protocol/index.ts';
import { elevenLabsVoices } from './elevenlabs-voices.ts';
import { openAIModelReadsImages } from './openai-vision-models.ts';
import { openAIVoices } from './openai-voices.ts';
import type { VoiceLibrary } from './voice-library.ts';

/**
 * The one place where providers are chosen: which provider, model, URL and key each
 * part uses, and what is missing, from the typed configuration (nothing here reads
 * `process.env`). It loads no LiveKit plugin, so the web server can say what is
 * configured before the voice stack is loaded; agent/providers.ts builds the plugins
 * from these settings.
 */

/** A provider that cannot be used as configured, with the variable to set. */
export class ProviderConfigurationError extends AppError<'provider-configuration'> {
  constructor(message: string) {
    super('provider-configuration', message, { userFacing: true, retryable: false });
  }
}

/**
 * OpenAI's own servers need a key; a local OpenAI-compatible server (Ollama, vLLM)
 * usually does not, but the SDK insists on one, so it gets a placeholder.
 */
function openAIKey(endpoint: OpenAICompatible, purpose: string, baseUrlVariable: string): string {
  if (endpoint.apiKey) return endpoint.apiKey;
  if (endpoint.baseUrl === OPENAI_DEFAULT_BASE_URL) {
    throw new ProviderConfigurationError(
      `The ${purpose} needs OPENAI_API_KEY (it uses OpenAI at ${OPENAI_DEFAULT_BASE_URL}), ` +
        `or point ${baseUrlVariable} / OPENAI_BASE_URL at a local OpenAI-compatible server such as Ollama.`,
    );
  }
  return 'no-key-needed';
}

/**
 * The ElevenLabs plugin wants the REST base (`https://api.elevenlabs.io/v1`) and derives
 * the WebSocket URL from it. Accept the bare origin or a ws(s):// URL as well.
 */
export function elevenLabsApiUrl(baseUrl: string): string {
  const url = new URL(baseUrl.replace(/^ws(s?):\/\//, 'http$1://'));
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1';
  return url.toString().replace(/\/+$/, '');
}

/** The speech-to-text provider and model in use, defaults applied. */
export type SpeechToTextChoice =
  | { provider: 'deepgram'; model: string; baseUrl: string | undefined; apiKey: string | undefined }
  | ({ provider: 'openai' } & OpenAICompatible);

/** STT_PROVIDER when set; else Deepgram when its key is set, OpenAI-compatible otherwise. */
export function chooseSpeechToText(config: Config): SpeechToTextChoice {
  const { stt } = config;
  const provider = stt.provider ?? (stt.deepgram.apiKey ? 'deepgram' : 'openai');
  return provider === 'deepgram'
    ? { provider, model: stt.model ?? 'nova-3', ...stt.deepgram }
    : { provider, model: stt.model ?? 'gpt-4o-mini-transcribe', ...stt.openai };
}

/** The text-to-speech provider, model and voice in use, defaults applied. */
export type TextToSpeechChoice =
  | {
      provider: 'elevenlabs';
      model: string;
      voiceId: string;
      baseUrl: string | undefined;
      apiKey: string | undefined;
    }
  | ({ provider: 'openai'; voice: string } & OpenAICompatible);

/** TTS_PROVIDER when set; else ElevenLabs when its key is set, OpenAI-compatible otherwise. */
export function chooseTextToSpeech(config: Config): TextToSpeechChoice {
  const { tts } = config;
  const provider = tts.provider ?? (tts.elevenlabs.apiKey ? 'elevenlabs' : 'openai');
  if (provider === 'elevenlabs') {
    const { baseUrl, apiKey, voiceId } = tts.elevenlabs;
    // "Rachel", one of ElevenLabs' default voices.
    return {
      provider,
      model: tts.model ?? 'eleven_flash_v2_5',
      voiceId: voiceId ?? '21m00Tcm4TlvDq8ikWAM',
      baseUrl,
      apiKey,
    };
  }
  const { voice, voices: _offered, ...endpoint } = tts.openai;
  return { provider, model: tts.model ?? 'gpt-4o-mini-tts', voice: voice ?? 'alloy', ...endpoint };
}

/**
 * The model for images and scanned pages: VISION_MODEL (served where the language
 * model is), else the language model itself when it is OpenAI's and reads images
 * (agent/openai-vision-models.ts), else none.
 */
export function chooseVisionModel(config: Config): OpenAICompatible | undefined {
  if (config.visionModel) return { ...config.llm, model: config.visionModel };
  // Only with a key: without one the default would be a model that cannot be called.
  const openAIs = config.llm.baseUrl === OPENAI_DEFAULT_BASE_URL && config.llm.apiKey !== undefined;
  return openAIs && openAIModelReadsImages(config.llm.model) ? config.llm : undefined;
}

/** Problems that keep the voice pipeline from working, one line each; empty when usable. */
export function describeMissingProviders(config: Config): string[] {
  const problems: string[] = [];
  for (const settle of [
    () => languageModelSettings(config),
    () => speechToTextSettings(config),
    () => textToSpeechSettings(config),
  ]) {
    try {
      settle();
    } catch (error) {
      if (error instanceof ProviderConfigurationError) problems.push(error.message);
      else throw error;
    }
  }
  return problems;
}

/** What the language model plugin is built with; throws when a key is missing. */
export function languageModelSettings(config: Config) {
  return {
    model: config.llm.model,
    baseURL: config.llm.baseUrl,
    apiKey: openAIKey(config.llm, 'language model', 'LLM_BASE_URL'),
    temperature: 0.4,
  };
}

/** What the speech-to-text plugin is built with; throws when a key is missing. */
export function speechToTextSettings(config: Config) {
  const stt = chooseSpeechToText(config);
  if (stt.provider === 'deepgram') {
    if (!stt.apiKey && !stt.baseUrl) {
      throw new ProviderConfigurationError(
        'Speech to text with Deepgram needs DEEPGRAM_API_KEY (or set STT_PROVIDER=openai).',
      );
    }
    return {
      provider: 'deepgram' as const,
      options: {
        model: stt.model,
        apiKey: stt.apiKey ?? 'no-key-needed',
        interimResults: true,
        punctuate: true,
        smartFormat: true,
        // The end-of-turn model decides when the user finished; Deepgram only finalises phrases.
        endpointing: 25,
        ...(stt.baseUrl ? { baseUrl: stt.baseUrl } : {}),
      },
    };
  }
  return {
    provider: 'openai' as const,
    options: {
      model: stt.model,
      baseURL: stt.baseUrl,
      apiKey: openAIKey(stt, 'speech to text', 'STT_BASE_URL'),
      // Plain HTTP transcription: works with OpenAI and with local Whisper servers.
      // The session segments speech with its VAD and sends each utterance.
      useRealtime: false,
      language: 'en',
      detectLanguage: false,
    },
  };
}

/** The ElevenLabs key, or the reason it is needed. A fake or local server may take none. */
function elevenLabsKey(tts: Extract<TextToSpeechChoice, { provider: 'elevenlabs' }>): string {
  if (!tts.apiKey && !tts.baseUrl) {
    throw new ProviderConfigurationError(
      'Text to speech with ElevenLabs needs ELEVENLABS_API_KEY (or set TTS_PROVIDER=openai).',
    );
  }
  return tts.apiKey ?? 'no-key-needed';
}

/** The configured default voice: ELEVENLABS_VOICE_ID or TTS_VOICE (defaults applied). */
export function defaultVoiceId(tts: TextToSpeechChoice): string {
  return tts.provider === 'elevenlabs' ? tts.voiceId : tts.voice;
}

/**
 * What the text-to-speech plugin is built with, speaking in `voiceId` (a person's
 * choice, see {@link createVoiceLibrary}) or else the configured default voice; throws
 * when a key is missing.
 */
export function textToSpeechSettings(config: Config, voiceId?: string) {
  const tts = chooseTextToSpeech(config);
  const voice = voiceId ?? defaultVoiceId(tts);
  if (tts.provider === 'elevenlabs') {
    return {
      provider: 'elevenlabs' as const,
      options: {
        apiKey: elevenLabsKey(tts),
        voiceId: voice,
        model: tts.model,
        ...(tts.baseUrl ? { baseURL: elevenLabsApiUrl(tts.baseUrl) } : {}),
      },
    };
  }
  return {
    provider: 'openai' as const,
    options: {
      model: tts.model,
      voice,
      baseURL: tts.baseUrl,
      apiKey: openAIKey(tts, 'text to speech', 'TTS_BASE_URL'),
    },
  };
}

/**
 * The voices people may choose from, for the configured text to speech: the ElevenLabs
 * voice library through its SDK, or the OpenAI-compatible voices (TTS_VOICES, else
 * OpenAI's built-in ones for TTS_MODEL). Throws {@link ProviderConfigurationError} when
 * text to speech is not set up.
 */
export function createVoiceLibrary(config: Config): VoiceLibrary {
  const tts = chooseTextToSpeech(config);
  if (tts.provider === 'elevenlabs') {
    return elevenLabsVoices({
      // The SDK appends `/v1/...` itself.
      baseUrl: tts.baseUrl ? elevenLabsApiUrl(tts.baseUrl).replace(/\/v1$/, '') : undefined,
      apiKey: elevenLabsKey(tts),
      model: tts.model,
      defaultVoiceId: tts.voiceId,
    });
  }
  return openAIVoices({
    baseUrl: tts.baseUrl,
    apiKey: openAIKey(tts, 'text to speech', 'TTS_BASE_URL'),
    model: tts.model,
    defaultVoiceId: tts.voice,
    voices: config.tts.openai.voices,
  });
}

/**
 * The embedding client for documents and memories, or undefined when none can be
 * used (no key for OpenAI): search then runs on full text alone.
 */
export function createConfiguredEmbedder(config: Config): Embedder | undefined {
  try {
    return createEmbedder({
      baseUrl: config.embedding.baseUrl,
      apiKey: openAIKey(config.embedding, 'embedding model', 'EMBEDDING_BASE_URL'),
      model: config.embedding.model,
      dimensions: config.embedding.dimensions,
    });
  } catch (error) {
    if (error instanceof ProviderConfigurationError) return undefined;
    throw error;
  }
}

/**
 * The vision model for images and scanned pages ({@link chooseVisionModel}), or
 * undefined when there is none: scanned pages are then reported unreadable and images
 * are refused. A model that cannot be used (OpenAI without a key) throws, naming the
 * variable.
 */
export function createVisionClient(config: Config): VisionModel | undefined {
  const vision = chooseVisionModel(config);
  if (vision === undefined) return undefined;
  return createVisionModel({
    baseUrl: vision.baseUrl,
    apiKey: openAIKey(vision, `vision model (${vision.model})`, 'LLM_BASE_URL'),
    model: vision.model,
  });
}

/**
 * OpenAI's gpt-4o transcription models answer in plain text only; segment timestamps
 * (`verbose_json`), which citations of a moment need, come from whisper-1.
 */
export function recordingTranscriptionModel(sttModel: string): string {
  return /^gpt-4o(-mini)?-transcribe/.test(sttModel) ? 'whisper-1' : sttModel;
}

/** The speech-to-text service that transcribes whole recordings, as a name for messages. */
export function describeRecordingTranscription(config: Config): string {
  const stt = chooseSpeechToText(config);
  return stt.provider === 'deepgram'
    ? `Deepgram ${stt.model} (pre-recorded API)`
    : `${recordingTranscriptionModel(stt.model)} at ${stt.baseUrl}`;
}

/**
 * The transcriber for uploaded recordings: Deepgram's pre-recorded API through its SDK
 * when speech to text is Deepgram, else the OpenAI-compatible transcription endpoint;
 * undefined when neither can be used (no key), and recordings are then refused.
 */
export function createRecordingTranscriber(config: Config): RecordingTranscriber | undefined {
  const stt = chooseSpeechToText(config);
  if (stt.provider === 'deepgram') {
    if (!stt.apiKey && !stt.baseUrl) return undefined;
    return createDeepgramTranscriber({
      baseUrl: stt.baseUrl ?? 'https://api.deepgram.com',
      apiKey: stt.apiKey ?? 'no-key-needed',
      model: stt.model,
    });
  }
  try {
    return createOpenAITranscriber({
      baseUrl: stt.baseUrl,
      apiKey: openAIKey(stt, 'recording transcription', 'STT_BASE_URL'),
      model: recordingTranscriptionModel(stt.model),
    });
  } catch (error) {
    if (error instanceof ProviderConfigurationError) return undefined;
    throw error;
  }
}

/** One thing the assistant can do, whether it is on, and what it uses or needs. */
export interface Capability {
  name: 'answers' | 'voice in' | 'voice out' | 'vision' | 'embeddings';
  on: boolean;
  /** On: the provider and model in use. Off: what to set to turn it on. */
  detail: string;
}

/** What the configuration turns on, for `npm start` to print. Builds no network connection. */
export function describeCapabilities(config: Config): Capability[] {
  const where = (endpoint: OpenAICompatible) =>
    endpoint.baseUrl === OPENAI_DEFAULT_BASE_URL ? 'OpenAI' : endpoint.baseUrl;
  const check = (name: Capability['name'], build: () => unknown, detail: () => string): Capability => {
    try {
      build();
      return { name, on: true, detail: detail() };
    } catch (error) {
      if (error instanceof ProviderConfigurationError) return { name, on: false, detail: error.message };
      throw error;
    }
  };
  const stt = chooseSpeechToText(config);
  const tts = chooseTextToSpeech(config);
  const vision = chooseVisionModel(config);
  return [
    check(
      'answers',
      () => languageModelSettings(config),
      () => `${config.llm.model} at ${where(config.llm)}`,
    ),
    check(
      'voice in',
      () => speechToTextSettings(config),
      () => (stt.provider === 'deepgram' ? `Deepgram ${stt.model}` : `${stt.model} at ${where(stt)}`),
    ),
    check(
      'voice out',
      () => textToSpeechSettings(config),
      () => (tts.provider === 'elevenlabs' ? `ElevenLabs ${tts.model}` : `${tts.model} at ${where(tts)}`),
    ),
    vision === undefined
      ? {
          name: 'vision',
          on: false,
          detail:
            'set VISION_MODEL to a model that reads images (with OPENAI_API_KEY, an OpenAI LLM_MODEL such as gpt-4.1-mini reads them itself)',
        }
      : check(
          'vision',
          () => createVisionClient(config),
          () => `${vision.model} at ${where(vision)}`,
        ),
    createConfiguredEmbedder(config) === undefined
      ? {
          name: 'embeddings',
          on: false,
          detail:
            'set OPENAI_API_KEY, or EMBEDDING_BASE_URL for a local server (until then search uses full text only)',
        }
      : {
          name: 'embeddings',
          on: true,
          detail: `${config.embedding.model} at ${where(config.embedding)}, ${config.embedding.dimensions} dimensions`,
        },
  ];
}
