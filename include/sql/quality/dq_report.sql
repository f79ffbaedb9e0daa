-- One day's data-quality results: a row per source and check, with the status of the source's latest
-- attempt that ran them (news.dq_daily's run_status) and that attempt's Data Docs page.
SELECT r.source,
       coalesce(run.status, '') AS status,
       r.check_id,
       r.action,
       r.success,
       r.element_count,
       r.unexpected_count,
       r.observed_value,
       run.data_docs
FROM news.dq_result r
LEFT JOIN LATERAL (
    SELECT e.status, e.data_docs FROM news.etl_run e
    WHERE e.source = r.source AND e.day = r.day AND e.status <> 'unchanged'  -- (as news.dq_daily)
    ORDER BY e.attempt_id DESC LIMIT 1
) run ON true
WHERE r.day = %(day)s
ORDER BY r.source, r.success, r.check_id;
