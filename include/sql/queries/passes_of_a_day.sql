-- Question: what did each pass of a day load? One row per attempt of every source for the
-- collected day, in the order the attempts began: the Airflow run, its status, whether the day
-- was still partial then, what was fetched, checked and loaded, and why it ended as it did.
-- Variables: day  the collected day, e.g. 2024-03-01
-- Run:       psql "$(make -s db-url)" -v day=2024-03-01 -f include/sql/queries/passes_of_a_day.sql
SELECT r.source,
       row_number() OVER (PARTITION BY r.source ORDER BY r.attempt_id) AS pass,
       r.run_id,
       r.status,
       r.partial,
       r.articles_fetched,
       r.parsed,
       r.passed,
       r.quarantined,
       r.loaded_new,
       r.loaded_updated,
       r.started_at,
       r.finished_at,
       r.message
FROM news.etl_run r
WHERE r.day = :'day'::date
ORDER BY r.source, r.attempt_id;
