import type { ElevenLabsClient } from '@elevenlabs/elevenlabs-js';
import { wavFromPcm } from '../media/index.ts';
import type { VoiceOption } from '../protocol/index.ts';
import type { VoiceLibrary } from './voice-library.ts';

export interface ElevenLabsVoicesOptions {
  /** The REST origin the SDK takes, without `/v1` (`https://api.elevenlabs.io`); undefined for ElevenLabs'. */
  baseUrl: string | undefined;
  apiKey: string;
  /** The speech model previews use: the one the conversation speaks with. */
  model: string;
  defaultVoiceId: string;
}

/** Voices asked for per page, and pages read at most (a library of a thousand voices). */
const PAGE_SIZE = 100;
const MAX_PAGES = 10;
/** PCM is on every plan; the page gets it wrapped as WAV. */
const PREVIEW_SAMPLE_RATE = 24_000;

/**
 * The person's ElevenLabs voice library (their own, saved and default voices) through the
 * ElevenLabs SDK: `GET /v2/voices`, paged, and samples from `POST /v1/text-to-speech/{id}`.
 */
export function elevenLabsVoices(options: ElevenLabsVoicesOptions): VoiceLibrary {
  // The SDK takes about 0.6 s to import: loaded when a voice list or preview is first
  // asked for, not at every start of the server.
  let loaded: Promise<ElevenLabsClient> | undefined;
  const sdk = () =>
    (loaded ??= import('@elevenlabs/elevenlabs-js').then(
      ({ ElevenLabsClient }) =>
        new ElevenLabsClient({
          apiKey: options.apiKey,
          ...(options.baseUrl ? { baseUrl: options.baseUrl } : {}),
          timeoutInSeconds: 15,
          maxRetries: 1,
        }),
    ));
  return {
    provider: 'elevenlabs',
    defaultVoiceId: options.defaultVoiceId,
    async list() {
      const client = await sdk();
      const voices: VoiceOption[] = [];
      let nextPageToken: string | undefined;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = await client.voices.search({
          pageSize: PAGE_SIZE,
          ...(nextPageToken ? { nextPageToken } : {}),
        });
        for (const voice of result.voices) {
          const description = describe(voice.labels, voice.description);
          voices.push({
            id: voice.voiceId,
            name: voice.name ?? voice.voiceId,
            ...(description ? { description } : {}),
          });
        }
        if (!result.hasMore || !result.nextPageToken) break;
        nextPageToken = result.nextPageToken;
      }
      return voices;
    },
    async synthesizeSample(voiceId, text) {
      const client = await sdk();
      const stream = await client.textToSpeech.convert(voiceId, {
        text,
        modelId: options.model,
        outputFormat: `pcm_${PREVIEW_SAMPLE_RATE}`,
      });
      const chunks: Uint8Array[] = [];
      for await (const chunk of stream) chunks.push(chunk);
      return wavFromPcm(Buffer.concat(chunks), PREVIEW_SAMPLE_RATE);
    },
  };
}

/** "american, female, young" from a voice's labels, else its description. */
function describe(
  labels: Record<string, string> | undefined,
  description: string | undefined,
): string | undefined {
  const parts = ['accent', 'gender', 'age', 'descriptive']
    .map((key) => labels?.[key]?.replaceAll('_', ' '))
    .filter((part): part is string => Boolean(part));
  return parts.length > 0 ? parts.join(', ') : description || undefined;
}
