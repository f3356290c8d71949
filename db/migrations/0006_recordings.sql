-- Recordings as documents (issue 14). A recording's passages carry where in it they
-- were said (ms from its start) and who spoke at that moment ("Speaker 1"), in place
-- of the page range documents use; the document keeps the recording's length.
alter table documents add column duration_ms integer;
alter table chunks add column start_ms integer;
alter table chunks add column end_ms integer;
alter table chunks add column speaker text;
