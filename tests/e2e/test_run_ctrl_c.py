"""Ctrl-C of `news-etl run` (what `make run` runs) while its run's tasks execute (issue 15): the
command exits 130, its Airflow run ends failed with no task left running, the task processes are
gone, and a later run of the same day loads it. SIGINT goes to the command's process group, as a
terminal sends it to the foreground job.

Twice: through the session's Airflow (`make airflow` up), where `news-etl run` starts no process
of its own and what must stop are the run's task processes under that Airflow's scheduler; and with
no Airflow up, where `news-etl run` starts one for the run (its own databases and AIRFLOW_HOME)
and every process of it must be gone when the command exits."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psutil
import psycopg2
import pytest

from conftest import SAMPLE_NOW
from helpers import expected_articles, loaded_articles
from live_airflow import LocalAirflow, airflow_settings
from news_etl.sample_sites.publishers import PUBLISHERS

pytestmark = pytest.mark.e2e
CLI = Path(sys.executable).with_name("news-etl")
# Days no other test collects; each pass of this test takes one not collected yet in the session's
# Airflow, so that its extract has work to do when Ctrl-C comes (`--keep-duplicates` repeats it).
DAYS = [date(2024, 1, 2) + timedelta(days=i) for i in range(28)]
TASK_WAIT = 600  # seconds until a task of the run is running: plan first, on a busy 2-CPU machine
EXIT_WAIT = 120  # seconds from Ctrl-C until the command has exited
OWN_EXIT_WAIT = 240  # the same when it stops the Airflow it started (30 s grace, then 10 s, and 15 s)
STOP_WAIT = 180  # seconds until no task of the run is left unfinished
# Seconds until the run's task processes are gone. Airflow's supervisor stops a task when its
# heartbeat (every 5 s) is refused, SIGTERM then SIGKILL 5 s apart; on a loaded machine where the
# execution API does not answer in time, only after 3 failed heartbeats, each 5 attempts of 5 s
# with up to 2+4+8+16 s between them: 3 x 55 s + 15 s = 180 s at worst (Airflow's defaults).
KILL_WAIT = 300
RUN_TIMEOUT = 900  # seconds for the later, whole run of the day
UNFINISHED = ("running", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "restarting", "deferred")


def test_ctrl_c_stops_the_run_and_its_tasks_and_the_day_runs_again(airflow, sample_url, tmp_path):
    airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})  # the session's starts paused
    runs = airflow.request("GET", "/api/v2/dags/news_daily/dagRuns?limit=1000")["dag_runs"]
    collected = {(r.get("conf") or {}).get("date") for r in runs}
    day = next(d for d in DAYS if d.isoformat() not in collected)
    output = tmp_path / "news-etl-run.out"
    code, took, started, (run_id, running, workers) = _ctrl_c(
        airflow.env, day, output, lambda: _running_tasks(airflow, day), EXIT_WAIT)
    assert started == []  # through a running Airflow, the command starts no process
    printed = output.read_text(errors="replace")
    assert code == 130, printed
    assert f"Interrupted: run {run_id} marked failed" in printed, printed
    assert airflow.request("GET", f"/api/v2/dags/news_daily/dagRuns/{run_id}")["state"] == "failed"
    tasks = airflow.wait_for("no task of the run left unfinished", lambda: _settled(airflow, run_id), STOP_WAIT)
    # A task seen running was stopped (failed) or had just finished before the mark (success).
    assert {tasks[key] for key in running} <= {"failed", "success"}, tasks
    try:
        airflow.wait_for("the task processes to end", lambda: not [p for p in workers if _alive(p)], KILL_WAIT, every=1)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{_what_the_supervisors_said(airflow.env, workers, running)}") from None
    print(f"exited {took:.1f}s after Ctrl-C")
    _run_the_day_again(airflow.env, airflow.dsn, sample_url, day)


def test_ctrl_c_stops_the_airflow_the_run_started_and_the_day_runs_again(tmp_path, postgres, sample_url):
    day = date(2024, 2, 12)  # the warehouse is this test's own
    with airflow_settings(tmp_path, postgres, sample_url) as (env, news_dsn, metadata_dsn):
        output = tmp_path / "news-etl-run.out"
        api = functools.cache(lambda: _api_of(env, news_dsn, metadata_dsn, output))  # once it can log in
        code, took, started, (run_id, running, _) = _ctrl_c(
            env, day, output, lambda: _once_up(lambda: _running_tasks(api(), day)), OWN_EXIT_WAIT)
        printed = output.read_text(errors="replace")
        assert code == 130, printed
        assert f"Interrupted: run {run_id} marked failed" in printed, printed
        assert "Stopping the Airflow started for this run ... stopped" in printed, printed
        assert len(started) >= 4, started  # api-server, scheduler, dag-processor, triggerer at least
        # Nothing of it is left: not what it started, nor anything else of its AIRFLOW_HOME.
        assert [p.pid for p in started if _alive(p)] == []
        assert _processes_of(env["AIRFLOW_HOME"]) == []
        with psycopg2.connect(metadata_dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT state FROM dag_run WHERE run_id = %s", (run_id,))
            assert cur.fetchall() == [("failed",)]
            cur.execute("SELECT task_id, map_index, state FROM task_instance WHERE run_id = %s", (run_id,))
            tasks = {(t, m): s for t, m, s in cur.fetchall()}
        assert not [s for s in tasks.values() if s in UNFINISHED], tasks
        assert {tasks[key] for key in running} <= {"failed", "success"}, tasks
        print(f"exited {took:.1f}s after Ctrl-C, its Airflow stopped")
        _run_the_day_again(env, news_dsn, sample_url, day)
        assert _processes_of(env["AIRFLOW_HOME"]) == []


def _ctrl_c(env: dict, day: date, output: Path, running, exit_wait: float):
    """`news-etl run --date day` in a process group of its own, as a terminal starts it; once
    `running()` answers, the processes below it are noted and its group gets SIGINT (Ctrl-C).
    Returns its exit code, the seconds it took to exit, those processes and what `running()` gave."""
    with open(output, "wb") as out:
        proc = subprocess.Popen([str(CLI), "run", "--date", day.isoformat()], env=env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        found = LocalAirflow.wait_for("a task of the run to be running", running, timeout=TASK_WAIT, every=1)
        started = psutil.Process(proc.pid).children(recursive=True)  # Airflow's components, task processes
        os.killpg(proc.pid, signal.SIGINT)
        t0 = time.monotonic()
        code = proc.wait(timeout=exit_wait)
        return code, time.monotonic() - t0, started, found
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _run_the_day_again(env: dict, dsn: str, sample_url: str, day: date) -> None:
    """The same day again, to the end: exit 0, and the day's articles (and its lookback day's) loaded."""
    again = subprocess.run([str(CLI), "run", "--date", day.isoformat()], env=env, capture_output=True,
                           text=True, timeout=RUN_TIMEOUT)
    assert again.returncode == 0, again.stdout + again.stderr
    for publisher in PUBLISHERS:
        expected = expected_articles(publisher, sample_url, day, SAMPLE_NOW)
        urls = {a[-1] for a in expected}
        assert {a for a in loaded_articles(dsn, publisher) if a[-1] in urls} == expected, publisher


def _api_of(env: dict, news_dsn: str, metadata_dsn: str, output: Path) -> LocalAirflow:
    """The REST API of the Airflow `news-etl run` starts, with the login it writes before starting
    Airflow (OSError or ValueError until then)."""
    passwords = Path(env["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json"
    return LocalAirflow(url=f"http://127.0.0.1:{env['AIRFLOW__API__PORT']}", user="admin",
                        password=json.loads(passwords.read_text())["admin"], dsn=news_dsn, output=output,
                        metadata_dsn=metadata_dsn, env=env)


def _once_up(check):
    """`check()`, or None while the Airflow being started has no login, does not answer or knows no
    news_daily yet."""
    try:
        return check()
    except (OSError, ValueError, AssertionError):  # AssertionError: an HTTP error (LocalAirflow.request's)
        return None


def _processes_of(airflow_home: str) -> list[tuple[int, str]]:
    """Live processes with this AIRFLOW_HOME in their environment, as (pid, command line)."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        try:
            if p.environ().get("AIRFLOW_HOME") == airflow_home and _alive(p):
                found.append((p.pid, " ".join(p.info["cmdline"] or [])))
        except psutil.Error:
            pass
    return found


