-- Which of a batch of URLs ($2, text[]) the warehouse holds for one source ($1), as url or as
-- canonical URL. warehouse.known_urls() prepares this once per session with a generic plan and
-- runs it on batches of KNOWN_URLS_BATCH URLs. With the URLs inlined, the planner copied the array
-- into the plan of each of news.article's partitions: 8,000 URLs against 651 partitions took
-- 2.4 GB in one backend. As a parameter of a generic plan it is copied nowhere, the plan is made
-- once for every batch, and each partition's index scan holds one batch at a time. Two index
-- lookups joined by UNION, not one OR, so each uses its own index.
SELECT a.url
FROM news.article a JOIN news.source s USING (source_id)
WHERE s.name = $1 AND a.url = ANY($2)
UNION
SELECT a.canonical_url
FROM news.article a JOIN news.source s USING (source_id)
WHERE s.name = $1 AND a.canonical_url = ANY($2)
