-- The gate's own guards, whatever a source's suite says: rows with a value PostgreSQL could not
-- store as given (news.stage_article.unstorable), and rows published outside the checks' window,
-- for which the load would create a partition (a hostile date must never create hundreds).
SELECT stage_id, unstorable, outside_window, published_at
FROM (
    SELECT s.stage_id, s.unstorable, s.published_at,
           -- CASE, not AND: PostgreSQL may evaluate AND's operands in any order, and the cast must
           -- only ever see a value it can read
           CASE WHEN s.published_at ~ '(Z|[+-]\d\d(:?\d\d)?)$' AND pg_input_is_valid(s.published_at, 'timestamptz')
                THEN NOT (s.published_at::timestamptz >= %(window_start)s::timestamptz
                          AND s.published_at::timestamptz < %(window_end)s::timestamptz)
                ELSE false END AS outside_window
    FROM news.stage_article s
    WHERE s.run_id = %(run_id)s AND s.source = %(source)s
) d
WHERE unstorable IS NOT NULL OR outside_window
ORDER BY stage_id;
