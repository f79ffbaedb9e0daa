"""Fetching (conditional GET, size cap, errors, bounded retries) and the raw archive."""

from __future__ import annotations

import dataclasses
import json
import ssl
import sys
import threading
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from news_etl.archive import FEEDS, PAGES, Archive
from news_etl.errors import FetchError, NewsEtlError
from news_etl.fetch import AddressGuard, Fetcher, Response
from news_etl.politeness import parse_robots
from sites import Page, StaticSite

sys.path.insert(0, str(Path(__file__).parent / "faults"))
from server import FaultServer  # noqa: E402


def test_conditional_get_gives_304_with_the_etag(site, settings):
    site.pages["/feed"] = Page(b"<rss/>", headers={"ETag": '"v1"'})
    with Fetcher(settings) as fetcher:
        first = fetcher.get(site.url("/feed"))
        again = fetcher.get(site.url("/feed"), etag=first.headers["etag"])
    assert (first.status, first.body) == (200, b"<rss/>")
    assert again.not_modified and again.body == b""


@pytest.mark.parametrize("location, final_path", [
    ("/caf\xc3\xa9", "/caf%C3%A9"),           # raw UTF-8 bytes in the header (http.client reads Latin-1)
    ("/news/1/\xd8\xae\xd8\xa8\xd8\xb1", "/news/1/%D8%AE%D8%A8%D8%B1"),
    ("/a b", "/a%20b"),
])
def test_a_redirect_to_a_non_ascii_location_is_followed_percent_encoded(site, settings, location, final_path):
    site.pages["/old"] = Page(b"", status=301, headers={"Location": location})
    site.pages[final_path] = Page(b"story")
    with Fetcher(settings) as fetcher:
        resp = fetcher.get(site.url("/old"))
    assert (resp.body, resp.final_url) == (b"story", site.url(final_path))
    assert [p for p in site.requests if p != "/robots.txt"] == ["/old", final_path]


@pytest.mark.parametrize("location", ["http://[oops/", "http://127.0.0.1:99999/x"])
def test_a_redirect_to_no_url_is_that_responses_error(site, settings, location):
    site.pages["/old"] = Page(b"", status=302, headers={"Location": location})
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match=r"/old: redirected to .*which is no URL"):
        fetcher.get(site.url("/old"))


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


def test_a_task_kept_waiting_for_robots_txt_past_the_lock_timeout_fetches_it_itself(site, settings, dsn,
                                                                                     monkeypatch):
    """Another task of the run holds the robots.txt lock (its fetch can take the whole fetch
    deadline): after the lock timeout this task fetches and stores the file itself, instead of
    failing its source's extract with a lock error."""
    from helpers import rows
    from news_etl import warehouse
    from news_etl.politeness import site_of

    monkeypatch.setenv("NEWS_ETL_LOCK_TIMEOUT", "1")
    site.pages["/robots.txt"] = Page(b"User-agent: *\nDisallow: /private\n", content_type="text/plain")
    site.pages["/a"] = Page(b"a")
    with warehouse.connect(dsn) as other, other.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('news.robots:' || %s || ' ' || %s))",
                    ("run-1", site_of(site.url("/a"))))
        with Fetcher(settings, dsn=dsn, run_id="run-1") as fetcher:
            assert fetcher.get(site.url("/a")).body == b"a"
            with pytest.raises(FetchError, match="disallowed by robots.txt"):
                fetcher.get(site.url("/private/x"))
    assert rows(dsn, "SELECT http_status, body FROM news.robots_txt WHERE run_id = 'run-1'") == \
        [(200, "User-agent: *\nDisallow: /private\n")]


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


@pytest.mark.parametrize("obey_robots, error", [
    # An unreachable robots.txt disallows the site for now (RFC 9309): the page is not asked for.
    (True, r"http://127.0.0.1:9/x: disallowed by robots.txt of http://127.0.0.1:9 \(robots.txt unreachable: "
           r"http://127.0.0.1:9/robots.txt: ConnectionError"),
    (False, r"http://127.0.0.1:9/x: ConnectionError"),
])
def test_connection_refused_is_a_fetch_error(settings, obey_robots, error):
    settings = dataclasses.replace(settings, obey_robots=obey_robots)
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match=error):
        fetcher.get("http://127.0.0.1:9/x")


