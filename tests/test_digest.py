"""The daily digest and the failure callback, against a real warehouse: the digest shows exactly
the warehouse's volumes, terms and quality results; a failed task's reason reaches the run log
and the webhook notifier (URL in a Connection, masked); the load deadline's alert goes there too."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, datetime, timedelta, timezone
from importlib import import_module
from types import SimpleNamespace

import pytest
from airflow.sdk._shared.secrets_masker import redact

from conftest import SAMPLE_NOW
from helpers import rows
from news_etl import cli, pipeline
from news_etl.errors import ConfigError, FetchError


def import_string(path: str):
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)

DAYS = [date(2024, 2, 29), date(2024, 3, 1)]


def load_days(dsn, settings, sources):
    for day in DAYS:
        run = pipeline.Run(run_id=f"run-{day}", day=day, dsn=dsn, settings=settings)
        for source in sources.values():
            pipeline.extract(source, run, now=SAMPLE_NOW)
            pipeline.transform(source, run)
            pipeline.check(source, run, now=SAMPLE_NOW)
            pipeline.load(source, run)


def test_digest_shows_the_warehouse_numbers(dsn, settings, sample_sources, postgres, monkeypatch, capsys):
    load_days(dsn, settings, sample_sources)
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", postgres.airflow_uri(dsn.split("/")[3].split("?")[0]))
    assert cli.main(["digest", "--date", "2024-03-01"]) == 0
    path = capsys.readouterr().out.strip().splitlines()[-1]  # (earlier lines: the stages' logs)
    assert path.endswith("reports/digest-2024-03-01.html")
    html = open(path, encoding="utf-8").read()

    volume = rows(dsn, "SELECT source, day, articles FROM news.daily_volume WHERE day BETWEEN '2024-02-17' AND '2024-03-01'")
    assert volume and all(f"<title>{s}, {d}: {n}</title>" in html for s, d, n in volume)
    bars = re.findall(r"<title>([a-z-]+), (\d{4}-\d\d-\d\d): (\d+)</title>", html)
    assert len(bars) == 14 * len(sample_sources)  # every source on every one of the 14 days
    assert sum(int(n) for *_, n in bars) == sum(n for *_, n in volume)

    for term, kind, articles, mentions, _ in rows(dsn, "SELECT term, kind, articles, mentions, sources "
                                                       "FROM news.term_daily WHERE day = '2024-03-01'"):
        assert f"<td>{term}</td><td>{kind}</td><td class='n'>{articles}</td><td class='n'>{mentions}</td>" in html
    for source, status, checked, quarantined, *_ in rows(dsn, "SELECT source, run_status, rows_checked, "
                                                              "rows_quarantined FROM news.dq_daily WHERE day = '2024-03-01'"):
        assert f"<td>{source}</td><td class=''>{status}</td><td class='n'>{checked}</td><td class='n'>{quarantined}</td>" in html


def test_failure_callback_records_the_reason_and_calls_the_webhook(dsn, settings, site, postgres, monkeypatch):
    from news_etl.orchestration import task_failed

    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", postgres.airflow_uri(dsn.split("/")[3].split("?")[0]))
    hook = site.url("/hook")  # for Slack, the URL holds the token: it lives in a Connection
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WEBHOOK", hook)
    context = {  # what Airflow hands an on_failure_callback, as far as the callback reads it
        "ti": SimpleNamespace(task_id="source.extract", map_index=1),
        "source_name": "nordic-dispatch",  # set by the task (news_daily's _source_run)
        "exception": FetchError("http://127.0.0.1:9/feed.xml: ConnectTimeout"),
        "run_id": "scheduled__2024-03-01", "dag": SimpleNamespace(dag_id="news_daily"),
        "params": {"date": None, "refetch": False},
        "logical_date": datetime(2024, 3, 1, tzinfo=timezone.utc),
    }
    task_failed(context)
    reason = "source.extract failed for nordic-dispatch: FetchError: http://127.0.0.1:9/feed.xml: ConnectTimeout"
    assert rows(dsn, "SELECT run_id, source, day, status, message FROM news.etl_run") == [
        ("scheduled__2024-03-01", "nordic-dispatch", date(2024, 3, 1), "failed", reason)]
    ((path, body),) = site.posted
    assert path == "/hook" and json.loads(body) == {
        "text": f"news-etl: {reason}", "dag_id": "news_daily", "run_id": "scheduled__2024-03-01",
        "task_id": "source.extract", "map_index": 1, "source": "nordic-dispatch"}
    assert redact(f"posting to {hook}") == "posting to ***"  # masked in every log from then on

    # A reason the stage already wrote (here: the quality gate's block) is not overwritten.
    with pipeline.warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE news.etl_run SET status = 'blocked', message = 'load blocked by the quality gate'")
    task_failed(context)
    assert rows(dsn, "SELECT status, message FROM news.etl_run") == [("blocked", "load blocked by the quality gate")]


def test_the_deadline_alert_posts_through_the_same_notifier_from_the_triggerer(site, monkeypatch):
    """What the triggerer does with news_daily's DeadlineAlert: build the callback's notifier
    from its kwargs and await it."""
    from news_etl.orchestration import DagSettings, load_deadline_alert

    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WEBHOOK", site.url("/hook"))
    monkeypatch.setenv("NEWS_ETL_LOAD_DEADLINE", "07:30")
    alert = load_deadline_alert(DagSettings.from_env())
    assert alert.interval == timedelta(days=1, hours=7, minutes=30)
    notifier = import_string(alert.callback.path)(**alert.callback.kwargs)
    asyncio.run(notifier.async_notify({}))
    ((path, body),) = site.posted
    assert json.loads(body) == {"text": "news-etl: news_daily: a day's load was not done by 07:30 (UTC) the day after",
                                "dag_id": "news_daily", "alert": "deadline"}
    monkeypatch.setenv("NEWS_ETL_LOAD_DEADLINE", "off")
    assert load_deadline_alert(DagSettings.from_env()) is None
    monkeypatch.setenv("NEWS_ETL_LOAD_DEADLINE", "25:00")
    with pytest.raises(ConfigError, match=r"NEWS_ETL_LOAD_DEADLINE='25:00': expected a time HH:MM"):
        DagSettings.from_env()
