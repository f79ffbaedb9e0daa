"""A real local Airflow for the end-to-end tests: `news-etl airflow` (what `make airflow` runs) in a
temporary AIRFLOW_HOME, with its metadata database and the warehouse in the session's embedded
PostgreSQL and the session's sample publishers (clock pinned). Started once, for the tests of
tests/e2e that ask for `airflow` (tests/e2e/conftest.py imports the fixture), and stopped with
Ctrl-C's signal after the last of them: the stop must be clean. `local_airflow` starts another
one with other settings (the CeleryExecutor test)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

STARTUP_TIMEOUT = 480  # seconds; about 60-90 s on a 2-CPU machine, more while other tests run
STOP_TIMEOUT = 180
DEADLOCK_RETRIES = 4  # an API request aborted by a deadlock with the scheduler is sent again this often
READY_LINE = "Ctrl-C stops Airflow."


@dataclass
class LocalAirflow:
    url: str
    user: str
    password: str
    dsn: str  # the warehouse, for psycopg2
    output: Path  # what `news-etl airflow` printed
    metadata_dsn: str = ""  # Airflow's metadata database, for psycopg2
    env: dict = field(default_factory=dict)  # its environment: `news-etl run` with it uses this Airflow
    _token: str | None = None

    def token(self) -> str:
        """A JWT from the SimpleAuthManager (POST /auth/token), as any API client gets one."""
        if self._token is None:
            reply = self.request("POST", "/auth/token", {"username": self.user, "password": self.password},
                                 auth=False)
            self._token = reply["access_token"]
        return self._token

    def request(self, method: str, path: str, body: dict | None = None, auth: bool = True):
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"Bearer {self.token()}"
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(DEADLOCK_RETRIES + 1):
            req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=60) as response:
                    body = response.read()
                    return json.loads(body) if body else None  # a DELETE answers 204, no body
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")
                # The API's transaction (a run's task instances, then the run) can deadlock with the
                # scheduler's (the run, then its task instances); PostgreSQL aborts one and the API
                # answers 500. The loser of a deadlock is meant to try again.
                if exc.code == 500 and "deadlock detected" in detail and attempt < DEADLOCK_RETRIES:
                    time.sleep(1 + attempt)
                    continue
                raise AssertionError(f"{method} {path} -> {exc.code}: {detail}") from None

    @staticmethod
    def wait_for(what: str, check, timeout: float, every: float = 3.0):
        """Poll `check()` until it returns something true; fail with `what` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
            time.sleep(every)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# Package scope (tests/e2e is a package): stopped after the last end-to-end test, not at the end of the
# session, so that its scheduler and dag-processor do not take CPU from the unit tests that follow.
@pytest.fixture(scope="package")
def airflow(tmp_path_factory, postgres, sample_url) -> LocalAirflow:
    with local_airflow(tmp_path_factory.mktemp("airflow"), postgres, sample_url) as local:
        yield local


@contextmanager
def airflow_settings(root: Path, postgres, sample_url: str):
    """The environment of a local Airflow in `root` (what `news-etl airflow` or `news-etl run`
    starts there) with fresh warehouse and metadata databases, dropped on leaving; yields it and
    the two databases' DSNs (warehouse, metadata)."""
    news_db, airflow_db = f"t_news_{uuid.uuid4().hex[:8]}", f"t_airflow_{uuid.uuid4().hex[:8]}"
    for name in (news_db, airflow_db):
        postgres.ensure_database(name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_"))}
    env.update(
        NEWS_ETL_STATE_DIR=str(root / "state"),
        AIRFLOW_HOME=str(root / "home"),
        AIRFLOW_CONN_NEWS_WAREHOUSE=postgres.airflow_uri(news_db),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgres.sqlalchemy_url(airflow_db),
        AIRFLOW__API__PORT=str(_free_port()),
        # The log servers (news_etl.local_log_server) on free ports: not 8793/8794, which others may use.
        AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(_free_port()),
        AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(_free_port()),
        NEWS_SAMPLE_PORT=sample_url.rsplit(":", 1)[1],  # the session's server, clock pinned
        NEWS_SAMPLE_URL=sample_url,
        # An API answer of HTTP 500 "Database error" carries the statement and PostgreSQL's error
        # (a deadlock, a lock timeout), so a test's failure says which.
        AIRFLOW__API__EXPOSE_STACKTRACE="True",
    )
    try:
        yield env, postgres.dsn(news_db), postgres.dsn(airflow_db)
    finally:
        for name in (news_db, airflow_db):
            postgres.drop_database(name)


@contextmanager
def local_airflow(root: Path, postgres, sample_url: str, extra_env: dict[str, str] | None = None):
    """`news-etl airflow` in `root` with fresh warehouse and metadata databases, ready once
    news_daily is parsed; stopped (cleanly, or the test fails) on leaving. `extra_env` adds or
    overrides settings, e.g. another executor."""
    with airflow_settings(root, postgres, sample_url) as (env, news_dsn, metadata_dsn):
        env.update(
            # Only the runs a test asks for: nothing scheduled by the clock, every DAG paused until a
            # test unpauses it.
            AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="True",
        )
        env.update(extra_env or {})  # may override any of the above (another executor, its log ports)
        output = root / "news-etl-airflow.out"
        cli = Path(sys.executable).with_name("news-etl")
        with open(output, "wb") as out:
            proc = subprocess.Popen([str(cli), "airflow"], env=env, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while READY_LINE not in output.read_text(errors="replace"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"`news-etl airflow` did not get ready:\n{output.read_text(errors='replace')}")
                time.sleep(1)
            passwords = json.loads((root / "home" / "simple_auth_manager_passwords.json").read_text())
            local = LocalAirflow(url=f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}", user="admin",
                                 password=passwords["admin"], dsn=news_dsn, output=output, metadata_dsn=metadata_dsn,
                                 env=env)
            local.wait_for("news_daily to be parsed", lambda: _dag_known(local), timeout=300)
            yield local
        finally:
            _stop(proc, output)


def _dag_known(local: LocalAirflow) -> bool:
    dags = local.request("GET", "/api/v2/dags?dag_id_pattern=news_daily")
    return any(d["dag_id"] == "news_daily" for d in dags["dags"])


def _stop(proc: subprocess.Popen, output: Path) -> None:
    """Ctrl-C's SIGINT, as a user stops `make airflow`: it must exit 0 and leave no process."""
    started = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        code = None
    left = [p for p in started if _alive(p)]
    for p in left + ([psutil.Process(proc.pid)] if code is None else []):  # never leave them behind
        try:
            p.kill()
        except psutil.Error:
            pass
    assert code == 0 and not left, (
        f"`news-etl airflow` exit code {code}, processes left: {[p.pid for p in left]}\n"
        + output.read_text(errors="replace")[-3000:])


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
