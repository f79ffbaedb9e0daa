"""The PostgreSQL warehouse at the edge: where it is, its migrations, and every write to it.

Where: the Airflow connection `news_warehouse` (AIRFLOW_CONN_NEWS_WAREHOUSE, URI or JSON). When none
is configured, an embedded PostgreSQL in the project's state folder is started and used.
SQL lives in include/sql/; this module only runs it.
"""

from __future__ import annotations

import contextvars
import hashlib
import io
import json
import logging
import os
import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from news_etl import INCLUDE_DIR
from news_etl.errors import ConfigError, NewsEtlError
from news_etl.settings import Settings, warehouse_timeouts
from news_etl.storable import storable_record, storable_text
from news_etl.terms import WatchTerm

log = logging.getLogger(__name__)

CONN_ID = "news_warehouse"
SQL_DIR = INCLUDE_DIR / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
QUERIES_DIR = SQL_DIR / "queries"
_MIGRATION_LOCK = 8_410_001  # advisory lock key: one migrator at a time
_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


# --- where the warehouse is ---------------------------------------------------------------------

def dsn_from_connection(host: str | None, port: int | None, login: str | None, password: str | None,
                        schema: str | None, extra: dict | None = None) -> str:
    """A libpq DSN from the fields of an Airflow connection (host may be a socket directory).
    Every extra that is a libpq parameter (sslmode, sslrootcert, …) is kept: dropping one would
    silently weaken the connection (no certificate check). Other extras (the Postgres provider's
    own, such as cursor) are not libpq's and are left to it."""
    params = {k: str(v) for k, v in (extra or {}).items() if k in _LIBPQ_EXTRAS}
    ignored = sorted(set(extra or {}) - _LIBPQ_EXTRAS)
    if ignored:
        log.info("connection %s: extras that are not libpq parameters, not used here: %s", CONN_ID,
                 ", ".join(ignored))
    host = host or params.pop("host", None)  # libpq's own form: postgresql://user@/db?host=/socket/dir
    params.pop("host", None)
    return psycopg2.extensions.make_dsn(
        host=host or None, port=port or None, user=login or None, password=password or None,
        dbname=schema or None, **params,
    )


# libpq's connection parameters (PostgreSQL 16, "Parameter Key Words"), but for those an Airflow
# connection has fields of its own (host is kept: the socket-directory form puts it in the query).
_LIBPQ_EXTRAS = {
    "host", "hostaddr", "passfile", "channel_binding", "connect_timeout", "client_encoding", "options",
    "application_name", "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
    "keepalives_count", "tcp_user_timeout", "replication", "gssencmode", "sslmode", "requiressl",
    "sslcompression", "sslcert", "sslkey", "sslpassword", "sslcertmode", "sslrootcert", "sslcrl", "sslcrldir",
    "sslsni", "requirepeer", "ssl_min_protocol_version", "ssl_max_protocol_version", "krbsrvname",
    "gsslib", "gssdelegation", "service", "target_session_attrs", "load_balance_hosts",
}


def dsn_from_airflow_env(value: str) -> str:
    """AIRFLOW_CONN_NEWS_WAREHOUSE as Airflow itself reads it (a URI, `__extra__` included, or
    Airflow's JSON form), by Airflow's own Connection."""
    from airflow.sdk import Connection

    value = value.strip()
    where = f"AIRFLOW_CONN_{CONN_ID.upper()}"
    try:
        conn = Connection.from_json(value, conn_id=CONN_ID) if value.startswith("{") \
            else Connection.from_uri(value, conn_id=CONN_ID)
    except ValueError as exc:
        raise ConfigError(f"{where}: invalid {'JSON' if value.startswith('{') else 'URI'}: {exc}") from None
    except Exception as exc:  # AirflowException for a malformed URI
        raise ConfigError(f"{where}: invalid connection: {exc}") from None
    if conn.conn_type not in ("postgres", "postgresql"):
        raise ConfigError(f"{where}: expected a postgresql:// URI, got scheme '{conn.conn_type}'")
    try:
        extra = conn.extra_dejson
    except Exception as exc:
        raise ConfigError(f"{where}: its extra is not JSON: {exc}") from None
    return dsn_from_connection(conn.host, conn.port, conn.login, conn.password, conn.schema,
                               extra if isinstance(extra, dict) else None)


def resolve_dsn(settings: Settings | None = None, *, in_airflow_task: bool = False) -> str:
    """The warehouse DSN: the `news_warehouse` connection if one is configured (environment, or
    Airflow's connections when called inside a task), else the embedded PostgreSQL."""
    env = os.environ.get(f"AIRFLOW_CONN_{CONN_ID.upper()}")
    if env:
        return dsn_from_airflow_env(env)
    conn = _airflow_connection() if in_airflow_task else None
    if conn is not None:
        return dsn_from_connection(conn.host, conn.port, conn.login, conn.password, conn.schema,
                                   conn.extra_dejson)
    return embedded_warehouse(settings or Settings.from_env()).dsn("news")


