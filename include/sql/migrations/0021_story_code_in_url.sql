-- 0021: the story code the URL carries, read by the source's own rule at parse time (so the
-- quality check compares with exactly what the source file means, not a SQL re-reading of it).
ALTER TABLE news.stage_article ADD COLUMN story_code_in_url text;
