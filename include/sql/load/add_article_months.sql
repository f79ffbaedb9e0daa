-- The monthly partitions of news.article (and the calendar days) that the passed rows of one run
-- and source need, made before the merge in a transaction of their own: see add_article_months()
-- in migration 0002. Returns how many partitions were created.
SELECT news.add_article_months(min(published_at::timestamptz), max(published_at::timestamptz))
FROM news.stage_article
WHERE run_id = %(run_id)s AND source = %(source)s AND dq_status = 'passed';