def _airflow_connection():
    """The connection from Airflow's metadata database or secrets backend, inside a task only."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(CONN_ID)
    except AirflowNotFoundException:
        log.info("no Airflow connection %s: using the embedded PostgreSQL", CONN_ID)
        return None


def embedded_warehouse(settings: Settings):
    from news_etl import embedded

    return embedded.start(settings.state_dir / "warehouse", databases=("news",))


def sqlalchemy_url(dsn: str) -> str:
    """The same database as a SQLAlchemy URL (for Great Expectations). A socket directory as host
    goes in the query string, where psycopg2 receives it unchanged."""
    from sqlalchemy.engine import URL

    params = psycopg2.extensions.parse_dsn(dsn)
    host = params.pop("host", None)
    query = {k: v for k, v in params.items() if k not in ("user", "password", "port", "dbname")}
    if host and host.startswith("/"):
        query["host"], host = host, None
    url = URL.create("postgresql+psycopg2", username=params.get("user"), password=params.get("password"),
                     host=host, port=int(params["port"]) if params.get("port") else None,
                     database=params.get("dbname"), query=query)
    return url.render_as_string(hide_password=False)


def redact(dsn: str) -> str:
    """A DSN safe to print: the password replaced."""
    return re.sub(r"(password=)(\S+)", r"\1***", re.sub(r"(://[^:/@]*:)([^@]*)@", r"\1***@", dsn))


class WarehouseLockError(NewsEtlError):
    """A lock the ETL needs stayed held by another session for longer than the lock timeout."""


# What a session calls itself in pg_stat_activity (application_name, beside its query and wait):
# "news-etl", and the stage while a shard's task runs one ("news-etl load"), so that whoever looks
# at a busy or waiting warehouse sees which stage each session serves. A DSN that names an
# application keeps its name.
_APPLICATION = contextvars.ContextVar("news_etl_application", default="news-etl")


@contextmanager
def sessions_named(name: str) -> Iterator[None]:
    """Within the block, the sessions this thread opens are called `name` in pg_stat_activity."""
    token = _APPLICATION.set(name)
    try:
        yield
    finally:
        _APPLICATION.reset(token)


def session_dsn(dsn: str, application: str | None = None) -> str:
    """`dsn` with the session limits every warehouse connection has (statement_timeout and
    lock_timeout, settings NEWS_ETL_STATEMENT_TIMEOUT / NEWS_ETL_LOCK_TIMEOUT), kept beside any
    options the connection already sets, and its application name: `application`, else the
    block's (sessions_named)."""
    statement, lock = warehouse_timeouts()
    params = psycopg2.extensions.parse_dsn(dsn)
    limits = f"-c statement_timeout={int(statement * 1000)} -c lock_timeout={int(lock * 1000)}"
    params["options"] = f"{params['options']} {limits}" if params.get("options") else limits
    params.setdefault("application_name", application or _APPLICATION.get())
    return psycopg2.extensions.make_dsn(**params)


@dataclass
class _Session:
    """The one connection a reusing_connections block lends to its thread's connect() calls."""

    dsn: str
    conn: psycopg2.extensions.connection | None = None
    busy: bool = False


_sessions = threading.local()


@contextmanager
def reusing_connections(dsn: str) -> Iterator[None]:
    """Within the block, this thread's connect(dsn) calls share one session instead of opening one
    each (a shard's stage makes some ten per source: a new PostgreSQL backend each, about 4 ms of
    connecting when the machine is quiet, 14 ms under load). Each use still is its own transaction,
    and each begins with the session reset (DISCARD ALL: temporary tables, prepared statements,
    session locks and settings go; the session limits, set when connecting, stay), which also
    finds a session the server ended meanwhile (then it connects again). A nested connect, or
    another thread's, gets a connection of its own. The connection is closed when the block ends."""
    previous = getattr(_sessions, "session", None)
    session = _sessions.session = _Session(dsn)
    try:
        yield
    finally:
        _sessions.session = previous
        if session.conn is not None:
            session.conn.close()


@contextmanager
def connect(dsn: str) -> Iterator[psycopg2.extensions.connection]:
    """A connection whose transaction commits on success and rolls back on error, with the
    session limits of session_dsn(); inside reusing_connections(dsn), that block's session."""
    session = getattr(_sessions, "session", None)
    lent = session is not None and session.dsn == dsn and not session.busy
    conn = _lend(session) if lent else _open(dsn)
    if lent:
        session.busy = True
    try:
        yield conn
        conn.commit()
    except BaseException:
        if not conn.closed:  # a lost server closes it: keep the error that says so
            conn.rollback()
        raise
    finally:
        if lent:
            session.busy = False
        else:
            conn.close()


