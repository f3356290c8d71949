-- Limits on guessing phone-link codes (db/queries/account-links.ts). A call may try a
-- few codes (conversations.link_failures); each caller also has a small budget of tries
-- that refills slowly (users.link_tries, as of link_tries_at; null means full), so a
-- new call does not start afresh. Codes grow from six to eight digits: live six-digit
-- codes can no longer be redeemed and go. A user has at most one live code.
alter table users
  add column link_tries double precision,
  add column link_tries_at timestamptz;
alter table conversations add column link_failures integer not null default 0;

delete from account_link_codes;
drop index account_link_codes_user;
create unique index account_link_codes_user on account_link_codes (user_id);
