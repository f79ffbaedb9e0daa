"""Ctrl-C of `news-etl run` (what `make run` runs) while its run's tasks execute (issue 15): the
command exits 130, its Airflow run ends failed with no task left running, the task processes are
gone, and a later run of the same day loads it. SIGINT goes to the command's process group, as a
terminal sends it to the foreground job.

Through the session's Airflow (`make airflow` up, the cheaper case): there `news-etl run` starts no
process of its own, so what must stop are the run's task processes under Airflow's scheduler."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import psutil
import pytest

from conftest import SAMPLE_NOW
from helpers import expected_articles, loaded_articles
from news_etl.sample_sites.publishers import PUBLISHERS

pytestmark = pytest.mark.e2e
CLI = Path(sys.executable).with_name("news-etl")
# Days no other test collects; each pass of this test takes one not collected yet in the session's
# Airflow, so that its extract has work to do when Ctrl-C comes (`--keep-duplicates` repeats it).
DAYS = [date(2024, 1, 2) + timedelta(days=i) for i in range(28)]
TASK_WAIT = 600  # seconds until a task of the run is running: plan first, on a busy 2-CPU machine
EXIT_WAIT = 120  # seconds from Ctrl-C until the command has exited
STOP_WAIT = 180  # seconds until no task of the run runs and its processes are gone
RUN_TIMEOUT = 900  # seconds for the later, whole run of the day
UNFINISHED = ("running", "queued", "scheduled", "up_for_retry", "up_for_reschedule", "restarting", "deferred")


def test_ctrl_c_stops_the_run_and_its_tasks_and_the_day_runs_again(airflow, sample_url, tmp_path):
    airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})  # the session's starts paused
    runs = airflow.request("GET", "/api/v2/dags/news_daily/dagRuns?limit=1000")["dag_runs"]
    collected = {(r.get("conf") or {}).get("date") for r in runs}
    day = next(d for d in DAYS if d.isoformat() not in collected)
    output = tmp_path / "news-etl-run.out"
    with open(output, "wb") as out:
        proc = subprocess.Popen([str(CLI), "run", "--date", day.isoformat()], env=airflow.env, stdout=out,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        run_id, running, workers = airflow.wait_for(
            "a task of the run to be running", lambda: _running_tasks(airflow, day), timeout=TASK_WAIT, every=1)
        os.killpg(proc.pid, signal.SIGINT)  # the terminal's Ctrl-C: the whole foreground group
        t0 = time.monotonic()
        code = proc.wait(timeout=EXIT_WAIT)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    printed = output.read_text(errors="replace")
    assert code == 130, printed
    assert f"Interrupted: run {run_id} marked failed" in printed, printed
    assert airflow.request("GET", f"/api/v2/dags/news_daily/dagRuns/{run_id}")["state"] == "failed"
    tasks = airflow.wait_for("no task of the run left unfinished", lambda: _settled(airflow, run_id), STOP_WAIT)
    # A task seen running was stopped (failed) or had just finished before the mark (success).
    assert {tasks[key] for key in running} <= {"failed", "success"}, tasks
    airflow.wait_for("the task processes to end", lambda: not [p for p in workers if _alive(p)], STOP_WAIT, every=1)
    print(f"exited {took:.1f}s after Ctrl-C")

    # The same day again, to the end: exit 0, and the day's articles (and its lookback day's) loaded.
    again = subprocess.run([str(CLI), "run", "--date", day.isoformat()], env=airflow.env, capture_output=True,
                           text=True, timeout=RUN_TIMEOUT)
    assert again.returncode == 0, again.stdout + again.stderr
    for publisher in PUBLISHERS:
        expected = expected_articles(publisher, sample_url, day, SAMPLE_NOW)
        urls = {a[-1] for a in expected}
        assert {a for a in loaded_articles(airflow.dsn, publisher) if a[-1] in urls} == expected, publisher


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
    # Airflow's task runner titles its process `airflow worker -- <task instance id>`.
    processes = {}
    for p in psutil.process_iter(["cmdline"]):
        title = " ".join(p.info["cmdline"] or [])
        if title.startswith("airflow worker -- ") and title.split()[-1] in running:
            processes[title.split()[-1]] = p
    if not processes:  # none yet, or the tasks seen just ended
        return None
    return ours[0], [running[ti_id] for ti_id in processes], list(processes.values())


def _settled(airflow, run_id: str) -> dict | None:
    tis = airflow.request("GET", f"/api/v2/dags/news_daily/dagRuns/{run_id}/taskInstances?limit=1000")
    states = {(t["task_id"], t["map_index"]): t["state"] for t in tis["task_instances"]}
    return None if any(s in UNFINISHED for s in states.values()) else states


def _alive(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
