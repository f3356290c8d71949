-- Runs once, when the postgres service creates its data volume. The app's migrations
-- also create the extension, but only a superuser may; doing it here lets the app
-- connect as a role without that right.
create extension if not exists vector;
