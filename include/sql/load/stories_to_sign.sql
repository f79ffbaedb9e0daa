-- The articles this merge added or changed (pg_temp.merge_batch, merge_articles.sql), with the
-- story each is in now and the text (content_hash) it was signed for: cluster_stories signs those
-- in no story yet and those whose text changed, and brings the others' stories up to date.
-- Takes the story clusters' lock first: clusters are shared by all sources, so two loads at once
-- must not both make a cluster for one story. Loads take it after their source's lock, never before.
SELECT pg_advisory_xact_lock(hashtext('news.story_clusters'));

SELECT b.article_id, b.content_hash, b.title, b.body, b.published_at, m.cluster_id, m.content_hash
FROM pg_temp.merge_batch b
LEFT JOIN news.story_member m USING (article_id)
WHERE b.change IN ('new', 'edited', 'restated')
ORDER BY b.article_id;
