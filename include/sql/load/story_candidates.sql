-- The pairs that make stories of the articles signed now (pg_temp.story_signed and their bands,
-- pg_temp.story_signed_band): an article signed now and another article sharing a band hash,
-- published within %(window_days)s days of it, with at least %(min_equal)s equal signature values
-- (the estimated similarity of their bodies). Returns (article, other, other's cluster or NULL when
-- the other is signed now too). Re-signed articles leave their earlier story first.
CREATE TEMP TABLE story_left (cluster_id bigint) ON COMMIT DROP;
WITH gone AS (
    DELETE FROM news.story_member m USING pg_temp.story_signed n
    WHERE m.article_id = n.article_id
    RETURNING m.cluster_id
)
INSERT INTO story_left SELECT DISTINCT cluster_id FROM gone;

WITH candidate AS (
    SELECT nb.article_id, ob.article_id AS other
    FROM pg_temp.story_signed_band nb
    JOIN news.story_band ob USING (band, band_hash)
    UNION
    SELECT x.article_id, y.article_id
    FROM pg_temp.story_signed_band x
    JOIN pg_temp.story_signed_band y USING (band, band_hash)
    WHERE x.article_id < y.article_id
)
SELECT c.article_id, c.other, om.cluster_id
FROM candidate c
JOIN pg_temp.story_signed n ON n.article_id = c.article_id
JOIN news.article_identity ni ON ni.article_id = c.article_id
JOIN news.article_identity oi ON oi.article_id = c.other
LEFT JOIN news.story_member om ON om.article_id = c.other
LEFT JOIN pg_temp.story_signed os ON os.article_id = c.other
WHERE oi.published_at BETWEEN ni.published_at - make_interval(days => %(window_days)s)
                          AND ni.published_at + make_interval(days => %(window_days)s)
  AND (SELECT count(*) FROM unnest(n.signature, coalesce(om.signature, os.signature)) AS u (x, y)
       WHERE x = y) >= %(min_equal)s;
