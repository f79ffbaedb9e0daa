"""The backfill from Common Crawl's news crawl against a small crawl in CC-NEWS's layout served on
127.0.0.1: exactly the sources' pages of the range are filed (foreign hosts and other days left
out), a file cut off halfway files nothing and its re-run no duplicates, and the warehouse rows
loaded from the filed pages are those of a normal run of the same pages."""

from __future__ import annotations

import dataclasses
import random
import tracemalloc
import zlib
from datetime import date, datetime, timedelta, timezone

import pytest

from ccnews_crawl import CrawledPage, CrawlServer, crawl_warc, file_name
from conftest import SAMPLE_NOW
from helpers import rows
from news_etl import ccnews, pipeline
from news_etl.archive import PAGES, Archive
from news_etl.errors import NewsEtlError
from news_etl.sources import DEFAULT_SOURCES_DIR, load_sources
from test_pipeline import run_source

DAYS = [date(2024, 2, 29), date(2024, 3, 1)]  # two months' lists
OUTSIDE = date(2024, 3, 2)
NAMES = ("harbor-times", "tehran-wire")
CONTENT = """SELECT s.name, a.identity, a.story_code, a.url, a.canonical_url, a.title, a.published_at,
                    a.updated_at, a.authors, a.section, a.language, a.body, a.word_count, a.content_hash
             FROM news.article a JOIN news.source s USING (source_id) ORDER BY 1, 2"""


@pytest.fixture
def crawl():
    server = CrawlServer()
    yield server
    server.close()


def test_a_backfill_files_exactly_the_range_resumes_without_duplicates_and_loads_a_normal_runs_rows(
        make_database, settings, sample_sources, tmp_path, crawl):
    settings = dataclasses.replace(settings, lookback_days=0)  # each day's archive: that day's pages
    sources = {name: sample_sources[name] for name in NAMES}
    # A normal run of the three days: what the crawl will hold, and the rows to match.
    normal_dsn, _ = make_database()
    for day in [*DAYS, OUTSIDE]:
        run = pipeline.Run(run_id=f"normal-{day}", day=day, dsn=normal_dsn, settings=settings)
        for source in sources.values():
            run_source(source, run)
    normal = Archive(settings.archive_root)
    held = {(name, day): {e.url: normal.read(e.ref) for e in normal.entries(name, day, PAGES)}
            for name in NAMES for day in [*DAYS, OUTSIDE]}
    assert all(held.values())

    # The crawl: those pages (in no order), a configured host's pages of another day, pages of a
    # source not configured on the same host, and a foreign host; split over two files and months.
    pages = [CrawledPage(url, datetime.combine(day, datetime.min.time(), timezone.utc) + timedelta(hours=20), body)
             for (name, day), bodies in held.items() for url, body in bodies.items()]
    foreign = [CrawledPage(u, datetime(2024, 3, 1, 9, tzinfo=timezone.utc), b"<html><title>x</title></html>")
               for u in ("https://foreign.example/news/1", f"{sample_sources['wadi-post'].feeds[0].rsplit('/', 1)[0]}/x")]
    everything = pages + foreign
    random.Random(19).shuffle(everything)
    half = len(everything) // 2
    feb = crawl.publish_month(2024, 2, {file_name(datetime(2024, 2, 29, 23), 1): crawl_warc(everything[:half])})
    late = crawl_warc(everything[half:])
    mar = crawl.publish_month(2024, 3, {file_name(datetime(2024, 3, 1, 22), 2): late,
                                        file_name(datetime(2024, 3, 20, 1), 3): crawl_warc(foreign)})
    crawl.cut_once[f"/{mar[0]}"] = len(late) // 2  # the connection is cut halfway through, once

    backfill = dataclasses.replace(settings, archive_root=str(tmp_path / "backfilled"))
    with pytest.raises(NewsEtlError, match=f"{mar[0]}: the WARC file could not be read past byte"):
        ccnews.backfill(sources.values(), DAYS[0], DAYS[1], backfill, "backfill-1", base=crawl.base)
    archive = Archive(backfill.archive_root)
    first_file_days = {(n, d) for n in NAMES for d in DAYS if archive.entries(n, d, PAGES)}
    assert not any(archive.is_complete(n, d) for n in NAMES for d in DAYS)  # nothing complete before it is

    outcomes = ccnews.backfill(sources.values(), DAYS[0], DAYS[1], backfill, "backfill-2", base=crawl.base)
    assert [o["skipped"] for o in outcomes] == [True, False]  # the first file was read to its end before
    assert f"/{mar[1]}" not in crawl.requests  # a file written after the range is not read
    archive = Archive(backfill.archive_root)
    for name in NAMES:
        for day in DAYS:
            filed = archive.entries(name, day, PAGES)
            assert {e.url: archive.read(e.ref) for e in filed} == held[(name, day)], (name, day)
            stored = [r["url"] for i in archive.day_indexes(name, day) for r in i["records"]]
            assert sorted(stored) == sorted(held[(name, day)]), "a page filed twice"
            assert archive.is_complete(name, day)
        assert archive.entries(name, OUTSIDE, PAGES) == []
    assert first_file_days  # (the cut file's pages were all filed by the re-run)
    # (a file read before reports what it found then)
    assert sum(o["foreign"] for o in outcomes) == len(foreign)
    assert sum(o["out_of_range"] for o in outcomes) == sum(len(held[(n, OUTSIDE)]) for n in NAMES)

    # The normal transform, check and load over the filed days, the publishers unreachable.
    backfilled_dsn, _ = make_database()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NEWS_SAMPLE_URL", "http://127.0.0.1:9")
        offline = {s.name: s for s in load_sources(DEFAULT_SOURCES_DIR) if s.name in NAMES}
        for day in DAYS:
            run = pipeline.Run(run_id=f"from-ccnews-{day}", day=day, dsn=backfilled_dsn, settings=backfill)
            for source in offline.values():
                assert run_source(source, run)["from_archive"]
    loaded = rows(backfilled_dsn, CONTENT)
    assert loaded == [r for r in rows(normal_dsn, CONTENT) if r[6].astimezone(sample_sources[r[0]].timezone).date() in DAYS]
    assert len(loaded) > 8
    assert rows(backfilled_dsn, "SELECT count(*) FROM news.feed_fetch") == [(0,)]


