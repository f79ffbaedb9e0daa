"""`make run`: one daily run of news_daily through Airflow on this machine, with progress and a summary.

It sets up what a fresh machine lacks: the embedded warehouse (unless a `news_warehouse`
connection is configured), an Airflow home with its metadata database, and the sample publishers
when the default source list is used. Airflow then runs the DAG (`airflow dags test`, the
in-process runner); its log goes to a file, while this module follows the task states in
Airflow's metadata database and prints them stage by stage.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import SQLAlchemyError

from news_etl import PROJECT_DIR, pipeline, warehouse
from news_etl.errors import ConfigError, NewsEtlError
from news_etl.settings import Settings
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
        with urllib.request.urlopen(base + "/", timeout=2) as r:
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
    settings = Settings.from_env()
    logs = settings.state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log_path = logs / f"{DAG_ID}-{day.isoformat()}-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.log"
    print(f"news_daily for {day.isoformat()}  (Airflow's log: {log_path})")

    env, psql = airflow_env(settings)
    sources = load_sources_leaving_out_broken()[0] if sources is None else sources
    sample = ensure_sample_sites(env) if uses_sample_publishers(sources) else None
    try:
        with open(log_path, "ab") as log_file:
            metadata = prepare_metadata(env, log_file)
            with metadata.connect() as conn:
                last_run = conn.execute(text("SELECT coalesce(max(id), 0) FROM dag_run")).scalar()
            conf = ["--conf", json.dumps({"reprocess": True})] if reprocess else []
            proc = subprocess.Popen([AIRFLOW, "dags", "test", DAG_ID, day.isoformat(), *conf], env=env,
                                    stdout=log_file, stderr=subprocess.STDOUT)
            run_id = _follow(metadata, last_run, proc)
            code = proc.wait()
    finally:
        if sample is not None:
            sample.shutdown()
            sample.server_close()
    if run_id is None:
        print(f"news_daily did not start; see {log_path}", file=sys.stderr)
        return code or 1
    dsn = warehouse.dsn_from_airflow_env(env["AIRFLOW_CONN_NEWS_WAREHOUSE"])
    rows = pipeline.run_summary(dsn, run_id)
    failed = code != 0 or any(r["status"] not in ("success", "unchanged", "no_data") for r in rows)
    if summary_out is not None:
        summary_out.write(json.dumps({"run_id": run_id, "day": day.isoformat(), "ok": not failed,
                                      "sources": rows}, indent=2, default=str) + "\n")
    print()
    print(format_summary(rows))
    print(f"\nQuery the warehouse:  {psql}")
    print("  e.g.  SELECT s.name, a.published_at, a.story_code, a.title FROM news.article a "
          "JOIN news.source s USING (source_id) ORDER BY a.published_at DESC LIMIT 10;")
    if failed:
        print(f"\nThe run did not fully succeed; Airflow's log: {log_path}", file=sys.stderr)
    return 1 if failed else 0


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


def _follow(engine, last_run: int, proc: subprocess.Popen) -> str | None:
    """Print each task instance of the new run (the first dag_run after `last_run`) as it
    finishes, and each retry; return the run id."""
    # A mapped task that never ran has no label: its map index is its place in plan's list.
    run_id, shown, sources = None, set(), None
    try:
        while True:
            done = proc.poll() is not None
            with engine.connect() as conn:
                if run_id is None:
                    run_id = conn.execute(text(
                        "SELECT run_id FROM dag_run WHERE dag_id = :d AND id > :last ORDER BY id LIMIT 1"),
                        {"d": DAG_ID, "last": last_run}).scalar()
                if run_id is not None:
                    rows = conn.execute(text(
                        "SELECT task_id, map_index, rendered_map_index, state, try_number, start_date, end_date "
                        "FROM task_instance WHERE dag_id = :d AND run_id = :r "
                        "AND (end_date IS NOT NULL OR state = 'skipped') "  # a map of nothing has no end
                        "ORDER BY coalesce(end_date, updated_at)"), {"d": DAG_ID, "r": run_id}).fetchall()
                    if sources is None:
                        sources = _planned(conn, run_id)
                    for task_id, map_index, label, state, tries, start, end in rows:
                        if (task_id, map_index, tries, state) in shown or state not in _SHOWN_STATES:
                            continue
                        shown.add((task_id, map_index, tries, state))
                        if not label and 0 <= map_index < len(sources or ()):
                            label = sources[map_index]
                        seconds = (end - start).total_seconds() if start and end else 0.0
                        mark = {"success": "ok ", "up_for_retry": "retry", "skipped": "skip"}.get(state, state.upper())
                        print(f"  [{mark}] {task_id.split('.')[-1]:<18} {label or '':<20} {seconds:6.1f}s", flush=True)
            if done:
                return run_id
            time.sleep(0.5)
    finally:
        engine.dispose()


def _planned(conn, run_id: str) -> list[str] | None:
    """The sources the run's plan task mapped (its XCom), None until it has run."""
    value = conn.execute(text("SELECT value FROM xcom WHERE dag_id = :d AND run_id = :r AND task_id = 'plan' "
                              "AND key = 'return_value'"), {"d": DAG_ID, "r": run_id}).first()
    if value is None:
        return None
    return json.loads(value[0]) if isinstance(value[0], str) else list(value[0] or [])


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
