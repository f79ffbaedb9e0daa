"""HTTP fetching at the edge: polite, conditional, size-capped GETs with bounded retries.

Every call returns a Response (including 304 Not Modified) or raises FetchError naming the URL and
the reason, so the caller can record the outcome in the fetch log and carry on with other URLs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from news_etl.errors import FetchError
from news_etl.settings import Settings


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


class Fetcher:
    """One HTTP session per task: connections are reused, and requests to the same host are spaced
    by `crawl_delay` seconds so a source is never hammered."""

    def __init__(self, settings: Settings, crawl_delay: float = 0.0):
        self.settings = settings
        self.crawl_delay = crawl_delay
        self._last_request: dict[str, float] = {}
        self.session = requests.Session()
        self.session.headers["User-Agent"] = settings.user_agent
        self.session.max_redirects = 5
        retry = Retry(
            total=settings.retries,
            connect=settings.retries,
            read=settings.retries,
            status=settings.retries,
            backoff_factor=0.5,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=("GET",),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        adapter = HTTPAdapter(max_retries=retry, pool_connections=4, pool_maxsize=4)
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
        self._wait_for_turn(url)
        fetched_at = datetime.now(timezone.utc)
        started = time.monotonic()
        try:
            with self.session.get(
                url,
                headers=headers,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                stream=True,
            ) as r:
                if r.status_code >= 400:
                    raise FetchError(f"{url}: HTTP {r.status_code} {r.reason}")
                body = self._read_capped(url, r)
                return Response(
                    url=url,
                    final_url=r.url,
                    status=r.status_code,
                    headers={k.lower(): v for k, v in r.headers.items()},
                    body=body,
                    fetched_at=fetched_at,
                    elapsed_ms=int((time.monotonic() - started) * 1000),
                )
        except requests.RequestException as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc

    def _read_capped(self, url: str, r: requests.Response) -> bytes:
        cap = self.settings.max_response_bytes
        declared = r.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > cap:
            raise FetchError(f"{url}: response of {declared} bytes exceeds the {cap}-byte cap")
        chunks, size = [], 0
        for chunk in r.iter_content(chunk_size=65536):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"{url}: response exceeds the {cap}-byte cap")
            chunks.append(chunk)
        return b"".join(chunks)

    def _wait_for_turn(self, url: str) -> None:
        host = urlsplit(url).netloc.lower()
        last = self._last_request.get(host)
        if last is not None and self.crawl_delay > 0:
            pause = self.crawl_delay - (time.monotonic() - last)
            if pause > 0:
                time.sleep(pause)
        self._last_request[host] = time.monotonic()

