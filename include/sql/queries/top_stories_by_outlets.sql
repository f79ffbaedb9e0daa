-- Question: which stories did the most outlets carry in a period?
-- A story is a headline: the same words in the same order, whatever the case, punctuation and
-- spacing. One row per story carried by two outlets or more, most outlets first: its headline as
-- first published, the number of outlets, which ones, and when it first appeared.
-- Variables: since, until  UTC dates, both included, e.g. 2024-03-01 and 2024-03-31
-- Run:       psql "$(make -s db-url)" -v since=2024-03-01 -v until=2024-03-31 -f include/sql/queries/top_stories_by_outlets.sql
SELECT (array_agg(a.title ORDER BY a.published_at, a.article_id))[1] AS title,
       count(DISTINCT a.source_id) AS outlets,
       array_agg(DISTINCT s.name ORDER BY s.name) AS sources,
       min(a.published_at) AS first_published_at
FROM news.article a
JOIN news.source s USING (source_id)
WHERE a.published_at >= :'since'::date::timestamp AT TIME ZONE 'UTC'
  AND a.published_at < (:'until'::date + 1)::timestamp AT TIME ZONE 'UTC'
GROUP BY btrim(lower(regexp_replace(a.title, '[^[:alnum:]]+', ' ', 'g')))
HAVING count(DISTINCT a.source_id) > 1
ORDER BY outlets DESC, first_published_at
LIMIT 20;
