"""The raw archive: every fetched feed and page, kept immutably, partitioned by source and day.

Layout under the root, per source, day and extract (one run's extract, or one crawl file of a
backfill): <source>/<YYYY-MM-DD>/<extract>.warc.gz, a WARC file (ISO 28500, written and read with
warcio) with, per response, a `request`, a `response` (the original status line and headers, the
fetch time as WARC-Date) and a `metadata` record (application/json: kind, final URL, fetch time to
the microsecond, the feed item that announced a page), after one `warcinfo` record; and beside it
<extract>.index.json, the small index the pipeline reads (every record's URL, status, headers,
offset and length in the WARC, and whether this extract completed the day). The WARC is written to
a local spool, published under a temporary name and renamed into place, and only then is the index
written (the same way): an extract is complete only once its WARC is closed and recorded, so a
crash leaves no entry that counts. Everything the index says is also in the WARC (its metadata
records), so any WARC tool reads the archive and `news-etl archive verify` checks one against the
other.

The layout before WARC (<source>/<day>/<kind>/<key>.gz and <key>.json, `_complete.json` for a
finished day) stays readable: entries, read, is_complete and completion see both; refs of the old
layout have four parts, of WARC entries five (<source>/<day>/<extract>/<kind>/<key>).

The root is a local folder or any fsspec URL (s3://bucket/archive, gs://…, memory://…) through
Airflow's ObjectStoragePath, so workers on several machines can share one archive.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import logging
import shutil
import tempfile
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParserException
from warcio.warcwriter import WARCWriter

from news_etl.errors import NewsEtlError
from news_etl.fetch import Response

log = logging.getLogger(__name__)

FEEDS = "feeds"
PAGES = "pages"
WARC_SUFFIX = ".warc.gz"
INDEX_SUFFIX = ".index.json"
INDEX_FORMAT = "news-etl-warc-index/1"
_COMPLETE = "_complete.json"  # the old layout's record of a finished day
# The body is stored decoded, so the headers that describe the wire encoding are kept under the
# name pywb and other replay tools give rewritten headers; every reader then gets the body as is.
_WIRE_HEADERS = ("content-encoding", "transfer-encoding")
_ORIGINAL_PREFIX = "X-Archive-Orig-"


@dataclass(frozen=True)
class ArchivedResponse:
    ref: str               # the raw reference stored with every row (see the module's docstring)
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    fetched_at: datetime
    feed_item: dict | None = None  # for pages: the feed item that announced the page


def page_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]


def _entry_key(kind: str, response: Response) -> str:
    """Pages are once per day (by URL); every fetch of a feed is kept (by time and URL)."""
    if kind == PAGES:
        return page_key(response.url)
    return f"{response.fetched_at.strftime('%Y%m%dT%H%M%S%f')}-{page_key(response.url)[:12]}"


class Archive:
    def __init__(self, root: str):
        from airflow.sdk import ObjectStoragePath  # here: importing Airflow takes seconds

        self.root = ObjectStoragePath(root)
        self._indexes: dict[tuple[str, str], list[dict]] = {}
        self._page_refs: dict[tuple[str, str], dict[str, str]] = {}

    def _path(self, *parts: str):
        return self.root.joinpath(*parts)

    # --- writing ---------------------------------------------------------------------------------

    def filing(self, source: str, day: date, extract: str | None = None, info: dict | None = None) -> Filing:
        """A new extract of `source` and `day`: put responses into it, then close it (a `with`
        block closes it, an error too, so what was fetched is kept). `extract` names it (a re-run
        of the same name replaces it whole: how a backfill of a crawl file stays idempotent); by
        default the time and a random suffix."""
        extract = extract or f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:8]}"
        return Filing(self, source, day, extract, info or {})

    def mark_complete(self, source: str, day: date, summary: dict) -> None:
        """Record that the archive holds everything of this source and day that a collection
        (a backfill from a web archive) found: an index without a WARC. An extract records its
        own completion (Filing.complete), so a day it finishes is one WARC and one index."""
        stamp = datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%f')
        _write_whole(self._path(source, day.isoformat(), f"{stamp}-complete{INDEX_SUFFIX}"),
                     _index_bytes(None, f"{stamp}-complete", [], summary))
        self.forget(source, day)

    # --- reading ---------------------------------------------------------------------------------

    def day_indexes(self, source: str, day: date) -> list[dict]:
        """The recorded extracts of a source and day, oldest first (an unreadable index, cut short
        by a crash while written, is no extract)."""
        cache_key = (source, day.isoformat())
        if cache_key not in self._indexes:
            folder = self._path(source, day.isoformat())
            found = []
            if folder.exists():
                for path in sorted(folder.glob(f"*{INDEX_SUFFIX}"), key=lambda p: p.name):
                    try:
                        index = json.loads(path.read_bytes())
                        if index.get("format") != INDEX_FORMAT:
                            raise ValueError(f"format {index.get('format')!r}")
                    except ValueError as exc:
                        log.warning("skipping unreadable archive index %s: %s", path, exc)
                        continue
                    found.append(index)
            self._indexes[cache_key] = sorted(found, key=lambda i: (i["closed_at"], i["extract"]))
        return self._indexes[cache_key]

    def forget(self, source: str, day: date) -> None:
        """Read the day's indexes again next time (an extract of it was just published)."""
        self._indexes.pop((source, day.isoformat()), None)
        self._page_refs.pop((source, day.isoformat()), None)

    def entries(self, source: str, day: date, kind: str) -> list[ArchivedResponse]:
        """Complete entries of one partition, oldest fetch first; an entry held twice (a page in two
        extracts or two crawl files of a backfill) once, as first fetched."""
        found = self._legacy_entries(source, day, kind)
        for index in self.day_indexes(source, day):
            for record in index["records"]:
                if record["kind"] == kind:
                    found.append(_archived(f"{source}/{day.isoformat()}/{index['extract']}/{kind}/{record['key']}",
                                           record))
        found.sort(key=lambda e: (e.fetched_at, e.ref))
        seen: set[str] = set()  # (a converted day holds its old entries twice: the same keys)
        return [e for e in found if not (e.ref.rsplit("/", 1)[1] in seen or seen.add(e.ref.rsplit("/", 1)[1]))]

    def page_ref(self, source: str, day: date, url: str) -> str | None:
        """The ref of the page at `url` if the day's archive holds it."""
        key = page_key(url)
        cache_key = (source, day.isoformat())
        if cache_key not in self._page_refs:  # (asked for every URL of a feed: one lookup each)
            refs: dict[str, str] = {}
            for index in self.day_indexes(source, day):
                for record in index["records"]:
                    if record["kind"] == PAGES:
                        refs.setdefault(record["key"],
                                        f"{source}/{day.isoformat()}/{index['extract']}/{PAGES}/{record['key']}")
            self._page_refs[cache_key] = refs
        if key in self._page_refs[cache_key]:
            return self._page_refs[cache_key][key]
        if self._path(source, day.isoformat(), PAGES, f"{key}.json").exists():
            return f"{source}/{day.isoformat()}/{PAGES}/{key}"
        return None

    def has_page(self, source: str, day: date, url: str) -> bool:
        return self.page_ref(source, day, url) is not None

    def holds(self, ref: str) -> bool:
        """Whether `ref` names a complete entry (a conditional GET is asked only for a body held)."""
        try:
            self._locate(ref)
        except (NewsEtlError, FileNotFoundError):
            return False
        return True

    def read(self, ref: str) -> bytes:
        """The body of an entry, as fetched (decoded)."""
        parts = ref.split("/")
        if len(parts) == 4:  # the layout before WARC
            return gzip.decompress(self._path(f"{ref}.gz").read_bytes())
        warc, record = self._locate(ref)
        with open_path(warc, "rb") as stream:
            stream.seek(record["offset"])
            member = stream.read(record["length"])
        try:
            records = [(r, r.content_stream().read()) for r in ArchiveIterator(io.BytesIO(member))][:1]
        except (ArchiveLoadFailed, StatusAndHeadersParserException, zlib.error, EOFError) as exc:
            raise NewsEtlError(f"archive {warc}: no readable record at offset {record['offset']} for {ref} "
                               f"(the index is not this WARC's?): {exc}".splitlines()[0]) from None
        for _, body in records:
            # The index and its WARC are published one after the other: a body that is not the one
            # the index recorded (a re-filing caught between the two) is an error, never another page's.
            if record.get("sha256") and hashlib.sha256(body).hexdigest() != record["sha256"]:
                raise NewsEtlError(f"archive {warc}: the record at offset {record['offset']} is not the body "
                                   f"its index recorded for {ref} (sha256 differs)")
            return body
        raise NewsEtlError(f"archive {warc}: no record at offset {record['offset']} for {ref}")

    def _locate(self, ref: str) -> tuple[object, dict]:
        parts = ref.split("/")
        if len(parts) == 4:
            if not self._path(f"{ref}.json").exists():
                raise NewsEtlError(f"archive: no entry {ref}")
            return self._path(f"{ref}.gz"), {}
        if len(parts) != 5:
            raise NewsEtlError(f"archive: {ref!r} is not an archive reference")
        source, day, extract, kind, key = parts
        for index in self.day_indexes(source, date.fromisoformat(day)):
            if index["extract"] == extract:
                for record in index["records"]:
                    if record["key"] == key and record["kind"] == kind:
                        return self._path(source, day, index["warc"]), record
        raise NewsEtlError(f"archive: no entry {ref}")

    def is_complete(self, source: str, day: date) -> bool:
        return bool(self.completion(source, day))

    def completion(self, source: str, day: date) -> bytes:
        """The record of the extract that last completed this source and day (a refetch that
        completes the day is a new one), or b"" if none has."""
        done = [i for i in self.day_indexes(source, day) if i.get("complete") is not None]
        if done:
            last = done[-1]
            return json.dumps({"extract": last["extract"], "complete": last["complete"]}, sort_keys=True).encode()
        path = self._path(source, day.isoformat(), _COMPLETE)
        return path.read_bytes() if path.exists() else b""

    def sources(self) -> list[str]:
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.exists() else []

    def days(self, source: str) -> list[date]:
        folder = self._path(source)
        found = []
        for path in folder.iterdir() if folder.exists() else ():
            try:
                found.append(date.fromisoformat(path.name))
            except ValueError:
                continue
        return sorted(found)

    def warc_files(self, source: str, day: date) -> list[tuple[object, dict | None]]:
        """Every WARC file of a source and day with its index (None: not recorded, so not part of
        the archive: what a crash while publishing leaves)."""
        folder = self._path(source, day.isoformat())
        by_warc = {i["warc"]: i for i in self.day_indexes(source, day) if i["warc"]}
        if not folder.exists():
            return []
        return [(path, by_warc.get(path.name)) for path in sorted(folder.glob(f"*{WARC_SUFFIX}"), key=lambda p: p.name)
                if not path.name.startswith(".")]

    def _legacy_entries(self, source: str, day: date, kind: str) -> list[ArchivedResponse]:
        folder = self._path(source, day.isoformat(), kind)
        if not folder.exists():
            return []
        found = []
        for meta_path in folder.glob("*.json"):
            try:
                meta = json.loads(meta_path.read_bytes())
            except ValueError:  # cut short by a crash while written: the entry is incomplete
                log.warning("skipping unreadable archive metadata %s", meta_path)
                continue
            found.append(_archived(f"{source}/{day.isoformat()}/{kind}/{meta_path.stem}", meta))
        return found


