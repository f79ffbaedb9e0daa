-- Question: how many articles mentioned a watched term on each day of a month?
-- One row per day of the month (UTC), days without a mention included: articles mentioning the
-- term, mentions in them, and sources that mentioned it.
-- Variables: term   a watched term's name (news.watch_term.name, include/watch_terms.yaml)
--            month  any date in the month, e.g. 2024-03-01
-- Run:       psql "$(make -s db-url)" -v term='North Korea' -v month=2024-03-01 -f include/sql/queries/term_mentions_per_day.sql
SELECT c.day,
       coalesce(m.articles, 0) AS articles,
       coalesce(m.mentions, 0) AS mentions,
       coalesce(m.sources, 0) AS sources
FROM news.calendar_date c
LEFT JOIN (
    SELECT (m.published_at AT TIME ZONE 'UTC')::date AS day,
           count(*) AS articles,
           sum(m.mentions) AS mentions,
           count(DISTINCT m.source_id) AS sources
    FROM news.article_mention m
    JOIN news.watch_term t ON t.term_id = m.term_id
    WHERE t.name = :'term'
      AND m.published_at >= date_trunc('month', :'month'::date::timestamp) AT TIME ZONE 'UTC'
      AND m.published_at < (date_trunc('month', :'month'::date::timestamp) + interval '1 month') AT TIME ZONE 'UTC'
    GROUP BY 1
) m ON m.day = c.day
WHERE c.day >= date_trunc('month', :'month'::date::timestamp)::date
  AND c.day < (date_trunc('month', :'month'::date::timestamp) + interval '1 month')::date
ORDER BY c.day;
