"""HTTP fetching at the edge: polite, conditional, size-capped GETs with bounded retries.

Every call returns a Response (including 304 Not Modified) or raises FetchError naming the URL and
the reason, so the caller can record the outcome in the fetch log and carry on with other URLs.

Hostile input is expected: every response is streamed under a size cap (counted after
decompression, so a gzip bomb stops at the cap too) and a total deadline (so a server dripping a
byte a second cannot hold a task forever); redirects are followed by hand, at most five, and
before every request, redirects included, the host's resolved addresses are checked: private,
loopback, link-local, multicast and reserved addresses are refused unless allowlisted
(NEWS_ETL_ALLOW_HOSTS), so a feed cannot make the pipeline fetch an internal service.
"""

from __future__ import annotations

import ipaddress
import queue
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urljoin, urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from news_etl.errors import FetchError
from news_etl.politeness import ROBOTS_MAX_BYTES, HostTurns, LocalTurns, RobotsRules, site_of
from news_etl.settings import Settings

MAX_REDIRECTS = 5
HOSTS_AT_ONCE = 8  # hosts get_many fetches from at the same time (one connection each)


@dataclass(frozen=True)
class Response:
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: datetime
    elapsed_ms: int

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class AddressGuard:
    """Decides whether a URL's host may be fetched: public addresses yes; private, loopback,
    link-local, multicast and reserved ones only when allowlisted ("host", "host:port", an IP
    or a CIDR network, e.g. "127.0.0.1:8750", "10.0.0.0/8")."""

    def __init__(self, allow: tuple[str, ...] = ()):
        self.hosts: set[tuple[str, int | None]] = set()
        self.networks = []
        for entry in allow:
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
            self.hosts.add((host.lower(), int(port) if port.isdigit() else None))

    def _allowed(self, name: str, port: int) -> bool:
        return (name, None) in self.hosts or (name, port) in self.hosts

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{url}: refused: only http(s) URLs with a host are fetched")
        host = parts.hostname.lower()
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"{url}: refused: invalid port") from None
        if self._allowed(host, port):
            return
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(f"{url}: cannot resolve {host}: {exc}") from None
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if self._allowed(str(address), port) or any(address in n for n in self.networks):
                continue
            if not address.is_global or address.is_multicast:
                raise FetchError(f"{url}: refused: {host} is {address}, a private, loopback, link-local, "
                                 "multicast or reserved address (allow it with NEWS_ETL_ALLOW_HOSTS)")


