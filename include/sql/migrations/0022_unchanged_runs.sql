-- 0022: a run of a source and day whose inputs (the day's archive, the source file, the quality
-- suite, the watched terms, the settings and the code) are those of the last run that ended well
-- has nothing to do: extract records the inputs' fingerprint and the status 'unchanged', and the
-- source's transform, check and load are skipped.
ALTER TABLE news.etl_run ADD COLUMN fingerprint text;
ALTER TABLE news.etl_run DROP CONSTRAINT etl_run_status_check;
ALTER TABLE news.etl_run ADD CONSTRAINT etl_run_status_check
    CHECK (status IN ('running', 'success', 'failed', 'blocked', 'no_data', 'unchanged'));
