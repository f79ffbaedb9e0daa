"""A daily run and backfills of the same days, loading at the same moment: no error, no deadlock,
no duplicate, and the same warehouse whichever load wins."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone

from conftest import SAMPLE_NOW
from helpers import expected_articles, loaded_articles, rows
from news_etl import pipeline, warehouse
from news_etl.sources import load_source
from test_queries import SAMPLE


def test_daily_run_and_backfills_of_the_same_days_load_at_once(dsn, settings, sample_sources, sample_url):
    sample_sources = {name: s for name, s in sample_sources.items() if name in SAMPLE}
    # The daily run of 2 March (which also collects 1 March), a backfill of 1 March, and a backfill
    # of 2 March started before the daily run had loaded (it stages the day again, beside the daily
    # run's rows): all three touch the same articles.
    runs = [pipeline.Run(run_id=run_id, day=day, dsn=dsn, settings=settings) for run_id, day in (
        ("scheduled__2024-03-02", date(2024, 3, 2)), ("backfill__2024-03-01", date(2024, 3, 1)),
        ("backfill__2024-03-02", date(2024, 3, 2)))]
    for run in runs:
        for source in sample_sources.values():
            pipeline.extract(source, run, now=SAMPLE_NOW)
            pipeline.transform(source, run)
            pipeline.check(source, run, now=SAMPLE_NOW)
    loads = [(source, run) for run in runs for source in sample_sources.values()]

    def load_all_at_once() -> list[dict]:
        start = threading.Barrier(len(loads))

        def load(source, run) -> dict:
            start.wait()
            return pipeline.load(source, run)

        with ThreadPoolExecutor(len(loads)) as pool:
            return [f.result() for f in [pool.submit(load, source, run) for source, run in loads]]  # raises any error

    first = load_all_at_once()
    expected = {name: expected_articles(name, sample_url, date(2024, 3, 1), SAMPLE_NOW)
                | expected_articles(name, sample_url, date(2024, 3, 2), SAMPLE_NOW) for name in sample_sources}
    for name in sample_sources:
        assert loaded_articles(dsn, name) == expected[name]
    total = sum(len(e) for e in expected.values())
    assert sum(c["loaded_new"] for c in first) == total and sum(c["loaded_updated"] for c in first) == 0
    assert rows(dsn, "SELECT count(*), count(DISTINCT (source_id, identity)) FROM news.article") == [(total, total)]
    assert rows(dsn, "SELECT count(*), count(*) FILTER (WHERE version = 1 AND valid_to IS NULL) "
                     "FROM news.article_version") == [(total, total)]
    # The backfill of 2 March staged the day while the daily run of it was still going: each run
    # kept, checked and loaded its own rows (neither is recorded 'no_data').
    assert rows(dsn, "SELECT run_id, status, count(*), sum(passed) > 0 FROM news.etl_run GROUP BY 1, 2 ORDER BY 1") == [
        ("backfill__2024-03-01", "success", 3, True), ("backfill__2024-03-02", "success", 3, True),
        ("scheduled__2024-03-02", "success", 3, True)]
    # Every article counted once for each term it mentions, as a recount from scratch says.
    assert rows(dsn, """SELECT count(*) FROM news.article a CROSS JOIN news.watch_term t
                        WHERE news.count_mentions(a.title, a.body, t.pattern) > 0""") == \
        rows(dsn, "SELECT count(*) FROM news.article_mention")

    before = rows(dsn, "SELECT * FROM news.article ORDER BY article_id")
    again = load_all_at_once()
    assert [(c["loaded_new"], c["loaded_updated"]) for c in again] == [(0, 0)] * len(loads)
    assert rows(dsn, "SELECT * FROM news.article ORDER BY article_id") == before


def test_loads_that_make_partitions_and_terms_at_once_never_deadlock(dsn, settings, write_file, monkeypatch):
    """Without the checks, so it can repeat: every load needs a partition nobody has made yet
    while others merge, and the first loads also bring the watched terms in."""
    from test_model import TERMS, record

    monkeypatch.setenv("NEWS_ETL_WATCH_TERMS", str(write_file("terms.yaml", TERMS)))
    sources = [load_source(write_file(f"s{i}.yaml", f"name: s{i}\ntimezone: UTC\nfeeds: [http://127.0.0.1:9/f]\n"))
               for i in range(6)]
    for year in (2021, 2022, 2023):
        loads = []
        for month, source in enumerate(sources, start=1):
            stories = [record(f"{source.name}-{year}-{n}", f"Story {n}", f"North Korea and the DPRK, story {n}.",
                              datetime(year, month, 1 + n, tzinfo=timezone.utc)) for n in range(5)]
            for day in (date(year, month, 10), date(year, month, 9)):  # a daily run and a backfill
                run = pipeline.Run(run_id=f"{source.name}-{day}", day=day, dsn=dsn, settings=settings)
                with warehouse.connect(dsn) as conn, conn.cursor() as cur:
                    warehouse.stage_records(conn, run.run_id, source.name, day, stories)
                    cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s", (run.run_id,))
                loads.append((source, run))
        start = threading.Barrier(len(loads))

        def load(source, run) -> dict:
            start.wait()
            return pipeline.load(source, run)

        with ThreadPoolExecutor(len(loads)) as pool:
            counts = [f.result() for f in [pool.submit(load, source, run) for source, run in loads]]
        assert sum(c["loaded_new"] for c in counts) == 5 * len(sources)
    assert rows(dsn, "SELECT count(*), count(DISTINCT (source_id, identity)) FROM news.article") == [(90, 90)]
    assert rows(dsn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'news.article'::regclass") == [(18,)]
    assert rows(dsn, "SELECT sum(mentions) FROM news.article_mention") == [(180,)]
