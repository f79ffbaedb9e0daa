"""Shared fixtures: a real PostgreSQL (embedded, started once per session, a fresh database per
test) and the sample publishers on 127.0.0.1 with a pinned clock. Nothing leaves this machine."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import uuid
from datetime import datetime, timezone
from pathlib import Path

import psycopg2
import pytest
from psycopg2 import sql

from news_etl import embedded, warehouse
from news_etl.settings import Settings
from news_etl.sources import DEFAULT_SOURCES_DIR, load_sources

# Airflow reads its configuration when first imported: point it at a throwaway home (its own
# SQLite metadata database) before any test imports it. The real runs use .state/airflow.
os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="news-etl-airflow-")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parent.parent / "dags")

# A bytecode cache of the test sessions' own, under .state/ (never in the virtual environment):
# with PYTHONDONTWRITEBYTECODE=1, as on the machines this suite runs on, every process the tests
# start (Airflow's components and task processes, `news-etl` runs, probes) would compile Airflow
# and Great Expectations again, some 7 of the 13 s that importing GX then takes. Filled by the
# first process that imports a module, kept between sessions; a changed source is compiled again
# (its cached file records the source's time and size). This process writes there too from now on.
TEST_PYCACHE = Path(__file__).resolve().parent.parent / ".state" / "test-pycache"
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
os.environ["PYTHONPYCACHEPREFIX"] = str(TEST_PYCACHE)
sys.dont_write_bytecode = False
sys.pycache_prefix = str(TEST_PYCACHE)

# The sample publishers' clock in tests: everything up to this moment is published.
SAMPLE_NOW = datetime(2024, 3, 4, 12, 0, tzinfo=timezone.utc)


def _starts_airflow(nodeid: str) -> bool:
    return nodeid.startswith("tests/e2e/")


def pytest_collection_modifyitems(config, items):
    # The end-to-end tests (tests/e2e) start real Airflow processes: the package's `airflow`
    # fixture, or their own. In one process they run last: that Airflow starts once and
    # then shares the machine's two CPUs with no other test. Under pytest-xdist (`make test`: -n 2)
    # they come first, so their long waits overlap the other worker's tests.
    in_workers = bool(getattr(config.option, "numprocesses", None)) or "PYTEST_XDIST_WORKER" in os.environ
    items.sort(key=lambda item: _starts_airflow(item.nodeid) != in_workers)


def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist, every end-to-end test goes to the same worker, in order: one
    Airflow for the package, never two at once. The other tests are scheduled one by one."""
    from xdist.scheduler import LoadScopeScheduling

    class EndToEndOnOneWorker(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "e2e" if _starts_airflow(nodeid) else nodeid

    return EndToEndOnOneWorker(config, log)


@pytest.fixture(scope="session")
def postgres() -> embedded.EmbeddedPostgres:
    # Not under pytest's basetemp: pytest resets that tree to mode 0700 when another session
    # starts, which locks out the server (it runs as the `pgserver` user when we are root).
    root = Path(tempfile.mkdtemp(prefix="news-etl-test-pg-"))
    pg = embedded.start(root / "data", databases=())
    yield pg
    embedded.stop(root / "data")
    shutil.rmtree(root, ignore_errors=True)
    # pgserver logs from an atexit hook, after pytest has closed the streams it captured.
    logging.getLogger("pgserver").disabled = True


@pytest.fixture(scope="session")
def migrated_template(postgres) -> str:
    """A database migrated once per session, which each test's migrated database is a copy of
    (CREATE DATABASE ... TEMPLATE, a copy of its files: a third of a second where running every
    migration again took one to two and a half seconds, for each of some hundreds of tests)."""
    name = f"t_template_{uuid.uuid4().hex[:8]}"
    postgres.ensure_database(name)
    warehouse.upgrade(postgres.dsn(name))  # its connection is closed on return: a template must have none
    yield name
    postgres.drop_database(name)


@pytest.fixture
def make_database(postgres, migrated_template):
    """Factory of fresh databases, migrated (a copy of the session's migrated template) or empty;
    returns (libpq DSN, name). Dropped after the test."""
    created = []

    def make(migrate: bool = True) -> tuple[str, str]:
        name = f"t_{uuid.uuid4().hex[:12]}"
        if migrate:
            conn = psycopg2.connect(postgres.dsn("postgres"))
            conn.autocommit = True  # CREATE DATABASE runs outside a transaction
            try:
                with conn.cursor() as cur:
                    cur.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                        sql.Identifier(name), sql.Identifier(migrated_template)))
                    # what the template's migration 0011 granted on its own database (a copy gets none)
                    cur.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO news_analyst").format(sql.Identifier(name)))
            finally:
                conn.close()
        else:
            postgres.ensure_database(name)
        created.append(name)
        return postgres.dsn(name), name

    yield make
    for name in created:
        postgres.drop_database(name)


@pytest.fixture
def dsn(make_database) -> str:
    return make_database()[0]


_sample_clock = {"now": SAMPLE_NOW}


@pytest.fixture(scope="session")
def sample_url():
    from news_etl.sample_sites.server import serve_in_thread

    server, url = serve_in_thread(now=lambda: _sample_clock["now"])
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def sample_clock(sample_url):
    """Move the sample publishers' clock for one test: `sample_clock(datetime(...))`."""
    def move(now: datetime) -> None:
        _sample_clock["now"] = now

    yield move
    _sample_clock["now"] = SAMPLE_NOW


@pytest.fixture
def sample_sources(sample_url, monkeypatch) -> dict:
    monkeypatch.setenv("NEWS_SAMPLE_URL", sample_url)
    return {s.name: s for s in load_sources(DEFAULT_SOURCES_DIR)}


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("NEWS_ETL_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("NEWS_ETL_RETRIES", "0")
    monkeypatch.setenv("NEWS_ETL_ALLOW_HOSTS", "127.0.0.1")  # the test servers; loopback is refused by default
    return Settings.from_env()


@pytest.fixture
def write_file(tmp_path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def site():
    from sites import StaticSite

    s = StaticSite()
    yield s
    s.close()


@pytest.fixture(params=["warc", "legacy"])
def archive_layout(request, monkeypatch) -> str:
    """The tests that read the raw archive run on both layouts: WARC (what the pipeline writes)
    and the layout before it (one gzip body and one JSON per response), which stays readable."""
    if request.param == "legacy":
        from legacy_archive import LegacyFiling
        from news_etl.archive import Archive

        monkeypatch.setattr(Archive, "filing", lambda self, source, day, extract=None, info=None:
                            LegacyFiling(self, source, day))
    return request.param
