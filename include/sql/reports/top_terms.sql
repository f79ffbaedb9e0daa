-- The watched terms most mentioned on the digest's day.
SELECT term, kind, articles, mentions, sources
FROM news.term_daily
WHERE day = %(day)s
ORDER BY mentions DESC, articles DESC, term
LIMIT 10;
