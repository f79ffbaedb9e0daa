-- Question: which articles were edited in a period, and what did each version say?
-- An edit is a new title or body for a story already loaded (news.article_version). One row per
-- version of every story edited in the period: source, story identity (story code or canonical
-- URL), version number, when the version was valid (valid_to empty: still current), title, URL.
-- Variables: since, until  UTC dates, both included: edits that took effect in between
-- Run:       psql "$(make -s db-url)" -v since=2024-03-01 -v until=2024-03-31 -f include/sql/queries/edited_articles.sql
SELECT s.name AS source, i.identity, v.version, v.valid_from, v.valid_to, v.title, v.url
FROM news.article_version v
JOIN news.article_identity i ON i.article_id = v.article_id
JOIN news.source s ON s.source_id = i.source_id
WHERE v.article_id IN (
    SELECT e.article_id
    FROM news.article_version e
    WHERE e.version > 1
      AND e.valid_from >= :'since'::date::timestamp AT TIME ZONE 'UTC'
      AND e.valid_from < (:'until'::date + 1)::timestamp AT TIME ZONE 'UTC'
)
ORDER BY s.name, i.identity, v.version;
