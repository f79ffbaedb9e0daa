-- Question: which sources mostly republish others?
-- Per source, over its articles published in the period: how many, how many are a story another
-- outlet carried too (shared), how many another outlet had first (republished), and the share of
-- its articles that are republished, highest first. A wire agency is near 0; a site that lives on
-- agency copy near 1.
-- Variables: since, until  UTC dates, both included, e.g. 2024-03-01 and 2024-03-31
-- Run:       psql "$(make -s db-url)" -v since=2024-03-01 -v until=2024-03-31 -f include/sql/queries/syndication_share.sql
SELECT sa.source,
       count(*) AS articles,
       count(*) FILTER (WHERE sa.outlets > 1) AS shared,
       count(*) FILTER (WHERE sa.outlets > 1 AND sa.first_source <> sa.source) AS republished,
       round(count(*) FILTER (WHERE sa.outlets > 1 AND sa.first_source <> sa.source)::numeric / count(*), 3)
           AS syndication_share
FROM news.story_article sa
WHERE sa.published_at >= :'since'::date::timestamp AT TIME ZONE 'UTC'
  AND sa.published_at < (:'until'::date + 1)::timestamp AT TIME ZONE 'UTC'
GROUP BY sa.source
ORDER BY syndication_share DESC, sa.source;
