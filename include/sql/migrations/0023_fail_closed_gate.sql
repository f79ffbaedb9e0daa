-- 0023: the quality gate fails closed. A staged row says why a value of it could not be stored
-- as given (news_etl/storable.py: a NUL, a lone surrogate, an offset beyond ±15:59, a UTC year
-- outside 1-9999, a port out of range), which quarantines the row; a check that could not be
-- evaluated (an error inside Great Expectations or PostgreSQL) records the error and blocks.
ALTER TABLE news.stage_article ADD COLUMN unstorable text;
ALTER TABLE news.dq_result ADD COLUMN error text;
