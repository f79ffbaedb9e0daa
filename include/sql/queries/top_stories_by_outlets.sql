-- Question: which stories did the most outlets carry in a period?
-- A story is a story cluster (news.story_cluster): the articles whose bodies are near-duplicates,
-- across sources and within a few days, whatever their headlines (a wire copy retitled, trimmed
-- by a paragraph). One row per story first published in the period and carried by two outlets or
-- more, most outlets first: its headline as first published, the number of outlets, which ones,
-- and when it first appeared.
-- Variables: since, until  UTC dates, both included, e.g. 2024-03-01 and 2024-03-31
-- Run:       psql "$(make -s db-url)" -v since=2024-03-01 -v until=2024-03-31 -f include/sql/queries/top_stories_by_outlets.sql
SELECT c.headline AS title,
       c.outlets,
       array_agg(DISTINCT s.name ORDER BY s.name) AS sources,
       c.first_published_at
FROM news.story_cluster c
JOIN news.story_member m USING (cluster_id)
JOIN news.article_identity i USING (article_id)
JOIN news.source s ON s.source_id = i.source_id
WHERE c.first_published_at >= :'since'::date::timestamp AT TIME ZONE 'UTC'
  AND c.first_published_at < (:'until'::date + 1)::timestamp AT TIME ZONE 'UTC'
  AND c.outlets > 1
GROUP BY c.cluster_id
ORDER BY c.outlets DESC, c.first_published_at, c.cluster_id
LIMIT 20;
