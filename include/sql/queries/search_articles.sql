-- Question: which articles match these words, newest first?
-- Full-text search over titles and bodies through the GIN index on news.article.search_vector,
-- whatever the articles' language (see news.search_query; the sub-select makes PostgreSQL compute
-- the search terms once, for the index, instead of once per row). One row per article: source, date of
-- publication (UTC), title, URL. This is what `news-etl search` runs.
-- Variables: terms  web-search syntax: north korea (both words), "north korea" (the phrase),
--                   pyongyang or dprk, -sport (without)
--            since  UTC date, included, e.g. 2024-03-01
--            limit  at most this many rows, e.g. 50
-- Run:       psql "$(make -s db-url)" -v terms='north korea' -v since=2024-03-01 -v limit=50 -f include/sql/queries/search_articles.sql
SELECT s.name AS source, a.published_day AS date, a.title, a.url
FROM news.article a
JOIN news.source s USING (source_id)
WHERE a.search_vector @@ (SELECT news.search_query(:'terms'))                          -- the index: candidates
  AND a.search_vector @@ websearch_to_tsquery(a.search_config::regconfig, :'terms')    -- in their own language
  AND a.published_at >= :'since'::date::timestamp AT TIME ZONE 'UTC'
ORDER BY a.published_at DESC, a.article_id DESC
LIMIT :'limit'::int;
