-- The stories backfill's next batch (warehouse.backfill_stories): up to %(batch)s articles in no
-- story yet (loaded before migration 0040 made stories), published on or after %(since)s (all
-- when NULL), of one source (the source of the oldest such article: a load's batch is of one
-- source too, and cluster_stories pairs an article with the index only), oldest first. Put where
-- cluster_stories reads a load's batch (pg_temp.merge_batch, as merge_articles.sql makes it),
-- as new articles; run under the story clusters' lock, so no load signs them meanwhile.
DROP TABLE IF EXISTS pg_temp.merge_batch;
CREATE TEMP TABLE merge_batch ON COMMIT DROP AS
WITH unclustered AS (
    SELECT a.article_id, a.source_id, a.content_hash, a.title, a.body, a.published_at
    FROM news.article a
    WHERE NOT EXISTS (SELECT FROM news.story_member m WHERE m.article_id = a.article_id)
      AND (%(since)s::timestamptz IS NULL OR a.published_at >= %(since)s::timestamptz)
),
oldest AS (
    SELECT source_id FROM unclustered ORDER BY published_at, article_id LIMIT 1
)
SELECT article_id, content_hash, title, body, published_at, 'new'::text AS change
FROM unclustered
WHERE source_id = (SELECT source_id FROM oldest)
ORDER BY published_at, article_id
LIMIT %(batch)s;
SELECT count(*) FROM pg_temp.merge_batch;
