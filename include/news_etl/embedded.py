"""The embedded PostgreSQL used when no warehouse connection is configured.

pgserver (from PyPI) ships PostgreSQL binaries and runs them even as root (as its own system user).
The data folder lives in the project's git-ignored state folder and the server keeps running after
the command that started it, so the next run, psql and the tests reuse it.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2
from psycopg2 import sql

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddedPostgres:
    data_dir: Path
    socket_dir: str
    user: str = "postgres"

    def dsn(self, database: str) -> str:
        """libpq connection string (psycopg2, psql)."""
        return f"postgresql://{self.user}@/{database}?host={self.socket_dir}"

    def airflow_uri(self, database: str) -> str:
        """The same database as an Airflow connection URI (the socket path goes in the host)."""
        return f"postgresql://{self.user}@{quote(self.socket_dir, safe='')}/{database}"

    def sqlalchemy_url(self, database: str) -> str:
        return f"postgresql+psycopg2://{self.user}@/{database}?host={self.socket_dir}"

    def psql_command(self, database: str) -> str:
        return f'psql "{self.dsn(database)}"'

    def ensure_database(self, database: str) -> None:
        conn = psycopg2.connect(self.dsn("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,))
                if cur.fetchone() is None:
                    cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        except psycopg2.errors.DuplicateDatabase:
            pass  # created concurrently by another task
        finally:
            conn.close()

    def drop_database(self, database: str) -> None:
        """Drop the database, closing its connections first."""
        conn = psycopg2.connect(self.dsn("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
        finally:
            conn.close()


def _pgserver():
    """pgserver, imported only where the embedded server is used."""
    with warnings.catch_warnings():
        # platformdirs warns that XDG_RUNTIME_DIR is unset (normal for services and root shells).
        warnings.simplefilter("ignore")
        import pgserver
        import pgserver.utils
    return pgserver


def start(data_dir: Path, databases: tuple[str, ...] = ("news",)) -> EmbeddedPostgres:
    """Start (or find already running) the server in `data_dir` and create `databases`."""
    pgserver = _pgserver()
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    # get_server hands back the handle it made earlier in this process even if that server has
    # since died (killed, or stopped by `news-etl db stop`): make sure it runs.
    with server._lock:
        server.ensure_postgres_running()
    info = server.get_postmaster_info()
    pg = EmbeddedPostgres(data_dir=data_dir, socket_dir=str(info.socket_dir))
    for database in databases:
        pg.ensure_database(database)
    log.info("embedded PostgreSQL running in %s (socket %s)", data_dir, pg.socket_dir)
    return pg


def stop(data_dir: Path, timeout: float = 30) -> bool:
    """Stop the server of `data_dir` if it runs (PostgreSQL's "fast" shutdown); True if one stopped."""
    info = _pgserver().utils.PostmasterInfo.read_from_pgdata(data_dir)
    if info is None or not info.is_running():
        return False
    os.kill(info.pid, signal.SIGINT)
    deadline = time.monotonic() + timeout
    while info.is_running() and time.monotonic() < deadline:
        time.sleep(0.1)
    return not info.is_running()
