import OpenAI from 'openai';
import { wavFromPcm } from '../media/index.ts';
import type { VoiceLibrary } from './voice-library.ts';

/**
 * OpenAI's speech API has no endpoint that lists voices; its documentation names the
 * built-in ones. `tts-1` and `tts-1-hd` speak the first nine; `gpt-4o-mini-tts` all of them.
 */
const CLASSIC_VOICES = ['alloy', 'ash', 'coral', 'echo', 'fable', 'nova', 'onyx', 'sage', 'shimmer'];
const NEWER_VOICES = ['ballad', 'verse', 'marin', 'cedar'];

/** OpenAI's built-in voices for a speech model (the full set for a model it does not know). */
export function openAIBuiltInVoices(model: string): string[] {
  return /^tts-1(-hd)?(-\d|$)/.test(model) ? CLASSIC_VOICES : [...CLASSIC_VOICES, ...NEWER_VOICES];
}

export interface OpenAIVoicesOptions {
  baseUrl: string;
  apiKey: string;
  model: string;
  defaultVoiceId: string;
  /** TTS_VOICES: the voices of a local server; undefined for OpenAI's built-in ones. */
  voices: readonly string[] | undefined;
}

/** OpenAI speech returns 24 kHz 16-bit mono PCM. */
const PCM_SAMPLE_RATE = 24_000;

/**
 * The voices of an OpenAI-compatible speech server: TTS_VOICES when set, else OpenAI's
 * built-in voices for the model (the configured default voice always among them), and
 * samples from `POST /audio/speech`.
 */
export function openAIVoices(options: OpenAIVoicesOptions): VoiceLibrary {
  const client = new OpenAI({
    baseURL: options.baseUrl,
    apiKey: options.apiKey,
    timeout: 15_000,
    maxRetries: 1,
  });
  const names = [
    ...new Set([options.defaultVoiceId, ...(options.voices ?? openAIBuiltInVoices(options.model))]),
  ];
  return {
    provider: 'openai',
    defaultVoiceId: options.defaultVoiceId,
    list: async () => names.map((name) => ({ id: name, name: name.charAt(0).toUpperCase() + name.slice(1) })),
    async synthesizeSample(voiceId, text) {
      const response = await client.audio.speech.create({
        model: options.model,
        voice: voiceId,
        input: text,
        response_format: 'pcm',
      });
      return wavFromPcm(Buffer.from(await response.arrayBuffer()), PCM_SAMPLE_RATE);
    },
  };
}
