-- 0020: politeness that holds across parallel tasks and machines. host_turn reserves each host's
-- next request slot (one short UPDATE per request); robots_txt keeps each host's robots.txt once
-- per run, so parallel tasks of a run share one fetch.
CREATE TABLE news.host_turn (
    host    text PRIMARY KEY,
    next_at timestamptz NOT NULL
);

CREATE TABLE news.robots_txt (
    run_id      text NOT NULL,
    host        text NOT NULL,   -- scheme://host[:port]
    http_status int,
    body        text,
    fetched_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, host)
);
