-- The day's data quality per source: rows checked and quarantined, failed checks, run status.
SELECT source, run_status, rows_checked, rows_quarantined, pass_rate, failed
FROM news.dq_daily
WHERE day = %(day)s
ORDER BY source;
