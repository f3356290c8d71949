-- The whole product's schema. `{{embedding_dimensions}}` is replaced with
-- EMBEDDING_DIMENSIONS when the migration is applied; a database created with
-- other dimensions is refused at start (see db/connection.ts).
--
-- Rule for personal data: every table that holds data about a person has a
-- direct `user_id` (or `owner_id`) column referencing users with ON DELETE
-- CASCADE, so erasure is exact and the erase test can enumerate it from the catalog.

create extension if not exists vector;

create table users (
  id uuid primary key default gen_random_uuid(),
  display_name text,
  created_at timestamptz not null default now()
);

-- How a person is recognised: a browser identity, a phone number. One person can have several.
create table user_identities (
  id bigint generated always as identity primary key,
  user_id uuid not null references users (id) on delete cascade,
  kind text not null check (kind in ('web', 'phone')),
  value text not null,
  created_at timestamptz not null default now(),
  unique (kind, value)
);
create index user_identities_user on user_identities (user_id);

create table conversations (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  channel text not null check (channel in ('web', 'phone')),
  started_at timestamptz not null default now(),
  ended_at timestamptz,
  summary text
);
create index conversations_user on conversations (user_id, started_at desc);

-- One row per turn of speech or text. Timings are milliseconds measured from the
-- end of the user's speech (or from the typed message) of the turn.
create table messages (
  id uuid primary key default gen_random_uuid(),
  conversation_id uuid not null references conversations (id) on delete cascade,
  user_id uuid not null references users (id) on delete cascade,
  role text not null check (role in ('user', 'assistant', 'system', 'tool')),
  modality text not null check (modality in ('voice', 'text', 'image', 'document')),
  text text not null,
  interrupted boolean not null default false,
  citations jsonb not null default '[]',
  speech_ended_at timestamptz,
  transcript_delay_ms real,
  first_token_delay_ms real,
  first_audio_delay_ms real,
  -- clock_timestamp, not now(): messages written in one transaction keep their order.
  created_at timestamptz not null default clock_timestamp()
);
create index messages_conversation on messages (conversation_id, created_at);
create index messages_user on messages (user_id);

-- A document belongs to one user, or to everyone when owner_id is null (shared).
create table documents (
  id uuid primary key default gen_random_uuid(),
  owner_id uuid references users (id) on delete cascade,
  title text not null,
  source_name text,
  mime_type text not null,
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  byte_size bigint not null check (byte_size >= 0),
  page_count integer check (page_count >= 0),
  status text not null default 'processing' check (status in ('processing', 'ready', 'failed')),
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique nulls not distinct (owner_id, sha256)
);
create index documents_owner on documents (owner_id);

-- Searchable pieces of documents. owner_id repeats the document's owner so the
-- per-user filter of hybrid search needs no join.
create table chunks (
  id bigint generated always as identity primary key,
  document_id uuid not null references documents (id) on delete cascade,
  owner_id uuid references users (id) on delete cascade,
  ordinal integer not null,
  page_start integer,
  page_end integer,
  heading text,
  text text not null,
  tsv tsvector generated always as (
    to_tsvector('english', coalesce(heading, '') || ' ' || text)
  ) stored,
  embedding vector({{embedding_dimensions}}),
  embedding_model text,
  created_at timestamptz not null default now(),
  unique (document_id, ordinal)
);
create index chunks_owner on chunks (owner_id);
create index chunks_tsv on chunks using gin (tsv);
create index chunks_embedding on chunks using hnsw (embedding vector_cosine_ops);

-- What the assistant remembers about a person: facts they asked it to keep, and
-- a short summary of each conversation.
create table memories (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  kind text not null check (kind in ('fact', 'summary')),
  text text not null,
  tsv tsvector generated always as (to_tsvector('english', text)) stored,
  embedding vector({{embedding_dimensions}}),
  embedding_model text,
  conversation_id uuid references conversations (id) on delete set null,
  created_at timestamptz not null default now()
);
create index memories_user on memories (user_id, created_at desc);
create index memories_tsv on memories using gin (tsv);
create index memories_embedding on memories using hnsw (embedding vector_cosine_ops);

-- Files a person sent: kept on disk under DATA_DIR (path) or in the row (data).
create table uploads (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users (id) on delete cascade,
  conversation_id uuid references conversations (id) on delete cascade,
  document_id uuid references documents (id) on delete set null,
  file_name text not null,
  mime_type text not null,
  byte_size bigint not null check (byte_size >= 0),
  sha256 text not null check (sha256 ~ '^[0-9a-f]{64}$'),
  storage text not null check (storage in ('disk', 'database')),
  path text,
  data bytea,
  created_at timestamptz not null default now(),
  check ((storage = 'disk' and path is not null and data is null) or (storage = 'database' and data is not null and path is null))
);
create index uploads_user on uploads (user_id);

-- Proof that an erasure happened. Deliberately holds no personal data: not the
-- user's id, not their identities, only what was removed and when.
create table erasure_receipts (
  id uuid primary key default gen_random_uuid(),
  erased_at timestamptz not null default now(),
  rows_deleted jsonb not null,
  files_deleted integer not null
);

-- Full-text query with OR semantics: a spoken question shares only some words with
-- the passage that answers it, so any matching lexeme counts and ts_rank_cd favours
-- passages that match more of them. Null when the text has no searchable words.
create function or_tsquery(config regconfig, input text) returns tsquery
language sql immutable parallel safe as $$
  select nullif(
    array_to_string(array(select quote_literal(lexeme) from unnest(tsvector_to_array(to_tsvector(config, input))) lexeme), ' | '),
    ''
  )::tsquery
$$;
