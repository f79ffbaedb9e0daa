-- The stories (story clusters) first published on the digest's day, most outlets first: headline,
-- outlets, and each article's source, title and link, the first outlet's first.
SELECT c.cluster_id, c.headline, c.outlets, c.first_published_at,
       array_agg(sa.source ORDER BY sa.published_at, sa.article_id) AS sources,
       array_agg(sa.title ORDER BY sa.published_at, sa.article_id) AS titles,
       array_agg(sa.url ORDER BY sa.published_at, sa.article_id) AS urls
FROM news.story_cluster c
JOIN news.story_article sa USING (cluster_id)
WHERE c.first_published_at >= %(day)s::date::timestamp AT TIME ZONE 'UTC'
  AND c.first_published_at < (%(day)s::date + 1)::timestamp AT TIME ZONE 'UTC'
GROUP BY c.cluster_id
ORDER BY c.outlets DESC, c.articles DESC, c.first_published_at, c.cluster_id
LIMIT 10;