def _running_tasks(airflow, day: date):
    """The day's `news-etl run` once a task after plan runs: (run id, the running task instances
    as (task id, map index), the processes running them); None before."""
    runs = airflow.request("GET", "/api/v2/dags/news_daily/dagRuns?run_type=manual&limit=1000")["dag_runs"]
    ours = [r["dag_run_id"] for r in runs if r["dag_run_id"].startswith(f"local__{day}__")]
    if not ours:
        return None
    tis = airflow.request("GET", f"/api/v2/dags/news_daily/dagRuns/{ours[0]}/taskInstances?limit=1000")
    running = {t["id"]: (t["task_id"], t["map_index"]) for t in tis["task_instances"]
               if t["task_id"] != "plan" and t["state"] == "running"}
    # Airflow's task runner titles its process `airflow worker -- <task instance id>`. Not to be
    # taken for it: the LocalExecutor worker that supervises it, titled `airflow worker --
    # LocalExecutor: <task instance id>` while it does and `... <idle>` after (it lives on), and the
    # task process itself in its first moments, before it takes its own title.
    processes = {}
    for p in psutil.process_iter(["cmdline"]):
        title = " ".join(p.info["cmdline"] or []).split()
        if len(title) == 4 and title[:3] == ["airflow", "worker", "--"] and title[3] in running:
            processes[title[3]] = p
    if not processes:  # none yet, or the tasks seen just ended
        return None
    return ours[0], [running[ti_id] for ti_id in processes], list(processes.values())


def _settled(airflow, run_id: str) -> dict | None:
    tis = airflow.request("GET", f"/api/v2/dags/news_daily/dagRuns/{run_id}/taskInstances?limit=1000")
    states = {(t["task_id"], t["map_index"]): t["state"] for t in tis["task_instances"]}
    return None if any(s in UNFINISHED for s in states.values()) else states


def _what_the_supervisors_said(env: dict, workers: list[psutil.Process], running) -> str:
    """The task processes still alive, and the scheduler log's lines about them (LocalExecutor's
    supervisors log there): why a task was not stopped."""
    alive = {}
    for p in workers:
        try:
            if _alive(p):
                alive[" ".join(p.cmdline()).split()[-1]] = f"{p.pid} {p.status()}, parent {p.ppid()}"
        except psutil.Error:
            pass
    log = Path(env["NEWS_ETL_STATE_DIR"]) / "logs" / "airflow" / "scheduler.log"
    lines = [ln for ln in log.read_text(errors="replace").splitlines() if any(i in ln for i in alive)]
    return "\n".join([f"still alive (tasks {running}): {alive}", f"{log}, its lines naming them:", *lines[-40:]])


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
