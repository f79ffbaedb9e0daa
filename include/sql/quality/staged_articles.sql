-- The rows the quality checks see: one run's rows of news.stage_article for one or more sources,
-- plus derived columns. {run_id} is a quoted literal and {sources} a VALUES list of (source, its
-- site names as text[]), filled in by quality.py; every derived column is computed within its
-- source, so a row reads the same whichever sources are checked beside it. published_at is text
-- in staging: only a value that states its offset becomes a timestamp, so a date without a time
-- zone can never pass as UTC.
SELECT d.*,
       (abs(extract(epoch FROM d.published_at_utc - d.feed_published_utc)) / 3600)::float8 AS feed_date_gap_hours,
       lower(btrim(d.title)) = ANY (d.site_names) AS title_is_site_name,
       d.word_count < 150
           AND d.body ~* '(subscribe|log ?in|sign ?in|register) to (continue|read)|already a subscriber|enable javascript|accept (all )?cookies|access denied|page not found|(404|403) error'
           AS body_is_boilerplate,
       d.story_code_in_url IS NULL OR d.story_code IS NULL OR d.story_code_in_url = d.story_code
           AS story_code_matches_url,
       EXISTS (SELECT 1 FROM news.article a JOIN news.source src USING (source_id)
               WHERE src.name = d.source AND a.story_code = d.story_code
                 AND a.canonical_url IS DISTINCT FROM d.canonical_url) AS story_code_taken,
       -- the story at this canonical URL is in the warehouse under another code: loaded, it would
       -- be a second row of the same story (identity is the code)
       d.story_code IS NOT NULL AND EXISTS (
           SELECT 1 FROM news.article a JOIN news.source src USING (source_id)
           WHERE src.name = d.source AND a.canonical_url = d.canonical_url
             AND a.story_code IS DISTINCT FROM d.story_code) AS story_code_changed_for_url,
       CASE WHEN d.code_number IS NOT NULL AND d.published_at_utc IS NOT NULL THEN
           abs(rank() OVER (PARTITION BY d.source, d.code_number IS NOT NULL AND d.published_at_utc IS NOT NULL
                            ORDER BY d.published_at_utc, d.code_number)
             - rank() OVER (PARTITION BY d.source, d.code_number IS NOT NULL AND d.published_at_utc IS NOT NULL
                            ORDER BY d.code_number))
       END AS story_code_order_gap
FROM (
    SELECT s.*, checked.site_names,
           s.published_at ~ '(Z|[+-]\d\d(:?\d\d)?)$' AS published_at_has_offset,
           CASE WHEN s.published_at ~ '(Z|[+-]\d\d(:?\d\d)?)$' THEN s.published_at::timestamptz END
               AS published_at_utc,
           CASE WHEN s.feed_published_at ~ '(Z|[+-]\d\d(:?\d\d)?)$' THEN s.feed_published_at::timestamptz END
               AS feed_published_utc,
           CASE WHEN s.story_code ~ '^\d{1,18}$' THEN s.story_code::numeric END AS code_number
    FROM news.stage_article s
    JOIN (VALUES {sources}) AS checked (source, site_names) ON checked.source = s.source
    WHERE s.run_id = {run_id}
) d
