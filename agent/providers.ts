import type { llm as llmTypes, stt as sttTypes, tts as ttsTypes } from '@livekit/agents';
import * as deepgram from '@livekit/agents-plugin-deepgram';
import * as elevenlabs from '@livekit/agents-plugin-elevenlabs';
import * as openai from '@livekit/agents-plugin-openai';
import type { Config } from '../config/load.ts';
import { languageModelSettings, speechToTextSettings, textToSpeechSettings } from './provider-settings.ts';

/**
 * The LiveKit plugins for the configured providers, built from the settings that
 * agent/provider-settings.ts chooses (which throws, naming the variable to set, when a
 * provider cannot be used). Loading this module loads the plugins.
 */

export function createLanguageModel(config: Config): llmTypes.LLM {
  return new openai.LLM(languageModelSettings(config));
}

export function createSpeechToText(config: Config): sttTypes.STT {
  const stt = speechToTextSettings(config);
  return stt.provider === 'deepgram' ? new deepgram.STT(stt.options) : new openai.STT(stt.options);
}

/** Text to speech as configured, in `voiceId` or else the configured default voice. */
export function createTextToSpeech(config: Config, voiceId?: string): ttsTypes.TTS {
  const tts = textToSpeechSettings(config, voiceId);
  if (tts.provider === 'elevenlabs') return new elevenlabs.TTS(tts.options);
  return new openai.TTS({ ...tts.options, voice: tts.options.voice as openai.TTSOptions['voice'] });
}

/**
 * Switches a live text to speech made by {@link createTextToSpeech} to another voice:
 * the answer being spoken finishes in the old one, the next starts in the new one (the
 * ElevenLabs plugin opens its next stream on the new voice's URL).
 */
export function switchVoice(textToSpeech: ttsTypes.TTS, voiceId: string): void {
  if (textToSpeech instanceof elevenlabs.TTS) textToSpeech.updateOptions({ voiceId });
  else if (textToSpeech instanceof openai.TTS)
    textToSpeech.updateOptions({ voice: voiceId as openai.TTSOptions['voice'] });
  else
    throw new Error(
      `switchVoice: ${textToSpeech.constructor.name} is not a text to speech this module makes`,
    );
}
