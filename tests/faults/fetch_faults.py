"""Faults of the fetcher's wall and its bounds: redirects to internal addresses hidden in IPv6
translations or odd IPv4 spellings, DNS rebinding, robots.txt that redirects inside or cannot be
reached, headers trickled past the deadline, Retry-After longer than the deadline, a Crawl-delay
longer than the deadline, and feeds that flood the day with items or bytes (the caps)."""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import sys
from datetime import date, datetime, timezone
from pathlib import Path

from model import Fault, Outcome, Scenario
from server import _send

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests/, for `make faults` too
from sites import Page, StaticSite  # noqa: E402

from news_etl import pipeline, warehouse
from news_etl.errors import FetchError
from news_etl.fetch import AddressGuard, Fetcher
from news_etl.settings import Settings
from news_etl.sources import load_source

GUARD = "fetcher: address guard"
ROBOTS = "fetcher: robots.txt"
BOUNDS = "every wait has a bound"
CAPS = "caps per source and day"
DAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 2, tzinfo=timezone.utc)


def _redirect_to(location: str):
    def respond(sock, path):
        _send(sock, 302, b"", "text/plain", {"Location": location})
    return respond


def _refused_redirect(name: str, location: str, address: str, kind: str) -> Fault:
    host = re.escape(location.split("//")[1].split("/")[0].rsplit(":", 1)[0].strip("[]"))
    address = str(ipaddress.ip_address(address))  # as Python spells it (::127.0.0.2 is ::7f00:2)
    reason = (rf"redirected to {re.escape(location)}: refused: {host} is {re.escape(address)}, "
              rf"{re.escape(kind)} address")
    return Fault(name, "page", "failed", reason, cls=GUARD, respond=_redirect_to(location))


FAULTS = [
    _refused_redirect("redirect-ipv4-compatible", "http://[::127.0.0.2]:9/secret", "::127.0.0.2", "an IPv4-compatible"),
    _refused_redirect("redirect-ipv4-mapped", "http://[::ffff:127.0.0.2]:9/secret", "::ffff:127.0.0.2", "an IPv4-mapped"),
    _refused_redirect("redirect-nat64", "http://[64:ff9b::7f00:2]:9/secret", "64:ff9b::7f00:2", "a NAT64"),
    _refused_redirect("redirect-6to4", "http://[2002:7f00:2::1]:9/secret", "2002:7f00:2::1", "a 6to4"),
    _refused_redirect("redirect-site-local", "http://[fec0::1]:9/secret", "fec0::1", "a site-local"),
    _refused_redirect("redirect-decimal-ip", "http://2130706434:9/secret", "127.0.0.2", "a private"),
    _refused_redirect("redirect-cloud-metadata", "http://169.254.169.254/latest/meta-data/", "169.254.169.254",
                      "a private"),
    # Served by FaultServer.fault_header_drip / fault_retry_after_15 (the matrix's deadline is 3 s).
    Fault("header-drip", "page", "failed", r"took longer than 3 s", cls=BOUNDS),
    Fault("retry-after-15", "page", "failed", r"HTTP 503 X; not retried: waiting 15 s would pass the 3 s deadline",
          cls=BOUNDS),
]


# --- scenarios ---------------------------------------------------------------------------------

def _settings(work_dir: Path, **changes) -> Settings:
    base = Settings.from_env()
    return dataclasses.replace(base, state_dir=work_dir, archive_root=str(work_dir / "archive"),
                               data_docs_root=work_dir / "docs", allow_hosts=("127.0.0.1",), retries=0,
                               **changes)


def _source(work_dir: Path, name: str, feeds: list[str]):
    path = work_dir / f"{name}.yaml"
    path.write_text(f"name: {name}\ntimezone: UTC\nlanguage: en\ncrawl_delay: 0\nfeeds: [{', '.join(feeds)}]\n")
    return load_source(path)


def _rss(links: list[str]) -> bytes:
    items = "".join(f"<item><title>Story {n}</title><link>{link}</link></item>" for n, link in enumerate(links))
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'.encode()


def _sites(*hosts: str):
    first = StaticSite(hosts[0])
    return [first] + [StaticSite(h, first.server.server_address[1]) for h in hosts[1:]]


