-- The voice a person chose for the assistant's answers, per text-to-speech provider
-- (voice ids of ElevenLabs and of OpenAI-compatible servers mean nothing to each other,
-- so switching TTS_PROVIDER and back keeps each choice). Personal data: erased with the user.
create table voice_choices (
  user_id uuid not null references users (id) on delete cascade,
  provider text not null check (provider in ('elevenlabs', 'openai')),
  voice_id text not null check (length(voice_id) between 1 and 200),
  chosen_at timestamptz not null default now(),
  primary key (user_id, provider)
);
