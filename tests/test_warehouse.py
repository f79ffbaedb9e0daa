"""The warehouse edge: where it is (connection URI, JSON, socket paths), migrations, and COPY."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import psycopg2
import pytest

from helpers import rows
from news_etl import pipeline, warehouse
from news_etl.errors import ConfigError
from news_etl.settings import Settings


@pytest.mark.parametrize(
    "conn, expected",
    [
        ("postgresql://etl:s%40cret@db.internal:5433/news?sslmode=require",
         dict(host="db.internal", port="5433", user="etl", password="s@cret", dbname="news", sslmode="require")),
        ("postgres://postgres@%2Fvar%2Frun%2Fpostgresql/news",
         dict(host="/var/run/postgresql", user="postgres", dbname="news")),
        ("postgresql://postgres@/news?host=/tmp/pg", dict(host="/tmp/pg", user="postgres", dbname="news")),
        ('{"conn_type": "postgres", "host": "db", "login": "u", "password": "p", "schema": "w", "port": 5432}',
         dict(host="db", port="5432", user="u", password="p", dbname="w")),
        # extras survive in both of Airflow's forms: without them the connection silently runs
        # without certificate checks
        ('{"conn_type": "postgres", "host": "db", "login": "u", "schema": "w", '
         '"extra": {"sslmode": "verify-full", "sslrootcert": "/ca.pem", "cursor": "dictcursor"}}',
         dict(host="db", user="u", dbname="w", sslmode="verify-full", sslrootcert="/ca.pem")),
        ("postgresql://u:p@db:5432/w?__extra__=%7B%22sslmode%22%3A+%22verify-full%22%2C+"
         "%22sslcrl%22%3A+%22%2Fcrl.pem%22%7D",
         dict(host="db", port="5432", user="u", password="p", dbname="w", sslmode="verify-full", sslcrl="/crl.pem")),
        ("postgresql://u@db/w?sslmode=verify-ca&keepalives_idle=30&target_session_attrs=read-write",
         dict(host="db", user="u", dbname="w", sslmode="verify-ca", keepalives_idle="30",
              target_session_attrs="read-write")),
    ],
)
def test_airflow_connection_forms_become_a_libpq_dsn(conn, expected):
    assert psycopg2.extensions.parse_dsn(warehouse.dsn_from_airflow_env(conn)) == expected


@pytest.mark.parametrize("conn, problem", [("mysql://u@h/db", "expected a postgresql:// URI"),
                                          ("{not json", "invalid JSON")])
def test_bad_connection_names_the_variable(conn, problem):
    with pytest.raises(ConfigError, match=f"AIRFLOW_CONN_NEWS_WAREHOUSE: {problem}"):
        warehouse.dsn_from_airflow_env(conn)


def test_sqlalchemy_url_keeps_socket_host_and_password():
    assert warehouse.sqlalchemy_url("host=/tmp/pg user=postgres dbname=news") == \
        "postgresql+psycopg2://postgres@/news?host=%2Ftmp%2Fpg"
    assert warehouse.sqlalchemy_url("host=db port=5433 user=u password=p@ss dbname=w") == \
        "postgresql+psycopg2://u:p%40ss@db:5433/w"


def test_redact_hides_passwords():
    assert warehouse.redact("postgresql://u:secret@db/w") == "postgresql://u:***@db/w"
    assert warehouse.redact("host=db password=secret dbname=w") == "host=db password=*** dbname=w"


def test_migrations_apply_once_and_refuse_edited_files(make_database, tmp_path):
    dsn, _ = make_database(migrate=False)
    applied = warehouse.upgrade(dsn)
    assert applied == [name for _, name, _ in warehouse.migration_files()]
    assert warehouse.upgrade(dsn) == []
    assert rows(dsn, "SELECT table_type, table_name FROM information_schema.tables WHERE table_schema = 'news' "
                     "ORDER BY 1, 2") == [("BASE TABLE", t) for t in (
        "article", "article_identity", "article_mention", "article_version", "calendar_date", "dq_result", "etl_run",
        "feed_fetch", "feed_state", "host_turn", "identity_merge", "quarantine", "robots_txt", "source",
        "stage_article", "story_cluster", "story_member", "text_search_language", "watch_term")] + [
        ("VIEW", v) for v in ("daily_volume", "dq_daily", "etl_run_latest", "source_health", "source_syndication",
                              "story_article", "term_daily")]

    edited = tmp_path / "migrations"
    edited.mkdir()
    for _, name, text in warehouse.migration_files():
        (edited / name).write_text(text + "\n-- edited\n")
    with pytest.raises(ConfigError, match="0001_initial.sql was changed after it was applied"):
        warehouse.upgrade(dsn, edited)


def test_copy_to_staging_keeps_awkward_text_exactly(dsn):
    awkward = 'Quote " comma , backslash \\ newline\nand tab\t and “curly” é'
    record = {"url": "https://example.org/a", "identity": "x", "title": awkward, "body": "",
              "authors": ['O"Brien, Jr.', "back\\slash", "Åsa"], "word_count": 0, "published_at": None}
    with warehouse.connect(dsn) as conn:
        assert warehouse.stage_records(conn, "r", "src", date(2024, 3, 1), [record]) == 1
    assert rows(dsn, "SELECT title, body, authors, published_at, story_code FROM news.stage_article") == [
        (awkward, "", ['O"Brien, Jr.', "back\\slash", "Åsa"], None, None)]
    with warehouse.connect(dsn) as conn:  # staging the same source and day again replaces it
        warehouse.stage_records(conn, "r2", "src", date(2024, 3, 1), [record, {**record, "url": "u2"}])
    assert rows(dsn, "SELECT run_id, count(*) FROM news.stage_article GROUP BY 1") == [("r2", 2)]


@pytest.mark.parametrize("record, stored, reasons", [
    ({"title": "Fine"}, {"title": "Fine"}, []),
    ({"title": "A\x00B"}, {"title": "AB"}, ["title contained a NUL character (removed)"]),
    ({"body": "x \ud800 y"}, {"body": "x \ufffd y"}, ["body contained a lone surrogate (removed)"]),
    ({"authors": ["Ann\x00", "Bo"]}, {"authors": ["Ann", "Bo"]}, ["authors contained a NUL character (removed)"]),
    ({"published_at": "2024-03-01T10:00:00+20:00"}, {"published_at": None},
     ["published_at '2024-03-01T10:00:00+20:00': its UTC offset +20:00 is beyond ±15:59 (left out)"]),
    ({"published_at": "2024-03-01T10:00:00+15:59"}, {"published_at": "2024-03-01T10:00:00+15:59"}, []),
    ({"updated_at": "0001-01-01T00:00:00+05:00"}, {"updated_at": None},
     ["updated_at '0001-01-01T00:00:00+05:00': its UTC year is outside 1-9999 (left out)"]),
    ({"feed_published_at": "9999-12-31T23:00:00-05:00"}, {"feed_published_at": None},
     ["feed_published_at '9999-12-31T23:00:00-05:00': its UTC year is outside 1-9999 (left out)"]),
    ({"published_at": "yesterday+05"}, {"published_at": None},
     ["published_at 'yesterday+05': not an ISO 8601 date (left out)"]),
    ({"canonical_url": "http://e.org:99999/a"}, {"canonical_url": "http://e.org:99999/a"},
     ["canonical_url 'http://e.org:99999/a': Port out of range 0-65535"]),
])
def test_values_postgresql_cannot_store_become_reasons(record, stored, reasons):
    from news_etl.storable import storable_record

    assert storable_record(record) == (stored, reasons)


def test_a_poison_row_is_staged_with_its_reason_beside_good_rows(dsn):
    good = {"identity": "a", "url": "http://e.org/a", "title": "Good", "published_at": "2024-03-01T10:00:00+03:30"}
    poison = {"identity": "b", "url": "http://e.org:99999/b", "title": "NUL\x00", "body": "\ud800",
              "published_at": "2024-03-01T10:00:00+20:00", "authors": ["\x00"]}
    with warehouse.connect(dsn) as conn:
        assert warehouse.stage_records(conn, "r", "s", date(2024, 3, 1), [good, poison]) == 2
    assert rows(dsn, "SELECT identity, title, body, published_at, authors, unstorable FROM news.stage_article "
                     "ORDER BY identity") == [
        ("a", "Good", None, "2024-03-01T10:00:00+03:30", [], None),
        ("b", "NUL", "\ufffd", None, [""],
         "url 'http://e.org:99999/b': Port out of range 0-65535; title contained a NUL character (removed); "
         "body contained a lone surrogate (removed); published_at '2024-03-01T10:00:00+20:00': its UTC offset "
         "+20:00 is beyond ±15:59 (left out); authors contained a NUL character (removed)"),
    ]


def test_every_session_has_statement_and_lock_timeouts(dsn, monkeypatch):
    monkeypatch.setenv("NEWS_ETL_STATEMENT_TIMEOUT", "7")
    monkeypatch.setenv("NEWS_ETL_LOCK_TIMEOUT", "2.5")
    with warehouse.connect(psycopg2.extensions.make_dsn(dsn, options="-c search_path=news")) as conn, \
            conn.cursor() as cur:
        cur.execute("SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
                    "current_setting('search_path')")
        assert cur.fetchone() == ("7s", "2500ms", "news")


def test_a_session_names_the_stage_it_serves_in_pg_stat_activity(dsn):
    """What a DBA sees beside a busy or waiting session: "news-etl", or the stage of the shard's
    task that opened it ("news-etl check" for Great Expectations' sessions too); a DSN that names
    its application keeps the name."""
    def names(conn_dsn: str) -> tuple[str, str]:
        with warehouse.connect(conn_dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT application_name FROM pg_stat_activity WHERE pid = pg_backend_pid()")
            run = pipeline.Run(run_id="r", day=date(2024, 3, 1), dsn=conn_dsn, settings=Settings.from_env())
            gx_url = urlsplit(pipeline._checks_url(run))
            return cur.fetchone()[0], parse_qs(gx_url.query)["application_name"][0]

    assert names(dsn) == ("news-etl", "news-etl check")
    with warehouse.sessions_named("news-etl load"), warehouse.reusing_connections(dsn):
        assert names(dsn) == ("news-etl load", "news-etl check")
    assert names(dsn) == ("news-etl", "news-etl check")
    assert names(psycopg2.extensions.make_dsn(dsn, application_name="analysts")) == ("analysts", "analysts")


def test_reusing_connections_lends_one_session_reset_between_uses(dsn, monkeypatch):
    """Inside reusing_connections, connect() calls of this thread share one backend; each use is
    its own transaction and finds the session as new (no temporary table, prepared statement,
    setting or session lock of the last use), with its session limits; a nested or another
    thread's connect, or one after an error broke the session, is a connection of its own."""
    import threading

    monkeypatch.setenv("NEWS_ETL_STATEMENT_TIMEOUT", "7")

    def backend(conn) -> int:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_backend_pid()")
            return cur.fetchone()[0]

    with warehouse.reusing_connections(dsn):
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            first = backend(conn)
            cur.execute("CREATE TEMP TABLE left_over (x int)")
            cur.execute("PREPARE left_over_query AS SELECT 1")
            cur.execute("SET work_mem = '77MB'")
            cur.execute("SELECT pg_advisory_lock(4242)")
            cur.execute("CREATE TABLE kept (x int)")
            with warehouse.connect(dsn) as inner:
                nested = backend(inner)
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            assert backend(conn) == first and nested != first
            cur.execute("SELECT to_regclass('pg_temp.left_over'), to_regclass('public.kept'), "
                        "(SELECT count(*) FROM pg_prepared_statements), current_setting('work_mem'), "
                        "current_setting('statement_timeout'), current_setting('application_name'), "
                        "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid())")
            assert cur.fetchone() == (None, "kept", 0, "4MB", "7s", "news-etl", 0)
        other = []

        def in_thread():
            with warehouse.connect(dsn) as conn:
                other.append(backend(conn))

        thread = threading.Thread(target=in_thread)
        thread.start()
        thread.join(30)
        assert other and other[0] != first

        with pytest.raises(psycopg2.errors.UndefinedTable):
            with warehouse.connect(dsn) as conn, conn.cursor() as cur:
                cur.execute("INSERT INTO kept VALUES (1)")
                cur.execute("SELECT * FROM no_such_table")
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            assert backend(conn) == first  # rolled back, reset, lent again
            cur.execute("SELECT count(*) FROM kept")
            assert cur.fetchone() == (0,)
        with psycopg2.connect(dsn) as killer, killer.cursor() as cur:  # the server ends the idle session
            cur.execute("SELECT pg_terminate_backend(%s, 10000)", (first,))  # returns once it has ended
        with warehouse.connect(dsn) as conn:
            assert backend(conn) != first
    with warehouse.reusing_connections(dsn):
        with warehouse.connect(dsn) as conn:
            lent = conn
        assert not lent.closed
    assert lent.closed  # closed when the block ends
