"""Backfills through real Airflow processes and the REST API v2, as the UI's Backfill dialog makes
them: three past days load exactly the sample publishers' articles; the same backfill again, with
every completed run reprocessed, runs them all again and changes no article row (each pass an
attempt of its own in news.etl_run); then `make run` of one of those days through the same Airflow,
which leaves the backfill's runs alone."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from conftest import SAMPLE_NOW
from helpers import expected_articles, loaded_articles, rows
from news_etl.sample_sites.publishers import PUBLISHERS

pytestmark = pytest.mark.e2e
# Across a month end (articles are partitioned by month) and a leap day.
DAYS = [date(2024, 2, 28), date(2024, 2, 29), date(2024, 3, 1)]
BACKFILL_TIMEOUT = 900  # seconds; three runs take about 3-4 minutes on a 2-CPU machine


def backfill(airflow, reprocess_behavior: str) -> dict:
    return airflow.request("POST", "/api/v2/backfills", {
        "dag_id": "news_daily",
        "from_date": f"{DAYS[0]}T00:00:00Z",
        "to_date": f"{DAYS[-1]}T00:00:00Z",
        "reprocess_behavior": reprocess_behavior,
        "max_active_runs": 3,
    })


def finished_runs(airflow, backfill_id: int) -> list[dict] | None:
    """The backfill's runs once it is complete (Airflow sets completed_at when its last run ends)."""
    if airflow.request("GET", f"/api/v2/backfills/{backfill_id}")["completed_at"] is None:
        return None
    runs = airflow.request(
        "GET", f"/api/v2/dags/news_daily/dagRuns?logical_date_gte={DAYS[0]}T00:00:00Z"
               f"&logical_date_lte={DAYS[-1]}T00:00:00Z&order_by=logical_date")["dag_runs"]
    return runs


def test_backfill_three_days_through_the_rest_api_then_reprocess_them(airflow, sample_url):
    airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})

    t0 = time.monotonic()
    first = backfill(airflow, "none")
    runs = airflow.wait_for("the first backfill", lambda: finished_runs(airflow, first["id"]), BACKFILL_TIMEOUT)
    first_took = time.monotonic() - t0
    assert [(r["logical_date"][:10], r["run_type"], r["state"]) for r in runs] == [
        (d.isoformat(), "backfill", "success") for d in DAYS], runs

    # A run for D loads D and the day before it (lookback 1); together, exactly these articles.
    for publisher in PUBLISHERS:
        expected = set().union(*(expected_articles(publisher, sample_url, d, SAMPLE_NOW) for d in DAYS))
        assert loaded_articles(airflow.dsn, publisher) == expected, publisher
    run_ids = [r["dag_run_id"] for r in runs]
    per_run = rows(airflow.dsn, "SELECT run_id, source, day, status FROM news.etl_run WHERE run_id = ANY(%s) "
                                "ORDER BY day, source", (run_ids,))
    assert [(day, source, status) for _, source, day, status in per_run] == [
        (d, p, "success") for d in DAYS for p in sorted(PUBLISHERS)]
    # Runs of overlapping days loaded at the same time, yet each article once.
    assert rows(airflow.dsn, "SELECT sum(loaded_new) FROM news.etl_run WHERE run_id = ANY(%s)", (run_ids,)) == [
        (rows(airflow.dsn, "SELECT count(*) FROM news.article")[0][0],)]
    before = rows(airflow.dsn, "SELECT * FROM news.article ORDER BY article_id")

    # Again, reprocessing the completed runs: Airflow clears and re-runs the same three runs.
    t0 = time.monotonic()
    second = backfill(airflow, "completed")
    again = airflow.wait_for("the reprocessing backfill", lambda: finished_runs(airflow, second["id"]),
                             BACKFILL_TIMEOUT)
    second_took = time.monotonic() - t0
    assert [r["dag_run_id"] for r in again] == run_ids
    assert all(r["state"] == "success" for r in again), again
    assert all(_ts(r["end_date"]) > _ts(second["created_at"]) for r in again), "the runs were not run again"
    assert rows(airflow.dsn, "SELECT * FROM news.article ORDER BY article_id") == before
    # Nothing changed since each run's first pass: plan maps no source, so the task instances the
    # first pass mapped are 'removed' (Airflow's state for a map index the new map lacks).
    # Each pass is an attempt of its own in news.etl_run: the first pass's counts stay.
    passes = rows(airflow.dsn, "SELECT array_agg(status ORDER BY attempt_id), array_agg(loaded_new ORDER BY attempt_id), "
                               "array_agg(loaded_updated ORDER BY attempt_id) FROM news.etl_run "
                               "WHERE run_id = ANY(%s) GROUP BY run_id, source", (run_ids,))
    assert len(passes) == len(run_ids) * len(PUBLISHERS) and all(
        statuses == ["success", "unchanged"] and new[1] == updated[1] == 0 for statuses, new, updated in passes), passes
    assert sum(new[0] for _, new, _ in passes) == rows(airflow.dsn, "SELECT count(*) FROM news.article")[0][0]
    tasks = airflow.request("GET", f"/api/v2/dags/news_daily/dagRuns/{run_ids[0]}/taskInstances?limit=100")
    states = {(t["task_id"].split(".")[-1], t["state"]) for t in tasks["task_instances"]}
    assert states == {("plan", "success"), ("check_shards", "success"), ("extract", "removed"),
                      ("transform", "removed"), ("check", "removed"), ("load", "removed"),
                      ("summary", "success")}, states
    print(f"\nfirst backfill {first_took:.0f}s, reprocessing backfill {second_took:.0f}s")


def _ts(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_make_run_uses_the_running_airflow_and_leaves_its_runs_alone(airflow):
    """`make run` while `make airflow` is up: the run is created through the same Airflow's REST
    API and executed by its scheduler; every run already there (a backfill's) is still there."""
    airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})
    before = {r["dag_run_id"]: r["state"] for r in
              airflow.request("GET", "/api/v2/dags/news_daily/dagRuns?limit=100")["dag_runs"]}
    cli = Path(sys.executable).with_name("news-etl")
    done = subprocess.run([str(cli), "run", "--date", DAYS[0].isoformat()], env=airflow.env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Using the Airflow running at {airflow.url}" in done.stdout and "Starting api-server" not in done.stdout
    run_id = done.stdout.split("(run ", 1)[1].split(";", 1)[0]
    after = {r["dag_run_id"]: r for r in airflow.request("GET", "/api/v2/dags/news_daily/dagRuns?limit=100")["dag_runs"]}
    assert {k: after[k]["state"] for k in before} == before  # none deleted, none re-run
    assert (after[run_id]["state"], after[run_id]["logical_date"], after[run_id]["conf"]["date"]) == (
        "success", None, DAYS[0].isoformat())
    assert _ts(after[run_id]["start_date"]) < _ts(after[run_id]["end_date"])  # true start and end, not `dags test`'s
