-- The candidates in the shared index for the articles signed now (%(band_article)s with their
-- %(band_key)s, one row per band): the other articles, already in a story, that share a band key
-- with one of them and were published within %(window_days)s days of it. Returns (article, other,
-- the other's cluster and signature); cluster_stories keeps the pairs whose signatures are similar.
-- Pairs among the articles signed now are found in Python, from the same keys. Read only.
WITH band AS (
    SELECT DISTINCT * FROM unnest(%(band_article)s::bigint[], %(band_key)s::bigint[]) AS b (article_id, band_key)
),
candidate AS (
    SELECT DISTINCT nb.article_id, ob.article_id AS other
    FROM band nb
    JOIN news.story_band ob USING (band_key)
    WHERE ob.article_id <> ALL (%(ids)s::bigint[])
)
SELECT c.article_id, c.other, om.cluster_id, om.signature
FROM candidate c
JOIN news.article_identity ni ON ni.article_id = c.article_id
JOIN news.article_identity oi ON oi.article_id = c.other
JOIN news.story_member om ON om.article_id = c.other
WHERE oi.published_at BETWEEN ni.published_at - make_interval(days => %(window_days)s)
                          AND ni.published_at + make_interval(days => %(window_days)s);
