import type { Queryable } from '../connection.ts';

/** The text-to-speech providers a voice choice can belong to. */
export type VoiceProvider = 'elevenlabs' | 'openai';

/** Remembers `voiceId` as the user's voice for `provider`, replacing an earlier choice. */
export async function saveVoiceChoice(
  db: Queryable,
  userId: string,
  provider: VoiceProvider,
  voiceId: string,
): Promise<void> {
  await db.query(
    `insert into voice_choices (user_id, provider, voice_id) values ($1, $2, $3)
     on conflict (user_id, provider) do update set voice_id = excluded.voice_id, chosen_at = now()`,
    [userId, provider, voiceId],
  );
}

/** The voice the user chose for `provider`, or undefined when they chose none. */
export async function findVoiceChoice(
  db: Queryable,
  userId: string,
  provider: VoiceProvider,
): Promise<string | undefined> {
  const { rows } = await db.query<{ voice_id: string }>(
    'select voice_id from voice_choices where user_id = $1 and provider = $2',
    [userId, provider],
  );
  return rows[0]?.voice_id;
}
