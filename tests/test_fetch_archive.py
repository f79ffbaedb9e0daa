"""Fetching (conditional GET, size cap, errors, bounded retries) and the raw archive."""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest

from news_etl.archive import FEEDS, PAGES, Archive
from news_etl.errors import FetchError
from news_etl.fetch import Fetcher, Response
from sites import Page


def test_conditional_get_gives_304_with_the_etag(site, settings):
    site.pages["/feed"] = Page(b"<rss/>", headers={"ETag": '"v1"'})
    with Fetcher(settings) as fetcher:
        first = fetcher.get(site.url("/feed"))
        again = fetcher.get(site.url("/feed"), etag=first.headers["etag"])
    assert (first.status, first.body) == (200, b"<rss/>")
    assert again.not_modified and again.body == b""


@pytest.mark.parametrize("page, problem", [
    (None, "HTTP 404 Not Found"),
    (Page(b"x", status=500), "HTTP 500"),
    (Page(b"x" * 5000), "exceeds the 2048-byte cap"),
])
def test_failures_raise_fetch_error_naming_the_url(site, settings, monkeypatch, page, problem):
    monkeypatch.setenv("NEWS_ETL_MAX_RESPONSE_BYTES", "2048")
    settings = type(settings).from_env()
    if page:
        site.pages["/p"] = page
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match=f"{site.url('/p')}: .*{problem}"):
        fetcher.get(site.url("/p"))


def test_server_errors_are_retried_a_bounded_number_of_times(site, settings, monkeypatch):
    monkeypatch.setenv("NEWS_ETL_RETRIES", "2")
    site.pages["/flaky"] = Page(b"down", status=503)
    with Fetcher(type(settings).from_env()) as fetcher, pytest.raises(FetchError, match="HTTP 503"):
        fetcher.get(site.url("/flaky"))
    assert [r for r in site.requests if r != "/robots.txt"] == ["/flaky"] * 3  # the first try and two retries


def test_robots_txt_disallow_and_crawl_delay_are_honoured(site, settings):
    site.pages["/robots.txt"] = Page(b"User-agent: news-etl\nDisallow: /private/\nCrawl-delay: 1\n\n"
                                     b"User-agent: *\nDisallow: /\n", content_type="text/plain")
    site.pages["/private/a"] = Page(b"secret")
    site.pages["/public/a"] = Page(b"hello")
    with Fetcher(settings) as fetcher:
        with pytest.raises(FetchError, match=r"/private/a: disallowed by robots.txt of http://127.0.0.1:\d+"):
            fetcher.get(site.url("/private/a"))
        for _ in range(3):
            assert fetcher.get(site.url("/public/a")).body == b"hello"
    arrivals = [t for path, t in site.request_times if path == "/public/a"]
    assert all(b - a >= 0.9 for a, b in zip(arrivals, arrivals[1:]))  # Crawl-delay: 1, give or take latency
    assert site.requests.count("/robots.txt") == 1
    assert "/private/a" not in site.requests


