-- Migration 0046's step: the band keys of stored signatures (%(band_article)s with its
-- %(band_key)s, one row per band), one array per article on its news.story_member row.
UPDATE news.story_member m SET band_keys = b.band_keys
FROM (SELECT article_id, array_agg(band_key ORDER BY band_key) AS band_keys
      FROM unnest(%(band_article)s::bigint[], %(band_key)s::bigint[]) AS b (article_id, band_key)
      GROUP BY article_id) AS b
WHERE b.article_id = m.article_id;