def _open(dsn: str) -> psycopg2.extensions.connection:
    return psycopg2.connect(session_dsn(dsn))


def _lend(session: _Session) -> psycopg2.extensions.connection:
    """The session's connection reset for a new use; a new one when there is none yet or the
    reset fails (the server ended the idle session, or restarted)."""
    conn = session.conn
    if conn is not None:
        try:
            conn.autocommit = True  # DISCARD cannot run in a transaction block
            with conn.cursor() as cur:
                cur.execute("DISCARD ALL")
            conn.autocommit = False
            return conn
        except psycopg2.Error:
            conn.close()
    session.conn = _open(session.dsn)
    return session.conn


@contextmanager
def lock_named(conn, lock: str) -> Iterator[None]:
    """Turn PostgreSQL's lock timeout into an error naming `lock` and who holds advisory locks."""
    try:
        yield
    except psycopg2.errors.LockNotAvailable as exc:
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("SELECT DISTINCT a.pid, a.usename, a.application_name FROM pg_locks l "
                        "JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted "
                        "AND l.pid <> pg_backend_pid() ORDER BY a.pid")
            holders = ", ".join(f"pid {pid} ({user}{', ' + app if app else ''})" for pid, user, app in cur.fetchall())
        raise WarehouseLockError(
            f"{lock}: still held by another session after the lock timeout of {warehouse_timeouts()[1]:g} s "
            f"(NEWS_ETL_LOCK_TIMEOUT); sessions holding advisory locks: {holders or 'none now'}. "
            f"PostgreSQL said: {str(exc).strip()}") from None


