-- The rows the quality checks see: one run and source of news.stage_article, plus derived columns.
-- published_at is text in staging; only a value that states its offset is turned into a timestamp,
-- so a date without a time zone can never pass as UTC. {run_id} and {source} are quoted literals.
SELECT s.*,
       s.published_at ~ '(Z|[+-]\d\d(:?\d\d)?)$' AS published_at_has_offset,
       CASE WHEN s.published_at ~ '(Z|[+-]\d\d(:?\d\d)?)$' THEN s.published_at::timestamptz END
           AS published_at_utc
FROM news.stage_article s
WHERE s.run_id = {run_id} AND s.source = {source}
