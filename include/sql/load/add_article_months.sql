-- The monthly partitions of news.article (and the calendar days) that the passed rows of one run
-- and source need, made before the merge in a transaction of their own: see add_article_months()
-- in migration 0002. Only months of publication inside the checks' window [window_start,
-- window_end) get one, each month alone: one story dated 1970 beside one of today must never
-- create every month between them (the gate quarantines such a row; a row that passed anyway
-- would find no partition and fail the load, closed). Returns how many partitions were created.
SELECT coalesce(sum(news.add_article_months(month, month)), 0)::int
FROM (
    SELECT DISTINCT date_trunc('month', published_at::timestamptz, 'UTC') AS month
    FROM news.stage_article
    WHERE run_id = %(run_id)s AND source = %(source)s AND dq_status = 'passed'
) passed
WHERE month >= date_trunc('month', %(window_start)s::timestamptz, 'UTC')
  AND month < %(window_end)s::timestamptz;
