-- One row per turn of a conversation (the flight recorder): where the time of one
-- answer went, stage by stage, and what it used. A turn starts at the end of the
-- user's speech (or at a typed message); `stages` holds
-- [{"name", "startMs", "endMs", "firstMs"?, "detail"?}] in ms from that start
-- (see protocol/events.ts, TurnStage). The turn's messages point at it by id.
create table turns (
  id uuid primary key,
  conversation_id uuid not null references conversations (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  modality text not null check (modality in ('voice', 'text')),
  started_at timestamptz not null,
  stages jsonb not null default '[]',
  voice_to_voice_ms real,
  interrupted boolean not null default false,
  -- Passages retrieval offered the model: [{"chunkId", "documentId", "title", "page"}].
  sources jsonb not null default '[]',
  -- Passages the answer cited: [{"documentId", "title", "page"}].
  citations jsonb not null default '[]',
  finished_at timestamptz
);
create index turns_conversation on turns (conversation_id, started_at);
create index turns_started on turns (started_at desc);
create index turns_user on turns (user_id);

alter table messages add column turn_id uuid references turns (id) on delete set null;
create index messages_turn on messages (turn_id);
