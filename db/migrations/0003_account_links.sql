-- One-time codes that link a phone number to a web user: the web page shows a code,
-- the caller says it on the phone, and both identities become one person (shared
-- memories and documents). Only a hash of the code is stored; codes expire quickly.
create table account_link_codes (
  id bigint generated always as identity primary key,
  user_id uuid not null references users (id) on delete cascade,
  code_hash text not null unique,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);
create index account_link_codes_user on account_link_codes (user_id);
