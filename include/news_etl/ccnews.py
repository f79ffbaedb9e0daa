"""Backfill of past days from Common Crawl's news crawl (CC-NEWS) into the raw archive.

CC-NEWS lists its WARC files per month in <base>/crawl-data/CC-NEWS/YYYY/MM/warc.paths.gz (one
path a line, relative to the base); each file (~1 GB, gzip per record) holds the news pages the
crawl fetched in the hours before the file's name time (CC-NEWS-YYYYMMDDHHMMSS-NNNNN.warc.gz).
A backfill of [start, end] lists the files of those months whose name time can hold records of
the range, then streams each file (never whole in memory) through the project's fetcher, keeps
the `response` records whose host is a configured source's and whose day is in the range, and
files them into the raw archive under (source, day), where the normal transform, check and load
run on them.

The day of a kept page is its publication date in the source's time zone (parsed from the page
as the transform does; WARC-Date, the crawl's fetch time, only when the page has no date): that
is the day whose collection window the quality checks compare the article to, and a crawl often
fetches a page days after it came out. Only kept records are parsed: every other record is
skipped on its WARC headers alone.

Filing is idempotent per crawl file: the pages of one file become one WARC per (source, day),
named after the file, published only once the whole file has been read; a file cut off halfway
publishes nothing, and reading it again replaces whatever an earlier complete read published. A
file read to its end is recorded under <archive>/_backfill/ccnews/, and skipped by the next run.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import logging
import io
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlsplit

import urllib3
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecordLoader

from news_etl.archive import PAGES, Archive, Filing, _write_whole
from news_etl.articles import parse_article
from news_etl.errors import FetchError, NewsEtlError, PageError
from news_etl.fetch import Fetcher, Response
from news_etl.settings import Settings, lookup
from news_etl.sources import Source

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://data.commoncrawl.org"
PATHS = "crawl-data/CC-NEWS/{month:%Y}/{month:%m}/warc.paths.gz"
PROGRESS = "_backfill/ccnews"
MAX_PATHS_BYTES = 16 * 1024 * 1024  # a month's list is ~10-40 KB gzipped; more is not a paths file
_FILE_TIME = re.compile(r"CC-NEWS-(\d{14})-\d+\.warc(?:\.gz)?$")
READ_BYTES = 1 << 18     # compressed bytes read from the stream at a time
INFLATE_BYTES = 1 << 20  # at most this much inflated at a time (a member of zeros inflates 1,000-fold)
HEAD_BYTES = 1 << 14     # a record's WARC headers are within its first 16 KiB
# A file holds what the crawl fetched in the hours before its name time, and pages are filed by
# publication date, which may precede the fetch: files up to this long after the range are read.
FILE_SLACK = timedelta(days=2)


def base_url() -> str:
    """Where the crawl is: NEWS_ETL_CCNEWS_URL (environment, or the Airflow Variable
    news_etl_ccnews_url), by default Common Crawl's own HTTPS endpoint."""
    return (lookup("NEWS_ETL_CCNEWS_URL") or DEFAULT_BASE_URL).rstrip("/")


def months(start: date, end: date) -> list[date]:
    if end < start:
        raise NewsEtlError(f"backfill: end {end} is before start {start}")
    first, found = start.replace(day=1), []
    while first <= end:
        found.append(first)
        first = (first + timedelta(days=32)).replace(day=1)
    return found


def _inflated(body: bytes, limit: int) -> bytes:
    """A gzip body inflated up to `limit` bytes (a bomb stops there, and is too long)."""
    inflater = zlib.decompressobj(31)
    text = inflater.decompress(body, limit)
    if len(text) < limit and not inflater.eof:
        raise EOFError("the gzip stream ends early")
    return text


