"""`make airflow`: a full local Airflow with this project's DAGs, running until Ctrl-C.

The four Airflow 3 components run as separate processes with the LocalExecutor: `api-server` (UI
and REST API), `scheduler`, `dag-processor` and `triggerer`, on the same metadata database, warehouse
and sample publishers as `make run` (see local_run). Each writes its own log under
<state>/logs/airflow/. With AIRFLOW__CORE__EXECUTOR=CeleryExecutor (and a broker in
AIRFLOW__CELERY__BROKER_URL) a Celery worker (`airflow celery worker`) is started as well, and the
tasks run there. The login is a SimpleAuthManager user whose password is generated once and
kept in AIRFLOW_HOME.

Why not `airflow standalone`: it runs whichever `airflow` is first on PATH, mixes the four logs into
one stream, and says "ready" after a fixed delay; here readiness is Airflow's own health endpoint.

Stopping (Ctrl-C, SIGTERM, or the terminal closing): each component gets SIGTERM, and SIGKILL after a
grace period. Each runs in its own session, so a Ctrl-C in the terminal reaches only this process,
which stops them in order. Task processes put themselves in their own process groups; this process
is made a child subreaper, so those that outlive their parents are re-parented here, found, and
stopped as well.
"""

from __future__ import annotations

import ctypes
import json
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil
from sqlalchemy import text

from news_etl.airflow_api import LOCAL
from news_etl.errors import ConfigError
from news_etl.local_run import (AIRFLOW, _step, airflow_env, ensure_sample_sites, prepare_metadata,
                                uses_sample_publishers)
from news_etl.settings import Settings
from news_etl.sources import load_sources_leaving_out_broken


COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
CELERY_WORKER = "celery-worker"  # `airflow celery worker`, with the CeleryExecutor
# Airflow's own log servers listen on every interface; these (news_etl.local_log_server) on 127.0.0.1.
LOG_SERVERS = {"worker-log-server": "worker", "trigger-log-server": "trigger"}
USER = "admin"
# Read by the DAG files (news_etl.orchestration.DagSettings); shown in the banner when set.
DAG_SETTINGS = ("NEWS_ETL_SCHEDULE", "NEWS_ETL_SCHEDULE_TIMEZONE", "NEWS_ETL_CATCHUP", "NEWS_ETL_MAX_ACTIVE_RUNS",
                "NEWS_ETL_TASK_RETRIES", "NEWS_ETL_RETRY_DELAY_SECONDS", "NEWS_ETL_TASK_TIMEOUT_MINUTES",
                "NEWS_ETL_DAILY_RUN_TIMEOUT_MINUTES", "NEWS_ETL_DIGEST_RUN_TIMEOUT_MINUTES")
# The pools news_daily's tasks run in, made at start-up when missing (a size set since, in the UI or
# with `airflow pools set`, is kept): news_fetch bounds the shards fetching at once (each fetches
# its hosts politely, one request at a time per host), news_check the Great Expectations checks at
# once (each holds a GX context, about 300 MB). A task whose pool does not exist is never scheduled.
POOLS = {"news_fetch": ("NEWS_ETL_FETCH_POOL_SLOTS", 8, "news_daily extract tasks fetching at once"),
         "news_check": ("NEWS_ETL_CHECK_POOL_SLOTS", 2, "news_daily check tasks (Great Expectations) at once")}
STARTUP_TIMEOUT = float(os.environ.get("NEWS_ETL_AIRFLOW_STARTUP_TIMEOUT", "300"))
STOP_GRACE = 30.0  # seconds a component may take to stop before it is killed
_PR_SET_CHILD_SUBREAPER = 36


