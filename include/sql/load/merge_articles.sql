-- Merge the rows of one run and source that passed the checks into news.article.
-- Runs inside the load transaction. An unchanged article is not written at all, so re-running a
-- day changes no row; a changed one is updated in place. Returns (inserted, updated).
WITH staged AS (
    SELECT DISTINCT ON (s.identity) s.*
    FROM news.stage_article s
    WHERE s.run_id = %(run_id)s AND s.source = %(source)s AND s.dq_status = 'passed'
    ORDER BY s.identity, s.stage_id
), merged AS (
    INSERT INTO news.article AS a (
        source_id, identity, story_code, url, canonical_url, title, published_at, updated_at,
        authors, section, language, body, word_count, content_hash, raw_ref,
        first_run_id, last_changed_run_id
    )
    SELECT src.source_id, st.identity, st.story_code, st.url, st.canonical_url, st.title,
           st.published_at::timestamptz, st.updated_at::timestamptz,
           st.authors, st.section, st.language, st.body, st.word_count, st.content_hash, st.raw_ref,
           st.run_id, st.run_id
    FROM staged st
    JOIN news.source src ON src.name = st.source
    ON CONFLICT (source_id, identity) DO UPDATE
    SET story_code = EXCLUDED.story_code,
        url = EXCLUDED.url,
        canonical_url = EXCLUDED.canonical_url,
        title = EXCLUDED.title,
        published_at = EXCLUDED.published_at,
        updated_at = EXCLUDED.updated_at,
        authors = EXCLUDED.authors,
        section = EXCLUDED.section,
        language = EXCLUDED.language,
        body = EXCLUDED.body,
        word_count = EXCLUDED.word_count,
        content_hash = EXCLUDED.content_hash,
        raw_ref = EXCLUDED.raw_ref,
        last_changed_run_id = EXCLUDED.last_changed_run_id,
        changed_at = now()
    WHERE (a.content_hash, a.published_at, a.updated_at)
          IS DISTINCT FROM (EXCLUDED.content_hash, EXCLUDED.published_at, EXCLUDED.updated_at)
    RETURNING (xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged;
