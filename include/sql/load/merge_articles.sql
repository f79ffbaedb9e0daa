-- Merge the rows of one run and source that passed the checks into the model, in the load
-- transaction. The monthly partitions they need exist already (add_article_months.sql).
--
-- Locks, in this order and before any write: the source's advisory lock, so two loads of one
-- source (a daily run and a backfill) run one after the other and the second sees what the first
-- wrote; then the watched terms' lock, shared, so a change of watched terms (which takes it
-- exclusively) never runs half-way through a merge. Loads of different sources write disjoint
-- rows and run side by side.
--
-- What happens to each staged story (column `change`):
--   new        no such identity yet: identity, article, version 1 and mentions are added
--   edited     title or body differ: the article is updated, its current version closed and the
--              next one added, its mentions counted again
--   restated   same title and body, another publication or modification time: the article is updated
--   unchanged  nothing is written, so re-running a day changes no row
--   older      collected for an earlier day than the article's current content: nothing is written,
--              so re-running an old day (a backfill) never undoes an edit a later day brought
-- Returns (inserted, updated).
SELECT pg_advisory_xact_lock(hashtext('news.load:' || %(source)s));
SELECT pg_advisory_xact_lock_shared(hashtext('news.watch_terms'));

DROP TABLE IF EXISTS pg_temp.merge_batch;
CREATE TEMP TABLE merge_batch ON COMMIT DROP AS
WITH staged AS (
    SELECT DISTINCT ON (s.identity) s.*
    FROM news.stage_article s
    WHERE s.run_id = %(run_id)s AND s.source = %(source)s AND s.dq_status = 'passed'
    ORDER BY s.identity, s.stage_id
)
SELECT i.article_id, src.source_id, st.identity, st.story_code, st.url, st.canonical_url, st.title,
       st.published_at::timestamptz AS published_at, st.updated_at::timestamptz AS updated_at, st.authors,
       st.section, st.language, st.body, st.word_count, st.content_hash, st.raw_ref, st.run_id,
       st.day AS collected_day,
       coalesce(l.config, 'simple') AS search_config,
       CASE
           WHEN i.article_id IS NULL THEN 'new'
           WHEN st.day < a.collected_day THEN 'older'
           WHEN st.content_hash <> a.content_hash THEN 'edited'
           WHEN (st.published_at::timestamptz, st.updated_at::timestamptz)
                IS DISTINCT FROM (a.published_at, a.updated_at) THEN 'restated'
           ELSE 'unchanged'
       END AS change,
       coalesce(v.version, 0) + 1 AS next_version,
       -- version 1 is valid from publication; an edit from the page's modification time if it
       -- states one, else from now, and never before the version it replaces
       CASE WHEN i.article_id IS NULL THEN st.published_at::timestamptz
            ELSE greatest(coalesce(st.updated_at::timestamptz, now()), v.valid_from)
       END AS valid_from
FROM staged st
JOIN news.source src ON src.name = st.source
LEFT JOIN news.text_search_language l ON l.language = lower(split_part(st.language, '-', 1))
LEFT JOIN news.article_identity i ON i.source_id = src.source_id AND i.identity = st.identity
LEFT JOIN news.article a ON a.article_id = i.article_id AND a.published_at = i.published_at
LEFT JOIN news.article_version v ON v.article_id = i.article_id AND v.valid_to IS NULL;

WITH created AS (
    INSERT INTO news.article_identity (source_id, identity, published_at)
    SELECT source_id, identity, published_at FROM merge_batch WHERE change = 'new'
    RETURNING article_id, identity
)
UPDATE merge_batch b SET article_id = c.article_id FROM created c WHERE b.identity = c.identity;

-- A new publication time files the story under it: the foreign keys cascade the change to the
-- article row (moving it to its month's partition) and to its mentions.
UPDATE news.article_identity i
SET published_at = b.published_at
FROM merge_batch b
WHERE i.article_id = b.article_id AND b.change IN ('edited', 'restated') AND i.published_at <> b.published_at;

INSERT INTO news.article AS a (
    article_id, source_id, identity, story_code, url, canonical_url, title, published_at, updated_at,
    authors, section, language, body, word_count, content_hash, raw_ref, collected_day, search_config,
    search_vector, first_run_id, last_changed_run_id
)
SELECT article_id, source_id, identity, story_code, url, canonical_url, title, published_at, updated_at,
       authors, section, language, body, word_count, content_hash, raw_ref, collected_day, search_config,
       news.article_search_vector(search_config, title, body), run_id, run_id
FROM merge_batch
WHERE change IN ('new', 'edited', 'restated')
ON CONFLICT (article_id, published_at) DO UPDATE
SET story_code = EXCLUDED.story_code,
    url = EXCLUDED.url,
    canonical_url = EXCLUDED.canonical_url,
    title = EXCLUDED.title,
    updated_at = EXCLUDED.updated_at,
    authors = EXCLUDED.authors,
    section = EXCLUDED.section,
    language = EXCLUDED.language,
    body = EXCLUDED.body,
    word_count = EXCLUDED.word_count,
    content_hash = EXCLUDED.content_hash,
    raw_ref = EXCLUDED.raw_ref,
    collected_day = EXCLUDED.collected_day,
    search_config = EXCLUDED.search_config,
    search_vector = EXCLUDED.search_vector,
    last_changed_run_id = EXCLUDED.last_changed_run_id,
    changed_at = now();

UPDATE news.article_version v
SET valid_to = b.valid_from
FROM merge_batch b
WHERE v.article_id = b.article_id AND v.valid_to IS NULL AND b.change = 'edited';

INSERT INTO news.article_version (article_id, version, title, body, word_count, content_hash, url, raw_ref,
                                  valid_from, collected_day, run_id)
SELECT article_id, next_version, title, body, word_count, content_hash, url, raw_ref, valid_from,
       collected_day, run_id
FROM merge_batch
WHERE change IN ('new', 'edited');

DELETE FROM news.article_mention m
USING merge_batch b
WHERE m.article_id = b.article_id AND b.change = 'edited';

INSERT INTO news.article_mention (term_id, article_id, source_id, published_at, mentions)
SELECT t.term_id, b.article_id, b.source_id, b.published_at, n.mentions
FROM merge_batch b
CROSS JOIN news.watch_term t
CROSS JOIN LATERAL news.count_mentions(b.title, b.body, t.pattern) AS n (mentions)
WHERE b.change IN ('new', 'edited') AND n.mentions > 0;

SELECT count(*) FILTER (WHERE change = 'new'),
       count(*) FILTER (WHERE change IN ('edited', 'restated'))
FROM merge_batch;
