"""`make run` for today, twice, through the session's Airflow: today is not over, so the first run
loads what the sample publishers have published so far and the second, after one more article has
appeared, loads that one too (issue 15). The publishers' clock is pinned just before and just after
that article; the ETL's own clock is the real one, ahead of both, so the day is today for both."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from helpers import expected_articles, loaded_articles
from news_etl.sample_sites.publishers import PUBLISHERS

pytestmark = pytest.mark.e2e
RUN_TIMEOUT = 900  # seconds: a run's tasks on the session's Airflow, on a busy machine


def published_by(sample_url: str, day, now: datetime) -> set[tuple]:
    """What a run of `day` must have loaded when the publishers' clock says `now`."""
    return {a for p in PUBLISHERS for a in expected_articles(p, sample_url, day, now) if a[3] <= now}


def in_window(dsn: str, sample_url: str, day) -> set[tuple]:
    """The loaded articles of `day`'s window (by URL, whenever published): the session's warehouse
    also holds other tests' days and, with the DAG unpaused, what a scheduled run loads meanwhile."""
    end = datetime.combine(day + timedelta(days=2), datetime.min.time(), timezone.utc)
    window = {a[-1] for p in PUBLISHERS for a in expected_articles(p, sample_url, day, end)}
    return {a for p in PUBLISHERS for a in loaded_articles(dsn, p) if a[-1] in window}


def test_run_today_twice_loads_the_article_published_between(airflow, sample_url, sample_clock):
    real_now = datetime.now(timezone.utc)
    today = real_now.date()
    # The last article published by real now (minus a margin for the runs) with no other article
    # in the two seconds before it: the clock is pinned a second before it, then at it.
    times = sorted({a[3] for a in published_by(sample_url, today, real_now - timedelta(minutes=30))})
    candidates = [t for prev, t in zip(times, times[1:]) if t - prev > timedelta(seconds=2)]
    if not candidates or candidates[-1].date() != today:
        pytest.skip(f"no sample article published yet today ({real_now:%H:%M} UTC)")
    new_at = candidates[-1]
    before, after = new_at - timedelta(seconds=1), new_at
    first_expected, second_expected = published_by(sample_url, today, before), published_by(sample_url, today, after)
    [new] = second_expected - first_expected  # exactly one article appears between the runs
    cli = Path(sys.executable).with_name("news-etl")
    airflow.request("PATCH", "/api/v2/dags/news_daily", {"is_paused": False})  # the session's starts paused

    def run() -> subprocess.CompletedProcess:
        done = subprocess.run([str(cli), "run", "--date", today.isoformat()], env=airflow.env,
                              capture_output=True, text=True, timeout=RUN_TIMEOUT)
        assert done.returncode == 0, done.stdout + done.stderr
        return done

    sample_clock(before)
    first = run()
    assert "success (day not over)" in first.stdout, first.stdout
    assert in_window(airflow.dsn, sample_url, today) == first_expected

    sample_clock(after)
    second = run()
    loaded = in_window(airflow.dsn, sample_url, today)
    assert loaded == second_expected, second.stdout
    assert len(loaded) == len(first_expected) + 1
    assert new[-1] in {a[-1] for a in loaded} - {a[-1] for a in first_expected}  # the new one, by URL
