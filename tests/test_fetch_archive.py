"""Fetching (conditional GET, size cap, errors, bounded retries) and the raw archive."""

from __future__ import annotations

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
    assert site.requests == ["/flaky"] * 3  # the first try and two retries


def test_connection_refused_is_a_fetch_error(settings):
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match=r"http://127.0.0.1:9/x: ConnectionError"):
        fetcher.get("http://127.0.0.1:9/x")


def _response(url: str, body: bytes) -> Response:
    return Response(url=url, final_url=url, status=200, headers={"content-type": "text/html"}, body=body,
                    fetched_at=datetime(2024, 3, 1, 12, tzinfo=timezone.utc), elapsed_ms=5)


def test_archive_keeps_every_feed_fetch_and_each_page_once(tmp_path):
    archive = Archive(tmp_path)
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
