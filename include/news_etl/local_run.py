"""`make run`: one daily run of news_daily through Airflow on this machine, with progress and a summary.

It sets up what a fresh machine lacks: the embedded warehouse (unless a `news_warehouse`
connection is configured), an Airflow home with its metadata database, and the sample publishers
when a source uses them (any copy of the sample list too). The run is a real Airflow run: created
through Airflow's REST API (a manual run of the day, without a logical date, so it never replaces
or blocks the scheduled run of that day) and executed by a scheduler with the LocalExecutor. A
running `make airflow` is used when one answers; else Airflow is started for the run (creating no
scheduled runs) and stopped after. Progress is followed through the REST API and printed stage by
stage. Ctrl-C marks the run failed (Airflow stops its tasks) and stops every process started.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from news_etl import PROJECT_DIR, pipeline, warehouse
from news_etl.airflow_api import LOCAL, AirflowApiError
from news_etl.errors import ConfigError, NewsEtlError
from news_etl.settings import Settings
from news_etl.shards import shard_label, source_outcomes
from news_etl.sources import Source, load_sources_leaving_out_broken


DAG_ID = "news_daily"
AIRFLOW = str(Path(sys.executable).with_name("airflow"))  # the virtual environment's, PATH or not
_SAMPLE_MARKER = b"Sample publishers"


def sample_port() -> int:
    """The sample publishers' port: NEWS_SAMPLE_PORT, else 8750 (fixed, so URLs in the warehouse
    stay the same from run to run)."""
    raw = os.environ.get("NEWS_SAMPLE_PORT", "").strip() or "8750"
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"environment variable NEWS_SAMPLE_PORT={raw!r}: expected a port number (1-65535)")
    return int(raw)


def uses_sample_publishers(sources: list[Source]) -> bool:
    """Whether a source's feeds are on the sample publishers (its file uses ${NEWS_SAMPLE_URL}):
    the default list or any copy of it, wherever NEWS_ETL_SOURCES points."""
    return any("${NEWS_SAMPLE_URL" in Path(s.path).read_text(encoding="utf-8") for s in sources)


def airflow_env(settings: Settings) -> tuple[dict[str, str], str]:
    """Environment for Airflow processes, and the psql command for the warehouse."""
    env = dict(os.environ)
    env.setdefault("AIRFLOW_HOME", str(settings.state_dir / "airflow"))
    env.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(PROJECT_DIR / "dags"))
    env.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(PROJECT_DIR / "plugins"))
    env.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    env.setdefault("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION", "False")
    env.setdefault("NEWS_ETL_STATE_DIR", str(settings.state_dir))
    need_embedded = "AIRFLOW_CONN_NEWS_WAREHOUSE" not in env or "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" not in env
    pg = None
    if need_embedded:
        from news_etl import embedded

        pg = embedded.start(settings.state_dir / "warehouse", databases=("news", "airflow"))
        env.setdefault("AIRFLOW_CONN_NEWS_WAREHOUSE", pg.airflow_uri("news"))
        env.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", pg.sqlalchemy_url("airflow"))
    dsn = warehouse.dsn_from_airflow_env(env["AIRFLOW_CONN_NEWS_WAREHOUSE"])
    psql = pg.psql_command("news") if pg and env["AIRFLOW_CONN_NEWS_WAREHOUSE"] == pg.airflow_uri("news") \
        else f'psql "{warehouse.redact(dsn)}"'
    return env, psql


def ensure_sample_sites(env: dict[str, str]):
    """Serve the sample publishers on their fixed port (URLs in the warehouse must not change
    between runs); reuse one that already runs there. Returns the server to stop, or None."""
    from news_etl.sample_sites.server import serve_in_thread

    port = sample_port()
    base = f"http://127.0.0.1:{port}"
    env.setdefault("NEWS_SAMPLE_URL", base)
    # Loopback addresses are refused by default (a feed must not reach internal services):
    # let the sample publishers through.
    env["NEWS_ETL_ALLOW_HOSTS"] = ",".join(filter(None, [env.get("NEWS_ETL_ALLOW_HOSTS"), f"127.0.0.1:{port}"]))
    try:
        with LOCAL.open(base + "/", timeout=2) as r:
            if _SAMPLE_MARKER in r.read():
                print(f"Using the sample publishers already serving at {base}")
                return None
    except OSError:
        pass
    try:
        server, url = serve_in_thread(port=port)
    except OSError as exc:
        raise NewsEtlError(f"cannot serve the sample publishers on 127.0.0.1:{port}: {exc.strerror or exc} "
                           "(another program listens there? set NEWS_SAMPLE_PORT to a free port)") from None
    print(f"Sample publishers serving at {url}")
    return server


def run_once(day: date, reprocess: bool = False, as_json: bool = False, sources: list[Source] | None = None) -> int:
    """Run news_daily for `day` and print its summary (as JSON with `as_json`, everything else then
    on stderr). 0 when every source ran (no data for the day included), else 1."""
    if not as_json:
        return _run_once(day, reprocess, sources)
    real_stdout = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        code = _run_once(day, reprocess, sources, summary_out=real_stdout)
    return code


def _run_once(day: date, reprocess: bool, sources: list[Source] | None, summary_out=None) -> int:
    from news_etl import local_airflow
    from news_etl.airflow_api import AirflowApi

    settings = Settings.from_env()
    run_id = f"local__{day.isoformat()}__{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    logs = settings.state_dir / "logs" / "airflow"
    print(f"news_daily for {day.isoformat()}  (run {run_id}; Airflow's logs: {logs})")

    env, psql = airflow_env(settings)
    url = local_airflow.configure(env)
    sources = load_sources_leaving_out_broken()[0] if sources is None else sources
    stop = local_airflow.Stop()
    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    procs: dict[str, subprocess.Popen] = {}
    sample = None
    try:
        with _one_run_of(settings, day):
            sample = ensure_sample_sites(env) if uses_sample_publishers(sources) else None
            passwords, _ = local_airflow.ensure_login(env)
            if local_airflow.healthy(url):
                print(f"Using the Airflow running at {url}")
            elif local_airflow.port_taken(url):
                raise NewsEtlError(f"something listens on {url} but is not a healthy Airflow: stop it, or choose "
                                   "another port with AIRFLOW__API__PORT")
            else:
                # An Airflow of this run only: it runs what is triggered, and creates no scheduled runs.
                env["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] = "False"
                problem = local_airflow.start(env, url, logs, stop, procs)
                if problem:
                    raise NewsEtlError(problem)
            if stop.requested.is_set():
                return 130
            user = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")[0].split(":")[0]
            api = AirflowApi(url, user, passwords[user])
            _wait_for_dag(api, stop)
            if stop.requested.is_set():
                return 130
            api.trigger(DAG_ID, run_id, {"date": day.isoformat(), "reprocess": reprocess})
            state = _follow(api, run_id, stop, warehouse.dsn_from_airflow_env(env["AIRFLOW_CONN_NEWS_WAREHOUSE"]))
            if state == "interrupted":
                try:
                    ended = api.mark_failed(DAG_ID, run_id)
                except AirflowApiError as exc:
                    raise NewsEtlError(f"interrupted, but run {run_id} could not be marked failed ({exc}): it may "
                                       f"still be going; stop it in the UI: {url}/dags/{DAG_ID}/runs/{run_id}") from None
                if ended == "failed":
                    print(f"\nInterrupted: run {run_id} marked failed (its running tasks are stopped)", file=sys.stderr)
                else:
                    print(f"\nInterrupted: run {run_id} had already ended ({ended})", file=sys.stderr)
    finally:
        if procs:
            print("Stopping the Airflow started for this run ...", end="", flush=True)
            killed = local_airflow.stop_processes(procs, stop)
            print(f" stopped{' (killed: ' + ', '.join(killed) + ')' if killed else ''}")
        if sample is not None:
            sample.shutdown()
            sample.server_close()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    dsn = warehouse.dsn_from_airflow_env(env["AIRFLOW_CONN_NEWS_WAREHOUSE"])
    rows = pipeline.run_summary(dsn, run_id)
    failed = state != "success" or any(r["status"] not in ("success", "unchanged", "no_data") for r in rows)
    if summary_out is not None:
        summary_out.write(json.dumps({"run_id": run_id, "day": day.isoformat(), "state": state, "ok": not failed,
                                      "sources": rows}, indent=2, default=str) + "\n")
    print()
    print(format_summary(rows))
    print(f"\nQuery the warehouse:  {psql}")
    print("  e.g.  SELECT s.name, a.published_at, a.story_code, a.title FROM news.article a "
          "JOIN news.source s USING (source_id) ORDER BY a.published_at DESC LIMIT 10;")
    if failed:
        print(f"\nThe run did not fully succeed ({state}); Airflow's logs: {logs}, or the run in the UI: "
              f"{url}/dags/{DAG_ID}/runs/{run_id}", file=sys.stderr)
    return 130 if state == "interrupted" else 1 if failed else 0


@contextlib.contextmanager
def _one_run_of(settings: Settings, day: date):
    """One `news-etl run` of a day at a time on this machine: a second one is a clear error."""
    path = settings.state_dir / "locks" / f"run-{day.isoformat()}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            raise NewsEtlError(f"another `news-etl run` of {day} is going ({lock.read().strip() or 'pid unknown'}); "
                               "its summary is printed where it was started, its run is in the Airflow UI") from None
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}")
        lock.flush()
        yield


DAG_WAIT = 300.0  # seconds for the dag-processor to parse news_daily
API_SILENCE = 300.0  # seconds the api-server may leave a run's progress unanswered before we give up


def _wait_for_dag(api, stop) -> None:
    deadline = time.monotonic() + DAG_WAIT
    while not stop.requested.is_set():
        dag = api.dag(DAG_ID)
        if dag is not None:
            if dag.get("is_paused"):
                raise NewsEtlError(f"{DAG_ID} is paused in Airflow: unpause it (UI, or `airflow dags unpause "
                                   f"{DAG_ID}`) for its runs to start")
            return
        errors = [e for e in api.import_errors() if DAG_ID in (e.get("filename") or "")]
        if errors or time.monotonic() > deadline:
            detail = _error_line(errors[0]["stack_trace"]) if errors else f"not parsed within {DAG_WAIT:.0f}s"
            raise NewsEtlError(f"Airflow has no DAG {DAG_ID}: {detail}")
        stop.wait(2.0)


def _error_line(stack_trace: str) -> str:
    """The line of a DAG import error that says what went wrong (the exception), not its advice."""
    lines = [ln.strip() for ln in stack_trace.strip().splitlines() if ln.strip()]
    errors = [ln for ln in lines if re.match(r"^[\w.]*(Error|Exception|Timeout)\b", ln)]
    return (errors or lines or ["(no detail)"])[-1]


def _follow(api, run_id: str, stop, dsn: str | None = None) -> str:
    """Print each task instance of the run as it finishes, and each retry, from Airflow's REST
    API, and under a shard's task of several sources each source's outcome (from the warehouse);
    return the run's final state, or "interrupted" (Ctrl-C)."""
    shown, planned = set(), {}  # the lists of shards, by the task that made them
    answered = time.monotonic()
    while True:
        try:
            state = api.dag_run(DAG_ID, run_id)["state"]
            instances = api.task_instances(DAG_ID, run_id)
            answered = time.monotonic()
        except AirflowApiError as exc:
            # A busy api-server may not answer in time: the run goes on meanwhile; ask again.
            if exc.status is not None or time.monotonic() - answered > API_SILENCE:
                raise
            if stop.wait(2.0):
                return "interrupted"
            continue
        done = [t for t in instances if t["state"] in _SHOWN_STATES]
        for ti in sorted(done, key=lambda t: t.get("end_date") or t.get("start_date") or ""):
            key = (ti["task_id"], ti["map_index"], ti["try_number"], ti["state"])
            if key in shown:
                continue
            shown.add(key)
            mark = {"success": "ok ", "up_for_retry": "retry", "skipped": "skip"}.get(ti["state"], ti["state"].upper())
            label = ti.get("rendered_map_index")
            stage = ti["task_id"].split(".")[-1]
            # A mapped task's map index is its shard's place in the list it maps over: the check
            # stage's from check_shards, the others' from plan.
            shard = []
            if ti["map_index"] >= 0:
                lists = "check_shards" if stage == "check" else "plan"
                if not planned.get(lists):
                    planned[lists] = api.xcom(DAG_ID, run_id, lists) or []
                shard = planned[lists][ti["map_index"]] if ti["map_index"] < len(planned[lists]) else []
            if ti["map_index"] >= 0 and label in (None, "", str(ti["map_index"])):
                # A mapped task that never ran has no label (Airflow shows its map index instead).
                label = shard_label(ti["map_index"], shard) if shard else ""
            print(f"  [{mark}] {stage:<18} {label or '':<20} {ti.get('duration') or 0.0:6.1f}s", flush=True)
            if ti["map_index"] >= 0 and ti["state"] != "up_for_retry" and dsn and stage in warehouse.STAGES:
                if len(shard) > 1:
                    for source, outcome in source_outcomes(dsn, run_id, stage, shard).items():
                        print(f"      {outcome:<8} {source}", flush=True)
        if state in ("success", "failed"):
            return state
        if stop.wait(1.0):
            return "interrupted"


