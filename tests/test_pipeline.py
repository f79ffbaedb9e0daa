"""The stages against the sample publishers and a real PostgreSQL: exact warehouse rows, a second
run that changes nothing, quarantine with reasons, and failing feeds recorded, not lost."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta, timezone

import psycopg2
import pytest

from conftest import SAMPLE_NOW
from helpers import expected_articles, loaded_articles, rows
from news_etl import pipeline, warehouse
from news_etl.errors import FetchError, NewsEtlError
from news_etl.sources import DEFAULT_SOURCES_DIR, load_source, load_sources
from news_etl.suites import DEFAULT_SUITES_DIR

DAY = date(2024, 3, 1)


def run_source(source, run, now=SAMPLE_NOW) -> dict:
    out = dict(pipeline.extract(source, run, now=now))
    out.update(pipeline.transform(source, run))
    out.update(pipeline.check(source, run, now=now))
    out.update(pipeline.load(source, run))
    return out


def test_one_day_of_every_sample_publisher_loads_exactly(dsn, settings, sample_sources, sample_url):
    run = pipeline.Run(run_id="run-1", day=DAY, dsn=dsn, settings=settings)
    for name, source in sample_sources.items():
        counts = run_source(source, run)
        expected = expected_articles(name, sample_url, DAY, SAMPLE_NOW)
        assert counts["articles_fetched"] == len(expected) == counts["loaded_new"]
        assert counts["quarantined"] == 0
        assert loaded_articles(dsn, name) == expected

    # The seed-like article, as an analyst sees it in SQL.
    (title, code, published, body), = rows(dsn, """
        SELECT title, story_code, published_at, body FROM news.article
        WHERE story_code = '1119706'""")
    assert title == "Qadiran Cabinet Approves Reform of Fishing Quotas after Weeks of Talks"
    assert published == datetime(2024, 3, 1, 20, 19, tzinfo=timezone.utc)
    assert body.startswith("Nils Rahimi, an economist") and "Featured Stories" not in body
    summary = pipeline.run_summary(dsn, "run-1")
    assert [(r["source"], r["status"]) for r in summary] == [(name, "success") for name in sorted(sample_sources)]


def test_runs_of_the_same_day_again_change_no_row(dsn, settings, sample_sources, site, archive_layout):
    """A second run reuses the day's archive (nothing fetched); a third, with refetch, asks the
    feeds again (conditional GET: 304s) and finds nothing new. No row changes."""
    for run_id, refetch in (("first", False), ("second", False), ("third", True)):
        run = pipeline.Run(run_id=run_id, day=DAY, dsn=dsn, settings=settings, refetch=refetch)
        counts = {name: run_source(source, run) for name, source in sample_sources.items()}
        if run_id == "first":
            before = rows(dsn, "SELECT * FROM news.article ORDER BY article_id")
        elif run_id == "second":
            assert all(c.get("from_archive") for c in counts.values())
            # Nothing changed since the first run: in Airflow the rest of each source is skipped.
            assert {c["unchanged_since"] for c in counts.values()} == {"first"}
            assert rows(dsn, "SELECT count(*) FROM news.feed_fetch WHERE run_id = 'second'") == [(0,)]
        else:  # every feed URL of the day and the day before (a source found by sitemaps only has two)
            feeds = {name: len(set(s.feed_urls(DAY) + s.feed_urls(DAY - timedelta(days=1))))
                     for name, s in sample_sources.items()}
            assert all(c["feeds_not_modified"] == feeds[name] and c["feeds_fetched"] == 0
                       for name, c in counts.items())
        assert rows(dsn, "SELECT * FROM news.article ORDER BY article_id") == before
        for name, c in counts.items():
            assert (c["articles_fetched"], c["loaded_new"], c["loaded_updated"], c["quarantined"]) == (0, 0, 0, 0) \
                or run_id == "first", name
            assert c["parsed"] == c["passed"] > 0  # transformed (again) from the archive


def test_a_run_is_unchanged_only_while_its_inputs_and_the_last_outcome_are(dsn, settings, sample_sources,
                                                                           tmp_path, monkeypatch):
    source = sample_sources["harbor-times"]

    def extract(run_id: str, **kwargs) -> str | None:
        run = pipeline.Run(run_id=run_id, day=DAY, dsn=dsn, settings=settings, **kwargs)
        return pipeline.extract(source, run, now=SAMPLE_NOW)["unchanged_since"]

    run_source(source, pipeline.Run(run_id="loaded", day=DAY, dsn=dsn, settings=settings))
    assert extract("again") == "loaded"  # and "again" is finished: 'unchanged' stands as well
    assert extract("once more") == "again"
    assert extract("asked to", reprocess=True) is None  # unfinished: the last finished run is still "once more"
    assert rows(dsn, "SELECT run_id, status, finished_at IS NOT NULL, message FROM news.etl_run "
                     "WHERE run_id IN ('again', 'asked to') ORDER BY run_id") == [
        ("again", "unchanged", True, "nothing changed since run loaded"), ("asked to", "running", False, None)]

    # A changed quality suite (or source file, watched terms, settings, code) is a change.
    suites = tmp_path / "expectations"
    shutil.copytree(DEFAULT_SUITES_DIR, suites)
    (suites / "common.yaml").write_text((suites / "common.yaml").read_text() + "\n# edited\n")
    monkeypatch.setenv("NEWS_ETL_SUITES", str(suites))
    assert extract("new suite") is None
    monkeypatch.delenv("NEWS_ETL_SUITES")

    # A run that did not end well is never a reason to skip: the next one does the work.
    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("UPDATE news.etl_run SET status = 'failed', finished_at = now() + interval '1 hour' "
                    "WHERE run_id = 'asked to'")
    assert extract("after a failure") is None


def test_plan_maps_only_the_sources_with_work_and_records_the_others_unchanged(dsn, settings, sample_sources,
                                                                            tmp_path):
    copy = tmp_path / "wadi-post.yaml"  # a source whose file goes away: its state cannot be read
    shutil.copy(sample_sources["wadi-post"].path, copy)
    sources = {**sample_sources, "wadi-post": load_source(copy)}
    for name in ("harbor-times", "tehran-wire", "wadi-post"):
        run_source(sources[name], pipeline.Run(run_id="loaded", day=DAY, dsn=dsn, settings=settings))
    copy.unlink()

    run = pipeline.Run(run_id="plan", day=DAY, dsn=dsn, settings=settings)
    assert pipeline.plan(list(sources.values()), run) == [
        "meridian-report", "nordic-dispatch", "prairie-courier", "wadi-post"]
    assert rows(dsn, "SELECT source, status, finished_at IS NOT NULL, loaded_new, message FROM news.etl_run "
                     "WHERE run_id = 'plan' ORDER BY source") == [
        ("harbor-times", "unchanged", True, 0, "nothing changed since run loaded"),
        ("tehran-wire", "unchanged", True, 0, "nothing changed since run loaded")]

    again = pipeline.Run(run_id="again", day=DAY, dsn=dsn, settings=settings, reprocess=True)
    assert pipeline.plan(list(sample_sources.values()), again) == list(sample_sources)
    assert rows(dsn, "SELECT count(*) FROM news.etl_run WHERE run_id = 'again'") == [(0,)]


def test_a_day_without_raw_data_is_recorded_and_does_not_fail(dsn, settings, site, write_file):
    from sites import Page

    site.pages["/feed.xml"] = Page(feed(site, []))  # a feed with nothing for the day
    source = load_source(write_file("crafted.yaml", BAD_SOURCE.format(feed=site.url("/feed.xml"))))
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    counts = run_source(source, run, now=datetime(2024, 3, 2, tzinfo=timezone.utc))
    assert (counts["articles_fetched"], counts["loaded_new"]) == (0, 0)
    assert rows(dsn, "SELECT status, message FROM news.etl_run") == [("no_data", "no raw data for 2024-03-01")]


BAD_SOURCE = """
name: crafted
timezone: Asia/Tehran
feeds: [{feed}]
crawl_delay: 0
story_codes: {{pattern: '\\d{{7}}', url: '/news/(\\d+)'}}
rules:
  published: {{xpath: '//div[@class="date"]', format: '%A %d %B %Y - %H:%M'}}
  story_code: {{xpath: '//div[@class="code"]', regex: 'Story Code\\s*:\\s*(\\d+)'}}
  body: //div[@class="body"]
