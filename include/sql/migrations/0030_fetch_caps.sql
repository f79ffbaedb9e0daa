-- 0030: what the caps per source and day cut is recorded, not silently dropped. A feed's row in
-- the fetch log counts the items (and sitemaps) past NEWS_ETL_MAX_FEED_ITEMS that were not read;
-- a run's row counts them for the source, and the new pages not fetched because of
-- NEWS_ETL_MAX_PAGES_PER_DAY or NEWS_ETL_MAX_BYTES_PER_DAY (the task log says which cap).
ALTER TABLE news.feed_fetch ADD COLUMN items_cut int;
ALTER TABLE news.etl_run ADD COLUMN items_cut int;
ALTER TABLE news.etl_run ADD COLUMN pages_cut int;
