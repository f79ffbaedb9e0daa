-- 0024: an analyst can neither hold the ETL up nor store data. Advisory locks are the ETL's (one
-- migrator, one loader per source, the watched terms): an analyst holding one made `db upgrade`
-- and loads wait (every session now also has a lock_timeout). Large objects would let a read-only
-- role write to the database. EXECUTE on these functions goes from PUBLIC to the role that runs
-- the migrations (the ETL's; a superuser needs no grant). Functions of pg_catalog belong to the
-- bootstrap superuser: a migrator that is not one cannot change them, and the lock timeout is then
-- what bounds the ETL's waits.
DO $$
DECLARE
    fn regprocedure;
BEGIN
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::regnamespace
          AND (p.proname LIKE 'pg\_advisory\_%' OR p.proname LIKE 'pg\_try\_advisory\_%'
               OR p.proname IN ('lo_creat', 'lo_create', 'lo_from_bytea', 'lo_import'))
    LOOP
        EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', fn);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', fn, current_user);
    END LOOP;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'not the owner of pg_catalog''s functions: advisory locks and large objects stay '
                 'open to every role; the ETL''s lock_timeout bounds its waits';
END
$$;
