-- Question: which outlet had a story first, and how long did the others take?
-- One row per article of every story (story cluster) first published in the period and carried by
-- two outlets or more: the story's headline, the outlet, its own headline and link, when it
-- published, and how long after the first outlet (00:00:00 for the first). Stories in order of
-- first publication; within one, the first outlet first.
-- Variables: since, until  UTC dates, both included, e.g. 2024-03-01 and 2024-03-31
-- Run:       psql "$(make -s db-url)" -v since=2024-03-01 -v until=2024-03-31 -f include/sql/queries/story_firsts.sql
SELECT c.cluster_id AS story,
       c.headline,
       sa.source,
       sa.title,
       sa.url,
       sa.published_at,
       sa.after_first
FROM news.story_cluster c
JOIN news.story_article sa USING (cluster_id)
WHERE c.first_published_at >= :'since'::date::timestamp AT TIME ZONE 'UTC'
  AND c.first_published_at < (:'until'::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND c.outlets > 1
ORDER BY c.first_published_at, c.cluster_id, sa.published_at, sa.article_id;