class ChangingResolver:
    """A DNS that answers `answers[n]` to its n-th question (the last one ever after): a rebinding
    attacker's first answer passes the check, the later ones point inside."""

    def __init__(self, *answers: list[str]):
        self.answers, self.asked = answers, []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        return self.answers[min(len(self.asked), len(self.answers)) - 1]


def test_the_checked_address_is_the_one_connected_to(settings):
    """DNS rebinding: news.test resolves to 127.0.0.1 (allowed) first and 127.0.0.2 (the internal
    service) after. Each request resolves once, connects to exactly what it checked and keeps the
    name in the Host header; the internal service is never reached."""
    public = StaticSite("127.0.0.1")
    internal = StaticSite("127.0.0.2", public.server.server_address[1])  # same port, other address
    try:
        public.pages["/news"] = Page(b"public story")
        internal.pages["/news"] = Page(b"internal secret")
        port = public.server.server_address[1]
        resolver = ChangingResolver(["127.0.0.1"], ["127.0.0.2"])
        settings = dataclasses.replace(settings, obey_robots=False)
        with Fetcher(settings, guard=AddressGuard(("127.0.0.1",), resolve=resolver)) as fetcher:
            first = fetcher.get(f"http://news.test:{port}/news")
            with pytest.raises(FetchError, match=rf"news.test:{port}/news: refused: news.test is 127.0.0.2, a private"):
                fetcher.get(f"http://news.test:{port}/news")
        assert first.body == b"public story"
        assert resolver.asked == ["news.test", "news.test"]  # once per request, never again at connect
        assert public.request_headers[0]["Host"] == f"news.test:{port}"
        assert internal.requests == []
    finally:
        public.close()
        internal.close()


def test_a_host_s_pages_share_one_connection_to_the_checked_address(settings):
    site = StaticSite(keep_alive=True)
    try:
        for n in range(3):
            site.pages[f"/{n}"] = Page(f"page {n}".encode())
        with Fetcher(dataclasses.replace(settings, obey_robots=False)) as fetcher:
            bodies = [fetcher.get(site.url(f"/{n}")).body for n in range(3)]
        assert bodies == [b"page 0", b"page 1", b"page 2"]
        assert len(set(site.clients)) == 1
    finally:
        site.close()


def test_a_resolver_that_never_answers_is_given_a_bound():
    never = threading.Event()
    guard = AddressGuard((), resolve=lambda host, port: [never.wait(30) and "127.0.0.1"], resolve_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"http://news.test/x: cannot resolve news.test: no answer in 0.3 s"):
        guard.pin("http://news.test/x")
    never.set()
    assert time.monotonic() - started < 2


def test_the_checked_addresses_are_tried_in_turn(site, settings):
    """A host with two addresses, the first one dead (nothing listens on 127.0.0.3): the fetch
    goes to the second, as the system's connect would, and never to an address not checked."""
    site.pages["/a"] = Page(b"from the second address")
    port = site.server.server_address[1]
    guard = AddressGuard(("127.0.0.0/8",), resolve=lambda host, p: ["127.0.0.3", "127.0.0.1"])
    with Fetcher(dataclasses.replace(settings, obey_robots=False), guard=guard) as fetcher:
        assert fetcher.get(f"http://news.test:{port}/a").body == b"from the second address"


@pytest.mark.parametrize("answer, refused", [
    (["127.0.0.1", "10.0.0.1"], "10.0.0.1, a private"),
    (["10.0.0.1", "127.0.0.1"], "10.0.0.1, a private"),
    (["::ffff:127.0.0.1"], "::ffff:7f00:1, an IPv4-mapped"),  # allowing 127.0.0.1 allows no translation of it
])
def test_every_resolved_address_is_checked(answer, refused):
    guard = AddressGuard(("127.0.0.1",), resolve=lambda host, port: answer)
    with pytest.raises(FetchError, match=rf"refused: news.test is {refused} address"):
        guard.pin("http://news.test/x")


