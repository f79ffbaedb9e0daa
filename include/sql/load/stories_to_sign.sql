-- The articles this merge added or changed (pg_temp.merge_batch, merge_articles.sql), with the
-- story each is in now and the text (content_hash) it was signed for: cluster_stories signs those
-- in no story yet and those whose text changed, and brings the others' stories up to date. Read
-- before the story clusters' lock (which to sign) and again under it (load/story_clusters_lock.sql):
-- another load may merge the stories these articles are in until it is taken.
SELECT b.article_id, b.content_hash, b.title, m.cluster_id, m.content_hash
FROM pg_temp.merge_batch b
LEFT JOIN news.story_member m USING (article_id)
WHERE b.change IN ('new', 'edited', 'restated')
ORDER BY b.article_id;
