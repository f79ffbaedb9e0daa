-- 0050: whether the publication date's offset was stated (by the page or the feed) or assumed
-- from the source's time zone, carried into staging so the quality checks can tell the two apart
-- (NULL where the row has no date).
ALTER TABLE news.stage_article ADD COLUMN published_at_offset_known boolean;
