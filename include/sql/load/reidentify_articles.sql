-- Apply recomputed URLs and identities (warehouse.reidentify_articles, migration 0041). Arrays:
-- the articles to drop (drop_id) with the article each is one story with (keep_id) and the
-- identity they share (drop_identity); the articles whose identity, URL or canonical URL change
-- (article_id, identity, url, canonical_url).
INSERT INTO news.identity_merge (source_id, identity, kept_article_id, dropped_article_id, dropped_identity,
                                 dropped_url, dropped_title, dropped_content_hash)
SELECT a.source_id, d.identity, d.keep_id, a.article_id, a.identity, a.url, a.title, a.content_hash
FROM unnest(%(drop_id)s::bigint[], %(keep_id)s::bigint[], %(drop_identity)s::text[]) AS d (drop_id, keep_id, identity)
JOIN news.article a ON a.article_id = d.drop_id;

CREATE TEMP TABLE reidentify_left ON COMMIT DROP AS
SELECT DISTINCT cluster_id FROM news.story_member WHERE article_id = ANY (%(drop_id)s::bigint[]);
DELETE FROM news.article_identity WHERE article_id = ANY (%(drop_id)s::bigint[]);

UPDATE news.article_identity i SET identity = n.identity
FROM unnest(%(article_id)s::bigint[], %(identity)s::text[]) AS n (article_id, identity)
WHERE i.article_id = n.article_id AND i.identity <> n.identity;
UPDATE news.article a SET identity = n.identity, url = n.url, canonical_url = n.canonical_url
FROM unnest(%(article_id)s::bigint[], %(identity)s::text[], %(url)s::text[], %(canonical_url)s::text[])
    AS n (article_id, identity, url, canonical_url)
WHERE a.article_id = n.article_id;

-- The stories that lost an article: gone if empty, else counted again.
DELETE FROM news.story_cluster c
WHERE c.cluster_id IN (SELECT cluster_id FROM reidentify_left)
  AND NOT EXISTS (SELECT FROM news.story_member m WHERE m.cluster_id = c.cluster_id);
UPDATE news.story_cluster c
SET articles = n.articles, outlets = n.outlets, changed_at = now()
FROM (SELECT m.cluster_id, count(*)::int AS articles, count(DISTINCT i.source_id)::int AS outlets
      FROM news.story_member m JOIN news.article_identity i USING (article_id)
      WHERE m.cluster_id IN (SELECT cluster_id FROM reidentify_left)
      GROUP BY m.cluster_id) AS n
WHERE c.cluster_id = n.cluster_id;
