-- 0010: views for the questions asked every day. Days are UTC dates, like published_day. Each view
-- is plain SQL over the model: filter it like a table (WHERE day >= '2024-03-01', WHERE source = ...).

-- Articles and words per publication day and source.
CREATE VIEW news.daily_volume AS
SELECT a.published_day AS day, s.name AS source, count(*) AS articles, sum(a.word_count) AS words
FROM news.article a
JOIN news.source s USING (source_id)
GROUP BY a.published_day, s.name;

-- One row per source that has run: when a fetch last succeeded and last failed (with its error),
-- the failure rate and fetch latency (milliseconds, successful fetches) over the last 7 days, the
-- last run's day and status, and the newest article it has in the warehouse.
CREATE VIEW news.source_health AS
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
    ORDER BY r.started_at DESC LIMIT 1
) run ON true
LEFT JOIN LATERAL (
    SELECT max(a.published_at) AS published_at FROM news.article a WHERE a.source_id = s.source_id
) newest ON true;

-- Data quality per collected day and source: checks run and failed, rows checked and quarantined,
-- the share of rows that passed, which checks failed (their ids), and the status of the day's last
-- run of the source ('blocked' when the quality gate kept its rows out).
CREATE VIEW news.dq_daily AS
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
    WHERE e.source = r.source AND e.day = r.day
    ORDER BY e.started_at DESC LIMIT 1
) run ON true
GROUP BY r.day, r.source;

-- Per publication day and watched term: articles mentioning it, mentions, and sources mentioning it.
CREATE VIEW news.term_daily AS
SELECT (m.published_at AT TIME ZONE 'UTC')::date AS day,
       t.name AS term,
       t.kind,
       count(*) AS articles,
       sum(m.mentions) AS mentions,
       count(DISTINCT m.source_id) AS sources
FROM news.article_mention m
JOIN news.watch_term t USING (term_id)
GROUP BY (m.published_at AT TIME ZONE 'UTC')::date, t.name, t.kind;