"""
BODY = " ".join(["Words of a real article body that goes on long enough."] * 5)


def page(date_line: str, code: str | None, body: str = BODY, title: str = "A title") -> bytes:
    code_line = f'<div class="code">Story Code : {code}</div>' if code else ""
    return (f'<html><body><h1>{title}</h1><div class="date">{date_line}</div>{code_line}'
            f'<div class="body"><p>{body}</p></div></body></html>').encode()


def feed(site, paths: list[str]) -> bytes:
    items = "".join(f"<item><title>t</title><link>{site.url(p)}</link></item>" for p in paths)
    return f'<rss version="2.0"><channel><title>c</title>{items}</channel></rss>'.encode()


def test_failing_feed_is_logged_and_the_others_still_load(dsn, settings, site, write_file):
    from sites import Page

    site.pages["/news/1000001"] = Page(page("Friday 1 March 2024 - 10:00", "1000001"))
    site.pages["/good.xml"] = Page(feed(site, ["/news/1000001"]))
    site.pages["/broken.xml"] = Page(b"<html><body>Not a feed</body></html>")
    text = BAD_SOURCE.format(feed=site.url("/good.xml")).replace(
        "feeds: [", f"feeds: [{site.url('/broken.xml')}, {site.url('/gone.xml')}, ")
    source = load_source(write_file("crafted.yaml", text))
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    counts = run_source(source, run, now=datetime(2024, 3, 2, tzinfo=timezone.utc))
    assert (counts["feeds_fetched"], counts["feeds_failed"], counts["loaded_new"]) == (1, 2, 1)
    log = {url.rsplit("/", 1)[1]: (outcome, error) for url, outcome, error in
           rows(dsn, "SELECT url, outcome, error FROM news.feed_fetch WHERE kind = 'feed'")}
    assert log["good.xml"] == ("ok", None)
    assert log["broken.xml"][0] == "failed" and "not an RSS, RDF or Atom feed" in log["broken.xml"][1]
    assert log["gone.xml"][0] == "failed" and "HTTP 404" in log["gone.xml"][1]


def test_source_whose_every_feed_fails_fails_loudly(dsn, settings, site, write_file):
    source = load_source(write_file("crafted.yaml", BAD_SOURCE.format(feed=site.url("/missing.xml"))))
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    with pytest.raises(FetchError, match=r"source crafted: all 1 feeds failed; first: .*/missing.xml: HTTP 404"):
        pipeline.extract(source, run)
    (status, message), = rows(dsn, "SELECT status, message FROM news.etl_run")
    assert status == "failed" and "missing.xml: HTTP 404" in message


def test_no_archive_feed_is_asked_for_a_day_not_yet_begun_where_the_source_is(dsn, settings, sample_sources):
    run = pipeline.Run(run_id="r", day=date(2024, 3, 4), dsn=dsn, settings=settings)
    # 02:00 UTC on 4 March is still 3 March in New York.
    counts = pipeline.extract(sample_sources["harbor-times"], run, now=datetime(2024, 3, 4, 2, tzinfo=timezone.utc))
    asked = sorted(url.rsplit("/", 1)[1] for (url,) in rows(dsn, "SELECT url FROM news.feed_fetch WHERE kind = 'feed'"))
    assert asked == ["2024-03-03.atom", "atom.xml"]
    assert (counts["feeds_fetched"], counts["feeds_failed"]) == (2, 0)


def test_run_day_prefers_param_then_logical_date():
    class DagRun:
        run_after = datetime(2024, 5, 5, 1, tzinfo=timezone.utc)

    assert pipeline.run_day({"params": {"date": "2024-03-01"}, "logical_date": None}) == date(2024, 3, 1)
    assert pipeline.run_day({"params": {"date": None}, "logical_date": datetime(2024, 3, 2, tzinfo=timezone.utc)}) \
        == date(2024, 3, 2)
    assert pipeline.run_day({"params": {}, "logical_date": None, "dag_run": DagRun()}) == date(2024, 5, 5)


def test_a_deleted_warehouse_is_rebuilt_from_the_archive(make_database, settings, sample_sources, monkeypatch,
                                                        archive_layout):
    """Backfilling a week into an empty warehouse from the archive alone (the publishers now
    unreachable) reproduces the same article rows."""
    names = ("tehran-wire", "harbor-times")
    days = [date(2024, 2, 24) + timedelta(days=n) for n in range(7)]
    content = """SELECT s.name, a.identity, a.story_code, a.url, a.canonical_url, a.title, a.published_at,
                        a.updated_at, a.authors, a.section, a.language, a.body, a.word_count, a.content_hash
                 FROM news.article a JOIN news.source s USING (source_id) ORDER BY 1, 2"""

    def backfill(dsn, sources):
        for day in days:
            run = pipeline.Run(run_id=f"backfill-{day}", day=day, dsn=dsn, settings=settings)
            for name in names:
                run_source(sources[name], run)

    first, _ = make_database()
    backfill(first, sample_sources)
    original = rows(first, content)
    assert len(original) > 6 * 7

    monkeypatch.setenv("NEWS_SAMPLE_URL", "http://127.0.0.1:9")  # nothing answers there
    offline = {s.name: s for s in load_sources(DEFAULT_SOURCES_DIR)}
    rebuilt, _ = make_database()
    backfill(rebuilt, offline)
    assert rows(rebuilt, content) == original
    assert rows(rebuilt, "SELECT count(*) FROM news.feed_fetch") == [(0,)]  # not a single request


def test_a_day_not_over_is_partial_and_a_later_run_loads_the_rest(dsn, settings, sample_sources, sample_url,
                                                                    sample_clock, archive_layout):
    """Running today loads today's articles so far; running again once an article more is out
    loads it too. The day is complete only once it is over where the source is, plus the lag."""
    source, today = sample_sources["harbor-times"], SAMPLE_NOW.date()  # New York: 4 March ends 05:00 UTC on the 5th
    published_by = lambda now: {a for a in expected_articles(source.name, sample_url, today, now) if a[3] <= now}
    passes = [("noon", SAMPLE_NOW, True), ("evening", datetime(2024, 3, 5, 5, 30, tzinfo=timezone.utc), True),
              ("next day", datetime(2024, 3, 5, 6, 0, tzinfo=timezone.utc), False)]  # the lag is 60 minutes
    for run_id, now, partial in passes:
        sample_clock(now)
        counts = run_source(source, pipeline.Run(run_id=run_id, day=today, dsn=dsn, settings=settings), now=now)
        assert counts.get("partial", False) is partial, run_id
        assert loaded_articles(dsn, source.name) == published_by(now), run_id
        assert settings_archive_complete(settings, source, today) is not partial
    assert len(published_by(passes[1][1])) > len(published_by(SAMPLE_NOW))  # the evening brought more
    assert rows(dsn, "SELECT run_id, status, partial, loaded_new > 0 FROM news.etl_run ORDER BY attempt_id") == [
        ("noon", "success", True, True), ("evening", "success", True, True), ("next day", "success", False, False)]
    # A partial day's pages are not asked for again: only new items' pages are fetched.
    assert rows(dsn, "SELECT count(*) FROM news.feed_fetch WHERE kind = 'page' GROUP BY url HAVING count(*) > 1") == []


def settings_archive_complete(settings, source, day) -> bool:
    from news_etl.archive import Archive

    return Archive(settings.archive_root).is_complete(source.name, day)


def test_every_attempt_is_a_row_of_its_own_and_the_summary_shows_the_latest(dsn, settings, sample_sources):
    """A reprocess of the same Airflow run, and a later run of the day, each add a row: the first
    pass's counts stay, and the summary and dq_daily show the latest attempt that ran the checks."""
    source = sample_sources["harbor-times"]
    run_source(source, pipeline.Run(run_id="daily", day=DAY, dsn=dsn, settings=settings))
    pipeline.extract(source, pipeline.Run(run_id="daily", day=DAY, dsn=dsn, settings=settings), now=SAMPLE_NOW)
    run_source(source, pipeline.Run(run_id="daily", day=DAY, dsn=dsn, settings=settings, reprocess=True))
    plan = pipeline.Run(run_id="later", day=DAY, dsn=dsn, settings=settings)
    assert pipeline.plan([source], plan) == []
    passes = rows(dsn, warehouse.query_sql("passes_of_a_day"), {"day": str(DAY)})
    assert [(p[0], p[1], p[2], p[3], p[9] > 0, p[13]) for p in passes] == [
        (source.name, 1, "daily", "success", True, ""),
        (source.name, 2, "daily", "unchanged", False, "nothing changed since run daily"),
        (source.name, 3, "daily", "success", False, ""),  # reprocessed: checked and loaded again, nothing new
        (source.name, 4, "later", "unchanged", False, "nothing changed since run daily")]
    assert [(r["source"], r["status"], r["loaded_new"]) for r in pipeline.run_summary(dsn, "daily")] == [
        (source.name, "success", 0)]
    assert rows(dsn, "SELECT run_status FROM news.dq_daily WHERE source = %s AND day = %s", (source.name, DAY)) \
        == [("success",)]


