-- 0046: the shared index of stories in the member rows. Each article's band keys (news_etl.stories)
-- become an array on its news.story_member row, found by a GIN index, in place of a row of
-- news.story_band per band: a load then writes one row per article rather than 43 (each band row
-- also paid a foreign-key check and two b-tree entries), and one index scan per article finds its
-- candidates, where a probe per band key did (BENCHMARKS.md, "Story clusters"). The migration's
-- step (warehouse.resign_story_bands) fills the arrays from the stored signatures, with today's
-- number of bands.
ALTER TABLE news.story_member ADD COLUMN band_keys bigint[];  -- NULL: no signature (a body too short)

DROP TABLE news.story_band;

-- fastupdate off: every load searches right after others wrote, and a pending list would be read
-- in full by each search until a vacuum merged it.
CREATE INDEX story_member_band_keys ON news.story_member USING gin (band_keys) WITH (fastupdate = off);
