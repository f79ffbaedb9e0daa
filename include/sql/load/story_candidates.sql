-- The candidates in the shared index for the articles signed now (%(band_article)s with their
-- %(band_key)s, one row per band): the other articles, already in a story, that share a band key
-- with one of them, come from another source and were published within %(window_days)s days of it.
-- Returns (article, other, the other's cluster and signature); cluster_stories keeps the pairs
-- whose signatures are similar. The articles signed now are of one source: no pair among them.
-- Read only.
-- Each key, and then each candidate, is looked up by its index, one at a time: a LATERAL
-- subquery that OFFSET 0 keeps from being flattened into a join, because joined, the planner
-- (which cannot count an array's rows, and may have no statistics of a table that grew since its
-- last ANALYZE) can choose to read the whole band table.
WITH candidate AS (
    SELECT DISTINCT b.article_id, h.other
    FROM unnest(%(band_article)s::bigint[], %(band_key)s::bigint[]) AS b (article_id, band_key)
    CROSS JOIN LATERAL (
        SELECT ob.article_id AS other FROM news.story_band ob
        WHERE ob.band_key = b.band_key AND ob.article_id <> ALL (%(ids)s::bigint[]) OFFSET 0
    ) AS h
)
SELECT c.article_id, c.other, om.cluster_id, om.signature
FROM candidate c
CROSS JOIN LATERAL (SELECT source_id, published_at FROM news.article_identity WHERE article_id = c.article_id OFFSET 0) AS ni
CROSS JOIN LATERAL (SELECT source_id, published_at FROM news.article_identity WHERE article_id = c.other OFFSET 0) AS oi
CROSS JOIN LATERAL (SELECT cluster_id, signature FROM news.story_member WHERE article_id = c.other OFFSET 0) AS om
WHERE oi.source_id <> ni.source_id
  AND oi.published_at BETWEEN ni.published_at - make_interval(days => %(window_days)s)
                          AND ni.published_at + make_interval(days => %(window_days)s);
