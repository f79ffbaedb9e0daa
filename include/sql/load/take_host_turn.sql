-- Reserve the next request slot of a host, `delay` seconds after the previous one, and return how
-- many seconds to wait for it. One row per host; the UPDATE's row lock serialises concurrent tasks.
WITH upsert AS (
    INSERT INTO news.host_turn AS t (host, next_at)
    VALUES (%(host)s, clock_timestamp() + make_interval(secs => %(delay)s))
    ON CONFLICT (host) DO UPDATE
    SET next_at = greatest(t.next_at, clock_timestamp()) + make_interval(secs => %(delay)s)
    RETURNING t.next_at
)
SELECT greatest(0, extract(epoch FROM (next_at - make_interval(secs => %(delay)s)) - clock_timestamp()))::float8
FROM upsert;