def crawl_files(base: str, start: date, end: date, fetcher: Fetcher) -> list[str]:
    """The URLs of the crawl's WARC files that can hold pages of [start, end]: every month's
    list read (a month the crawl does not have is an error naming its list's URL), the files
    whose name time is outside the range (plus FILE_SLACK) left out."""
    found = []
    for month in months(start, end):
        url = f"{base}/{PATHS.format(month=month)}"
        body = fetcher.get(url).body
        try:
            text = _inflated(body, MAX_PATHS_BYTES + 1) if body[:2] == b"\x1f\x8b" else body
        except (OSError, EOFError, zlib.error) as exc:
            raise NewsEtlError(f"{url}: not a gzip list of WARC paths: {exc}") from None
        if len(text) > MAX_PATHS_BYTES:
            raise NewsEtlError(f"{url}: a list of {len(text)} bytes, more than {MAX_PATHS_BYTES}")
        for number, line in enumerate(text.decode("utf-8", errors="replace").splitlines(), 1):
            path = line.strip()
            if not path:
                continue
            if not path.startswith("crawl-data/") or ".." in path.split("/"):
                raise NewsEtlError(f"{url}: line {number}: {path[:200]!r} is not a crawl-data/ path")
            if _may_hold(path, start, end):
                found.append(f"{base}/{path}")
    return found


def _may_hold(path: str, start: date, end: date) -> bool:
    match = _FILE_TIME.search(path)
    if not match:
        return True  # a name we cannot date is read
    written = datetime.strptime(match.group(1), "%Y%m%d%H%M%S").date()
    return start <= written <= end + FILE_SLACK


def hosts_of(sources: Iterable[Source]) -> dict[str, list[tuple[str, Source]]]:
    """Which source a page belongs to, by the host (and port, if given) of its feeds, with and
    without `www.`: host -> [(path prefix, source)]. Sources that share a host (the sample
    publishers, a group's outlets under one domain) are told apart by their feeds' first path
    segment."""
    claims: dict[str, dict[str, Source]] = {}
    for source in sources:
        for feed in source.feeds:
            parts = urlsplit(feed)
            segment = parts.path.split("/")[1] if parts.path.count("/") > 1 else ""
            for host in _host_names(parts.netloc):
                claims.setdefault(host, {}).setdefault(f"/{segment}/" if segment else "/", source)
    by_host = {}
    for host, prefixes in claims.items():
        owners = {s.name for s in prefixes.values()}
        by_host[host] = [("/", next(iter(prefixes.values())))] if len(owners) == 1 else \
            sorted(prefixes.items(), key=lambda item: -len(item[0]))
    return by_host


def _host_names(netloc: str) -> tuple[str, str]:
    host = netloc.rsplit("@", 1)[-1].lower().removeprefix("www.")
    return host, f"www.{host}"


def source_of(uri: str, by_host: dict[str, list[tuple[str, Source]]]) -> Source | None:
    """The configured source a crawled URL belongs to, or None (cheap: it runs on every record)."""
    rest = uri.split("://", 1)[-1]
    netloc, _, path = rest.partition("/")
    claims = by_host.get(netloc.rsplit("@", 1)[-1].lower())
    if not claims:
        return None
    path = "/" + path
    return next((source for prefix, source in claims if path.startswith(prefix)), None)


