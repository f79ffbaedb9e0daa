-- Bring news.watch_term in step with the watched-terms file, in a transaction of its own before the
-- merge. %(terms)s is a JSON array of {name, kind, aliases}. A term that is new or whose aliases
-- changed has its mentions counted again over every article; a term no longer in the file goes,
-- with its mentions. The lock is taken exclusively (merges hold it shared), so no article is counted
-- with a definition that is being replaced. Returns how many terms were counted again.
SELECT pg_advisory_xact_lock(hashtext('news.watch_terms'));

-- Each alias as a regular expression of its own characters (whitespace: any run of it); the
-- aliases as alternatives, longest first, that must not touch a letter, digit or underscore.
DROP TABLE IF EXISTS pg_temp.wanted_term;
CREATE TEMP TABLE wanted_term ON COMMIT DROP AS
SELECT w.name, w.kind, w.aliases,
       '(?<![[:alnum:]_])(?:' || (
           SELECT string_agg(regexp_replace(regexp_replace(alias, '([^[:alnum:][:space:]])', '\\\1', 'g'),
                                            '\s+', '\\s+', 'g'),
                             '|' ORDER BY length(alias) DESC, alias)
           FROM unnest(w.aliases) AS alias
       ) || ')(?![[:alnum:]_])' AS pattern
FROM json_to_recordset(%(terms)s::json) AS w (name text, kind text, aliases text[]);

DROP TABLE IF EXISTS pg_temp.changed_term;
CREATE TEMP TABLE changed_term ON COMMIT DROP AS
SELECT w.name
FROM wanted_term w
LEFT JOIN news.watch_term t ON t.name = w.name
WHERE t.pattern IS DISTINCT FROM w.pattern;

DELETE FROM news.watch_term t WHERE NOT EXISTS (SELECT 1 FROM wanted_term w WHERE w.name = t.name);

INSERT INTO news.watch_term AS t (name, kind, aliases, pattern)
SELECT name, kind, aliases, pattern FROM wanted_term
ON CONFLICT (name) DO UPDATE
SET kind = EXCLUDED.kind, aliases = EXCLUDED.aliases, pattern = EXCLUDED.pattern, updated_at = now()
WHERE (t.kind, t.aliases, t.pattern) IS DISTINCT FROM (EXCLUDED.kind, EXCLUDED.aliases, EXCLUDED.pattern);

DELETE FROM news.article_mention m
USING news.watch_term t
JOIN changed_term c USING (name)
WHERE m.term_id = t.term_id;

INSERT INTO news.article_mention (term_id, article_id, source_id, published_at, mentions)
SELECT t.term_id, a.article_id, a.source_id, a.published_at, n.mentions
FROM news.watch_term t
JOIN changed_term c USING (name)
CROSS JOIN news.article a
CROSS JOIN LATERAL news.count_mentions(a.title, a.body, t.pattern) AS n (mentions)
WHERE n.mentions > 0;

SELECT count(*) FROM changed_term;
