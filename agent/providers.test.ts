import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/load.ts';
import {
  chooseSpeechToText,
  chooseTextToSpeech,
  chooseVisionModel,
  describeCapabilities,
  describeMissingProviders,
} from './provider-settings.ts';

const load = (env: Record<string, string>) => loadConfig({ env, envFile: false, cwd: '/srv/app' });

describe('provider choice', () => {
  it('picks speech providers from the keys present, unless told', () => {
    expect(chooseSpeechToText(load({}))).toMatchObject({
      provider: 'openai',
      model: 'gpt-4o-mini-transcribe',
    });
    expect(chooseSpeechToText(load({ DEEPGRAM_API_KEY: 'dg' }))).toEqual({
      provider: 'deepgram',
      model: 'nova-3',
      apiKey: 'dg',
      baseUrl: undefined,
    });
    expect(chooseSpeechToText(load({ DEEPGRAM_API_KEY: 'dg', STT_PROVIDER: 'openai' })).provider).toBe(
      'openai',
    );
    expect(chooseTextToSpeech(load({}))).toMatchObject({ provider: 'openai', voice: 'alloy' });
    expect(chooseTextToSpeech(load({ ELEVENLABS_API_KEY: 'el' }))).toMatchObject({
      provider: 'elevenlabs',
      model: 'eleven_flash_v2_5',
      voiceId: '21m00Tcm4TlvDq8ikWAM',
    });
  });

  it('says which key a chosen provider lacks, without refusing to start', () => {
    const problems = describeMissingProviders(
      load({ OPENAI_API_KEY: 'sk', STT_PROVIDER: 'deepgram', TTS_PROVIDER: 'elevenlabs' }),
    );
    expect(problems).toEqual([
      'Speech to text with Deepgram needs DEEPGRAM_API_KEY (or set STT_PROVIDER=openai).',
      'Text to speech with ElevenLabs needs ELEVENLABS_API_KEY (or set TTS_PROVIDER=openai).',
    ]);
  });

  it("uses OpenAI's language model for images when it reads them and a key is set", () => {
    expect(chooseVisionModel(load({ OPENAI_API_KEY: 'sk' }))).toMatchObject({ model: 'gpt-4.1-mini' });
    expect(chooseVisionModel(load({ OPENAI_API_KEY: 'sk', LLM_MODEL: 'gpt-4o-2024-08-06' }))?.model).toBe(
      'gpt-4o-2024-08-06',
    );
    expect(chooseVisionModel(load({ OPENAI_API_KEY: 'sk', LLM_MODEL: 'gpt-3.5-turbo' }))).toBeUndefined();
    expect(chooseVisionModel(load({ OPENAI_API_KEY: 'sk', LLM_MODEL: 'o3-mini' }))).toBeUndefined();
    // Without a key the default would be unusable; a local server's model is not OpenAI's.
    expect(chooseVisionModel(load({}))).toBeUndefined();
    expect(
      chooseVisionModel(load({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', LLM_MODEL: 'gpt-4o' })),
    ).toBeUndefined();
    expect(
      chooseVisionModel(load({ OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1', VISION_MODEL: 'llava' })),
    ).toMatchObject({ model: 'llava', baseUrl: 'http://127.0.0.1:11434/v1' });
  });

  it('lists what is on and what turns on the rest', () => {
    const oneKey = describeCapabilities(load({ OPENAI_API_KEY: 'sk' }));
    expect(oneKey.map(({ name, on }) => `${name} ${on ? 'on' : 'off'}`)).toEqual([
      'answers on',
      'voice in on',
      'voice out on',
      'vision on',
      'embeddings on',
    ]);
    expect(oneKey.find((capability) => capability.name === 'vision')?.detail).toBe('gpt-4.1-mini at OpenAI');

    const nothing = describeCapabilities(load({}));
    expect(nothing.every((capability) => !capability.on)).toBe(true);
    expect(nothing.find((capability) => capability.name === 'voice in')?.detail).toMatch(/OPENAI_API_KEY/);
    expect(nothing.find((capability) => capability.name === 'vision')?.detail).toMatch(/^set VISION_MODEL/);
    expect(nothing.find((capability) => capability.name === 'embeddings')?.detail).toMatch(
      /EMBEDDING_BASE_URL/,
    );
  });
});
