"""A local HTTP server that impersonates the sample publishers, for offline runs, tests and benchmarks.

It publishes only what exists at its clock (`now`): a story whose published_at is later is in no
feed and its page is 404. Any past day can be served, so the ETL can be run for any date. Every
link it writes starts with the Host the request came in on, so it works on whatever port it gets.

Scaled (`Scale`, for benchmarks): `per_day` stories a day per publisher and `copies` copies of every
publisher, copy k under the path prefix /x<k>/ (copy 0 also without it), each with its own stories
in the same templates; several servers on several ports stand for several hosts.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import re
import sys
import threading
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from email.utils import parsedate_to_datetime
from functools import lru_cache
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from news_etl.sample_sites import arabic, newsapp, render, wordpress
from news_etl.sample_sites.publishers import (
    DEFAULT_EDITION,
    PUBLISHERS,
    Edition,
    SampleArticle,
    archive_feed_day,
    archive_feed_path,
    as_of,
    find_article,
    latest_articles,
    live_feed_path,
    local_today,
    other_stories,
    published_on,
)

logger = logging.getLogger(__name__)

DEFAULT_PORT = 8750
LIVE_FEED_SIZE = 20
FEATURED_STORIES = 10
HTML = "text/html; charset=utf-8"

# publisher -> (its article page, its feed): each a function of (base_url, ...) returning text.
TEMPLATES = {
    "tehran-wire": (render.tehran_wire_page, render.rss2_feed),
    "harbor-times": (render.harbor_times_page, render.atom_feed),
    "nordic-dispatch": (render.nordic_dispatch_page, render.rdf_feed),
    "prairie-courier": (wordpress.post_page, wordpress.feed),
    "meridian-report": (newsapp.story_page, newsapp.news_sitemap),
    "wadi-post": (arabic.news_page, arabic.rss_feed),
}

# What a Host header may look like (name or IPv4, or [IPv6], optional port); anything else is
# ignored rather than written into every link of the page.
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?")


# A copy's path prefix in a scaled world: /x<k>/...
_COPY_PREFIX = re.compile(r"/x(\d+)(?=/)")


@dataclass(frozen=True)
class Scale:
    """A scaled sample world: `per_day` stories a day per publisher, `copies` copies of each."""

    per_day: int
    copies: int = 1

    def __post_init__(self) -> None:
        if self.per_day < 1 or self.copies < 1:
            raise ValueError(f"a scaled world has at least one story a day and one copy, not {self}")


@dataclass(frozen=True)
class Reply:
    status: HTTPStatus
    content_type: str
    body: bytes
    last_modified: datetime | None = None

    @property
    def etag(self) -> str:
        return f'"{hashlib.sha256(self.body).hexdigest()[:32]}"'


def route(path: str, base_url: str, now: datetime, scale: Scale | None = None) -> Reply:
    """The reply to a GET of `path` at time `now`; the query string plays no part."""
    path = urlsplit(path).path
    edition = DEFAULT_EDITION
    if scale is not None:
        copy = 0
        prefix = _COPY_PREFIX.match(path)
        if prefix:
            copy = int(prefix.group(1))
            if copy >= scale.copies:
                return _not_found(path)
            path, base_url = path[prefix.end():], base_url + prefix.group(0)
        edition = Edition(scale.per_day, copy)
    if path == "/":
        return Reply(HTTPStatus.OK, HTML, render.index_page(base_url, now).encode())
    if path == "/robots.txt":
        return Reply(HTTPStatus.OK, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n")
    for slug in PUBLISHERS:
        if path == live_feed_path(slug) and path is not None:
            latest = latest_articles(slug, now, LIVE_FEED_SIZE, edition)
            return _feed_reply(base_url, slug, latest, path, local_today(slug, now))
        if path == f"/{slug}/":
            page = render.front_page(base_url, slug, latest_articles(slug, now, LIVE_FEED_SIZE, edition), now)
            return _html_reply(slug, page)
    archive = archive_feed_day(path)
    if archive:
        slug, day = archive
        if day > local_today(slug, now):
            return _not_found(path)  # a day that has not started yet has no archive
        return _feed_reply(base_url, slug, published_on(slug, day, now, edition), path, day)
    article = find_article(path, edition)
    if article is None or article.published_at > now:
        return _not_found(path)
    article = as_of(article, now)
    others = other_stories(article, now, FEATURED_STORIES, edition)
    page = TEMPLATES[article.publisher][0](base_url, article, others, now)
    return _html_reply(article.publisher, page, render.last_change(article))


# A scaled world is for benchmarks: each page is rendered once (for a pinned clock, where the
# same request always gets the same reply), so that serving costs little beside the client.
cached_route = lru_cache(maxsize=65536)(route)


def make_server(
    host: str = "127.0.0.1", port: int = 0, now: Callable[[], datetime] | None = None, scale: Scale | None = None
) -> ThreadingHTTPServer:
    """A server bound to (host, port); port 0 picks a free one (see server.server_address).

    `now` returns the server's clock as an aware datetime; by default the real time in UTC.
    `scale`: serve a scaled world instead of the default one.
    """
    return SamplePublishersServer((host, port), now or (lambda: datetime.now(timezone.utc)), scale)


def serve_in_thread(
    host: str = "127.0.0.1", port: int = 0, now: Callable[[], datetime] | None = None, scale: Scale | None = None
) -> tuple[ThreadingHTTPServer, str]:
    """Start a server in a daemon thread. The caller stops it: server.shutdown(); server.server_close()."""
    server = make_server(host, port, now, scale)
    threading.Thread(target=server.serve_forever, name="sample-publishers", daemon=True).start()
    bound_host, bound_port = server.server_address[:2]
    return server, f"http://{_url_host(bound_host)}:{bound_port}"


class SamplePublishersServer(ThreadingHTTPServer):
    """A ThreadingHTTPServer that carries the clock its handlers publish by (and the scale)."""

    daemon_threads = True  # a hung client must not keep the process alive at exit
    request_queue_size = 128  # benchmarks open many connections at once

    def __init__(self, address: tuple[str, int], now: Callable[[], datetime], scale: Scale | None = None) -> None:
        super().__init__(address, SamplePublisherHandler)
        self.now = now
        self.scale = scale


class SamplePublisherHandler(BaseHTTPRequestHandler):
    server: SamplePublishersServer

    server_version = "SamplePublishers/1.0"
    protocol_version = "HTTP/1.1"  # keep-alive, as news sites serve: clients may reuse a connection
    disable_nagle_algorithm = True  # headers and body are two writes: no delayed-ACK stall between them

    def do_GET(self) -> None:
        self._reply(with_body=True)

    def do_HEAD(self) -> None:
        self._reply(with_body=False)

    def log_message(self, format: str, *args) -> None:
        # Tests and benchmarks fetch thousands of pages; the access log goes to DEBUG, not stderr.
        logger.debug("%s - %s", self.address_string(), format % args)

    def _reply(self, with_body: bool) -> None:
        scale = self.server.scale
        reply = (cached_route if scale else route)(self.path, self._base_url(), self.server.now(), scale)
        if reply.status == HTTPStatus.OK and self._not_modified(reply):
            self.send_response(HTTPStatus.NOT_MODIFIED)
            self._send_validators(reply)
            self.end_headers()
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.status == HTTPStatus.OK:
            self._send_validators(reply)
        self.end_headers()
        if with_body:
            self.wfile.write(reply.body)

    def _send_validators(self, reply: Reply) -> None:
        self.send_header("ETag", reply.etag)
        if reply.last_modified:
            self.send_header("Last-Modified", render.http_date(reply.last_modified))

    def _not_modified(self, reply: Reply) -> bool:
        """Conditional GET: If-None-Match wins when present (RFC 9110 13.2.2)."""
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match is not None:
            tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
            return "*" in tags or reply.etag in tags
        if_modified_since = self.headers.get("If-Modified-Since")
        if not if_modified_since or reply.last_modified is None:
            return False
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False  # an unreadable date means "send it", not an error
        if since.tzinfo is None:
            since = since.replace(tzinfo=timezone.utc)
        return reply.last_modified.replace(microsecond=0) <= since

    def _base_url(self) -> str:
        host = self.headers.get("Host", "")
        if not _HOST.fullmatch(host):
            bound_host, bound_port = self.server.server_address[:2]
            host = f"{_url_host(bound_host)}:{bound_port}"
        return f"http://{host}"


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C. `--now` pins the clock, e.g. to reproduce a run for a past day."""
    parser = argparse.ArgumentParser(prog="sample-sites", description="Serve the sample news publishers.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--now", type=_aware_datetime, help="pin the clock (ISO 8601; no offset means UTC)")
    parser.add_argument("--per-day", type=int, help="a scaled world: this many stories a day per publisher")
    parser.add_argument("--copies", type=int, default=1,
                        help="with --per-day: copies of every publisher, copy k under /x<k>/ (default 1)")
    args = parser.parse_args(argv)
    now = (lambda: args.now) if args.now else None
    try:
        scale = Scale(args.per_day, args.copies) if args.per_day else None
    except ValueError as error:
        parser.error(str(error))
    try:
        server = make_server(args.host, args.port, now, scale)
    except OSError as error:
        print(f"Cannot listen on {args.host}:{args.port}: {error.strerror or error}", file=sys.stderr)
        return 1
    clock = server.now()
    base_url = f"http://{_url_host(args.host)}:{server.server_address[1]}"
    print(f"Sample publishers serving at {base_url}", flush=True)
    for slug, publisher in PUBLISHERS.items():
        live = live_feed_path(slug)
        print(f"  {publisher.name}: {base_url + live if live else '(news sitemaps only)'}", flush=True)
        today = local_today(slug, clock)
        print(f"    archive for {today}: {base_url}{archive_feed_path(slug, today)}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _not_found(path: str) -> Reply:
    return Reply(HTTPStatus.NOT_FOUND, HTML, render.not_found_page(path).encode())


def _html_reply(slug: str, page: str, last_modified: datetime | None = None) -> Reply:
    """A page in its publisher's charset, which the header declares as the page itself does."""
    charset = PUBLISHERS[slug].charset
    return Reply(HTTPStatus.OK, f"text/html; charset={charset}", page.encode(charset), last_modified)


def _feed_reply(base_url: str, slug: str, articles: list[SampleArticle], self_path: str, day: date) -> Reply:
    """A feed whose Last-Modified is its newest change; with nothing in it yet, the start of `day`."""
    publisher = PUBLISHERS[slug]
    if articles:
        updated = max(render.last_change(a) for a in articles)
    else:
        updated = datetime.combine(day, time(0, 0), tzinfo=ZoneInfo(publisher.timezone))
    feed = TEMPLATES[slug][1](base_url, slug, articles, self_path, updated)
    content_type = f"{render.FEED_MEDIA_TYPES[publisher.feed_format]}; charset={publisher.charset}"
    return Reply(HTTPStatus.OK, content_type, feed.encode(publisher.charset), updated)


def _aware_datetime(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        example = "2024-03-01T12:00:00Z"
        raise argparse.ArgumentTypeError(f"expected an ISO 8601 date-time such as {example}, got {value!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


if __name__ == "__main__":
    raise SystemExit(main())