class Filing:
    """One extract being written: a WARC in a local spool until `close` publishes it and its
    index. Not shared between threads (the pipeline archives responses as they arrive, on one)."""

    def __init__(self, archive: Archive, source: str, day: date, extract: str, info: dict):
        self.archive, self.source, self.day, self.extract = archive, source, day, extract
        self.records: list[dict] = []
        self.completed: dict | None = None
        self._keys: set[tuple[str, str]] = set()
        self._spool = tempfile.TemporaryFile(prefix="news-etl-warc-")
        self._writer = WARCWriter(self._spool, gzip=True, warc_version="1.1")
        self._writer.write_record(self._writer.create_warcinfo_record(f"{extract}{WARC_SUFFIX}", {
            "software": "news-etl (warcio)", "format": "WARC File Format 1.1",
            "news-etl-source": source, "news-etl-day": day.isoformat(), "news-etl-extract": extract, **info}))
        self._closed = False

    def __enter__(self) -> Filing:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
            return
        try:  # what was fetched before the failure is kept, as the old layout kept it
            self.close()
        except Exception:
            log.exception("%s %s: could not publish the archive of the failed extract", self.source, self.day)

    def ref(self, kind: str, key: str) -> str:
        return f"{self.source}/{self.day.isoformat()}/{self.extract}/{kind}/{key}"

    def put(self, kind: str, response: Response, feed_item: dict | None = None) -> str:
        """Add a response; pages are write-once per day (a page the day already holds, in this
        extract or an earlier one, is not added again and its ref is returned)."""
        key = _entry_key(kind, response)
        if (kind, key) in self._keys:
            return self.ref(kind, key)
        if kind == PAGES:
            held = self.archive.page_ref(self.source, self.day, response.url)
            if held and held.count("/") == 4 and f"/{self.extract}/" not in held:
                return held
        offset = self._spool.tell()
        self._write_exchange(kind, response, feed_item)
        record = {
            "key": key, "kind": kind, "url": response.url, "final_url": response.final_url,
            "status": response.status, "headers": response.headers,
            "fetched_at": response.fetched_at.isoformat(), "size": len(response.body),
            "sha256": hashlib.sha256(response.body).hexdigest(),
            "offset": offset, "length": self._response_length,
        }
        if feed_item is not None:
            record["feed_item"] = feed_item
        self.records.append(record)
        self._keys.add((kind, key))
        return self.ref(kind, key)

    def _write_exchange(self, kind: str, response: Response, feed_item: dict | None) -> None:
        w = self._writer
        warc_date = response.fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        headers = [(_ORIGINAL_PREFIX + k if k.lower() in _WIRE_HEADERS else k, v) for k, v in response.headers.items()
                   if k.lower() != "content-length"] + [("Content-Length", str(len(response.body)))]
        http = StatusAndHeaders(f"{response.status} {_reason(response.status)}", headers, protocol="HTTP/1.1")
        resp = w.create_warc_record(response.final_url, "response", payload=io.BytesIO(response.body),
                                    length=len(response.body), http_headers=http,
                                    warc_headers_dict={"WARC-Date": warc_date})
        start = self._spool.tell()
        w.write_record(resp)
        self._response_length = self._spool.tell() - start
        target = urlsplit(response.final_url)
        request = StatusAndHeaders(f"GET {target.path or '/'}{'?' + target.query if target.query else ''}",
                                   [("Host", target.netloc)], protocol="HTTP/1.1", is_http_request=True)
        resp_id = resp.rec_headers.get_header("WARC-Record-ID")
        w.write_record(w.create_warc_record(response.final_url, "request", http_headers=request,
                                            warc_headers_dict={"WARC-Date": warc_date, "WARC-Concurrent-To": resp_id}))
        meta = {"kind": kind, "url": response.url, "final_url": response.final_url,
                "fetched_at": response.fetched_at.isoformat(), "headers": response.headers}
        if feed_item is not None:
            meta["feed_item"] = feed_item
        body = json.dumps(meta, sort_keys=True).encode("utf-8")
        w.write_record(w.create_warc_record(response.final_url, "metadata", payload=io.BytesIO(body), length=len(body),
                                            warc_content_type="application/json",
                                            warc_headers_dict={"WARC-Date": warc_date, "WARC-Refers-To": resp_id}))

    def discard(self) -> None:
        """Drop the extract unpublished (a backfill's crawl file cut off halfway)."""
        self._closed = True
        self._spool.close()

    def complete(self, summary: dict) -> None:
        """This extract finished the day: its index says so once published."""
        self.completed = summary

    def close(self) -> None:
        """Publish the WARC, then its index (each whole or not at all). An extract with nothing in
        it leaves nothing. Closing twice is a no-op."""
        if self._closed:
            return
        self._closed = True
        try:
            if not self.records and self.completed is None:
                return
            folder = self.archive._path(self.source, self.day.isoformat())
            folder.mkdir(parents=True, exist_ok=True)
            warc_name = f"{self.extract}{WARC_SUFFIX}"
            self._spool.seek(0)
            _write_whole(folder / warc_name, self._spool)
            _write_whole(folder / f"{self.extract}{INDEX_SUFFIX}",
                         _index_bytes(warc_name, self.extract, self.records, self.completed))
            self.archive.forget(self.source, self.day)
        finally:
            self._spool.close()