@cache
def sql_file(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


# --- migrations ------------------------------------------------------------------------------------

def migration_files(directory: Path = MIGRATIONS_DIR) -> list[tuple[int, str, str]]:
    found = []
    for path in sorted(directory.glob("*.sql")):
        m = _MIGRATION_NAME.match(path.name)
        if not m:
            raise ConfigError(f"{path}: migration files are named NNNN_description.sql")
        found.append((int(m.group(1)), path.name, path.read_text(encoding="utf-8")))
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise ConfigError(f"{directory}: two migrations share a version number")
    return found


def upgrade(dsn: str, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Apply the migrations not yet applied, in order, each in its own transaction; returns their
    names. Safe to run concurrently (an advisory lock serialises migrators) and on every run."""
    applied_now = []
    with connect(dsn) as conn, conn.cursor() as cur:
        with lock_named(conn, f"the migration lock (advisory lock {_MIGRATION_LOCK})"):
            cur.execute("SELECT pg_advisory_lock(%s)", (_MIGRATION_LOCK,))
        try:
            cur.execute("""CREATE TABLE IF NOT EXISTS public.news_schema_migration (
                               version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                               applied_at timestamptz NOT NULL DEFAULT now())""")
            conn.commit()
            cur.execute("SELECT version, name, checksum FROM public.news_schema_migration")
            done = {v: (n, c) for v, n, c in cur.fetchall()}
            for version, name, text in migration_files(directory):
                checksum = hashlib.sha256(text.encode()).hexdigest()
                if version in done:
                    if done[version][1] != checksum:
                        raise ConfigError(f"migration {name} was changed after it was applied "
                                          f"(applied as {done[version][0]}); add a new migration instead")
                    continue
                cur.execute(text)
                if version in _MIGRATION_STEPS:  # what SQL cannot do, in the migration's transaction
                    _MIGRATION_STEPS[version](cur)
                cur.execute("INSERT INTO public.news_schema_migration (version, name, checksum) "
                            "VALUES (%s, %s, %s)", (version, name, checksum))
                conn.commit()
                applied_now.append(name)
                log.info("applied migration %s", name)
        finally:
            conn.rollback()
            cur.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATION_LOCK,))
            conn.commit()
    return applied_now


def reidentify_articles(cur) -> int:
    """Migration 0041's step: every stored URL and URL identity in the canonical form of today's
    normalize_url; articles one story under two spellings made one (see 0041). Returns how many
    articles were dropped as another spelling of a story kept."""
    from news_etl.urls import normalize_url

    cur.execute("SELECT i.article_id, i.source_id, i.identity, a.url, a.canonical_url FROM news.article_identity i "
                "JOIN news.article a USING (article_id, published_at) ORDER BY i.published_at, i.article_id")
    def canonical_form(url: str | None) -> str | None:
        # A stored URL today's normalize_url refuses (no such row should exist) keeps its spelling:
        # one odd row must not stop the migration, and with it every run.
        try:
            return normalize_url(url) if url else url
        except ValueError as exc:
            log.warning("0041: %r kept as stored: %s", url, exc)
            return url

    kept: dict[tuple[int, str], int] = {}
    changed, dropped = [], []
    for article_id, source_id, identity, url, canonical in cur.fetchall():
        # URL identities are the canonical URL; story codes are not URLs and stay as they are
        new_identity = canonical_form(identity) if identity == canonical else identity
        key = (source_id, new_identity)
        if key in kept:
            dropped.append((article_id, kept[key], new_identity))
            continue
        kept[key] = article_id
        new = (new_identity, canonical_form(url), canonical_form(canonical))
        if new != (identity, url, canonical):
            changed.append((article_id, *new))
    cur.execute(sql_file("load/reidentify_articles.sql"), dict(
        drop_id=[d[0] for d in dropped], keep_id=[d[1] for d in dropped], drop_identity=[d[2] for d in dropped],
        article_id=[c[0] for c in changed], identity=[c[1] for c in changed], url=[c[2] for c in changed],
        canonical_url=[c[3] for c in changed]))
    log.info("0041: %d articles given canonical URLs, %d merged into the story they spell again", len(changed),
             len(dropped))
    return len(dropped)


def resign_story_bands(cur, chunk: int = 5000) -> int:
    """Migration 0046's step: each stored signature's band keys (news_etl.stories, today's number of
    bands) as an array on its news.story_member row, a chunk of articles at a time. Returns how
    many articles got theirs."""
    done, last = 0, 0
    while True:
        cur.execute("SELECT article_id, signature FROM news.story_member WHERE signature IS NOT NULL "
                    "AND article_id > %s ORDER BY article_id LIMIT %s", (last, chunk))
        rows = cur.fetchall()
        if not rows:
            return done
        cur.execute(sql_file("load/story_band_keys.sql"), _band_params({a: bytes(sig) for a, sig in rows}))
        done, last = done + len(rows), rows[-1][0]


def _band_params(signatures: dict[int, bytes | None]) -> dict[str, list[int]]:
    """The band keys of signed articles as two parallel arrays (article, key), one row per band."""
    from news_etl import stories

    bands = [(a, key) for a, sig in signatures.items() if sig for key in stories.band_keys(sig)]
    return dict(band_article=[a for a, _ in bands], band_key=[k for _, k in bands])


# Steps of a migration that SQL cannot do, run right after its file, in its transaction.
_MIGRATION_STEPS = {41: reidentify_articles, 46: resign_story_bands}


# --- writes ------------------------------------------------------------------------------------------

STAGE_COLUMNS = (
    "run_id", "source", "day", "identity", "url", "canonical_url", "story_code", "title", "published_at",
    "feed_published_at", "updated_at", "authors", "section", "language", "body", "word_count",
    "content_hash", "raw_ref", "parse_error", "story_code_in_url", "unstorable", "published_at_offset_known",
)


def _pg_array(values: Sequence[str]) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _csv_field(value) -> str:
    # NULL is the unquoted empty field; every value is quoted, so an empty string stays a string.
    if value is None:
        return ""
    return '"' + str(value).replace('"', '""') + '"'


def stage_csv(run_id: str, source: str, day: date, records: Iterable[dict]) -> tuple[io.StringIO, int]:
    """The staging rows of `records` as COPY's CSV (STAGE_COLUMNS, NULL as ''), and their count.
    A value PostgreSQL cannot store is made storable and named in the row's `unstorable` reason
    (storable.py), which the quality gate quarantines: one poison item never fails the COPY."""
    buf = io.StringIO()
    count = 0
    for rec in records:
        rec, unstorable = storable_record(rec)
        row = {**rec, "run_id": run_id, "source": source, "day": day.isoformat(),
               "unstorable": "; ".join(unstorable) or None,
               "authors": _pg_array(rec.get("authors") or ())}
        buf.write(",".join(_csv_field(row.get(c)) for c in STAGE_COLUMNS) + "\n")
        count += 1
    buf.seek(0)
    return buf, count


def stage_records(conn, run_id: str, source: str, day: date, records: Iterable[dict]) -> int:
    """Replace this run's staged rows of `source` with `records`, by COPY. Returns the row count.
    Rows of other runs of the source and day go too, unless such a run is still going: two runs
    of the same source and day at once each check and load their own rows."""
    with conn.cursor() as cur:
        cur.execute("""DELETE FROM news.stage_article s WHERE s.source = %(source)s AND s.day = %(day)s
                       AND (s.run_id = %(run_id)s OR NOT EXISTS (
                           SELECT 1 FROM news.etl_run e WHERE e.run_id = s.run_id AND e.source = s.source
                           AND e.status = 'running'))""", dict(run_id=run_id, source=source, day=day))
        buf, count = stage_csv(run_id, source, day, records)
        cur.copy_expert(
            f"COPY news.stage_article ({', '.join(STAGE_COLUMNS)}) FROM STDIN WITH (FORMAT csv, NULL '')", buf)
        cur.execute(sql_file("load/unstorable_dates.sql"), dict(source=source, day=day))
    return count


def staged_rows(conn, run_id: str, source: str) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM news.stage_article WHERE run_id = %s AND source = %s", (run_id, source))
        return cur.fetchone()[0]


def upsert_source(conn, *, name: str, title: str, timezone: str, has_story_codes: bool) -> None:
    with conn.cursor() as cur:
        cur.execute(sql_file("load/upsert_source.sql"),
                    dict(name=name, title=title, timezone=timezone, has_story_codes=has_story_codes))


def sync_watch_terms(conn, terms: Sequence[WatchTerm]) -> int:
    """Bring news.watch_term in step with `terms`; terms new or changed are counted again over
    every article. Returns how many were. A transaction of its own, before the merge; when nothing
    changed it writes nothing and takes no lock."""
    wanted = [(t.name, t.kind, list(t.aliases)) for t in terms]
    with conn.cursor() as cur:
        cur.execute("SELECT name, kind, aliases FROM news.watch_term")
        if sorted(cur.fetchall()) == sorted(wanted):
            return 0
        with lock_named(conn, "the watched terms' lock (advisory lock news.watch_terms)"):
            cur.execute(sql_file("load/sync_watch_terms.sql"), dict(terms=json.dumps([t.as_dict() for t in terms])))
        return cur.fetchone()[0]


def add_article_months(conn, run_id: str, source: str, window: tuple[datetime, datetime]) -> int:
    """Create the monthly partitions the passed staged rows need, for months inside the checks'
    `window` only; a transaction of its own, before the merge. Returns how many were created."""
    with conn.cursor() as cur:
        cur.execute(sql_file("load/add_article_months.sql"),
                    dict(run_id=run_id, source=source, window_start=window[0], window_end=window[1]))
        return cur.fetchone()[0]


def merge_articles(conn, run_id: str, source: str) -> tuple[int, int]:
    """Merge the passed staged rows into the model (articles, versions, mentions). One loader per
    source at a time (an advisory lock), so a daily run and a backfill of the same day neither
    duplicate nor deadlock. Returns (inserted, updated)."""
    with conn.cursor() as cur:
        with lock_named(conn, f"the load lock of source {source} (advisory lock news.load:{source}) "
                              "or the watched terms' lock (news.watch_terms)"):
            cur.execute(sql_file("load/merge_articles.sql"), dict(run_id=run_id, source=source))
        inserted, updated = cur.fetchone()
    return inserted, updated


def cluster_stories(conn) -> int:
    """Put the articles the merge just added or changed into story clusters, in the load
    transaction: sign each new or changed body (news_etl.stories), find its candidates in the
    shared band index (news.story_member's band_keys), keep the similar ones published within the
    window, and join, merge or make clusters. Returns how many articles were signed; a reload signs none.

    The look-up in the index, most of the work, comes before the story clusters' lock, side by side
    with other loads; under the lock only the members written meanwhile are compared (migration
    0051), the stories of the candidates kept are read again (a merge may have moved them), and the
    clusters written. Held for the whole look-up, the lock made every load of a run wait in turn."""
    from news_etl import stories  # numpy and datasketch: only where a load needs them

    with conn.cursor() as cur:
        cur.execute("SELECT article_id, body FROM pg_temp.merge_batch WHERE change IN ('new', 'edited', 'restated')")
        signatures = {article_id: stories.signature(body) for article_id, body in cur.fetchall()}
        # Which articles to sign needs no lock: an article's text changes only with a load of its own
        # source, and those run one at a time (the source's lock, merge_articles.sql).
        cur.execute(sql_file("load/stories_to_sign.sql"))
        signed, titles, hashes = {}, {}, {}
        for article_id, content_hash, title, cluster_id, signed_hash in cur.fetchall():
            if cluster_id is not None and signed_hash == content_hash:
                continue  # restated: another time, the same text
            signed[article_id], titles[article_id], hashes[article_id] = signatures[article_id], title, content_hash
        ids = list(signed)
        params = dict(ids=ids, content_hashes=[hashes[a] for a in ids], titles=[titles[a] for a in ids],
                      signatures=[psycopg2.Binary(sig) if sig else None for sig in signed.values()],
                      window_days=stories.WINDOW_DAYS, **_band_params(signed))
        cur.execute("SELECT coalesce(max(written), 0) FROM news.story_member")
        seen = cur.fetchone()[0]  # read first: the look-up's snapshot holds every member up to it
        earlier = _similar(cur, "load/story_candidates.sql", params, signed) if params["band_key"] else []

        _lock_story_clusters(conn, cur)
        cur.execute(sql_file("load/stories_to_sign.sql"))  # again: the stories the articles are in now
        touched = [cluster_id for _, _, _, cluster_id, _ in cur.fetchall() if cluster_id is not None]
        if not ids and not touched:
            return 0
        pairs = []
        if params["band_key"]:
            # The candidates kept before the lock, in the stories they are in now; one rewritten
            # since (signed again) is compared again below, one gone is no candidate.
            cur.execute("SELECT article_id, cluster_id FROM news.story_member WHERE article_id = ANY (%s) AND written <= %s",
                        ([other for _, other, _ in earlier], seen))
            now_in = dict(cur.fetchall())
            pairs = [(a, other, now_in[other]) for a, other, _ in earlier if other in now_in]
            pairs += _similar(cur, "load/story_candidates_since.sql", dict(params, seen=seen), signed)
        plan = stories.plan_clusters(ids, pairs)
        if plan.merged:
            cur.execute(sql_file("load/merge_story_clusters.sql"),
                        dict(merge_from=list(plan.merged), merge_into=list(plan.merged.values())))
        planned = list(plan.existing.items()) + list(plan.new.items())
        cur.execute(sql_file("load/apply_story_clusters.sql"), dict(
            params, touched=touched + list(plan.merged.values()), plan_article=[a for a, _ in planned],
            plan_cluster=[c for _, c in plan.existing.items()] + [None] * len(plan.new),
            plan_key=[None] * len(plan.existing) + [k for _, k in plan.new.items()]))
    return len(ids)


def _similar(cur, query: str, params: dict, signed: dict[int, bytes | None]) -> list[tuple[int, int, int]]:
    """The candidate pairs `query` finds (article signed now, other article, its cluster) whose
    signatures are similar enough to be one story."""
    from news_etl import stories

    cur.execute(sql_file(query), params)
    return [(a, other, cluster) for a, other, cluster, other_signature in cur.fetchall()
            if stories.same_story(signed[a], other_signature)]


def backfill_stories(dsn: str, since: datetime | None = None, batch: int = 500) -> int:
    """Sign and cluster the articles in no story yet (loaded before migration 0040), published at
    or after `since` (all when None): batches of up to `batch` articles of one source, oldest
    first, each in a transaction of its own under the story clusters' lock, through
    cluster_stories as a load would. Idempotent: a second run finds none. Returns how many
    articles were signed."""
    signed = 0
    while True:
        with connect(dsn) as conn, conn.cursor() as cur:
            _lock_story_clusters(conn, cur)  # before choosing the batch: no load signs it meanwhile
            cur.execute(sql_file("load/unclustered_articles.sql"), dict(since=since, batch=batch))
            if cur.fetchone()[0] == 0:
                return signed
            signed += cluster_stories(conn)
        log.info("stories backfill: %d articles signed and clustered so far", signed)


def _lock_story_clusters(conn, cur) -> None:
    """The story clusters' lock, for the rest of the transaction (taking it again is a no-op)."""
    with lock_named(conn, "the story clusters' lock (advisory lock news.story_clusters)"):
        cur.execute(sql_file("load/story_clusters_lock.sql"), {"lock_timeout": f"{warehouse_timeouts()[1]:g}s"})


_RUN_COUNTERS = {
    "feeds_fetched", "feeds_not_modified", "feeds_failed", "articles_found", "articles_fetched",
    "fetch_failed", "parsed", "parse_failed", "passed", "quarantined", "loaded_new", "loaded_updated",
    "items_cut", "pages_cut",
}


def start_attempt(conn, run_id: str, source: str, day: date) -> None:
    """A new attempt of this run at `source`: a row of its own in news.etl_run, which the stages
    then fill in. An earlier attempt of the same run and source still 'running' was cut short (a
    killed task; Airflow runs one try at a time), and is recorded so."""
    with conn.cursor() as cur:
        cur.execute("UPDATE news.etl_run SET status = 'failed', finished_at = now(), "
                    "message = 'interrupted: a later attempt of this run started' "
                    "WHERE run_id = %(run_id)s AND source = %(source)s AND status = 'running'",
                    dict(run_id=run_id, source=source))
        cur.execute("INSERT INTO news.etl_run (run_id, source, day) VALUES (%s, %s, %s)", (run_id, source, day))


# The latest attempt of a run at a source: the row a stage of that attempt writes.
_LATEST_ATTEMPT = ("(SELECT max(attempt_id) FROM news.etl_run WHERE run_id = %(run_id)s "
                   "AND source = %(source)s)")
_FIRST_ATTEMPT = ("INSERT INTO news.etl_run (run_id, source, day, status{extra_columns}) "
                  "SELECT %(run_id)s, %(source)s, %(day)s, %(status)s{extra_values} WHERE NOT EXISTS "
                  "(SELECT 1 FROM news.etl_run WHERE run_id = %(run_id)s AND source = %(source)s)")


def record_run(conn, run_id: str, source: str, day: date, *, status: str | None = None,
               message: str | None = None, finished: bool = False, data_docs: str | None = None,
               fingerprint: str | None = None, partial: bool | None = None, **counters: int) -> None:
    """Update the latest attempt of this run at `source` with the counters a stage measured
    (creating the first attempt when there is none)."""
    unknown = set(counters) - _RUN_COUNTERS
    if unknown:
        raise ValueError(f"unknown run counters: {sorted(unknown)}")
    sets = [f"{k} = %({k})s" for k in counters]
    if status:
        sets.append("status = %(status)s")
    if message is not None:
        sets.append("message = %(message)s")
    if finished:
        sets.append("finished_at = now()")
    if data_docs is not None:
        sets.append("data_docs = %(data_docs)s")
    if fingerprint is not None:
        sets.append("fingerprint = %(fingerprint)s")
    if partial is not None:
        sets.append("partial = %(partial)s")
    params = dict(counters, run_id=run_id, source=source, day=day, status=status or "running",
                  message=message, data_docs=data_docs, fingerprint=fingerprint, partial=partial)
    with conn.cursor() as cur:
        cur.execute(_FIRST_ATTEMPT.format(extra_columns="", extra_values=""), params)
        if sets:
            cur.execute(f"UPDATE news.etl_run SET {', '.join(sets)} WHERE attempt_id = {_LATEST_ATTEMPT}", params)


# The stages of a source's attempt, in order: news.etl_run.stage_done is the last one completed.
STAGES = ("extract", "transform", "check", "load")


def record_stage_done(conn, run_id: str, source: str, stage: str, clear_number: int) -> None:
    """The latest attempt of this run at `source` completed `stage` in this clearing of the Airflow
    run. A stage that ends well after a failed try of it takes the attempt out of 'failed'."""
    with conn.cursor() as cur:
        cur.execute("UPDATE news.etl_run SET stage_done = %(stage)s, stage_clear = %(clear)s, "
                    "message = CASE WHEN status = 'failed' THEN NULL ELSE message END, "
                    "finished_at = CASE WHEN status = 'failed' THEN NULL ELSE finished_at END, "
                    "status = CASE WHEN status = 'failed' THEN 'running' ELSE status END "
                    f"WHERE attempt_id = {_LATEST_ATTEMPT}",
                    dict(run_id=run_id, source=source, stage=stage, clear=clear_number))


def stage_progress(conn, run_id: str, sources: Sequence[str]) -> dict[str, tuple[str, str | None, int | None]]:
    """(status, stage_done, stage_clear) of the latest attempt of this run at each of `sources`
    that has one."""
    with conn.cursor() as cur:
        cur.execute("SELECT DISTINCT ON (source) source, status, stage_done, stage_clear FROM news.etl_run "
                    "WHERE run_id = %s AND source = ANY(%s) ORDER BY source, attempt_id DESC",
                    (run_id, list(sources)))
        return {source: (status, stage, clear) for source, status, stage, clear in cur.fetchall()}


def articles_per_source(conn, sources: Sequence[str], since: date) -> dict[str, float]:
    """The mean number of articles each of `sources` listed per attempt since `since` (those
    without attempts are left out): what a shard's size is weighed by."""
    with conn.cursor() as cur:
        cur.execute("SELECT source, avg(articles_found)::float FROM news.etl_run "
                    "WHERE source = ANY(%s) AND day >= %s GROUP BY source", (list(sources), since))
        return dict(cur.fetchall())


def unchanged_since(conn, source: str, day: date, fingerprint: str) -> str | None:
    """The run whose outcome still stands for this source and day: the last finished one, if it
    ended well (loaded, no data, or itself unchanged) with inputs of this fingerprint; else None."""
    with conn.cursor() as cur:
        cur.execute("SELECT run_id, status, fingerprint FROM news.etl_run WHERE source = %s AND day = %s "
                    "AND finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1", (source, day))
        last = cur.fetchone()
    if last and last[1] in ("success", "no_data", "unchanged") and last[2] == fingerprint:
        return last[0]
    return None


def record_failure(conn, run_id: str, source: str, day: date, reason: str) -> None:
    """A task's failure on the latest attempt of this run at `source`, unless its stage already
    recorded one (or the gate's block)."""
    params = dict(run_id=run_id, source=source, day=day, status="failed", reason=reason)
    with conn.cursor() as cur:
        cur.execute(_FIRST_ATTEMPT.format(extra_columns=", message, finished_at", extra_values=", %(reason)s, now()"),
                    params)
        if cur.rowcount:
            return
        cur.execute("UPDATE news.etl_run SET status = 'failed', message = %(reason)s, finished_at = now() "
                    f"WHERE attempt_id = {_LATEST_ATTEMPT} AND status NOT IN ('failed', 'blocked')", params)


def log_fetches(conn, rows: list[dict]) -> None:
    if not rows:
        return
    cols = ("run_id", "source", "kind", "url", "final_url", "http_status", "outcome", "error", "bytes",
            "items", "items_cut", "elapsed_ms", "raw_ref", "fetched_at")
    with conn.cursor() as cur:
        psycopg2.extras.execute_values(
            cur, f"INSERT INTO news.feed_fetch ({', '.join(cols)}) VALUES %s",
            # an error message may quote a NUL or a lone surrogate from the page; the log keeps the rest
            [tuple(storable_text(v)[0] if isinstance(v := r.get(c), str) else v for c in cols) for r in rows])


def feed_states(conn, urls: Sequence[str]) -> dict[str, tuple[str | None, str | None, str | None]]:
    """Conditional-GET state per feed URL: (etag, last_modified, raw_ref of the body they stand for)."""
    with conn.cursor() as cur:
        cur.execute("SELECT url, etag, last_modified, raw_ref FROM news.feed_state WHERE url = ANY(%s)",
                    (list(urls),))
        return {u: (e, m, r) for u, e, m, r in cur.fetchall()}


def save_feed_state(conn, source: str, url: str, etag: str | None, last_modified: str | None,
                    raw_ref: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO news.feed_state (url, source, etag, last_modified, raw_ref) VALUES (%s, %s, %s, %s, %s) "
            "ON CONFLICT (url) DO UPDATE SET etag = EXCLUDED.etag, last_modified = EXCLUDED.last_modified, "
            "raw_ref = EXCLUDED.raw_ref, updated_at = now()", (url, source, etag, last_modified, raw_ref))


def known_urls(conn, source: str, urls: Sequence[str]) -> set[str]:
    """Which of `urls` the warehouse already holds for `source` (as url or canonical URL). Asked
    in batches of a prepared generic plan, so the backend's memory stays bounded whatever the
    number of URLs and partitions (load/known_urls.sql: 8,000 URLs against 651 partitions peaked
    at 2.4 GB inlined, 196 MB so; 180,000 URLs at 195 MB)."""
    urls = list(dict.fromkeys(urls))
    known: set[str] = set()
    with conn.cursor() as cur:
        cur.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cur.execute(f"PREPARE news_known_urls (text, text[]) AS {sql_file('load/known_urls.sql')}")
        try:
            for start in range(0, len(urls), KNOWN_URLS_BATCH):
                cur.execute("EXECUTE news_known_urls (%s, %s)", (source, urls[start:start + KNOWN_URLS_BATCH]))
                known.update(u for (u,) in cur.fetchall())
        finally:  # (a failed transaction cannot deallocate; its session ends with the connection)
            if conn.get_transaction_status() != psycopg2.extensions.TRANSACTION_STATUS_INERROR:
                cur.execute("DEALLOCATE news_known_urls")
    return known & set(urls)


KNOWN_URLS_BATCH = 500


# --- documented queries --------------------------------------------------------------------------

# A psql variable as a quoted literal: :'name' (psql -v name=value). Casts (::date) are not variables.
_PSQL_VARIABLE = re.compile(r"(?<!:):'([A-Za-z_][A-Za-z0-9_]*)'")


def query_names() -> list[str]:
    return sorted(p.stem for p in QUERIES_DIR.glob("*.sql"))


def query_variables(name: str) -> list[str]:
    """The psql variables a documented query needs, in order of first use."""
    return list(dict.fromkeys(_PSQL_VARIABLE.findall(sql_file(f"queries/{name}.sql"))))


def query_sql(name: str) -> str:
    """A documented query (include/sql/queries/NAME.sql) with its psql variables as psycopg2
    parameters, so the very file analysts run in psql runs here too."""
    text = sql_file(f"queries/{name}.sql").replace("%", "%%")
    return _PSQL_VARIABLE.sub(r"%(\1)s", text)


def run_query(conn, name: str, **variables) -> tuple[list[str], list[tuple]]:
    """Run a documented query with its variables given as psql would (text); returns the column
    names and the rows."""
    missing = [v for v in query_variables(name) if v not in variables]
    if missing:
        raise ConfigError(f"query {name} needs the variables: {', '.join(missing)}")
    with conn.cursor() as cur:
        cur.execute(query_sql(name), {k: str(v) for k, v in variables.items()})
        return [c.name for c in cur.description], cur.fetchall()
