-- The candidates in the shared index for the articles signed now (%(band_article)s with their
-- %(band_key)s, one row per band): the other articles, already in a story, that share a band key
-- with one of them (news.story_member's band_keys, migration 0046), come from another source and
-- were published within %(window_days)s days of it. Returns (article, other, the other's cluster
-- and signature); cluster_stories keeps the pairs whose signatures are similar. The articles
-- signed now are of one source: no pair among them. Read only, and run before the story clusters'
-- lock (side by side with other loads): under it, story_candidates_since.sql adds the members
-- written since.
-- One GIN index scan per article signed now (all its band keys at once), and the candidates'
-- publication looked up by their key: a LATERAL subquery that OFFSET 0 keeps from being flattened
-- into a join, because joined, the planner (which cannot count an array's rows, and may have no
-- statistics of a table that grew since its last ANALYZE) can choose to read the whole index.
WITH probe AS (
    SELECT b.article_id, array_agg(b.band_key) AS band_keys, min(i.source_id) AS source_id,
           min(i.published_at) AS published_at
    FROM unnest(%(band_article)s::bigint[], %(band_key)s::bigint[]) AS b (article_id, band_key)
    JOIN news.article_identity i USING (article_id)
    GROUP BY b.article_id
)
SELECT p.article_id, om.article_id, om.cluster_id, om.signature
FROM probe p
CROSS JOIN LATERAL (
    SELECT m.article_id, m.cluster_id, m.signature FROM news.story_member m
    WHERE m.band_keys && p.band_keys AND m.article_id <> ALL (%(ids)s::bigint[]) OFFSET 0
) AS om
CROSS JOIN LATERAL (SELECT source_id, published_at FROM news.article_identity WHERE article_id = om.article_id OFFSET 0) AS oi
WHERE oi.source_id <> p.source_id
  AND oi.published_at BETWEEN p.published_at - make_interval(days => %(window_days)s)
                          AND p.published_at + make_interval(days => %(window_days)s);