def prepare_metadata(env: dict[str, str], log_file):
    """Airflow's metadata database, migrated to this Airflow's revision (`airflow db migrate`, which
    also writes airflow.cfg with its secrets in a new AIRFLOW_HOME). Returns an engine on it."""
    metadata = create_engine(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    marker = Path(env["AIRFLOW_HOME"]) / ".news-etl-migrated"
    if not _metadata_is_current(metadata, marker):
        _step("Preparing Airflow's metadata database", [AIRFLOW, "db", "migrate"], env, log_file)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text(_metadata_revision(metadata) or "")
    return metadata


def _metadata_revision(engine) -> str | None:
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        return None


def _metadata_is_current(engine, marker: Path) -> bool:
    """`airflow db migrate` takes ~10 s even with nothing to do: skip it while the metadata
    database still has the revision this project's Airflow migrated it to."""
    revision = _metadata_revision(engine)
    return revision is not None and marker.is_file() and marker.read_text() == revision


def _step(title: str, cmd: list[str], env: dict, log_file) -> None:
    print(f"  {title} ...", end="", flush=True)
    t0 = time.monotonic()
    subprocess.run(cmd, env=env, stdout=log_file, stderr=subprocess.STDOUT, check=True)
    print(f" done ({time.monotonic() - t0:.1f}s)")


_SHOWN_STATES = ("success", "failed", "upstream_failed", "skipped", "up_for_retry")


def format_summary(rows: list[dict]) -> str:
    from news_etl.cli import format_table

    headers = ("source", "status", "feeds", "articles fetched", "parsed", "passed checks", "quarantined",
               "loaded new", "updated")
    table = [headers]
    for r in rows:
        feeds = f"{r['feeds_fetched'] + r['feeds_not_modified']}" + (f" ({r['feeds_failed']} failed)" if r["feeds_failed"] else "")
        status = f"{r['status']} (day not over)" if r.get("partial") else r["status"]
        table.append((r["source"], status, feeds, str(r["articles_fetched"]), str(r["parsed"]),
                      str(r["passed"]), str(r["quarantined"]), str(r["loaded_new"]), str(r["loaded_updated"])))
    messages = [f"  {r['source']}: {r['message']}" for r in rows if r.get("message")]
    docs = [f"  {r['source']}: {r['data_docs']}" for r in rows if r.get("data_docs")]
    return "\n".join([format_table(table)] + messages + (["\nData Docs:"] + docs if docs else []))
