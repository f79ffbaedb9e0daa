-- Write the stories cluster_stories planned (pg_temp.story_plan: each article signed now with an
-- existing cluster or the key of a new one; pg_temp.story_merge: clusters joining another), then
-- bring the summary of every cluster touched up to date: first article, outlet and time, counts.
INSERT INTO story_left SELECT cluster_id FROM pg_temp.story_merge;
UPDATE news.story_member m SET cluster_id = g.into_id
FROM pg_temp.story_merge g
WHERE m.cluster_id = g.cluster_id;
DELETE FROM news.story_cluster c USING pg_temp.story_merge g WHERE c.cluster_id = g.cluster_id;

CREATE TEMP TABLE story_new ON COMMIT DROP AS
SELECT new_key, nextval(pg_get_serial_sequence('news.story_cluster', 'cluster_id')) AS cluster_id
FROM (SELECT DISTINCT new_key FROM pg_temp.story_plan WHERE new_key IS NOT NULL) AS k;
INSERT INTO news.story_cluster (cluster_id) SELECT cluster_id FROM story_new;

INSERT INTO news.story_member (article_id, cluster_id, content_hash, signature)
SELECT p.article_id, coalesce(p.cluster_id, k.cluster_id), n.content_hash, n.signature
FROM pg_temp.story_plan p
JOIN pg_temp.story_signed n USING (article_id)
LEFT JOIN story_new k USING (new_key);
INSERT INTO news.story_band (band, band_hash, article_id)
SELECT band, band_hash, article_id FROM pg_temp.story_signed_band;

-- A cluster whose every article left it is no story any more.
DELETE FROM news.story_cluster c
WHERE c.cluster_id IN (SELECT cluster_id FROM story_left)
  AND NOT EXISTS (SELECT FROM news.story_member m WHERE m.cluster_id = c.cluster_id);

WITH touched AS (
    SELECT cluster_id FROM story_left
    UNION SELECT coalesce(p.cluster_id, k.cluster_id)
    FROM pg_temp.story_plan p LEFT JOIN story_new k USING (new_key)
    UNION SELECT m.cluster_id
    FROM news.story_member m
    JOIN news.article a USING (article_id)
    JOIN news.source s USING (source_id)
    WHERE s.name = %(source)s AND a.last_changed_run_id = %(run_id)s  -- restated: another time
),
first AS (
    SELECT DISTINCT ON (m.cluster_id) m.cluster_id, a.article_id, a.source_id, a.title, a.published_at
    FROM news.story_member m
    JOIN news.article a USING (article_id)
    WHERE m.cluster_id IN (SELECT cluster_id FROM touched)
    ORDER BY m.cluster_id, a.published_at, a.article_id
),
counts AS (
    SELECT m.cluster_id, count(*) AS articles, count(DISTINCT a.source_id) AS outlets
    FROM news.story_member m
    JOIN news.article a USING (article_id)
    WHERE m.cluster_id IN (SELECT cluster_id FROM touched)
    GROUP BY m.cluster_id
)
UPDATE news.story_cluster c
SET headline = f.title, first_article_id = f.article_id, first_source_id = f.source_id,
    first_published_at = f.published_at, articles = n.articles, outlets = n.outlets, changed_at = now()
FROM first f
JOIN counts n USING (cluster_id)
WHERE c.cluster_id = f.cluster_id
  AND (c.headline, c.first_article_id, c.first_source_id, c.first_published_at, c.articles, c.outlets)
      IS DISTINCT FROM (f.title, f.article_id, f.source_id, f.published_at, n.articles::int, n.outlets::int);
