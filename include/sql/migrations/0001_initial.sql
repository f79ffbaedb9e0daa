-- 0001: the first warehouse. Sources and articles, the run and fetch logs, conditional-GET state,
-- the staging table the quality checks read, quarantine and data-quality results.
CREATE SCHEMA IF NOT EXISTS news;

CREATE TABLE news.source (
    source_id       serial PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    title           text NOT NULL,
    timezone        text NOT NULL,
    has_story_codes boolean NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- One row per Airflow run and source; every stage fills in its own counters.
CREATE TABLE news.etl_run (
    run_id             text NOT NULL,
    source             text NOT NULL,
    day                date NOT NULL,
    status             text NOT NULL DEFAULT 'running'
                       CHECK (status IN ('running', 'success', 'failed', 'no_data')),
    feeds_fetched      int NOT NULL DEFAULT 0,
    feeds_not_modified int NOT NULL DEFAULT 0,
    feeds_failed       int NOT NULL DEFAULT 0,
    articles_found     int NOT NULL DEFAULT 0,
    articles_fetched   int NOT NULL DEFAULT 0,
    fetch_failed       int NOT NULL DEFAULT 0,
    parsed             int NOT NULL DEFAULT 0,
    parse_failed       int NOT NULL DEFAULT 0,
    passed             int NOT NULL DEFAULT 0,
    quarantined        int NOT NULL DEFAULT 0,
    loaded_new         int NOT NULL DEFAULT 0,
    loaded_updated     int NOT NULL DEFAULT 0,
    message            text,
    started_at         timestamptz NOT NULL DEFAULT now(),
    finished_at        timestamptz,
    PRIMARY KEY (run_id, source)
);
CREATE INDEX etl_run_source_day ON news.etl_run (source, day);

-- Every HTTP fetch, successful or not: this is how source health is seen.
CREATE TABLE news.feed_fetch (
    fetch_id    bigserial PRIMARY KEY,
    run_id      text NOT NULL,
    source      text NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('feed', 'page')),
    url         text NOT NULL,
    final_url   text,
    http_status int,
    outcome     text NOT NULL CHECK (outcome IN ('ok', 'not_modified', 'failed')),
    error       text,
    bytes       int,
    items       int,
    elapsed_ms  int,
    raw_ref     text,
    fetched_at  timestamptz NOT NULL
);
CREATE INDEX feed_fetch_source_time ON news.feed_fetch (source, fetched_at DESC);

-- Conditional GET state per feed URL.
CREATE TABLE news.feed_state (
    url           text PRIMARY KEY,
    source        text NOT NULL,
    etag          text,
    last_modified text,
    raw_ref       text,  -- the archived body a 304 Not Modified stands for
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- The records of one run and source, as parsed, before any check. Dates stay text here so that a
-- date without a time zone is seen (and quarantined) instead of being silently read as UTC.
CREATE TABLE news.stage_article (
    stage_id          bigserial PRIMARY KEY,
    run_id            text NOT NULL,
    source            text NOT NULL,
    day               date NOT NULL,
    identity          text,
    url               text NOT NULL,
    canonical_url     text,
    story_code        text,
    title             text,
    published_at      text,
    feed_published_at text,
    updated_at        text,
    authors           text[] NOT NULL DEFAULT '{}',
    section           text,
    language          text,
    body              text,
    word_count        int,
    content_hash      text,
    raw_ref           text,
    parse_error       text,
    dq_status         text NOT NULL DEFAULT 'staged' CHECK (dq_status IN ('staged', 'passed', 'quarantined'))
);
CREATE INDEX stage_article_run ON news.stage_article (run_id, source);
CREATE INDEX stage_article_source_day ON news.stage_article (source, day);

-- One row per story. Identity: the story code where the source has codes, else the canonical URL.
CREATE TABLE news.article (
    article_id          bigserial PRIMARY KEY,
    source_id           int NOT NULL REFERENCES news.source,
    identity            text NOT NULL,
    story_code          text,
    url                 text NOT NULL,
    canonical_url       text NOT NULL,
    title               text NOT NULL,
    published_at        timestamptz NOT NULL,
    updated_at          timestamptz,
    authors             text[] NOT NULL,
    section             text,
    language            text,
    body                text NOT NULL,
    word_count          int NOT NULL,
    content_hash        text NOT NULL,
    raw_ref             text,
    first_run_id        text NOT NULL,
    last_changed_run_id text NOT NULL,
    loaded_at           timestamptz NOT NULL DEFAULT now(),
    changed_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source_id, identity)
);
CREATE INDEX article_published ON news.article (published_at);
CREATE INDEX article_source_published ON news.article (source_id, published_at);
CREATE INDEX article_url ON news.article (url);

-- Rows that failed a check, with every reason. Replaced when the same source and day is re-run.
CREATE TABLE news.quarantine (
    quarantine_id  bigserial PRIMARY KEY,
    run_id         text NOT NULL,
    source         text NOT NULL,
    day            date NOT NULL,
    url            text,
    story_code     text,
    title          text,
    published_at   text,
    reasons        jsonb NOT NULL,
    raw_ref        text,
    quarantined_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX quarantine_source_day ON news.quarantine (source, day);

-- One row per run, source and expectation. Replaced when the same source and day is re-run.
CREATE TABLE news.dq_result (
    run_id           text NOT NULL,
    source           text NOT NULL,
    day              date NOT NULL,
    expectation      text NOT NULL,
    column_name      text,
    success          boolean NOT NULL,
    element_count    int,
    unexpected_count int,
    observed_value   jsonb,
    checked_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX dq_result_source_day ON news.dq_result (source, day);