def _certificate(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A self-signed certificate for `name` (also its own CA): (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def test_https_to_a_pinned_address_checks_sni_and_certificate_on_the_name(settings, tmp_path):
    """The TLS connection goes to the pinned 127.0.0.1, but SNI and the certificate check use the
    URL's name: news.test (the certificate's name) passes, other.test (same address) fails."""
    cert_file, key_file = _certificate(tmp_path, "news.test")
    site = StaticSite("127.0.0.1")
    server_names = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    context.sni_callback = lambda sock, name, ctx: server_names.append(name)
    site.server.socket = context.wrap_socket(site.server.socket, server_side=True)
    try:
        site.pages["/a"] = Page(b"over tls")
        port = site.server.server_address[1]
        guard = AddressGuard(("news.test", "other.test"), resolve=lambda host, port: ["127.0.0.1"])
        with Fetcher(dataclasses.replace(settings, obey_robots=False), guard=guard) as fetcher:
            fetcher.connections.ca_certs = str(cert_file)
            assert fetcher.get(f"https://news.test:{port}/a").body == b"over tls"
            with pytest.raises(FetchError, match=r"other.test.*SSLError.*(hostname|match)"):
                fetcher.get(f"https://other.test:{port}/a")
        assert server_names[0] == "news.test" and site.request_headers[0]["Host"] == f"news.test:{port}"
    finally:
        site.close()


@pytest.mark.parametrize("status, body, allowed, disallowed, delay, unreachable", [
    # Longest match wins, whatever the order; `$` ends a path, `*` matches anything.
    (200, "User-agent: *\nAllow: /news/\nDisallow: /news/private\nDisallow: /\n",
     ["/news/a", "/news/"], ["/news/private/a", "/about"], 0.0, False),
    (200, "User-agent: *\nDisallow: /*.pdf$\nDisallow: /tmp*/x\n",
     ["/a.pdf?x=1", "/tmp/y", "/b.html"], ["/a.pdf", "/tmp1/x"], 0.0, False),
    # Our own group beats `*`; a fractional Crawl-delay is kept as it is.
    (200, "User-agent: *\nDisallow: /\n\nUser-agent: news-etl\nDisallow: /drafts\nCrawl-delay: 0.5\n",
     ["/news"], ["/drafts/x"], 0.5, False),
    # 4xx: there are no rules (401 and 403 included); 5xx, 429 or no answer: disallow everything.
    (404, None, ["/a"], [], 0.0, False),
    (403, None, ["/a"], [], 0.0, False),
    (503, None, [], ["/a", "/"], 0.0, True),
    (429, None, [], ["/a"], 0.0, True),
    (None, None, [], ["/a"], 0.0, True),
])
def test_robots_txt_by_rfc_9309(status, body, allowed, disallowed, delay, unreachable):
    rules, why = parse_robots(status, body)
    assert [p for p in allowed + disallowed if rules.can_fetch(f"http://h{p}", "news-etl")] == allowed
    assert (rules.crawl_delay("news-etl") or 0.0) == delay
    assert bool(why) == unreachable


@pytest.mark.parametrize("stated, used", [("2.5", 2.5), ("86400", 60.0), ("1e9", 60.0), ("inf", 0.0)])  # protego skips inf
def test_a_crawl_delay_is_kept_up_to_a_minute(site, settings, stated, used):
    """A Crawl-delay of a day would hold a fetch worker past its task's timeout and move the host's
    next turn a day ahead for every later run: it is read as 60 s."""
    site.pages["/robots.txt"] = Page(f"User-agent: *\nCrawl-delay: {stated}\n".encode(), content_type="text/plain")
    with Fetcher(settings) as fetcher:
        assert fetcher.robots.crawl_delay(site.url("/a")) == used


def test_a_robots_txt_redirect_to_an_internal_address_is_refused_and_not_stored(settings, dsn):
    """robots.txt redirects to an internal service (127.0.0.2, not allowlisted): the hop is
    refused, the service never asked, nothing stored in news.robots_txt, and the site disallowed
    for now (an unreachable robots.txt)."""
    from helpers import rows

    site = StaticSite("127.0.0.1")
    internal = StaticSite("127.0.0.2")
    try:
        internal.pages["/admin"] = Page(b"User-agent: *\nAllow: /\n# internal secret", content_type="text/plain")
        site.pages["/robots.txt"] = Page(b"", status=302, headers={"Location": internal.url("/admin")})
        site.pages["/a"] = Page(b"story")
        with Fetcher(settings, dsn=dsn, run_id="run-r") as fetcher, pytest.raises(
                FetchError, match=r"/a: disallowed by robots.txt .*unreachable: .*redirected to "
                                  r"http://127.0.0.2:\d+/admin: refused"):
            fetcher.get(site.url("/a"))
        assert internal.requests == [] and site.requests == ["/robots.txt"]
        assert rows(dsn, "SELECT count(*) FROM news.robots_txt") == [(0,)]
    finally:
        site.close()
        internal.close()


@pytest.fixture
def fault_server():
    server = FaultServer({})
    yield server
    server.close()


@pytest.mark.parametrize("path, retries, error", [
    # Headers trickled a byte every 0.1 s: no read ever times out, the deadline ends it.
    ("/header-drip", 0, r"took longer than 2 s"),
    # Retry-After: 15 with a 2 s deadline: not waited for, the 503 is the answer.
    ("/retry-after-15", 2, r"HTTP 503 X; not retried: waiting 15 s would pass the 2 s deadline"),
])
def test_the_deadline_covers_headers_and_retry_waits(fault_server, settings, path, retries, error):
    settings = dataclasses.replace(settings, total_timeout=2, read_timeout=1, retries=retries, obey_robots=False)
    started = time.monotonic()
    with Fetcher(settings) as fetcher, pytest.raises(FetchError, match=error):
        fetcher.get(fault_server.base + path)
    assert time.monotonic() - started < 3
    assert fault_server.hits[path] == 1


def test_the_politeness_wait_is_not_counted_against_the_deadline(site, settings):
    """A Crawl-delay (1.5 s) longer than the deadline (1 s): every page is fetched, each waiting
    its turn first."""
    site.pages["/robots.txt"] = Page(b"User-agent: *\nCrawl-delay: 1.5\n", content_type="text/plain")
    for page in ("/a", "/b", "/c"):
        site.pages[page] = Page(page.encode())
    settings = dataclasses.replace(settings, total_timeout=1)
    with Fetcher(settings) as fetcher:
        bodies = [fetcher.get(site.url(page)).body for page in ("/a", "/b", "/c")]
    assert bodies == [b"/a", b"/b", b"/c"]
    arrivals = [t for path, t in site.request_times if path != "/robots.txt"]
    assert all(b - a >= 1.4 for a, b in zip(arrivals, arrivals[1:]))


def _response(url: str, body: bytes) -> Response:
    return Response(url=url, final_url=url, status=200, headers={"content-type": "text/html"}, body=body,
                    fetched_at=datetime(2024, 3, 1, 12, tzinfo=timezone.utc), elapsed_ms=5)


@pytest.mark.parametrize("root", ["local", "memory://news-archive/test"])
def test_archive_keeps_every_feed_fetch_and_each_page_once(tmp_path, root, archive_layout):
    archive = Archive(str(tmp_path) if root == "local" else f"{root}-{tmp_path.name}-{archive_layout}")
    day = date(2024, 3, 1)
    first = _response("https://e.org/feed", b"<rss>1</rss>")
    later = Response(**{**first.__dict__, "body": b"<rss>2</rss>",
                        "fetched_at": datetime(2024, 3, 1, 13, tzinfo=timezone.utc)})
    with archive.filing("src", day) as filing:
        page_ref = filing.put(PAGES, _response("https://e.org/a", b"<html>1</html>"), feed_item={"title": "t"})
        assert filing.put(PAGES, _response("https://e.org/a", b"<html>changed</html>")) == page_ref
        filing.put(FEEDS, first)
    with archive.filing("src", day) as filing:  # a later extract of the same day
        assert filing.put(PAGES, _response("https://e.org/a", b"<html>again</html>")) == page_ref
        filing.put(FEEDS, later)
    archive = Archive(str(archive.root))  # what another task sees
    assert archive.read(page_ref) == b"<html>1</html>"  # write-once: raw data is immutable
    assert archive.has_page("src", day, "https://e.org/a") and not archive.has_page("src", day, "https://e.org/b")
    feeds = archive.entries("src", day, FEEDS)
    assert [archive.read(e.ref) for e in feeds] == [b"<rss>1</rss>", b"<rss>2</rss>"]
    (page,) = archive.entries("src", day, PAGES)
    assert (page.url, page.status, page.feed_item, page.ref) == ("https://e.org/a", 200, {"title": "t"}, page_ref)
    assert page.headers == {"content-type": "text/html"}
    assert archive.entries("src", date(2024, 3, 2), PAGES) == []
    assert not archive.is_complete("src", day)
    with archive.filing("src", day) as filing:
        filing.complete({"articles_fetched": 1})
    archive = Archive(str(archive.root))
    assert archive.is_complete("src", day) and not archive.is_complete("src", date(2024, 3, 2))
    assert b"articles_fetched" in archive.completion("src", day)


def test_an_extract_is_one_warc_and_one_index_readable_by_any_warc_tool(tmp_path):
    """A day's extract: one .warc.gz (warcinfo, then request, response and metadata per fetch,
    with the original headers and the fetch time as WARC-Date) and its index; nothing else."""
    from warcio.archiveiterator import ArchiveIterator

    archive, day = Archive(str(tmp_path)), date(2024, 3, 1)
    gzipped = Response(url="https://e.org/a", final_url="https://e.org/a?x=1", status=200,
                       headers={"content-type": "text/html; charset=utf-8", "content-encoding": "gzip",
                                "etag": '"v1"'}, body=b"<html>\xc3\xa9</html>",
                       fetched_at=datetime(2024, 3, 1, 12, 30, 5, 123456, tzinfo=timezone.utc), elapsed_ms=5)
    with archive.filing("src", day) as filing:
        ref = filing.put(PAGES, gzipped, feed_item={"title": "t"})
        filing.complete({"articles_fetched": 1})
    (warc,) = (tmp_path / "src" / "2024-03-01").glob("*.warc.gz")
    assert sorted(p.name for p in warc.parent.iterdir()) == sorted([warc.name, warc.name.replace(".warc.gz", ".index.json")])
    with open(warc, "rb") as stream:
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Date"), r.rec_headers.get_header("WARC-Target-URI"),
                    r.http_headers.get_header("ETag") if r.http_headers else None,
                    r.http_headers.get_header("X-Archive-Orig-Content-Encoding") if r.http_headers else None,
                    r.content_stream().read()) for r in ArchiveIterator(stream, check_digests="raise")]
    assert [r[0] for r in records] == ["warcinfo", "response", "request", "metadata"]
    _, warc_date, target, etag, encoding, body = records[1]
    assert (warc_date, target, etag, encoding, body) == (
        "2024-03-01T12:30:05.123456Z", "https://e.org/a?x=1", '"v1"', "gzip", b"<html>\xc3\xa9</html>")
    assert records[2][2] == "https://e.org/a?x=1"
    assert json.loads(records[3][5])["feed_item"] == {"title": "t"}
    assert archive.read(ref) == b"<html>\xc3\xa9</html>"


