-- The candidates story_candidates.sql could not see: members written after %(seen)s (the latest
-- member its snapshot held, read before it; news.story_member.written, migration 0051), by loads
-- that took the story clusters' lock while this one looked. Same parameters and rows as
-- story_candidates.sql. Run under the lock, so it is kept short: the few members written since,
-- found by their number, each compared with the articles signed now (no index scan of the bands).
WITH probe AS (
    SELECT b.article_id, array_agg(b.band_key) AS band_keys, min(i.source_id) AS source_id,
           min(i.published_at) AS published_at
    FROM unnest(%(band_article)s::bigint[], %(band_key)s::bigint[]) AS b (article_id, band_key)
    JOIN news.article_identity i USING (article_id)
    GROUP BY b.article_id
),
recent AS MATERIALIZED (
    SELECT m.article_id, m.cluster_id, m.signature, m.band_keys, i.source_id, i.published_at
    FROM news.story_member m
    JOIN news.article_identity i USING (article_id)
    WHERE m.written > %(seen)s AND m.band_keys IS NOT NULL AND m.article_id <> ALL (%(ids)s::bigint[])
)
SELECT p.article_id, r.article_id, r.cluster_id, r.signature
FROM probe p
JOIN recent r ON r.band_keys && p.band_keys
WHERE r.source_id <> p.source_id
  AND r.published_at BETWEEN p.published_at - make_interval(days => %(window_days)s)
                         AND p.published_at + make_interval(days => %(window_days)s);
