"""The raw archive: every fetched feed and page, kept immutably, partitioned by source and day.

Layout under the root: <source>/<YYYY-MM-DD>/<kind>/<key>.gz (the body, gzip) and <key>.json
(URL, final URL, status, headers, fetched_at). The metadata is written after the body, so an entry
without metadata is incomplete and never listed; `_complete.json` in a day's folder records that an
extract of that source and day finished. Every file is written under a temporary name and renamed
into place, so a failed write (disk full, read-only) leaves no file that a later run would take
for a stored page or a finished day. Everything downstream can be rebuilt from here.

The root is a local folder or any fsspec URL (s3://bucket/archive, gs://…, memory://…) through
Airflow's ObjectStoragePath, so workers on several machines can share one archive.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime

from news_etl.fetch import Response

log = logging.getLogger(__name__)

FEEDS = "feeds"
PAGES = "pages"
_COMPLETE = "_complete.json"


@dataclass(frozen=True)
class ArchivedResponse:
    ref: str               # "<source>/<day>/<kind>/<key>": the raw reference stored with every row
    url: str
    final_url: str
    status: int
    headers: dict[str, str]
    fetched_at: datetime
    feed_item: dict | None = None  # for pages: the feed item that announced the page


def page_key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:24]


class Archive:
    def __init__(self, root: str):
        from airflow.sdk import ObjectStoragePath  # here: importing Airflow takes seconds

        self.root = ObjectStoragePath(root)

    def _path(self, *parts: str):
        return self.root.joinpath(*parts)

    def put(self, source: str, day: date, kind: str, response: Response, feed_item: dict | None = None) -> str:
        """Store a response; pages are write-once per day (a second put of the same URL is a no-op)."""
        if kind == PAGES:
            key = page_key(response.url)
        else:
            stamp = response.fetched_at.strftime("%Y%m%dT%H%M%S%f")
            key = f"{stamp}-{page_key(response.url)[:12]}"
        ref = f"{source}/{day.isoformat()}/{kind}/{key}"
        meta_path = self._path(f"{ref}.json")
        if meta_path.exists():
            return ref
        meta = {
            "url": response.url,
            "final_url": response.final_url,
            "status": response.status,
            "headers": response.headers,
            "fetched_at": response.fetched_at.isoformat(),
            "size": len(response.body),
            "sha256": hashlib.sha256(response.body).hexdigest(),
        }
        if feed_item is not None:
            meta["feed_item"] = feed_item
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        _write_whole(self._path(f"{ref}.gz"), gzip.compress(response.body, compresslevel=5, mtime=0))
        _write_whole(meta_path, json.dumps(meta, sort_keys=True).encode("utf-8"))
        return ref

    def entries(self, source: str, day: date, kind: str) -> list[ArchivedResponse]:
        """Complete entries of one partition, oldest fetch first."""
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
            found.append(ArchivedResponse(
                ref=f"{source}/{day.isoformat()}/{kind}/{meta_path.stem}",
                url=meta["url"],
                final_url=meta["final_url"],
                status=meta["status"],
                headers=meta["headers"],
                fetched_at=datetime.fromisoformat(meta["fetched_at"]),
                feed_item=meta.get("feed_item"),
            ))
        return sorted(found, key=lambda e: (e.fetched_at, e.ref))

    def has_page(self, source: str, day: date, url: str) -> bool:
        return self._path(source, day.isoformat(), PAGES, f"{page_key(url)}.json").exists()

    def read(self, ref: str) -> bytes:
        return gzip.decompress(self._path(f"{ref}.gz").read_bytes())

    def mark_complete(self, source: str, day: date, summary: dict) -> None:
        """Record that an extract of this source and day finished (what a later run reuses)."""
        path = self._path(source, day.isoformat(), _COMPLETE)
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_whole(path, json.dumps(summary, sort_keys=True, default=str).encode("utf-8"))

    def is_complete(self, source: str, day: date) -> bool:
        return self._path(source, day.isoformat(), _COMPLETE).exists()

    def completion(self, source: str, day: date) -> bytes:
        """The record of the extract that last completed this source and day (rewritten by every
        complete extract, a refetch too), or b"" if none has."""
        path = self._path(source, day.isoformat(), _COMPLETE)
        return path.read_bytes() if path.exists() else b""


def _write_whole(path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all: under a temporary name (which no listing
    matches), then renamed; a failed write removes what it left."""
    partial = path.parent / f".{path.name}.{uuid.uuid4().hex}.partial"
    try:
        partial.write_bytes(data)
        partial.rename(path)
    except BaseException:
        try:
            if partial.exists():
                partial.unlink()
        except OSError:  # the disk that failed the write may fail this too; the name is never listed
            log.warning("could not remove the partial archive file %s", partial)
        raise
