-- After the COPY into staging: a date Python wrote with an offset that PostgreSQL still cannot
-- read as timestamptz (storable.py checks the known cases; this asks PostgreSQL itself) is left
-- out and named in the row's `unstorable` reason, so the gate quarantines that row alone instead
-- of every cast in the checks failing. The same offset pattern as quality/staged_articles.sql.
UPDATE news.stage_article s
SET unstorable = concat_ws('; ', s.unstorable,
        CASE WHEN bad_published THEN format('published_at %%L: PostgreSQL cannot read it (left out)', s.published_at) END,
        CASE WHEN bad_feed THEN format('feed_published_at %%L: PostgreSQL cannot read it (left out)', s.feed_published_at) END,
        CASE WHEN bad_updated THEN format('updated_at %%L: PostgreSQL cannot read it (left out)', s.updated_at) END),
    published_at = CASE WHEN bad_published THEN NULL ELSE s.published_at END,
    feed_published_at = CASE WHEN bad_feed THEN NULL ELSE s.feed_published_at END,
    updated_at = CASE WHEN bad_updated THEN NULL ELSE s.updated_at END
FROM (
    SELECT stage_id,
           coalesce(published_at ~ '(Z|[+-]\d\d(:?\d\d)?)$' AND NOT pg_input_is_valid(published_at, 'timestamptz'), false) AS bad_published,
           coalesce(feed_published_at ~ '(Z|[+-]\d\d(:?\d\d)?)$' AND NOT pg_input_is_valid(feed_published_at, 'timestamptz'), false) AS bad_feed,
           coalesce(updated_at IS NOT NULL AND NOT pg_input_is_valid(updated_at, 'timestamptz'), false) AS bad_updated
    FROM news.stage_article
    WHERE source = %(source)s AND day = %(day)s
) b
WHERE s.stage_id = b.stage_id AND (bad_published OR bad_feed OR bad_updated);