@pytest.mark.parametrize("url, owner", [
    ("http://news.example/harbor-times/2024/03/01/a", "harbor-times"),
    ("http://www.news.example/tehran-wire/x", "tehran-wire"),
    ("http://news.example/wadi-post/x", None),          # the host is shared; the path is no one's
    ("http://other.example/harbor-times/x", None),
    ("https://solo.example/any/path", "solo"),          # a host of one source: every path is its
    ("https://user@SOLO.example/", "solo"),
])
def test_a_crawled_page_belongs_to_the_source_of_its_host_and_first_path_segment(url, owner, write_file):
    def source(name, feed):
        path = write_file(f"sources/{name}.yaml", f"name: {name}\ntitle: {name}\ntimezone: UTC\nfeeds:\n  - {feed}\n")
        return path

    for name, feed in (("harbor-times", "http://news.example/harbor-times/feed.xml"),
                       ("tehran-wire", "http://news.example/tehran-wire/rss.xml"),
                       ("solo", "https://solo.example/feed")):
        source(name, feed)
    by_host = ccnews.hosts_of(load_sources(write_file("sources/x.txt", "").parent))
    found = ccnews.source_of(url, by_host)
    assert (found.name if found else None) == owner


@pytest.mark.parametrize("params, problem", [
    ({"start": "2024-03-02", "end": "2024-03-01"}, "end 2024-03-01 is before start 2024-03-02"),
    ({"start": "2024-03-01", "end": None}, "params start and end must be days"),
    ({"start": "yesterday", "end": "2024-03-01"}, "params start and end must be days"),
    ({"start": "2024-03-01", "end": (datetime.now(timezone.utc) + timedelta(days=1)).date().isoformat()},
     "is not over yet"),
])
def test_a_backfill_range_that_cannot_be_is_an_error_naming_the_params(params, problem):
    with pytest.raises(NewsEtlError, match=problem):
        ccnews.backfill_range(params)


def test_a_months_list_that_is_not_a_list_of_crawl_paths_is_an_error_naming_its_url_and_line(crawl, settings):
    from ccnews_crawl import paths_file
    from news_etl.fetch import Fetcher

    crawl.files["/crawl-data/CC-NEWS/2024/03/warc.paths.gz"] = paths_file(
        ["crawl-data/CC-NEWS/2024/03/CC-NEWS-20240301000000-00001.warc.gz", "../../etc/passwd"])
    with Fetcher(settings) as fetcher, pytest.raises(NewsEtlError, match=r"2024/03/warc.paths.gz: line 2: '../../etc"):
        ccnews.crawl_files(crawl.base, date(2024, 3, 1), date(2024, 3, 1), fetcher)
    with Fetcher(settings) as fetcher, pytest.raises(NewsEtlError, match=r"2024/02/warc.paths.gz: HTTP 404"):
        ccnews.crawl_files(crawl.base, date(2024, 2, 28), date(2024, 3, 1), fetcher)
    # A list that inflates to 256 MB (a gzip bomb of 250 KB) is stopped at the limit, in memory too.
    packer, zeros = zlib.compressobj(9, zlib.DEFLATED, 31), bytes(1 << 20)
    crawl.files["/crawl-data/CC-NEWS/2024/03/warc.paths.gz"] = b"".join(
        [packer.compress(zeros) for _ in range(256)] + [packer.flush()])
    tracemalloc.start()
    try:
        with Fetcher(settings) as fetcher, pytest.raises(NewsEtlError, match=r"warc.paths.gz: a list of \d+ bytes, more than"):
            ccnews.crawl_files(crawl.base, date(2024, 3, 1), date(2024, 3, 1), fetcher)
        assert tracemalloc.get_traced_memory()[1] < 4 * ccnews.MAX_PATHS_BYTES
    finally:
        tracemalloc.stop()
    crawl.files["/crawl-data/CC-NEWS/2024/03/warc.paths.gz"] = paths_file(["crawl-data/CC-NEWS/x.warc.gz"])[:-12]
    with Fetcher(settings) as fetcher, pytest.raises(NewsEtlError, match=r"2024/03/warc.paths.gz: not a gzip list"):
        ccnews.crawl_files(crawl.base, date(2024, 3, 1), date(2024, 3, 1), fetcher)