@dataclass
class FileOutcome:
    url: str
    records: int = 0          # response records read
    kept: int = 0             # pages filed
    foreign: int = 0          # on hosts of no configured source
    out_of_range: int = 0     # of a day outside the range
    too_large: int = 0        # bodies over NEWS_ETL_MAX_RESPONSE_BYTES, not kept
    not_ok: int = 0           # HTTP status other than 200
    bad_digest: int = 0       # payload not what its WARC-Payload-Digest says (corrupt): not kept
    skipped: bool = False     # read by an earlier run
    days: dict[str, list[str]] = field(default_factory=dict)  # source -> days filed

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def file_crawl_warc(url: str, sources: Iterable[Source], start: date, end: date, archive: Archive,
                    fetcher: Fetcher, settings: Settings, again: bool = False) -> FileOutcome:
    """Stream one crawl WARC file and file its pages of the configured sources and the range.
    A failure while reading (the connection cut, a corrupt gzip member) raises NewsEtlError
    naming the file and the offset reached, and files nothing of this file."""
    name = url.rsplit("/", 1)[-1]
    progress = archive.root.joinpath(PROGRESS, f"{name}.json")
    if not again and progress.exists():
        return FileOutcome(url=url, skipped=True, **json.loads(progress.read_bytes()).get("counts", {}))
    by_host = hosts_of(sources)
    extract = f"ccnews-{name.removesuffix('.gz').removesuffix('.warc')}"
    filings: dict[tuple[str, date], Filing] = {}
    outcome = FileOutcome(url=url)
    try:
        with fetcher.stream(url) as body:
            members = GzipMembers(body)
            try:
                for head in members:
                    if _warc_header(head, b"WARC-Type") != "response":
                        members.skip()
                        continue
                    outcome.records += 1
                    uri = _warc_header(head, b"WARC-Target-URI") or ""
                    source = source_of(uri, by_host)
                    if source is None:
                        outcome.foreign += 1
                        members.skip()  # inflated and dropped: never parsed
                        continue
                    member = members.take(settings.max_response_bytes + (1 << 16))
                    if member is None:
                        outcome.too_large += 1
                        log.warning("%s: %s: a record over NEWS_ETL_MAX_RESPONSE_BYTES: not kept", url, uri)
                        continue
                    for record in ArchiveIterator(io.BytesIO(member), no_record_parse=True):
                        _keep(record, uri, source, start, end, archive, filings, extract, settings, outcome)
            except (ArchiveLoadFailed, OSError, EOFError, ValueError, zlib.error, urllib3.exceptions.HTTPError) as exc:
                raise NewsEtlError(f"{url}: the WARC file could not be read past byte {members.offset} "
                                   f"({type(exc).__name__}: {exc}); nothing of it was filed") from None
    except BaseException:
        for filing in filings.values():
            filing.discard()
        raise
    for filing in filings.values():
        filing.close()
        outcome.days.setdefault(filing.source, []).append(filing.day.isoformat())
    progress.parent.mkdir(parents=True, exist_ok=True)
    counts = {k: v for k, v in outcome.as_dict().items() if k not in ("url", "skipped")}
    _write_whole(progress, json.dumps({"url": url, "counts": counts, "read_at": datetime.now(timezone.utc).isoformat()},
                                      sort_keys=True).encode("utf-8"))
    log.info("%s: %s", name, counts)
    return outcome


class GzipMembers:
    """The gzip members of a WARC stream (a record each, as Common Crawl writes them), one at a
    time: iterating gives the first HEAD_BYTES of each member inflated (its WARC headers), then
    `skip()` inflates the rest and drops it, or `take(limit)` returns the member's compressed
    bytes (None past `limit` inflated bytes). This is the fast path of a backfill: zlib inflates
    in C, a megabyte at a time, where warcio's iterator runs Python for every 16 KiB; warcio
    then reads only the members kept. A member cut short is an EOFError; `offset` is where the
    current member starts in the stream."""

    def __init__(self, stream):
        self.stream = stream
        self.offset = 0          # compressed bytes of the members before the current one
        self._pending = b""      # read, not yet consumed
        self._inflater = None    # the current member's, until its end
        self._consumed = 0       # compressed bytes of the current member consumed so far
        self._collected: list[bytes] | None = None  # the current member's compressed bytes, when taken
        self._inflated = 0
        self._head = b""

    def __iter__(self):
        while True:
            if self._inflater is not None:
                self.skip()  # the caller took neither
            if not self._pending:
                self._pending = self.stream.read(READ_BYTES)
                if not self._pending:
                    return
            if self._pending[:2] != b"\x1f\x8b":
                raise ValueError("not a gzip member (Common Crawl's WARC files are gzip per record)")
            self._inflater, self._consumed, self._collected, self._inflated, self._head = \
                zlib.decompressobj(31), 0, [], 0, b""
            while len(self._head) < HEAD_BYTES and self._inflater is not None:
                self._step()
            yield self._head

    def _step(self) -> None:
        inflater = self._inflater
        data = inflater.unconsumed_tail or self._pending or self.stream.read(READ_BYTES)
        self._pending = b""
        if not data:
            raise EOFError(f"a gzip member cut short ({self._inflated} bytes inflated)")
        out = inflater.decompress(data, INFLATE_BYTES)
        self._inflated += len(out)
        if len(self._head) < HEAD_BYTES:
            self._head += out[:HEAD_BYTES - len(self._head)]
        rest = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
        used = data[:len(data) - len(rest)] if rest else data
        self._consumed += len(used)
        if self._collected is not None:
            self._collected.append(used)
        if inflater.eof:
            self.offset += self._consumed
            self._pending, self._inflater = inflater.unused_data, None
        elif not inflater.unconsumed_tail:
            self._pending = b""

    def skip(self) -> None:
        self._collected = None
        while self._inflater is not None:
            self._step()

    def take(self, limit: int) -> bytes | None:
        while self._inflater is not None:
            if self._inflated > limit:
                self.skip()
                return None
            self._step()
        member = b"".join(self._collected or [])
        self._collected = None
        return None if self._inflated > limit else member


