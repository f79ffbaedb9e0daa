-- 0009: the quality gate. Checks have stable ids and an action (quarantine, block, record) kept
-- with their results; a run of a source can end 'blocked' by the gate; each run of a source
-- records where its Data Docs were written.
ALTER TABLE news.dq_result
    ADD COLUMN check_id text,
    ADD COLUMN action text CHECK (action IN ('quarantine', 'block', 'record'));
CREATE INDEX dq_result_check_time ON news.dq_result (check_id, checked_at);

ALTER TABLE news.etl_run DROP CONSTRAINT etl_run_status_check;
ALTER TABLE news.etl_run ADD CONSTRAINT etl_run_status_check
    CHECK (status IN ('running', 'success', 'failed', 'blocked', 'no_data'));
ALTER TABLE news.etl_run ADD COLUMN data_docs text;
