-- The source's articles that are in no story yet, or whose text changed since they were signed:
-- what cluster_stories signs and clusters. Each article's earlier story, if any, is left first.
-- Takes the story clusters' lock: clusters are shared by all sources, so two loads at once must
-- not both make a cluster for one story; loads take it after their source's lock, never before.
SELECT pg_advisory_xact_lock(hashtext('news.story_clusters'));

SELECT a.article_id, a.content_hash, a.body
FROM news.article a
JOIN news.source s USING (source_id)
LEFT JOIN news.story_member m USING (article_id)
WHERE s.name = %(source)s AND (m.article_id IS NULL OR m.content_hash <> a.content_hash)
ORDER BY a.article_id;
