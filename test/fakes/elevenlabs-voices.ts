import type { ServerResponse } from 'node:http';
import type { RecordedHttpRequest } from './http-server.ts';
import { sendJson } from './http-server.ts';

/** One voice as `GET /v1/voices` and `GET /v2/voices` describe it (snake_case, as on the wire). */
export interface ElevenLabsVoice {
  voice_id: string;
  name: string;
  category: 'premade' | 'cloned' | 'generated' | 'professional' | 'famous' | 'high_quality';
  labels: Record<string, string>;
  description: string | null;
  preview_url: string | null;
}

function premade(
  voiceId: string,
  name: string,
  labels: Record<string, string>,
  description: string,
): ElevenLabsVoice {
  return {
    voice_id: voiceId,
    name,
    category: 'premade',
    labels: { language: 'en', ...labels },
    description,
    preview_url: `https://storage.googleapis.com/eleven-public-prod/premade/voices/${voiceId}/preview.mp3`,
  };
}

/** A few of ElevenLabs' default voices, with their real ids. */
export const DEFAULT_FAKE_VOICES: readonly ElevenLabsVoice[] = [
  premade(
    '21m00Tcm4TlvDq8ikWAM',
    'Rachel',
    { accent: 'american', descriptive: 'calm', age: 'young', gender: 'female', use_case: 'narrative_story' },
    'Matter-of-fact, personable woman. Great for conversational use cases.',
  ),
  premade(
    'EXAVITQu4vr4xnSDxMaL',
    'Sarah',
    {
      accent: 'american',
      descriptive: 'professional',
      age: 'young',
      gender: 'female',
      use_case: 'entertainment_tv',
    },
    'Young adult woman with a confident and warm, mature quality and a reassuring, professional tone.',
  ),
  premade(
    'JBFqnCBsd6RMkjVDRZzb',
    'George',
    {
      accent: 'british',
      descriptive: 'mature',
      age: 'middle_aged',
      gender: 'male',
      use_case: 'narrative_story',
    },
    'Warm resonance that instantly captivates listeners.',
  ),
];

/** The rest of a voice as the real API returns it: fields the SDK parses but we do not use. */
function wireVoice(voice: ElevenLabsVoice): Record<string, unknown> {
  return {
    ...voice,
    samples: null,
    fine_tuning: {
      is_allowed_to_fine_tune: true,
      state: { eleven_multilingual_v2: 'fine_tuned', eleven_flash_v2_5: 'fine_tuned' },
      verification_failures: [],
      verification_attempts_count: 0,
      manual_verification_requested: false,
    },
    available_for_tiers: [],
    settings: null,
    sharing: null,
    high_quality_base_model_ids: [
      'eleven_v2_flash',
      'eleven_flash_v2',
      'eleven_turbo_v2_5',
      'eleven_multilingual_v2',
    ],
    verified_languages: [],
    safety_control: null,
    voice_verification: {
      requires_verification: false,
      is_verified: false,
      verification_failures: [],
      verification_attempts_count: 0,
      language: null,
      verification_attempts: null,
    },
    permission_on_resource: null,
    is_owner: false,
    is_legacy: false,
    is_mixed: false,
    created_at_unix: null,
  };
}

/**
 * `GET /v1/voices` (every voice at once) and `GET /v2/voices` (paged by `page_size` and
 * `next_page_token`, filtered by `search` in the name). Returns false for other paths.
 */
export function answerVoiceList(
  response: ServerResponse,
  recorded: RecordedHttpRequest,
  voices: readonly ElevenLabsVoice[],
): boolean {
  if (recorded.method !== 'GET') return false;
  if (recorded.path === '/v1/voices') {
    sendJson(response, 200, { voices: voices.map(wireVoice) });
    return true;
  }
  if (recorded.path !== '/v2/voices') return false;
  const search = recorded.query.get('search')?.toLowerCase();
  const matching = search ? voices.filter((voice) => voice.name.toLowerCase().includes(search)) : voices;
  const pageSize = Math.min(100, Math.max(1, Number(recorded.query.get('page_size') ?? 10) || 10));
  const start = Number(recorded.query.get('next_page_token') ?? 0) || 0;
  const page = matching.slice(start, start + pageSize);
  const hasMore = start + pageSize < matching.length;
  sendJson(response, 200, {
    voices: page.map(wireVoice),
    has_more: hasMore,
    total_count: matching.length,
    next_page_token: hasMore ? String(start + pageSize) : null,
  });
  return true;
}