def test_a_left_out_source_is_a_failed_attempt_with_its_files_error(dsn, settings):
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    pipeline.record_left_out(run, {"broken": "/x/broken.yaml: key 'timezone': 'Asia/Tehrn' is not an IANA time zone"})
    assert [(r["source"], r["status"], r["message"]) for r in pipeline.run_summary(dsn, "r")] == [
        ("broken", "failed", "left out: /x/broken.yaml: key 'timezone': 'Asia/Tehrn' is not an IANA time zone")]


def test_the_summary_of_a_run_stopped_before_the_warehouse_was_migrated_is_empty(make_database):
    # Ctrl-C before the run's plan task migrated a fresh warehouse: no rows, not an UndefinedTable error.
    dsn, _ = make_database(migrate=False)
    assert pipeline.run_summary(dsn, "stopped") == []


def test_a_day_not_yet_begun_where_the_source_is_fails_at_once_with_a_clear_reason(dsn, settings, sample_sources):
    run = pipeline.Run(run_id="r", day=date(2024, 3, 7), dsn=dsn, settings=settings)
    with pytest.raises(NewsEtlError, match=r"^source harbor-times: 2024-03-07 has not started in America/New_York"):
        pipeline.extract(sample_sources["harbor-times"], run, now=datetime(2024, 3, 6, 4, tzinfo=timezone.utc))
    assert rows(dsn, "SELECT status, message FROM news.etl_run") == [
        ("failed", "extract failed: NewsEtlError: source harbor-times: 2024-03-07 has not started in "
                   "America/New_York, nor the lookback days before it: nothing to collect before "
                   "2024-03-06T00:00:00-05:00")]
    assert rows(dsn, "SELECT count(*) FROM news.feed_fetch") == [(0,)]