def test_a_body_read_through_an_index_that_is_not_its_warcs_is_an_error_never_another_page(tmp_path):
    """A re-filing of an extract name caught between publishing its WARC and its index: the old
    index's offsets point into the new WARC, and reading through them names the mismatch."""
    archive, day = Archive(str(tmp_path)), date(2024, 3, 1)
    with archive.filing("src", day, extract="crawl-1") as filing:
        ref = filing.put(PAGES, _response("https://e.org/a", b"<html>page a</html>"))
        filing.put(PAGES, _response("https://e.org/b", b"<html>page b</html>"))
    (index,) = (tmp_path / "src" / "2024-03-01").glob("*.index.json")
    old_index = index.read_bytes()
    with archive.filing("src", day, extract="crawl-1") as filing:  # the same name filed again: b only
        filing.put(PAGES, _response("https://e.org/b", b"<html>page b</html>"))
    index.write_bytes(old_index)  # as if the new index had not been published yet
    with pytest.raises(NewsEtlError, match=r"archive .*crawl-1\.warc\.gz: (no readable record|the record) at offset \d+ "):
        archive.read(ref)


def test_an_extract_that_fails_keeps_what_it_fetched_and_one_never_closed_leaves_nothing(tmp_path):
    archive, day = Archive(str(tmp_path)), date(2024, 3, 1)
    with pytest.raises(RuntimeError), archive.filing("src", day) as filing:
        ref = filing.put(PAGES, _response("https://e.org/a", b"<html>1</html>"))
        raise RuntimeError("the warehouse went away")
    assert archive.read(ref) == b"<html>1</html>" and not archive.is_complete("src", day)

    crashed = archive.filing("src", date(2024, 3, 2))  # a worker killed before it closes the extract
    crashed.put(PAGES, _response("https://e.org/b", b"<html>2</html>"))
    crashed.complete({"articles_fetched": 1})
    assert not (tmp_path / "src" / "2024-03-02").exists()
    assert Archive(str(tmp_path)).entries("src", date(2024, 3, 2), PAGES) == []
    assert not Archive(str(tmp_path)).holds(f"src/2024-03-02/{crashed.extract}/pages/x")
