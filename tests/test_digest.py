"""The daily digest and the failure callback, against a real warehouse: the digest shows exactly
the warehouse's volumes, terms and quality results; a failed task's reason reaches the run log
and a webhook."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone
from types import SimpleNamespace

from conftest import SAMPLE_NOW
from helpers import rows
from news_etl import cli, pipeline
from news_etl.errors import FetchError

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
    monkeypatch.setenv("NEWS_ETL_WEBHOOK_URL", site.url("/hook"))
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

    # A reason the stage already wrote (here: the quality gate's block) is not overwritten.
    with pipeline.warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE news.etl_run SET status = 'blocked', message = 'load blocked by the quality gate'")
    task_failed(context)
    assert rows(dsn, "SELECT status, message FROM news.etl_run") == [("blocked", "load blocked by the quality gate")]