class Fetcher:
    """One HTTP session per task: connections are reused; requests to one host are spaced by the
    source's crawl_delay or the site's robots.txt Crawl-delay, whichever is longer, and URLs that
    robots.txt disallows for our User-Agent are not fetched. get_many fetches from several hosts
    at once, each host's URLs one after the other."""

    def __init__(self, settings: Settings, crawl_delay: float = 0.0, dsn: str | None = None,
                 run_id: str | None = None):
        """With a warehouse `dsn`, spacing per host holds across parallel tasks and robots.txt is
        read once per host per run (`run_id`); without, both are kept in this process."""
        self.settings = settings
        self.crawl_delay = crawl_delay
        self.guard = AddressGuard(settings.allow_hosts)
        self.turns = HostTurns(dsn) if dsn else LocalTurns()
        self.robots = RobotsRules(dsn, run_id or "local", settings.user_agent, self.fetch_robots) \
            if settings.obey_robots else None
        self.session = requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        retry = Retry(
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            redirect=0,
            backoff_factor=0.5,
            backoff_max=10,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=("GET",),
            respect_retry_after_header=True,
            raise_on_status=False,
            raise_on_redirect=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=HOSTS_AT_ONCE, pool_maxsize=4)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.session.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Response:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        fetched_at = datetime.now(timezone.utc)
        started = time.monotonic()
        target = url
        for hop in range(MAX_REDIRECTS + 1):
            try:
                self.guard.check(target)
            except FetchError as refused:
                if hop == 0:
                    raise
                raise FetchError(f"{url}: redirected to {refused}") from None
            delay = self.crawl_delay
            if self.robots is not None:
                if not self.robots.allowed(target):
                    raise FetchError(f"{url}: disallowed by robots.txt of {site_of(target)}")
                delay = max(delay, self.robots.crawl_delay(target))
            self.turns.wait(site_of(target), delay)
            try:
                with self.session.get(
                    target,
                    headers=headers,
                    timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                    stream=True,
                    allow_redirects=False,
                ) as r:
                    if r.is_redirect:
                        target = urljoin(target, r.headers["location"])
                        continue
                    if r.status_code >= 400:
                        raise FetchError(f"{url}: HTTP {r.status_code} {r.reason}")
                    body = self._read_capped(url, r, started)
                    return Response(
                        url=url,
                        final_url=r.url,
                        status=r.status_code,
                        headers={k.lower(): v for k, v in r.headers.items()},
                        body=body,
                        fetched_at=fetched_at,
                        elapsed_ms=int((time.monotonic() - started) * 1000),
                    )
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                # raw reads raise urllib3's and the socket's errors unwrapped
                raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (last to {target})")

    def get_many(self, urls: Iterable[str], hosts_at_once: int = HOSTS_AT_ONCE) -> Iterator[tuple[str, Response | FetchError]]:
        """(url, Response or FetchError) for every URL, as they arrive: up to `hosts_at_once` hosts
        are fetched from concurrently, each host's URLs in order on one thread, so the host's
        spacing holds and its connection is reused. At most a few responses wait to be taken (a
        bounded queue), so a caller that stores each one never holds a run's HTML at once."""
        by_host: dict[str, list[str]] = {}
        for url in urls:
            by_host.setdefault(site_of(url), []).append(url)
        hosts = queue.SimpleQueue()
        for host_urls in by_host.values():
            hosts.put(host_urls)
        results: queue.Queue = queue.Queue(maxsize=2 * hosts_at_once)
        stop = threading.Event()  # the caller stopped taking results: workers end

        def put(item) -> bool:
            while not stop.is_set():
                try:
                    results.put(item, timeout=0.5)
                    return True
                except queue.Full:
                    continue
            return False

        def work() -> None:
            while not stop.is_set():
                try:
                    host_urls = hosts.get_nowait()
                except queue.Empty:
                    return
                for url in host_urls:
                    try:
                        result = self.get(url)
                    except Exception as exc:  # FetchError is an outcome; anything else the caller re-raises
                        result = exc
                    if not put((url, result)):
                        return

        threads = [threading.Thread(target=work, name=f"fetch-{n}", daemon=True)
                   for n in range(min(hosts_at_once, len(by_host)))]
        for thread in threads:
            thread.start()
        try:
            for _ in range(sum(len(u) for u in by_host.values())):
                url, result = results.get()
                if isinstance(result, Exception) and not isinstance(result, FetchError):
                    raise result
                yield url, result
        finally:
            stop.set()
            for thread in threads:
                thread.join()

    def _read_capped(self, url: str, r: requests.Response, started: float) -> bytes:
        cap = self.settings.max_response_bytes
        declared = r.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url}: response of {declared} bytes exceeds the {cap}-byte cap")
        chunks, size = [], 0
        # read1 returns whatever has arrived (decompressed, at most 64 KiB), so the deadline is
        # checked even while a server drips a byte at a time.
        while chunk := r.raw.read1(65536, decode_content=True):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: response exceeds the {cap}-byte cap")
            if time.monotonic() - started > self.settings.total_timeout:
                raise FetchError(f"{url}: response took longer than {self.settings.total_timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

    def fetch_robots(self, url: str) -> tuple[int, str | None]:
        """(status, text) of a robots.txt; any HTTP status is an answer, only network errors raise."""
        self.guard.check(url)
        try:
            with self.session.get(url, timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                                  stream=True) as r:
                if r.status_code >= 400:
                    return r.status_code, None
                body = r.raw.read(ROBOTS_MAX_BYTES, decode_content=True)
                return r.status_code, body.decode(r.encoding or "utf-8", errors="replace")
        except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
