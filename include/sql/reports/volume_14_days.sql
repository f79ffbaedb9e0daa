-- Articles per source and day over the 14 days ending on the digest's day (days without
-- articles included, as zeros, so the chart's gaps are real).
SELECT d.day, s.name AS source, coalesce(v.articles, 0) AS articles
FROM news.calendar_date d
CROSS JOIN news.source s
LEFT JOIN news.daily_volume v ON v.day = d.day AND v.source = s.name
WHERE d.day BETWEEN %(day)s::date - 13 AND %(day)s::date
ORDER BY s.name, d.day;
