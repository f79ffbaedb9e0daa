-- The story clusters' lock: clusters are shared by all sources, so two loads at once must not both
-- make a cluster for one story. Loads take it after their source's lock, never before, and only
-- once their bodies are signed and their candidates looked up (story_candidates.sql), so it is
-- held for the members written meanwhile (story_candidates_since.sql) and the writes. Its wait is
-- bounded by the statement timeout rather than the lock timeout: every load of a busy day queues
-- here for a few seconds each, which is no reason to fail one.
SELECT set_config('lock_timeout', current_setting('statement_timeout'), true);
SELECT pg_advisory_xact_lock(hashtext('news.story_clusters'));
SELECT set_config('lock_timeout', %(lock_timeout)s, true);
