-- Write the stories cluster_stories planned, then bring the summary of every cluster touched up
-- to date (first article, outlet and time, counts). Parameters, as arrays: the articles signed now
-- (ids, content_hashes, titles, signatures, NULL for a body too short; their band keys), the
-- plan (plan_article with an existing plan_cluster or the plan_key of a new cluster), and the
-- clusters the articles left, were restated in or were merged into (touched). Reads
-- article_identity (for publication times), not the partitioned articles: planning stays cheap.
-- Articles signed again leave their earlier story (and their band keys go with their membership).
DELETE FROM news.story_member WHERE article_id = ANY (%(ids)s::bigint[]);

WITH plan AS (
    SELECT * FROM unnest(%(plan_article)s::bigint[], %(plan_cluster)s::bigint[], %(plan_key)s::bigint[])
        AS p (article_id, cluster_id, new_key)
),
signed AS (
    SELECT * FROM unnest(%(ids)s::bigint[], %(content_hashes)s::text[], %(titles)s::text[], %(signatures)s::bytea[])
        AS s (article_id, content_hash, title, signature)
),
bands AS (  -- each signed article's band keys as one array (none for a body too short)
    SELECT article_id, array_agg(band_key ORDER BY band_key) AS band_keys
    FROM unnest(%(band_article)s::bigint[], %(band_key)s::bigint[]) AS b (article_id, band_key)
    GROUP BY article_id
),
made AS (  -- referenced twice, so evaluated once: one id per new cluster
    SELECT new_key, nextval(pg_get_serial_sequence('news.story_cluster', 'cluster_id')) AS cluster_id
    FROM (SELECT DISTINCT new_key FROM plan WHERE new_key IS NOT NULL) AS k
),
clusters AS (
    INSERT INTO news.story_cluster (cluster_id) SELECT cluster_id FROM made
)
INSERT INTO news.story_member (article_id, cluster_id, content_hash, title, signature, band_keys)
SELECT p.article_id, coalesce(p.cluster_id, k.cluster_id), s.content_hash, s.title, s.signature, bk.band_keys
FROM plan p
JOIN signed s USING (article_id)
LEFT JOIN bands bk USING (article_id)
LEFT JOIN made k USING (new_key);

-- A cluster whose every article left it is no story any more.
DELETE FROM news.story_cluster c
WHERE c.cluster_id = ANY (%(touched)s::bigint[])
  AND NOT EXISTS (SELECT FROM news.story_member m WHERE m.cluster_id = c.cluster_id);

WITH touched AS (
    SELECT cluster_id FROM news.story_member WHERE article_id = ANY (%(ids)s::bigint[])
    UNION SELECT unnest(%(touched)s::bigint[])
),
first AS (
    SELECT DISTINCT ON (m.cluster_id) m.cluster_id, i.article_id, i.source_id, m.title, i.published_at
    FROM news.story_member m
    JOIN news.article_identity i USING (article_id)
    WHERE m.cluster_id IN (SELECT cluster_id FROM touched)
    ORDER BY m.cluster_id, i.published_at, i.article_id
),
counts AS (
    SELECT m.cluster_id, count(*)::int AS articles, count(DISTINCT i.source_id)::int AS outlets
    FROM news.story_member m
    JOIN news.article_identity i USING (article_id)
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
      IS DISTINCT FROM (f.title, f.article_id, f.source_id, f.published_at, n.articles, n.outlets);
