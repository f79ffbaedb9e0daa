-- 0035: news.etl_run keeps one row per attempt. A reprocess, an Airflow retry of extract or a
-- later run of the same day adds a row (attempt_id, in the order attempts began); nothing is
-- overwritten, so what each pass of a day loaded stays queryable. A run of a day that is not yet
-- over where the source publishes (plus the lag) is `partial`: a later run fetches the day again.
ALTER TABLE news.etl_run DROP CONSTRAINT etl_run_pkey;
ALTER TABLE news.etl_run ADD COLUMN attempt_id bigserial PRIMARY KEY;
ALTER TABLE news.etl_run ADD COLUMN partial boolean NOT NULL DEFAULT false;
CREATE INDEX etl_run_run_source ON news.etl_run (run_id, source, attempt_id);

-- The latest attempt of every source and day: what the day's outcome is now.
CREATE VIEW news.etl_run_latest AS
SELECT DISTINCT ON (source, day) *
FROM news.etl_run
ORDER BY source, day, attempt_id DESC;

-- As in 0010, with the latest attempt by attempt_id (started_at ties within a transaction).
CREATE OR REPLACE VIEW news.source_health AS
SELECT n.source,
       ok.fetched_at AS last_success_at,
       bad.fetched_at AS last_failure_at,
       bad.error AS last_error,
       week.fetches AS fetches_7d,
       week.failed AS failed_7d,
       round(week.failed::numeric / nullif(week.fetches, 0), 3) AS failure_rate_7d,
       week.median_ms AS median_latency_ms_7d,
       week.p95_ms AS p95_latency_ms_7d,
       run.day AS last_run_day,
       run.status AS last_run_status,
       newest.published_at AS newest_article_at
FROM (SELECT name FROM news.source UNION SELECT source FROM news.etl_run) AS n (source)
LEFT JOIN news.source s ON s.name = n.source
LEFT JOIN LATERAL (
    SELECT f.fetched_at FROM news.feed_fetch f
    WHERE f.source = n.source AND f.outcome <> 'failed'
    ORDER BY f.fetched_at DESC LIMIT 1
) ok ON true
LEFT JOIN LATERAL (
    SELECT f.fetched_at, f.error FROM news.feed_fetch f
    WHERE f.source = n.source AND f.outcome = 'failed'
    ORDER BY f.fetched_at DESC, f.fetch_id DESC LIMIT 1
) bad ON true
LEFT JOIN LATERAL (
    SELECT count(*) AS fetches,
           count(*) FILTER (WHERE f.outcome = 'failed') AS failed,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY f.elapsed_ms) FILTER (WHERE f.outcome <> 'failed') AS median_ms,
           percentile_disc(0.95) WITHIN GROUP (ORDER BY f.elapsed_ms) FILTER (WHERE f.outcome <> 'failed') AS p95_ms
    FROM news.feed_fetch f
    WHERE f.source = n.source AND f.fetched_at > now() - interval '7 days'
) week ON true
LEFT JOIN LATERAL (
    SELECT r.day, r.status FROM news.etl_run r
    WHERE r.source = n.source
    ORDER BY r.attempt_id DESC LIMIT 1
) run ON true
LEFT JOIN LATERAL (
    SELECT max(a.published_at) AS published_at FROM news.article a WHERE a.source_id = s.source_id
) newest ON true;

-- As in 0010; run_status is that of the latest attempt that ran the day's checks or failed: an
-- attempt recorded 'unchanged' repeats the outcome of the one before it, whose checks these are.
CREATE OR REPLACE VIEW news.dq_daily AS
SELECT r.day,
       r.source,
       count(*) AS checks,
       count(*) FILTER (WHERE NOT r.success) AS failed_checks,
       max(r.element_count) AS rows_checked,
       coalesce(max(q.quarantined), 0) AS rows_quarantined,
       round(1 - coalesce(max(q.quarantined), 0)::numeric / nullif(max(r.element_count), 0), 3) AS pass_rate,
       coalesce(array_agg(coalesce(r.check_id, r.expectation || coalesce('(' || r.column_name || ')', ''))
                          ORDER BY r.check_id, r.expectation, r.column_name) FILTER (WHERE NOT r.success), '{}')
           AS failed,
       max(run.status) AS run_status
FROM news.dq_result r
LEFT JOIN (SELECT source, day, count(*) AS quarantined FROM news.quarantine GROUP BY source, day) q
       ON q.source = r.source AND q.day = r.day
LEFT JOIN LATERAL (
    SELECT e.status FROM news.etl_run e
    WHERE e.source = r.source AND e.day = r.day AND e.status <> 'unchanged'
    ORDER BY e.attempt_id DESC LIMIT 1
) run ON true
GROUP BY r.day, r.source;