def configure(env: dict[str, str]) -> str:
    """Airflow settings for a local deployment (each can be overridden by the same variable);
    returns the UI's address."""
    env.setdefault("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    # Parsing news_daily imports GX and lxml: on a busy machine that exceeds the default 30 s.
    env.setdefault("AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT", "180")
    # The LocalExecutor starts one worker process (~150 MB) per slot: 32 by default.
    env.setdefault("AIRFLOW__CORE__PARALLELISM", "8")
    if uses_celery(env):  # the worker's pool has 16 processes by default; as many as the slots here
        env.setdefault("AIRFLOW__CELERY__WORKER_CONCURRENCY", env["AIRFLOW__CORE__PARALLELISM"])
    env.setdefault("AIRFLOW__CORE__AUTH_MANAGER",
                   "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager")
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", f"{USER}:admin")
    env.setdefault("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE",
                   str(Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json"))
    env.setdefault("AIRFLOW__API__HOST", "127.0.0.1")  # this machine only, unless asked
    env.setdefault("AIRFLOW__API__PORT", "8080")
    # Task logs are fetched from the task's hostname, where local_log_server listens (127.0.0.1).
    env.setdefault("AIRFLOW__CORE__HOSTNAME_CALLABLE", "news_etl.local_log_server.loopback_hostname")
    host = env["AIRFLOW__API__HOST"]
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    # Task processes reach the api-server's execution API at {base_url}/execution/.
    env.setdefault("AIRFLOW__API__BASE_URL", f"http://{local}:{env['AIRFLOW__API__PORT']}")
    return env["AIRFLOW__API__BASE_URL"].rstrip("/")


def uses_celery(env: dict[str, str]) -> bool:
    return env.get("AIRFLOW__CORE__EXECUTOR", "").rsplit(".", 1)[-1] == "CeleryExecutor"


def components(env: dict[str, str]) -> dict[str, list[str]]:
    """The processes to start, by name: the command line of each. Those that would start a log
    server on every interface are told not to; the log servers run on 127.0.0.1 instead."""
    commands = {name: [AIRFLOW, name] for name in COMPONENTS}
    commands["scheduler"].append("--skip-serve-logs")
    commands["triggerer"].append("--skip-serve-logs")
    if uses_celery(env):
        commands[CELERY_WORKER] = [AIRFLOW, "celery", "worker", "--skip-serve-logs"]
    for name, kind in LOG_SERVERS.items():
        commands[name] = [sys.executable, "-m", "news_etl.local_log_server", kind]
    return commands


def ensure_login(env: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """The SimpleAuthManager passwords file, with a generated password for every configured user
    that has none yet; returns all passwords and the users whose password is new."""
    path = Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    passwords = json.loads(path.read_text()) if path.is_file() and path.read_text().strip() else {}
    users = [u.split(":")[0] for u in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",") if u.strip()]
    new = [u for u in users if u not in passwords]
    if new:
        passwords.update({u: secrets.token_urlsafe(12) for u in new})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(json.dumps(passwords, indent=2) + "\n")
    return passwords, new


def write_cli_env(env: dict[str, str]) -> Path:
    """A shell file that points Airflow's CLI in another terminal at this Airflow: source it, then
    e.g. `airflow backfill create ...` (CLI commands use the metadata database directly)."""
    path = Path(env["AIRFLOW_HOME"]) / "env.sh"
    path.touch(mode=0o600)  # the database URL may hold a password
    path.write_text("".join(f"export {name}={shlex.quote(env[name])}\n"
                            for name in ("AIRFLOW_HOME", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")))
    return path


class Stop:
    """Set by the first SIGINT, SIGTERM or SIGHUP; a second one asks to stop without waiting."""

    def __init__(self):
        self.requested = threading.Event()
        self.hurry = False

    def __call__(self, signum, frame):
        if self.requested.is_set():
            self.hurry = True
        self.requested.set()

    def wait(self, seconds: float) -> bool:
        return self.requested.wait(seconds)


def serve() -> int:
    settings = Settings.from_env()
    stop = Stop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # SIGHUP: the terminal closed
        signal.signal(signum, stop)

    env, psql = airflow_env(settings)  # starts the embedded PostgreSQL first: it must outlive us
    url = configure(env)
    if port_taken(url):
        print(f"Something already listens on {url} (another Airflow?): stop it, or choose another port "
              f"with AIRFLOW__API__PORT.", file=sys.stderr)
        return 1
    passwords, new_users = ensure_login(env)
    cli_env = write_cli_env(env)
    sample = ensure_sample_sites(env) if uses_sample_publishers(load_sources_leaving_out_broken()[0]) else None
    logs = settings.state_dir / "logs" / "airflow"
    procs: dict[str, subprocess.Popen] = {}
    try:
        problem = start(env, url, logs, stop, procs)
        if stop.requested.is_set():
            print(" interrupted")
            return 0
        if problem:
            print(f"\n{problem}", file=sys.stderr)
            return 1
        print(_banner(url, env, passwords, new_users, cli_env, psql))
        while not stop.wait(1.0):
            for name, proc in procs.items():
                if proc.poll() is not None:
                    print(f"\nAirflow's {name} exited ({proc.returncode}); stopping the others. "
                          f"Last lines of {logs / (name + '.log')}:\n{_tail(logs / (name + '.log'))}",
                          file=sys.stderr)
                    return 1
        return 0
    finally:
        if procs:
            print(f"\nStopping Airflow (running tasks get {STOP_GRACE:.0f} s; Ctrl-C again to stop at once) ...",
                  end="", flush=True)
            t0 = time.monotonic()
            killed = stop_processes(procs, stop)
            print(f" stopped ({time.monotonic() - t0:.1f}s{'; killed: ' + ', '.join(killed) if killed else ''})")
        if sample is not None:
            sample.shutdown()
            sample.server_close()


def start(env: dict[str, str], url: str, logs: Path, stop: Stop, procs: dict[str, subprocess.Popen]) -> str | None:
    """Migrate the metadata database, start every component into `procs` (the caller stops them)
    and wait until Airflow's health endpoint says all are healthy; an error message if not."""
    logs.mkdir(parents=True, exist_ok=True)
    _become_subreaper()
    with open(logs / "db-migrate.log", "ab") as log_file:
        try:
            ensure_pools(env, prepare_metadata(env, log_file), log_file)
        except subprocess.CalledProcessError as exc:
            return None if stop.requested.is_set() else f"`{shlex.join(exc.cmd[1:3])}` failed; see {logs / 'db-migrate.log'}"
    commands = components(env)
    for name, command in commands.items():
        with open(logs / f"{name}.log", "ab") as log_file:
            procs[name] = subprocess.Popen(command, env=env, stdout=log_file,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                           start_new_session=True)
    print(f"  Starting {', '.join(commands)} (logs in {logs}) ...", end="", flush=True)
    t0 = time.monotonic()
    problem = _wait_until_healthy(url, procs, stop, logs)
    if not problem and not stop.requested.is_set():
        print(f" ready ({time.monotonic() - t0:.1f}s)")
    return problem


def pool_sizes(env: dict[str, str]) -> dict[str, int]:
    """The size of each of POOLS: its setting in `env` (a whole number >= 1), else the default."""
    sizes = {}
    for pool, (setting, default, _) in POOLS.items():
        raw = env.get(setting, "").strip() or str(default)
        if not raw.isdigit() or int(raw) < 1:
            raise ConfigError(f"environment variable {setting}={raw!r}: expected a whole number of slots (1 or more)")
        sizes[pool] = int(raw)
    return sizes


def ensure_pools(env: dict[str, str], metadata, log_file) -> list[str]:
    """Create those of POOLS the metadata database lacks (one `airflow pools import`); returns them."""
    sizes = pool_sizes(env)
    with metadata.connect() as conn:
        have = {row[0] for row in conn.execute(text("SELECT pool FROM slot_pool"))}
    missing = {p: {"slots": sizes[p], "description": POOLS[p][2], "include_deferred": False}
               for p in POOLS if p not in have}
    if missing:
        path = Path(env["AIRFLOW_HOME"]) / "news-etl-pools.json"
        path.write_text(json.dumps(missing))
        step = " and ".join(f"{p} ({v['slots']} slots)" for p, v in missing.items())
        _step(f"Creating the pools {step}", [AIRFLOW, "pools", "import", str(path)], env, log_file)
    return list(missing)


def healthy(url: str) -> bool:
    """Whether an Airflow answers at `url` with every component healthy (a running `make airflow`)."""
    health = get_json(f"{url}/api/v2/monitor/health", timeout=5)
    return bool(health) and all((health.get(part) or {}).get("status") == "healthy"
                                for part in ("metadatabase", "scheduler", "triggerer", "dag_processor"))


def port_taken(url: str) -> bool:
    address = urllib.parse.urlsplit(url)
    try:
        with socket.create_connection((address.hostname, address.port or 80), timeout=2):
            return True
    except OSError:
        return False


def _become_subreaper() -> None:
    """Orphaned descendants (task processes whose supervisor died) become our children, not
    init's, so stop_processes can find them. Linux only; elsewhere they are found while their
    parents live."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def stop_processes(procs: dict[str, subprocess.Popen], stop: Stop | None = None) -> list[str]:
    """Stop the components; returns the names of those that had to be killed.

    The api-server goes last: task processes report their end through it. The others get SIGTERM
    and STOP_GRACE seconds (the scheduler waits for running tasks); then everything below a
    component still running gets SIGTERM, and SIGKILL 10 s later. A second Ctrl-C skips the waits.
    Last, any descendant left (task processes re-parented to us) is stopped the same way.
    """
    killed = []
    first = {name: proc for name, proc in procs.items() if name != "api-server"}
    last = {name: proc for name, proc in procs.items() if name == "api-server"}
    for group, grace in ((first, STOP_GRACE), (last, 15.0)):
        for proc in group.values():
            if proc.poll() is None:
                proc.terminate()
        _wait(lambda: all(p.poll() is not None for p in group.values()), grace, stop)
        for name, proc in group.items():
            if proc.poll() is None:
                killed.append(name)
                _terminate(_descendants(proc.pid), stop)
                _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    # Task processes put themselves in process groups of their own; re-parented to us.
    _terminate(psutil.Process().children(recursive=True), stop)
    return killed


def _descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def _terminate(processes: list[psutil.Process], stop: Stop | None) -> None:
    for p in processes:
        _signal(p, signal.SIGTERM)
    _, alive = psutil.wait_procs(processes, timeout=0 if stop and stop.hurry else 10)
    for p in alive:
        _signal(p, signal.SIGKILL)
    psutil.wait_procs(alive, timeout=10)


def _wait(done, seconds: float, stop: Stop | None) -> None:
    deadline = time.monotonic() + seconds
    while not done() and time.monotonic() < deadline and not (stop and stop.hurry):
        time.sleep(0.2)


def _signal_group(pid: int, sig: int) -> None:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(p: psutil.Process, sig: int) -> None:
    try:
        p.send_signal(sig)
    except psutil.Error:
        pass


def _wait_until_healthy(url: str, procs: dict[str, subprocess.Popen], stop: Stop, logs: Path) -> str | None:
    """Poll the api-server's health endpoint until every component reports healthy; an error
    message if one exits or the time runs out first."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    status = "the api-server does not answer yet"
    while not stop.wait(1.0):
        for name, proc in procs.items():
            if proc.poll() is not None:
                return (f"Airflow's {name} exited ({proc.returncode}) while starting. "
                        f"Last lines of {logs / (name + '.log')}:\n{_tail(logs / (name + '.log'))}")
        health = get_json(f"{url}/api/v2/monitor/health")
        if health is not None:
            unhealthy = [part for part in ("metadatabase", "scheduler", "triggerer", "dag_processor")
                         if (health.get(part) or {}).get("status") != "healthy"]
            if not unhealthy:
                return None
            status = f"not yet healthy: {', '.join(unhealthy)}"
        if time.monotonic() > deadline:
            return f"Airflow did not become healthy within {STARTUP_TIMEOUT:.0f}s ({status}); logs in {logs}"
    return None


def get_json(url: str, token: str | None = None, timeout: float = 10) -> dict | None:
    """GET a JSON document; None if the server does not answer (yet) or answers with an error."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with LOCAL.open(request, timeout=timeout) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _banner(url: str, env: dict[str, str], passwords: dict[str, str], new_users: list[str], cli_env: Path,
            psql: str) -> str:
    user = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")[0].split(":")[0]
    password_file = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    if user in new_users:
        login = f"{user} / {passwords[user]}   (generated now, kept in {password_file})"
    else:
        login = f"{user}, password in {password_file}"
    settings = "  ".join(f"{name}={env[name]}" for name in DAG_SETTINGS if env.get(name)) or "the DAG's defaults"
    return "\n".join([
        "",
        f"Airflow UI:   {url}",
        f"Login:        {login}",
        f"DAG settings: {settings}",
        f"Airflow CLI:  . {cli_env} && {AIRFLOW} dags list",
        f"Warehouse:    {psql}",
        "Ctrl-C stops Airflow.",
    ])
