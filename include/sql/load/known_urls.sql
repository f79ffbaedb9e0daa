-- Which of a batch of URLs (%(urls)s, text[]) the warehouse holds for one source, as url or as
-- canonical URL. warehouse.known_urls() sends the URLs in batches of KNOWN_URLS_BATCH: each
-- partition of news.article gets its own copy of the array in the plan, so one query with every
-- URL of a big feed against hundreds of partitions took gigabytes in one backend. Two index
-- lookups joined by UNION, not one OR, so each uses its own index.
SELECT a.url
FROM news.article a JOIN news.source s USING (source_id)
WHERE s.name = %(source)s AND a.url = ANY(%(urls)s::text[])
UNION
SELECT a.canonical_url
FROM news.article a JOIN news.source s USING (source_id)
WHERE s.name = %(source)s AND a.canonical_url = ANY(%(urls)s::text[]);