def _warc_header(head: bytes, name: bytes) -> str | None:
    """One WARC header of a record's first bytes (names are case-insensitive)."""
    end = head.find(b"\r\n\r\n")
    lowered = name.lower() + b":"
    for line in head[:end if end >= 0 else len(head)].split(b"\r\n")[1:]:
        if line[:len(lowered)].lower() == lowered:
            return line[len(lowered):].strip().decode("utf-8", errors="replace")
    return None


def _keep(record, uri: str, source: Source, start: date, end: date, archive: Archive,
          filings: dict[tuple[str, date], Filing], extract: str, settings: Settings, outcome: FileOutcome) -> None:
    """File one response record of a configured source's host, if it is a page of the range."""
    length = int(record.rec_headers.get_header("Content-Length") or 0)
    record.http_headers = ArcWarcRecordLoader().load_http_headers("response", uri, record.raw_stream, length)
    status = int(record.http_headers.get_statuscode() or 0) if record.http_headers else 0
    if status != 200:
        outcome.not_ok += 1
        return
    if length > settings.max_response_bytes:
        outcome.too_large += 1
        log.warning("%s: %s: a record of %d bytes, over NEWS_ETL_MAX_RESPONSE_BYTES: not kept", outcome.url, uri, length)
        return
    payload = record.raw_stream = _Sha1Reader(record.raw_stream)
    body = record.content_stream().read(settings.max_response_bytes + 1)
    if len(body) > settings.max_response_bytes:
        outcome.too_large += 1
        return
    while payload.read(1 << 16):
        pass
    declared = record.rec_headers.get_header("WARC-Payload-Digest") or ""
    if declared.lower().startswith("sha1:") and declared[5:].upper() != payload.base32():
        outcome.bad_digest += 1
        log.warning("%s: record %s (%s): payload digest %s, the payload's is sha1:%s: not kept", outcome.url,
                    record.rec_headers.get_header("WARC-Record-ID"), uri, declared, payload.base32())
        return
    fetched_at = _warc_date(record.rec_headers.get_header("WARC-Date"), outcome.url, uri)
    headers = {k.lower(): v for k, v in record.http_headers.headers}
    day = _page_day(body, uri, headers.get("content-type"), source, fetched_at)
    if not start <= day <= end:
        outcome.out_of_range += 1
        return
    key = (source.name, day)
    if key not in filings:
        filings[key] = archive.filing(source.name, day, extract=extract,
                                      info={"news-etl-crawl-file": outcome.url})
    filings[key].put(PAGES, Response(url=uri, final_url=uri, status=status, headers=headers, body=body,
                                     fetched_at=fetched_at, elapsed_ms=0))
    outcome.kept += 1


class _Sha1Reader:
    """The record's payload stream, hashed as it is read (WARC-Payload-Digest is SHA-1 in base 32)."""

    def __init__(self, stream):
        self.stream, self.sha1 = stream, hashlib.sha1()

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.sha1.update(data)
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self.stream.readline(size)
        self.sha1.update(data)
        return data

    def base32(self) -> str:
        return base64.b32encode(self.sha1.digest()).decode("ascii")


