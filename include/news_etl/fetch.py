"""HTTP fetching at the edge: polite, conditional, size-capped GETs with bounded retries.

Every call returns a Response (including 304 Not Modified) or raises FetchError naming the URL and
the reason, so the caller can record the outcome in the fetch log and carry on with other URLs.

Hostile input is expected, on every hop (redirects and robots.txt included):
- before every request the host is resolved once and every address it resolves to is checked
  (AddressGuard); the connection then goes to exactly the checked address (a PinnedTarget), so a
  DNS answer that changes between check and connect (DNS rebinding) cannot reach an internal
  service. Host header, TLS SNI and certificate checks still use the URL's host name.
- every response is streamed under a size cap (counted after decompression, so a gzip bomb stops
  at the cap too) and a total deadline that covers connect to last byte, headers included (a
  watchdog shuts the socket when it passes) and the waits between retries (a Retry-After that
  would pass the deadline is not waited for). The politeness wait before a request is not
  counted: it is the host's turn, not the response's time.
- redirects are followed by hand, at most five.
"""

from __future__ import annotations

import http.client
import ipaddress
import queue
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import certifi
import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.util.ssl_ import create_urllib3_context
from w3lib.url import safe_url_string

from news_etl.errors import FetchError
from news_etl.politeness import ROBOTS_MAX_BYTES, HostTurns, LocalTurns, RobotsRules, site_of
from news_etl.settings import Settings

MAX_REDIRECTS = 5
HOSTS_AT_ONCE = 8  # hosts get_many fetches from at the same time (one connection each)
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
RETRY_STATUSES = (429, 500, 502, 503, 504)
BACKOFF_SECONDS = 0.5  # the second retry waits 1 s, the third 2 s, ... (at most 10 s), unless Retry-After says
BACKOFF_MAX_SECONDS = 10

# Addresses Python's ipaddress may call global but that reach IPv4 space (or are obsolete) through
# a translation: each can smuggle a private or loopback IPv4 address past a plain check.
TRANSLATED_NETWORKS = {
    ipaddress.ip_network("::/96"): "IPv4-compatible",
    ipaddress.ip_network("::ffff:0:0/96"): "IPv4-mapped",
    ipaddress.ip_network("64:ff9b::/96"): "NAT64",
    ipaddress.ip_network("64:ff9b:1::/48"): "NAT64 (local use)",
    ipaddress.ip_network("2002::/16"): "6to4",
    ipaddress.ip_network("2001::/32"): "Teredo",
    ipaddress.ip_network("fec0::/10"): "site-local",
}
REFUSED_KINDS = ("private", "loopback", "link_local", "multicast", "reserved", "unspecified")


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


@dataclass(frozen=True)
class PinnedTarget:
    """A URL whose host was resolved once and checked: requests for it connect to one of
    `addresses`, in order, and to nothing else."""

    url: str
    scheme: str
    host: str                  # the URL's host name: Host header, TLS SNI and certificate checks
    port: int
    addresses: tuple[str, ...]  # every address the host resolved to, each checked

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == (443 if self.scheme == "https" else 80) else f"{host}:{self.port}"

    @property
    def request_target(self) -> str:
        parts = urlsplit(self.url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)]


