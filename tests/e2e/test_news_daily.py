"""`make run`'s path end to end: `news-etl run` starts Airflow (scheduler, api-server, ...), creates
a run of news_daily through the REST API, which runs against the sample publishers and a real
PostgreSQL, and stops Airflow after; then the same day again, which must change nothing; then
the sample publishers' bad day, which the quality gate must stop."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from conftest import SAMPLE_NOW
from helpers import expected_articles, loaded_articles, rows
from live_airflow import _free_port
from news_etl.sample_sites.publishers import BAD_DAY, PUBLISHERS

pytestmark = pytest.mark.e2e
DAY = date(2024, 3, 1)


def news_etl_run(env: dict, day: date = DAY) -> subprocess.CompletedProcess:
    cli = Path(sys.executable).with_name("news-etl")
    return subprocess.run([str(cli), "run", "--date", day.isoformat()], env=env, capture_output=True,
                          text=True, timeout=1200)  # Airflow starts for each run: minutes on a busy machine


def summary_rows(stdout: str) -> dict[str, list[str]]:
    lines = stdout.split("source ", 1)[1].splitlines()[2:]
    return {cells[0]: cells[1:] for cells in (ln.split() for ln in lines) if cells and cells[0] in PUBLISHERS}


def test_news_daily_through_airflow_twice_then_a_bad_day(tmp_path, postgres, make_database, sample_url,
                                                         sample_clock):
    dsn, news_db = make_database(migrate=False)  # the DAG's first task applies the migrations
    _, airflow_db = make_database(migrate=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_"))}
    env.update(
        NEWS_ETL_STATE_DIR=str(tmp_path / "state"),
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW_CONN_NEWS_WAREHOUSE=postgres.airflow_uri(news_db),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgres.sqlalchemy_url(airflow_db),
        NEWS_SAMPLE_PORT=sample_url.rsplit(":", 1)[1],  # the session's server, clock pinned
        AIRFLOW__API__PORT=str(_free_port()),  # the Airflow `news-etl run` starts for its run
    )

    first = news_etl_run(env)
    assert first.returncode == 0, first.stdout + first.stderr
    for stage in ("plan", "extract", "transform", "check", "load", "summary"):
        assert f"[ok ] {stage}" in first.stdout
    # The sample publishers are one host, so one shard; under each of its tasks, each source's outcome.
    assert f"[ok ] extract            shard 1: {len(PUBLISHERS)} sources" in first.stdout, first.stdout
    assert first.stdout.count("      ok       tehran-wire\n") == 4, first.stdout
    assert f"Using the sample publishers already serving at {sample_url}" in first.stdout
    summary = summary_rows(first.stdout)
    for publisher in PUBLISHERS:
        expected = expected_articles(publisher, sample_url, DAY, SAMPLE_NOW)
        assert loaded_articles(dsn, publisher) == expected
        status, feeds, fetched, parsed, passed, quarantined, new, updated = summary[publisher]
        assert (status, fetched, passed, quarantined, new, updated) == (
            "success", str(len(expected)), str(len(expected)), "0", str(len(expected)), "0")
    assert "Query the warehouse:  psql" in first.stdout
    before = rows(dsn, "SELECT * FROM news.article ORDER BY article_id")

    second = news_etl_run(env)
    assert second.returncode == 0, second.stdout + second.stderr
    for publisher, (status, feeds, fetched, parsed, passed, quarantined, new, updated) in summary_rows(
            second.stdout).items():
        assert (status, fetched, new, updated) == ("unchanged", "0", "0", "0"), publisher
    # Nothing changed since the first run: plan maps no source, so its tasks are all skipped.
    assert "[ok ] transform" not in second.stdout and "[skip] extract" in second.stdout
    assert rows(dsn, "SELECT * FROM news.article ORDER BY article_id") == before

    # The sample publishers' day of deliberately bad articles: the gate blocks tehran-wire (its
    # shard's check task fails and names it, so the run fails), the others of the shard load all
    # but their bad article.
    sample_clock(datetime(2024, 4, 3, tzinfo=timezone.utc))
    bad = news_etl_run(env, BAD_DAY)
    assert bad.returncode == 1
    assert f"[FAILED] check              shard 1: {len(PUBLISHERS)} sources; failed: tehran-wire" in bad.stdout, bad.stdout
    assert "      BLOCKED  tehran-wire\n" in bad.stdout and "[ok ] load" in bad.stdout, bad.stdout
    assert bad.stdout.split("[ok ] load", 1)[1].split("[", 1)[0].count("      skip     tehran-wire\n") == 1, bad.stdout
    summary = summary_rows(bad.stdout)
    assert summary["tehran-wire"][0] == "blocked"
    assert "tehran-wire: source tehran-wire: load blocked by the quality gate: 4 of" in bad.stdout
    for publisher in ("harbor-times", "nordic-dispatch"):
        status, feeds, fetched, parsed, passed, quarantined, new, updated = summary[publisher]
        assert (status, quarantined) == ("success", "1") and int(new) == int(fetched) - 1 > 0
    assert "Data Docs:" in bad.stdout
    assert rows(dsn, "SELECT count(*) FROM news.article a JOIN news.source s USING (source_id) "
                     "WHERE s.name = 'tehran-wire' AND a.published_at >= '2024-03-31'") == [(0,)]
