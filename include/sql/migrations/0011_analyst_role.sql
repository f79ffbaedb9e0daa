-- 0011: news_analyst, the read-only role of the people who query the warehouse. It reads every
-- table and view of schema news (tables made later too, such as new monthly partitions) and writes
-- nothing. It cannot log in: give each analyst a login role in it, e.g.
--     CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE news_analyst;
DO $$
BEGIN
    CREATE ROLE news_analyst NOLOGIN;
EXCEPTION WHEN duplicate_object THEN
    NULL;  -- roles belong to the whole server: the warehouse of another database made it already
END
$$;

DO $$
BEGIN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO news_analyst', current_database());
END
$$;
GRANT USAGE ON SCHEMA news TO news_analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA news TO news_analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA news GRANT SELECT ON TABLES TO news_analyst;

-- Partitions are the load's business.
REVOKE EXECUTE ON FUNCTION news.add_article_months(timestamptz, timestamptz) FROM PUBLIC;