def refused_kind(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What kind of non-public address this is (None: a public one). A translation is named
    first (it says more than "reserved"); ::1 and :: are not translations."""
    if address.version == 6 and not (address.is_loopback or address.is_unspecified):
        for network, kind in TRANSLATED_NETWORKS.items():
            if address in network:
                return kind
    for kind in REFUSED_KINDS:
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    return None if address.is_global else "non-global"


class AddressGuard:
    """Decides whether a URL's host may be fetched, and pins the address to connect to: public
    addresses yes; private, loopback, link-local, multicast, reserved, unspecified and translated
    (IPv4-compatible or -mapped IPv6, NAT64, 6to4, Teredo, site-local) ones only when allowlisted
    ("host", "host:port", an IP or a CIDR network, e.g. "127.0.0.1:8750", "10.0.0.0/8").
    `resolve(host, port) -> [address, ...]` is the resolver (the system's by default), given at
    most `resolve_timeout` seconds (the system's own retries can take far longer)."""

    def __init__(self, allow: tuple[str, ...] = (), resolve: Callable[[str, int], list[str]] = resolve_host,
                 resolve_timeout: float = 5.0):
        self.resolve = resolve
        self.resolve_timeout = resolve_timeout
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

    def pin(self, url: str) -> PinnedTarget:
        """Resolve `url`'s host once, check every address, and return the target to connect to."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"{url}: refused: only http(s) URLs with a host are fetched")
        host = parts.hostname.lower()
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError(f"{url}: refused: invalid port") from None
        try:
            answers = self._resolve_in_time(host, port)
        except (OSError, UnicodeError) as exc:
            raise FetchError(f"{url}: cannot resolve {host}: {exc}") from None
        addresses = []
        for answer in answers:
            try:
                addresses.append(ipaddress.ip_address(answer.split("%")[0]))
            except ValueError:
                raise FetchError(f"{url}: refused: {host} resolved to {answer!r}, not an IP address") from None
        if not addresses:
            raise FetchError(f"{url}: cannot resolve {host}: no address")
        if not self._allowed(host, port):
            for address in addresses:
                if self._allowed(str(address), port) or any(address in n for n in self.networks):
                    continue
                kind = refused_kind(address)
                if kind:
                    article = "an" if kind[0] in "aeiouIU" else "a"
                    raise FetchError(f"{url}: refused: {host} is {address}, {article} {kind} address, not a public one "
                                     "(allow it with NEWS_ETL_ALLOW_HOSTS)")
        return PinnedTarget(url=url, scheme=parts.scheme, host=host, port=port,
                            addresses=tuple(dict.fromkeys(str(a) for a in addresses)))

    def check(self, url: str) -> None:
        self.pin(url)

    def _resolve_in_time(self, host: str, port: int) -> list[str]:
        """The resolver's answer, on a thread of its own so that the wait for it has a bound (a
        resolver that never answers leaves only that daemon thread waiting)."""
        answer: dict = {}

        def ask() -> None:
            try:
                answer["addresses"] = self.resolve(host, port)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                answer["error"] = exc

        thread = threading.Thread(target=ask, name=f"resolve-{host}", daemon=True)
        thread.start()
        thread.join(self.resolve_timeout)
        if thread.is_alive():
            raise TimeoutError(f"no answer in {self.resolve_timeout:g} s")
        if "error" in answer:
            raise answer["error"]
        return answer["addresses"]


class PinnedConnections:
    """HTTP(S) connections to checked addresses only. Idle ones are kept for the next request to
    the same host and port whose check passed their address again (so a host's pages share one
    connection, and a connection never outlives the check of its address)."""

    def __init__(self, ca_certs: str | None = None):
        self.ca_certs = ca_certs or certifi.where()
        self._idle: dict[tuple, list[HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None

    @staticmethod
    def _key(target: PinnedTarget) -> tuple:
        return target.scheme, target.host, target.port

    def idle(self, target: PinnedTarget) -> HTTPConnection | None:
        with self._lock:
            conns = self._idle.get(self._key(target), [])
            for conn in conns:
                if conn.host in target.addresses:  # (the connection's host is the address it went to)
                    conns.remove(conn)
                    return conn
        return None

    def open(self, target: PinnedTarget, connect_timeout: float, deadline: float) -> HTTPConnection:
        """A new connection to the first of the target's addresses that answers (as the system's
        connect would try them), each try bounded by the connect timeout and the deadline."""
        failure: Exception | None = None
        for address in target.addresses:
            timeout = min(connect_timeout, deadline - time.monotonic())
            if timeout <= 0:
                break
            if target.scheme == "https":
                conn = HTTPSConnection(address, target.port, timeout=timeout, server_hostname=target.host,
                                       ssl_context=self._tls_context())
            else:
                conn = HTTPConnection(address, target.port, timeout=timeout)
            try:
                conn.connect()
                return conn
            except (OSError, urllib3.exceptions.HTTPError) as exc:
                conn.close()
                failure = exc
        raise failure or TimeoutError("no time left to connect")

    def _tls_context(self) -> ssl.SSLContext:
        """One verifying TLS context for every connection (the CA bundle is read once)."""
        with self._lock:
            if self._tls is None:
                self._tls = create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
                self._tls.load_verify_locations(self.ca_certs)
            return self._tls

    def give_back(self, target: PinnedTarget, conn: HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(self._key(target), []).append(conn)

    def close(self) -> None:
        with self._lock:
            for conns in self._idle.values():
                for conn in conns:
                    conn.close()
            self._idle.clear()


def _redirect_target(url: str, current: str, location: str) -> str:
    """The URL a Location header points to. http.client reads headers as Latin-1, so a raw UTF-8
    Location (`/café`) is turned back into its bytes, read as UTF-8 and percent-encoded; a Location
    that is no URL at all (`http://[oops/`) is that response's error, named, not a crash."""
    try:
        location = location.encode("latin-1").decode("utf-8", errors="replace")
    except UnicodeEncodeError:
        pass  # already text beyond Latin-1
    try:
        target = safe_url_string(urljoin(current, location.strip()))
        urlsplit(target).port  # noqa: B018 - raises ValueError on a port out of range or a broken host
    except ValueError as exc:
        raise FetchError(f"{url}: redirected to {location!r}, which is no URL ({exc})") from None
    return target


class _Watchdog:
    """Shuts a connection's socket when the deadline passes, however the server trickles (a
    socket timeout only bounds each read, so headers sent a byte a second would never end)."""

    def __init__(self, conn: HTTPConnection, seconds: float):
        self.conn = conn
        self.fired = False
        self._timer = threading.Timer(max(seconds, 0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self) -> None:
        self.fired = True
        sock = self.conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cancel(self) -> None:
        self._timer.cancel()


class _Retryable(Exception):
    """A failure before the response's headers (connection refused or reset, a read timeout):
    the request may be tried again."""

    def __init__(self, error: FetchError):
        self.error = error


@dataclass
class _Reply:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes
    note: str = ""  # why a retryable answer was not retried


def _error_kind(exc: BaseException) -> str:
    """A short, stable name for a network error, as the fetch log shows it."""
    if isinstance(exc, urllib3.exceptions.NewConnectionError):  # (a subclass of ConnectTimeoutError)
        return "ConnectionError"
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "ConnectTimeout"
    if isinstance(exc, (TimeoutError, urllib3.exceptions.ReadTimeoutError)):
        return "ReadTimeout"
    if isinstance(exc, ssl.SSLError):
        return "SSLError"
    if isinstance(exc, ConnectionError):
        return "ConnectionError"
    if isinstance(exc, (http.client.HTTPException, urllib3.exceptions.ProtocolError)):
        return "ProtocolError"
    return type(exc).__name__


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds a Retry-After header asks to wait (delta-seconds or an HTTP date); None if absent
    or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max((when - datetime.now(timezone.utc)).total_seconds(), 0.0)


class Fetcher:
    """One fetcher per task: connections are reused; requests to one host are spaced by the
    source's crawl_delay or the site's robots.txt Crawl-delay, whichever is longer, and URLs that
    robots.txt disallows for our User-Agent are not fetched. get_many fetches from several hosts
    at once, each host's URLs one after the other."""

    def __init__(self, settings: Settings, crawl_delay: float = 0.0, dsn: str | None = None,
                 run_id: str | None = None, guard: AddressGuard | None = None):
        """With a warehouse `dsn`, spacing per host holds across parallel tasks and robots.txt is
        read once per host per run (`run_id`); without, both are kept in this process."""
        self.settings = settings
        self.crawl_delay = crawl_delay
        self.guard = guard or AddressGuard(settings.allow_hosts, resolve_timeout=settings.connect_timeout)
        self.turns = HostTurns(dsn) if dsn else LocalTurns()
        self.robots = RobotsRules(dsn, run_id or "local", settings.user_agent, self.fetch_robots) \
            if settings.obey_robots else None
        self.connections = PinnedConnections()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc) -> None:
        self.connections.close()

    def get(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> Response:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        return self._exchange(url, headers, polite=True, cap=self.settings.max_response_bytes, http_errors=True)

    @contextmanager
    def stream(self, url: str) -> Iterator[urllib3.HTTPResponse]:
        """GET a file too large to hold (a web archive's WARC file, ~1 GB) as a stream to read
        from, as it comes: the same checks as `get` on every hop (the address guard and its
        pinned connection, robots.txt and the host's turn, at most five redirects), the body not
        decoded (a .warc.gz is read as stored). No size cap and no total deadline (a file takes
        minutes): every read is bounded by NEWS_ETL_READ_TIMEOUT instead, and the task by its
        execution timeout. An HTTP error or a failure before the body is a FetchError."""
        target_url = url
        for _ in range(MAX_REDIRECTS + 1):
            try:
                target = self.guard.pin(target_url)
            except FetchError as refused:
                raise FetchError(f"{url}: redirected to {refused}" if target_url != url else str(refused)) from None
            self._take_turn(url, target_url)
            conn = None
            try:
                conn = self.connections.open(target, self.settings.connect_timeout,
                                             time.monotonic() + self.settings.connect_timeout)
                conn.timeout = self.settings.read_timeout
                conn.sock.settimeout(self.settings.read_timeout)
                conn.request("GET", target.request_target, headers={
                    "Host": target.host_header, "User-Agent": self.settings.user_agent,
                    "Accept-Encoding": "identity", "Accept": "*/*"}, preload_content=False, decode_content=False)
                r = conn.getresponse()
            except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError) as exc:
                if conn is not None:
                    conn.close()
                raise FetchError(f"{url}: {_error_kind(exc)}: {exc}") from None
            location = r.headers.get("location")
            if r.status in REDIRECT_STATUSES and location:
                conn.close()
                target_url = _redirect_target(url, target_url, location)
                continue
            if r.status >= 400:
                conn.close()
                raise FetchError(f"{url}: HTTP {r.status} {r.reason or ''}".rstrip())
            try:
                yield r
            finally:
                conn.close()
            return
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (last to {target_url})")

    def fetch_robots(self, url: str) -> tuple[int, str | None]:
        """(status, text) of a robots.txt; any HTTP status is an answer, only network errors (and
        refused addresses, on any hop) raise. Past ROBOTS_MAX_BYTES the file is not read."""
        resp = self._exchange(url, {}, polite=False, cap=ROBOTS_MAX_BYTES, truncate=True, http_errors=False)
        if resp.status >= 400:
            return resp.status, None
        return resp.status, resp.body.decode("utf-8", errors="replace")

    def _exchange(self, url: str, headers: dict[str, str], *, polite: bool, cap: int, http_errors: bool,
                  truncate: bool = False) -> Response:
        """GET `url` with every hop checked and pinned, the host's turn taken before each hop
        (when `polite`), under one deadline for the network time of all hops and retries. With
        `http_errors`, a final 4xx or 5xx raises FetchError; without, it is returned."""
        fetched_at = datetime.now(timezone.utc)
        started = time.monotonic()
        deadline = started + self.settings.total_timeout
        politeness_waits = 0.0
        target_url = url
        for hop in range(MAX_REDIRECTS + 1):
            try:
                target = self.guard.pin(target_url)
            except FetchError as refused:
                if hop == 0:
                    raise
                raise FetchError(f"{url}: redirected to {refused}") from None
            if polite:
                waited = self._take_turn(url, target_url)
                politeness_waits += waited
                deadline += waited
            reply = self._with_retries(url, target, headers, deadline, cap, truncate)
            location = reply.headers.get("location")
            if reply.status in REDIRECT_STATUSES and location:
                target_url = _redirect_target(url, target_url, location)
                continue
            if http_errors and reply.status >= 400:
                raise FetchError(f"{url}: HTTP {reply.status} {reply.reason}".rstrip() + reply.note)
            return Response(
                url=url,
                final_url=target_url,
                status=reply.status,
                headers=reply.headers,
                body=reply.body,
                fetched_at=fetched_at,
                elapsed_ms=int((time.monotonic() - started - politeness_waits) * 1000),
            )
        raise FetchError(f"{url}: more than {MAX_REDIRECTS} redirects (last to {target_url})")

    def _take_turn(self, url: str, target_url: str) -> float:
        """Check robots.txt and wait for the host's turn; returns the seconds waited."""
        delay = self.crawl_delay
        if self.robots is not None:
            why = self.robots.disallowed(target_url)
            if why:
                raise FetchError(f"{url}: {why}")
            delay = max(delay, self.robots.crawl_delay(target_url))
        before = time.monotonic()
        self.turns.wait(site_of(target_url), delay)
        return time.monotonic() - before

    def _with_retries(self, url: str, target: PinnedTarget, headers: dict[str, str], deadline: float,
                      cap: int, truncate: bool) -> _Reply:
        """One hop, tried again (at most NEWS_ETL_RETRIES times) after a network failure before
        the headers or a 429/5xx answer, waiting the backoff or the Retry-After, but never past
        the deadline."""
        retries = self.settings.retries
        for attempt in range(retries + 1):
            try:
                reply = self._once(url, target, headers, deadline, cap, truncate)
            except _Retryable as failure:
                if attempt == retries:
                    raise failure.error from None
                reply, wait = None, self._backoff(attempt)
                failed = str(failure.error)
            else:
                if reply.status not in RETRY_STATUSES or attempt == retries:
                    return reply
                asked = retry_after_seconds(reply.headers.get("retry-after"))
                wait = self._backoff(attempt) if asked is None else asked
            if time.monotonic() + wait >= deadline:
                note = (f"; not retried: waiting {wait:g} s would pass the {self.settings.total_timeout:g} s "
                        "deadline")
                if reply is None:
                    raise FetchError(failed + note)
                reply.note = note
                return reply
            time.sleep(wait)
        raise AssertionError("unreachable")  # the last attempt returns or raises

    @staticmethod
    def _backoff(attempt: int) -> float:
        return 0.0 if attempt == 0 else min(BACKOFF_SECONDS * 2 ** attempt, BACKOFF_MAX_SECONDS)

    def _once(self, url: str, target: PinnedTarget, headers: dict[str, str], deadline: float, cap: int,
              truncate: bool) -> _Reply:
        """One request on a connection to the pinned address. A reused connection the server has
        closed meanwhile is replaced once without counting as a try."""
        for _ in range(2):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FetchError(f"{url}: response took longer than {self.settings.total_timeout:g} s")
            conn = self.connections.idle(target)
            reused, watchdog, keep, got_headers = conn is not None, None, False, False
            try:
                if conn is None:
                    conn = self.connections.open(target, self.settings.connect_timeout, deadline)
                watchdog = _Watchdog(conn, deadline - time.monotonic())
                conn.timeout = min(self.settings.read_timeout, remaining)
                conn.request("GET", target.request_target, headers={
                    "Host": target.host_header, "User-Agent": self.settings.user_agent,
                    "Accept-Encoding": "gzip, deflate", "Accept": "*/*", **headers,
                }, preload_content=False, decode_content=True)
                r = conn.getresponse()
                got_headers = True
                reply = _Reply(r.status, r.reason or "", {k.lower(): v for k, v in r.headers.items()}, b"")
                if r.status < 300:
                    reply.body = self._read_capped(url, r, cap, truncate, deadline)
                if watchdog.fired:  # the shut socket ended the headers or the body early: not an answer
                    raise FetchError(f"{url}: response took longer than {self.settings.total_timeout:g} s")
                # Kept for the next request when read to its end on a connection the server keeps
                # open (http.client drops the socket of a response that closes it).
                keep = r.status < 300 and r.isclosed() and conn.sock is not None
                return reply
            except (OSError, http.client.HTTPException, urllib3.exceptions.HTTPError) as exc:
                if (watchdog and watchdog.fired) or time.monotonic() >= deadline:
                    raise FetchError(f"{url}: response took longer than {self.settings.total_timeout:g} s") from None
                if reused and not got_headers:
                    continue  # the server closed the idle connection: a fresh one, same address
                error = FetchError(f"{url}: {_error_kind(exc)}: {exc}")
                if got_headers:
                    raise error from exc
                raise _Retryable(error) from exc
            finally:
                if watchdog:
                    watchdog.cancel()
                if keep:
                    self.connections.give_back(target, conn)
                elif conn is not None:
                    conn.close()
        raise FetchError(f"{url}: ConnectionError: the connection was closed twice before an answer")

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

    def _read_capped(self, url: str, r: urllib3.HTTPResponse, cap: int, truncate: bool, deadline: float) -> bytes:
        """The body, at most `cap` bytes after decompression: past it, a FetchError (or, when
        `truncate`, the first `cap` bytes)."""
        declared = r.headers.get("Content-Length")
        if not truncate and declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url}: response of {declared} bytes exceeds the {cap}-byte cap")
        chunks, size = [], 0
        # read1 returns whatever has arrived (decompressed, at most 64 KiB), so the deadline is
        # checked between reads too (the watchdog ends a read that never returns).
        while chunk := r.read1(65536, decode_content=True):
            size += len(chunk)
            if size > cap:
                if truncate:
                    chunks.append(chunk[:cap - size + len(chunk)])
                    break
                raise FetchError(f"{url}: response exceeds the {cap}-byte cap")
            if time.monotonic() > deadline:
                raise FetchError(f"{url}: response took longer than {self.settings.total_timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)
