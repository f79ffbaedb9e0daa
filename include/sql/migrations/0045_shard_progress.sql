-- 0045: how far an attempt got. A run maps its tasks over shards of sources (news_etl.shards);
-- each task records here, per source, the last stage it completed and for which clearing of the
-- Airflow run (dag_run.clear_number), so that a retry of a shard's task redoes only the sources
-- that failed, and a cleared run does everything again.
ALTER TABLE news.etl_run ADD COLUMN stage_done text
    CHECK (stage_done IN ('extract', 'transform', 'check', 'load'));
ALTER TABLE news.etl_run ADD COLUMN stage_clear int;