def _warc_date(value: str | None, file_url: str, uri: str) -> datetime:
    try:
        moment = datetime.fromisoformat((value or "").replace("Z", "+00:00"))
    except ValueError:
        raise NewsEtlError(f"{file_url}: record for {uri}: WARC-Date {value!r} is not a date") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _page_day(body: bytes, uri: str, content_type: str | None, source: Source, fetched_at: datetime) -> date:
    """The page's publication day where the source is; the fetch day there if it has no date."""
    try:
        published = parse_article(body, url=uri, source=source, content_type=content_type).published_at
    except PageError:
        published = None
    except Exception:  # a parser bug: the page is still kept, by its fetch day, and the transform quarantines it
        log.exception("parsing %s for its date failed", uri)
        published = None
    if published is None:
        return fetched_at.astimezone(source.timezone).date()
    if published.tzinfo is None:  # a wall time without offset: already the source's local time
        return published.date()
    return published.astimezone(source.timezone).date()


def complete_days(archive: Archive, outcomes: Iterable[dict], run_id: str) -> list[tuple[str, str]]:
    """Once every file of the range is filed: mark complete each (source, day) that received
    pages, so news_daily's extract for it reuses the archive instead of fetching. A day that got
    nothing stays as it was (the daily run then looks for it at the source)."""
    days = sorted({(source, day) for outcome in outcomes for source, listed in (outcome.get("days") or {}).items()
                   for day in listed})
    for source, day in days:
        pages = len(archive.entries(source, date.fromisoformat(day), PAGES))
        archive.mark_complete(source, date.fromisoformat(day), {"run_id": run_id, "backfill": "ccnews",
                                                                 "articles_fetched": pages})
    return days


def backfill(sources: Iterable[Source], start: date, end: date, settings: Settings, run_id: str,
             base: str | None = None) -> list[dict]:
    """The whole backfill in one process (the CLI; the DAG maps file_crawl_warc over the files)."""
    sources = list(sources)
    archive = Archive(settings.archive_root)
    with Fetcher(settings) as fetcher:
        files = crawl_files(base or base_url(), start, end, fetcher)
        outcomes = [file_crawl_warc(url, sources, start, end, archive, fetcher, settings).as_dict() for url in files]
    complete_days(archive, outcomes, run_id)
    return outcomes



# --- what the news_backfill_archive DAG's tasks call -----------------------------------------------

def backfill_range(params: dict) -> tuple[date, date]:
    """The `start` and `end` params of a backfill run: both days, in order, and over."""
    try:
        start, end = (date.fromisoformat(str(params.get(k) or "")) for k in ("start", "end"))
    except ValueError:
        raise NewsEtlError(f"backfill: params start and end must be days (YYYY-MM-DD), got "
                           f"start={params.get('start')!r} end={params.get('end')!r}") from None
    if end < start:
        raise NewsEtlError(f"backfill: end {end} is before start {start}")
    if end >= datetime.now(timezone.utc).date():
        raise NewsEtlError(f"backfill: end {end} is not over yet; a backfill is of past days")
    return start, end


def crawl_files_of_run(params: dict) -> list[str]:
    start, end = backfill_range(params)
    with Fetcher(Settings.from_env()) as fetcher:
        return crawl_files(base_url(), start, end, fetcher)


def file_crawl_warc_of_run(url: str, params: dict) -> dict:
    """One crawl file filed for the sources that load (read here, by the task: the DAG file reads
    no source file at parse time; a broken one is news_daily's plan's to report)."""
    from news_etl.pipeline import runnable_sources  # pipeline's stages do not need this module

    start, end = backfill_range(params)
    sources = list(runnable_sources()[0].values())
    settings = Settings.from_env()
    with Fetcher(settings) as fetcher:
        return file_crawl_warc(url, sources, start, end, Archive(settings.archive_root), fetcher, settings,
                               again=bool(params.get("again"))).as_dict()


def complete_days_of_run(outcomes: list[dict], run_id: str) -> list[dict]:
    """The days filed, marked complete; one news_daily conf per day."""
    days = complete_days(Archive(Settings.from_env().archive_root), outcomes, run_id)
    return [{"date": day} for day in sorted({day for _, day in days})]
