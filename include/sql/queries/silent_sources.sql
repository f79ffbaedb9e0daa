-- Question: which sources went silent: no article published in the given hours before a moment?
-- One row per silent source, longest silent first: its newest article by then, how long it has
-- been silent, and when a fetch of it last succeeded (a source that is fetched fine but publishes
-- nothing is quiet; one whose fetches fail is broken).
-- Variables: as_of  the moment to look back from: now, or a time such as 2024-03-04T12:00Z
--            hours  how many hours without an article count as silent, e.g. 24
-- Run:       psql "$(make -s db-url)" -v as_of=now -v hours=24 -f include/sql/queries/silent_sources.sql
SELECT s.name AS source,
       newest.published_at AS newest_article_at,
       :'as_of'::timestamptz - newest.published_at AS silent_for,
       fetched.fetched_at AS last_fetch_ok_at
FROM news.source s
LEFT JOIN LATERAL (
    SELECT max(a.published_at) AS published_at
    FROM news.article a
    WHERE a.source_id = s.source_id AND a.published_at <= :'as_of'::timestamptz
) newest ON true
LEFT JOIN LATERAL (
    SELECT f.fetched_at
    FROM news.feed_fetch f
    WHERE f.source = s.name AND f.outcome <> 'failed' AND f.fetched_at <= :'as_of'::timestamptz
    ORDER BY f.fetched_at DESC
    LIMIT 1
) fetched ON true
WHERE newest.published_at IS NULL
   OR newest.published_at < :'as_of'::timestamptz - make_interval(hours => :'hours'::int)
ORDER BY newest.published_at NULLS FIRST, s.name;