def dns_rebinding(work_dir: Path, dsn: str) -> Outcome:
    """news.test answers 127.0.0.1 (allowed) to the first question and 127.0.0.2 (an internal
    service on the same port) to every later one: the internal service is never connected to."""
    public, internal = _sites("127.0.0.1", "127.0.0.2")
    try:
        port = public.server.server_address[1]
        public.pages["/story"] = Page(b"public story")
        internal.pages["/story"] = Page(b"internal secret")
        answers = iter([["127.0.0.1"]])
        guard = AddressGuard(("127.0.0.1",), resolve=lambda host, p: next(answers, ["127.0.0.2"]))
        results = []
        with Fetcher(_settings(work_dir, obey_robots=False), guard=guard) as fetcher:
            for _ in range(3):
                try:
                    results.append(fetcher.get(f"http://news.test:{port}/story").body.decode())
                except FetchError as exc:
                    results.append(str(exc))
        ok = (results[0] == "public story" and all("refused: news.test is 127.0.0.2" in r for r in results[1:])
              and internal.requests == [])
        return Outcome("dns-rebinding", fetch_outcome="refused after the first answer", ok=ok,
                       requests=len(internal.requests), detail=f"internal service asked {len(internal.requests)} times")
    finally:
        public.close()
        internal.close()


def robots_redirect_internal(work_dir: Path, dsn: str) -> Outcome:
    """robots.txt redirects to an internal service: the hop is refused, nothing of the service
    is stored in news.robots_txt, and the site is disallowed for now (robots.txt unreachable)."""
    site, internal = _sites("127.0.0.1", "127.0.0.2")
    try:
        internal.pages["/admin"] = Page(b"User-agent: *\nAllow: /\n# internal", content_type="text/plain")
        site.pages["/robots.txt"] = Page(b"", status=302, headers={"Location": internal.url("/admin")})
        site.pages["/story"] = Page(b"story")
        try:
            with Fetcher(_settings(work_dir), dsn=dsn, run_id="robots-redirect") as fetcher:
                fetcher.get(site.url("/story"))
            reason = "fetched"
        except FetchError as exc:
            reason = str(exc)
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM news.robots_txt")
            stored = cur.fetchone()[0]
        ok = ("disallowed by robots.txt" in reason and "refused" in reason and stored == 0
              and internal.requests == [] and "/story" not in site.requests)
        return Outcome("robots-redirect-internal", fetch_outcome="disallowed", reason=reason, ok=ok,
                       detail=f"robots_txt rows {stored}; internal service asked {len(internal.requests)} times")
    finally:
        site.close()
        internal.close()


def robots_unreachable(work_dir: Path, dsn: str) -> Outcome:
    """robots.txt answers 503: the whole site is disallowed for now, through the real extract
    (its feed is not fetched, the extract fails and Airflow retries it later)."""
    (site,) = _sites("127.0.0.1")
    try:
        site.pages["/robots.txt"] = Page(b"down", status=503, content_type="text/plain")
        site.pages["/feed.xml"] = Page(_rss([site.url("/story")]), content_type="application/rss+xml")
        source = _source(work_dir, "robots-503", [site.url("/feed.xml")])
        run = pipeline.Run(run_id="robots-503", day=DAY, dsn=dsn, settings=_settings(work_dir))
        try:
            pipeline.extract(source, run, now=NOW)
            reason = "extracted"
        except FetchError as exc:
            reason = str(exc)
        ok = "robots.txt unreachable: HTTP 503" in reason and site.requests == ["/robots.txt"]
        return Outcome("robots-unreachable-503", fetch_outcome="disallowed", reason=reason, ok=ok,
                       detail=f"requests {site.requests}")
    finally:
        site.close()


def crawl_delay_over_deadline(work_dir: Path, dsn: str) -> Outcome:
    """Crawl-delay 1.2 s, deadline 1 s: the extract fetches the feed and both pages (the turn's
    wait is not the response's time)."""
    (site,) = _sites("127.0.0.1")
    try:
        site.pages["/robots.txt"] = Page(b"User-agent: *\nCrawl-delay: 1.2\n", content_type="text/plain")
        site.pages["/feed.xml"] = Page(_rss([site.url("/a"), site.url("/b")]), content_type="application/rss+xml")
        site.pages["/a"] = site.pages["/b"] = Page(b"<html><body><p>story</p></body></html>")
        source = _source(work_dir, "slow-turns", [site.url("/feed.xml")])
        run = pipeline.Run(run_id="slow-turns", day=DAY, dsn=dsn, settings=_settings(work_dir, total_timeout=1))
        counts = pipeline.extract(source, run, now=NOW)
        ok = (counts["feeds_fetched"], counts["articles_fetched"], counts["fetch_failed"]) == (1, 2, 0)
        return Outcome("crawl-delay-over-deadline", fetch_outcome="ok", ok=ok,
                       detail=f"feeds {counts['feeds_fetched']}, pages {counts['articles_fetched']}, "
                              f"failed {counts['fetch_failed']}")
    finally:
        site.close()