def _index_bytes(warc: str | None, extract: str, records: list[dict], complete: dict | None) -> bytes:
    return json.dumps({"format": INDEX_FORMAT, "warc": warc, "extract": extract, "records": records,
                       "complete": complete, "closed_at": datetime.now(timezone.utc).isoformat()},
                      sort_keys=True, default=str).encode("utf-8")


def _archived(ref: str, meta: dict) -> ArchivedResponse:
    return ArchivedResponse(ref=ref, url=meta["url"], final_url=meta["final_url"], status=meta["status"],
                            headers=meta["headers"], fetched_at=datetime.fromisoformat(meta["fetched_at"]),
                            feed_item=meta.get("feed_item"))


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def iter_warc_records(stream, check_digests: bool = False) -> Iterator:
    """The records of a WARC stream (gzip per record or not), one at a time, never the file whole."""
    return iter(ArchiveIterator(stream, check_digests="raise" if check_digests else False))


def open_path(path, mode: str = "rb"):
    """Open an archive path as read_bytes and write_bytes do: through the path ObjectStoragePath
    wraps (its filesystem is the one attached at creation, with the connection's credentials;
    ObjectStoragePath.open asks Airflow's registry again, which lacks memory:// and others)."""
    return getattr(path, "__wrapped__", path).open(mode)


def _write_whole(path, data) -> None:
    """Write `data` (bytes, or a file to copy) to `path` whole or not at all: under a temporary
    name (which no listing matches), then renamed; a failed write removes what it left."""
    partial = path.parent / f".{path.name}.{uuid.uuid4().hex}.partial"
    try:
        if isinstance(data, bytes):
            partial.write_bytes(data)
        else:
            with open_path(partial, "wb") as out:
                shutil.copyfileobj(data, out, 1 << 20)
        partial.rename(path)
    except BaseException:
        try:
            if partial.exists():
                partial.unlink()
        except OSError:  # the disk that failed the write may fail this too; the name is never listed
            log.warning("could not remove the partial archive file %s", partial)
        raise
