-- 0012: add_article_months() could deadlock with a running load. ATTACH PARTITION adds the new
-- partition's foreign keys, which lock the tables they reference (news.source, article_identity,
-- calendar_date) in SHARE ROW EXCLUSIVE mode, one after the other; a load holds news.source (its
-- source row) and then writes article_identity. Waiting for article_identity while the load waits
-- for news.source was a deadlock. Now, when a partition is to be made, those locks are taken first,
-- in the order loads take them, so this function waits for running loads instead.
CREATE OR REPLACE FUNCTION news.add_article_months(first timestamptz, last timestamptz) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    months date[];
    month date;
    part text;
    added int := 0;
BEGIN
    IF first IS NULL OR last IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('news.add_article_months'));
    months := ARRAY(SELECT generate_series(date_trunc('month', first AT TIME ZONE 'UTC'),
                                           date_trunc('month', last AT TIME ZONE 'UTC'), interval '1 month')::date);
    IF EXISTS (SELECT FROM unnest(months) AS m
               WHERE to_regclass('news.article_' || to_char(m, 'YYYY_MM')) IS NULL) THEN
        LOCK TABLE news.source, news.article_identity, news.calendar_date IN SHARE ROW EXCLUSIVE MODE;
    END IF;
    FOREACH month IN ARRAY months LOOP
        INSERT INTO news.calendar_date (day)
        SELECT generate_series(month, (month + interval '1 month' - interval '1 day')::date, interval '1 day')::date
        ON CONFLICT (day) DO NOTHING;
        part := 'article_' || to_char(month, 'YYYY_MM');
        CONTINUE WHEN to_regclass('news.' || part) IS NOT NULL;
        EXECUTE format('CREATE TABLE news.%I (LIKE news.article INCLUDING DEFAULTS INCLUDING GENERATED)', part);
        EXECUTE format('ALTER TABLE news.article ATTACH PARTITION news.%I FOR VALUES FROM (%L) TO (%L)', part,
                       month::timestamp AT TIME ZONE 'UTC', (month + interval '1 month')::timestamp AT TIME ZONE 'UTC');
        added := added + 1;
    END LOOP;
    RETURN added;
END
$$;
