-- Pages of a document that had no text layer and were not transcribed (no vision
-- model was configured when it was ingested). Kept so that ingesting the same file
-- again once a vision model is configured reads those pages instead of answering
-- "unchanged", and so the document's listing can say which pages are missing.
alter table documents add column unreadable_pages integer[] not null default '{}';
