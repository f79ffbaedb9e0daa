-- The watched terms most mentioned on the digest's day, with their mentions per day over the 7
-- days before it (days without a mention count as 0), so the digest can show the change.
SELECT t.term, t.kind, t.articles, t.mentions, t.sources,
       coalesce(sum(w.mentions), 0)::numeric / 7 AS mentions_7d_avg
FROM news.term_daily t
LEFT JOIN news.term_daily w ON w.term = t.term AND w.day BETWEEN %(day)s::date - 7 AND %(day)s::date - 1
WHERE t.day = %(day)s
GROUP BY t.term, t.kind, t.articles, t.mentions, t.sources
ORDER BY t.mentions DESC, t.articles DESC, t.term
LIMIT 10;