def test_spacing_and_robots_hold_across_fetchers_of_one_run(site, settings, dsn):
    """Two tasks of one run (two Fetchers, as in two worker processes) share the host's turns and
    its robots.txt through the warehouse."""
    site.pages["/robots.txt"] = Page(b"User-agent: *\nAllow: /\n", content_type="text/plain")
    site.pages["/a"] = Page(b"a")
    fetchers = [Fetcher(settings, crawl_delay=0.25, dsn=dsn, run_id="run-1") for _ in range(2)]
    threads = [threading.Thread(target=lambda f=f: [f.get(site.url("/a")) for _ in range(3)]) for f in fetchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    arrivals = sorted(t for path, t in site.request_times if path == "/a")
    assert len(arrivals) == 6
    assert all(b - a >= 0.2 for a, b in zip(arrivals, arrivals[1:]))  # 0.25 s apart, give or take latency
    assert site.requests.count("/robots.txt") == 1


def test_get_many_fetches_hosts_at_once_and_spaces_each_host(settings):
    """Two hosts (two real servers), three pages each, 0.3 s apart per host: the second host's
    requests arrive while the first host's are still being spaced, and each host's stay spaced."""
    from sites import StaticSite

    sites = [StaticSite(), StaticSite()]
    try:
        urls = []
        for n, host in enumerate(sites):
            for page in ("/a", "/b", "/c"):
                host.pages[page] = Page(f"{n}{page}".encode())
                urls.append(host.url(page))
        with Fetcher(settings, crawl_delay=0.3) as fetcher:
            got = {url: result for url, result in fetcher.get_many(urls)}
        assert {url: r.body for url, r in got.items()} == {
            host.url(page): f"{n}{page}".encode() for n, host in enumerate(sites) for page in ("/a", "/b", "/c")}
        first, second = ([t for path, t in host.request_times if path != "/robots.txt"] for host in sites)
        assert len(first) == len(second) == 3
        for arrivals in (first, second):
            assert all(b - a >= 0.25 for a, b in zip(arrivals, arrivals[1:]))  # 0.3 s, give or take latency
        # Overlap: each host's first request came before the other host's last one (0.6 s later).
        assert first[0] < second[-1] and second[0] < first[-1]
    finally:
        for host in sites:
            host.close()


def test_get_many_gives_failures_as_values(site, settings):
    site.pages["/ok"] = Page(b"ok")
    with Fetcher(settings) as fetcher:
        got = dict(fetcher.get_many([site.url("/ok"), site.url("/missing"), "http://127.0.0.1:9/x"]))
    assert got[site.url("/ok")].body == b"ok"
    assert isinstance(got[site.url("/missing")], FetchError) and "HTTP 404" in str(got[site.url("/missing")])
    assert isinstance(got["http://127.0.0.1:9/x"], FetchError)


def test_connection_refused_is_a_fetch_error(settings):
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match=r"http://127.0.0.1:9/x: ConnectionError"):
        fetcher.get("http://127.0.0.1:9/x")


def _response(url: str, body: bytes) -> Response:
    return Response(url=url, final_url=url, status=200, headers={"content-type": "text/html"}, body=body,
                    fetched_at=datetime(2024, 3, 1, 12, tzinfo=timezone.utc), elapsed_ms=5)


@pytest.mark.parametrize("root", ["local", "memory://news-archive/test"])
def test_archive_keeps_every_feed_fetch_and_each_page_once(tmp_path, root):
    archive = Archive(str(tmp_path) if root == "local" else f"{root}-{tmp_path.name}")
    day = date(2024, 3, 1)
    page_ref = archive.put("src", day, PAGES, _response("https://e.org/a", b"<html>1</html>"), feed_item={"title": "t"})
    assert archive.put("src", day, PAGES, _response("https://e.org/a", b"<html>changed</html>")) == page_ref
    assert archive.read(page_ref) == b"<html>1</html>"  # write-once: raw data is immutable
    assert archive.has_page("src", day, "https://e.org/a") and not archive.has_page("src", day, "https://e.org/b")

    first = _response("https://e.org/feed", b"<rss>1</rss>")
    later = Response(**{**first.__dict__, "body": b"<rss>2</rss>",
                        "fetched_at": datetime(2024, 3, 1, 13, tzinfo=timezone.utc)})
    archive.put("src", day, FEEDS, first)
    archive.put("src", day, FEEDS, later)
    feeds = archive.entries("src", day, FEEDS)
    assert [archive.read(e.ref) for e in feeds] == [b"<rss>1</rss>", b"<rss>2</rss>"]
    (page,) = archive.entries("src", day, PAGES)
    assert (page.url, page.status, page.feed_item, page.ref) == ("https://e.org/a", 200, {"title": "t"}, page_ref)
    assert archive.entries("src", date(2024, 3, 2), PAGES) == []
    assert not archive.is_complete("src", day)
    archive.mark_complete("src", day, {"articles_fetched": 1})
    assert archive.is_complete("src", day) and not archive.is_complete("src", date(2024, 3, 2))