def _capped_extract(work_dir: Path, dsn: str, name: str, items: int, page_bytes: int, **caps):
    (site,) = _sites("127.0.0.1")
    try:
        links = [site.url(f"/story/{n}") for n in range(items)]
        site.pages["/feed.xml"] = Page(_rss(links), content_type="application/rss+xml")
        for n in range(items):
            site.pages[f"/story/{n}"] = Page(b"<html><body><p>" + b"x" * page_bytes + b"</p></body></html>")
        source = _source(work_dir, name, [site.url("/feed.xml")])
        run = pipeline.Run(run_id=name, day=DAY, dsn=dsn, settings=_settings(work_dir, **caps))
        counts = pipeline.extract(source, run, now=NOW)
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            cur.execute("SELECT count(*), sum(items_cut) FROM news.feed_fetch WHERE run_id = %s", (name,))
            log_rows, feed_cut = cur.fetchone()
            cur.execute("SELECT items_cut, pages_cut, articles_fetched FROM news.etl_run WHERE run_id = %s", (name,))
            recorded = cur.fetchone()
        return counts, log_rows, feed_cut, recorded, len([r for r in site.requests if r.startswith("/story/")])
    finally:
        site.close()


def item_flood(work_dir: Path, dsn: str) -> Outcome:
    """A feed of 20,000 items with at most 500 read per feed and 20 pages a day: 20 page requests
    and 21 fetch-log rows, the cut counted in the feed's row and the run's."""
    counts, log_rows, feed_cut, recorded, asked = _capped_extract(
        work_dir, dsn, "item-flood", 20_000, 10, max_feed_items=500, max_pages_per_day=20)
    ok = (asked, log_rows, feed_cut, recorded) == (20, 21, 19_500, (19_500, 480, 20))
    return Outcome("item-flood", fetch_outcome="capped", requests=asked, ok=ok,
                   detail=f"pages asked {asked}, fetch-log rows {log_rows}, items cut {feed_cut}, "
                          f"etl_run (items_cut, pages_cut, fetched) {recorded}")


def byte_flood(work_dir: Path, dsn: str) -> Outcome:
    """30 pages of 100 KB each under a 1 MB cap for the day: the extract stops asking once the
    cap is reached and counts the pages it did not fetch."""
    counts, log_rows, feed_cut, recorded, asked = _capped_extract(
        work_dir, dsn, "byte-flood", 30, 100_000, max_bytes_per_day=1_000_000)
    fetched, cut = counts["articles_fetched"], counts["pages_cut"]
    ok = 10 <= fetched <= 11 and fetched + cut == 30 and recorded == (0, cut, fetched) and asked < 30
    return Outcome("byte-flood", fetch_outcome="capped", requests=asked, ok=ok,
                   detail=f"pages fetched {fetched}, cut {cut}, asked {asked}")


SCENARIOS = [
    Scenario("dns-rebinding", GUARD, "only the checked address is connected to; later answers refused",
             dns_rebinding),
    Scenario("robots-redirect-internal", ROBOTS, "the hop is refused, nothing stored, the site disallowed for now",
             robots_redirect_internal),
    Scenario("robots-unreachable-503", ROBOTS, "the site is disallowed for now; no feed or page asked for",
             robots_unreachable),
    Scenario("crawl-delay-over-deadline", BOUNDS, "every page fetched: the turn's wait is outside the deadline",
             crawl_delay_over_deadline),
    Scenario("item-flood", CAPS, "500 items read, 20 pages fetched, the rest counted as cut", item_flood),
    Scenario("byte-flood", CAPS, "pages stop at the day's byte cap, the rest counted as cut", byte_flood),
]
