"""The daily digest and the failure callback, against a real warehouse: the digest shows exactly
the warehouse's volumes, terms and quality results; a failed task's reason reaches the run log
and the webhook notifier (URL in a Connection, masked); the load deadline's alert goes there too."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import date, datetime, timedelta, timezone
from html import escape
from importlib import import_module
from pathlib import Path
from types import SimpleNamespace

import pytest
from airflow.sdk._shared.secrets_masker import redact

from conftest import SAMPLE_NOW
from helpers import CHROMEDRIVER, CHROMIUM, headless_chromium, rows
from news_etl import PROJECT_DIR, cli, digest, pipeline
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

    stories = rows(dsn, "SELECT headline FROM news.story_cluster WHERE first_published_at >= '2024-03-01' "
                        "AND first_published_at < '2024-03-02' ORDER BY outlets DESC, articles DESC, first_published_at, "
                        "cluster_id LIMIT 10")
    shown = re.findall(r"<li><strong>(.*?)</strong>", html)
    assert stories and shown == [escape(h) for h, in stories]

    # each watched term with its mentions a day over the 7 days before (days without: 0), the change
    # and the spike flag; the day before is loaded too, so some terms have a week behind them
    terms = rows(dsn, "SELECT t.term, t.kind, t.articles, t.mentions, t.sources, (SELECT coalesce(sum(w.mentions), 0) "
                      "FROM news.term_daily w WHERE w.term = t.term AND w.day >= '2024-02-23' AND w.day < '2024-03-01') "
                      "FROM news.term_daily t WHERE t.day = '2024-03-01'")
    assert terms and any(week for *_, week in terms)
    for term, kind, articles, mentions, sources, week in terms:
        average = week / 7
        change = f"{(mentions - average) / average:+.0%}" if week else "new"
        flag = "<span class='spike'>spike</span>" if digest.is_spike(mentions, average) else ""
        assert (f"<td>{term}</td><td>{kind}</td><td class='n'>{articles}</td><td class='n'>{mentions}</td>"
                f"<td class='n'>{sources}</td><td class='n'>{average:.1f}</td><td class='n'>{change}</td><td>{flag}</td></tr>") in html
    for source, status, checked, quarantined, *_ in rows(dsn, "SELECT source, run_status, rows_checked, "
                                                              "rows_quarantined FROM news.dq_daily WHERE day = '2024-03-01'"):
        assert f"<td>{source}</td><td class=''>{status}</td><td class='n'>{checked}</td><td class='n'>{quarantined}</td>" in html


def test_failure_callback_records_the_reason_and_calls_the_webhook(dsn, settings, site, postgres, monkeypatch):
    from news_etl.orchestration import task_failed
    from news_etl.shards import StageOutcome

    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", postgres.airflow_uri(dsn.split("/")[3].split("?")[0]))
    hook = site.url("/hook")  # for Slack, the URL holds the token: it lives in a Connection
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WEBHOOK", hook)
    context = {  # what Airflow hands an on_failure_callback, as far as the callback reads it
        "ti": SimpleNamespace(task_id="shard.extract", map_index=1),
        # set by the task (news_daily's _shard_stage): the sources of its shard not run yet
        "shard_outcome": StageOutcome("extract", pending=["nordic-dispatch"]),
        "exception": FetchError("http://127.0.0.1:9/feed.xml: ConnectTimeout"),
        "run_id": "scheduled__2024-03-01", "dag": SimpleNamespace(dag_id="news_daily"),
        "params": {"date": None, "refetch": False},
        "logical_date": datetime(2024, 3, 1, tzinfo=timezone.utc),
    }
    task_failed(context)
    reason = "shard.extract failed for nordic-dispatch: FetchError: http://127.0.0.1:9/feed.xml: ConnectTimeout"
    assert rows(dsn, "SELECT run_id, source, day, status, message FROM news.etl_run") == [
        ("scheduled__2024-03-01", "nordic-dispatch", date(2024, 3, 1), "failed", reason)]
    ((path, body),) = site.posted
    assert path == "/hook" and json.loads(body) == {
        "text": f"news-etl: {reason}", "dag_id": "news_daily", "run_id": "scheduled__2024-03-01",
        "task_id": "shard.extract", "map_index": 1, "source": "nordic-dispatch"}
    assert redact(f"posting to {hook}") == "posting to ***"  # masked in every log from then on

    # A reason the stage already wrote (here: the quality gate's block) is not overwritten.
    with pipeline.warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE news.etl_run SET status = 'blocked', message = 'load blocked by the quality gate'")
    task_failed(context)
    assert rows(dsn, "SELECT status, message FROM news.etl_run") == [("blocked", "load blocked by the quality gate")]

    # A shard's task that failed before it read which sources had work (the warehouse timed out):
    # the run's failure, not its sources' (one of them may have loaded in an earlier try).
    task_failed({**context, "shard_outcome": StageOutcome("extract")})
    assert rows(dsn, "SELECT source, status FROM news.etl_run ORDER BY source") == [
        ("(run)", "failed"), ("nordic-dispatch", "blocked")]


def test_the_backfill_dags_failure_callback_only_notifies(dsn, site, postgres, monkeypatch):
    """news_backfill_archive collects no day: its failures go to the webhook, not to news.etl_run."""
    from news_etl.orchestration import notify_failure

    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", postgres.airflow_uri(dsn.split("/")[3].split("?")[0]))
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WEBHOOK", site.url("/hook"))
    notify_failure({"ti": SimpleNamespace(task_id="file_crawl_warc", map_index=3),
                    "exception": FetchError("http://127.0.0.1:9/CC-NEWS-1.warc.gz: ConnectTimeout\nmore"),
                    "run_id": "manual__2024-03-05", "dag": SimpleNamespace(dag_id="news_backfill_archive")})
    ((path, body),) = site.posted
    assert path == "/hook" and json.loads(body) == {
        "text": "news-etl: file_crawl_warc failed: FetchError: http://127.0.0.1:9/CC-NEWS-1.warc.gz: ConnectTimeout",
        "dag_id": "news_backfill_archive", "run_id": "manual__2024-03-05", "task_id": "file_crawl_warc",
        "map_index": 3, "source": "(run)"}
    assert rows(dsn, "SELECT count(*) FROM news.etl_run") == [(0,)]


def test_the_deadline_alert_posts_through_the_same_notifier_from_the_triggerer(site, monkeypatch):
    """What the triggerer does with news_daily's DeadlineAlert: build the callback's notifier
    from its kwargs and await it."""
    from airflow.sdk.definitions.deadline import DeadlineReference

    from news_etl.orchestration import DagSettings, load_deadline_alert

    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WEBHOOK", site.url("/hook"))
    monkeypatch.setenv("NEWS_ETL_LOAD_DEADLINE", "07:30")
    alert = load_deadline_alert(DagSettings.from_env())
    assert (alert.interval, alert.reference) == (timedelta(hours=7, minutes=30), DeadlineReference.DAGRUN_QUEUED_AT)
    notifier = import_string(alert.callback.path)(**alert.callback.kwargs)
    asyncio.run(notifier.async_notify({}))
    ((path, body),) = site.posted
    assert json.loads(body) == {"text": "news-etl: news_daily: a run was not done 7 h 30 min after it was queued "
                                        "(NEWS_ETL_LOAD_DEADLINE=07:30)",
                                "dag_id": "news_daily", "alert": "deadline"}
    monkeypatch.setenv("NEWS_ETL_LOAD_DEADLINE", "off")
    assert load_deadline_alert(DagSettings.from_env()) is None
    monkeypatch.setenv("NEWS_ETL_LOAD_DEADLINE", "25:00")
    with pytest.raises(ConfigError, match=r"NEWS_ETL_LOAD_DEADLINE='25:00': expected a time HH:MM"):
        DagSettings.from_env()


# --- the page itself, from crafted report rows ------------------------------------------------------

def volume_rows(sources: int, days: int = 14, peak: int = 10) -> list[dict]:
    """Report rows of `sources` sources over `days` days; source-00 has `peak` articles on the last."""
    first = date(2024, 3, 1).toordinal() - days + 1
    return [{"day": date.fromordinal(first + d), "source": f"source-{s:02d}",
             "articles": peak if (s, d) == (0, days - 1) else min((s + d) % 4, peak)}
            for s in range(sources) for d in range(days)]


@pytest.mark.parametrize("peak, ticks", [(1, [0, 1]), (4, [0, 1, 2, 3, 4]), (7, [0, 2, 4, 6, 8]), (10, [0, 5, 10]),
                                         (13, [0, 5, 10, 15]), (99, [0, 50, 100]), (480, [0, 200, 400, 600])])
def test_axis_lines_are_whole_numbers_labelled_where_they_stand(peak, ticks):
    assert digest.axis_ticks(peak) == ticks
    svg = digest.volume_chart(volume_rows(3, peak=peak))
    drawn = re.findall(r'<text class="tick" x="4" y="(\d+)">(\d+)</text><line x1="40" x2="860" y1="([\d.]+)"', svg)
    assert [int(label) for _, label, _ in drawn] == ticks
    for _, label, y in drawn:  # each line where its label says: 20 px top margin, 200 px plot
        assert float(y) == pytest.approx(20 + 200 * (1 - int(label) / ticks[-1]), abs=0.05)


def test_chart_of_many_sources_colours_the_busiest_and_groups_the_others():
    rows = volume_rows(12)
    days, series, counts = digest.chart_series(rows)
    totals = {}
    for r in rows:
        totals[r["source"]] = totals.get(r["source"], 0) + r["articles"]
    busiest = sorted(totals, key=lambda s: (-totals[s], s))[:digest.TOP_SOURCES]
    assert [label for label, _, _ in series[:-1]] == sorted(busiest)
    assert series[-1][0] == "others (5 sources)" and set(series[-1][2]) == set(totals) - set(busiest)
    assert len({colour for _, colour, _ in series}) == len(series) == digest.TOP_SOURCES + 1
    assert sum(counts.values()) == sum(totals.values())  # nothing lost in "others"
    assert len(digest.chart_series(volume_rows(8))[1]) == 8  # 8 sources: each its own, no "others" of one


@pytest.mark.parametrize("mentions, average, spike", [(6, 1.0, True), (3, 0.0, True), (2, 0.0, False),
                                                      (5, 3.0, False), (20, 10.0, True)])
def test_spike(mentions, average, spike):
    assert digest.is_spike(mentions, average) is spike


CRAFTED = {
    "top_stories": [{"headline": "Harbour council raises ship fees by a fifth", "outlets": 3,
                     "first_published_at": datetime(2024, 3, 1, 6, tzinfo=timezone.utc),
                     "sources": ["agency", "gazette", "courier"],
                     "titles": ["Harbour council raises ship fees by a fifth", "Ships to pay 20% more", "Fees rise"],
                     "urls": ["https://agency.example/a", "https://gazette.example/b", "https://courier.example/c"]}],
    "volume_14_days": volume_rows(12),
    "top_terms": [{"term": "Port Aldous", "kind": "place", "articles": 5, "mentions": 9, "sources": 3,
                   "mentions_7d_avg": 1.5},
                  {"term": "Valdoria", "kind": "place", "articles": 2, "mentions": 2, "sources": 1,
                   "mentions_7d_avg": 2.0}],
    "dq_summary": [],
}


def test_digest_page_in_a_headless_browser(tmp_path):
    """The page as an analyst's browser shows it, offline: the stories with their links, the
    chart's labels, the spike; nothing fetched from anywhere."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("chromium and chromium-driver not installed (apt-get install chromium chromium-driver)")
    from selenium.webdriver.common.by import By

    page = tmp_path / "digest.html"
    page.write_text(digest.render(date(2024, 3, 1), CRAFTED), encoding="utf-8")
    browser = headless_chromium(tmp_path / "chromium", window="1200,1600")
    try:
        browser.set_page_load_timeout(30)
        browser.get(page.as_uri())
        assert browser.title == "News digest 2024-03-01"
        story = browser.find_element(By.CSS_SELECTOR, "ol.stories > li")
        assert story.find_element(By.TAG_NAME, "strong").text == "Harbour council raises ship fees by a fifth"
        assert [a.get_attribute("href") for a in story.find_elements(By.TAG_NAME, "a")] == \
            CRAFTED["top_stories"][0]["urls"]
        assert [t.text for t in browser.find_elements(By.CSS_SELECTOR, "svg text.tick")] == ["0", "5", "10"]
        legend = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "svg text.legend")]
        assert len(legend) == 8 and legend[-1].startswith("others (5 sources): ")
        assert [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".spike")] == ["spike"]  # Port Aldous only
        chart = browser.find_element(By.TAG_NAME, "svg")
        assert chart.size["width"] == 860 and chart.size["height"] > 200
        assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
        artifacts = PROJECT_DIR / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(artifacts / "digest.png"))
    finally:
        browser.quit()
