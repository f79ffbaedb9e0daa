"""The raw archive: every fetched feed and page, kept immutably, partitioned by source and day.

Layout: <root>/<source>/<YYYY-MM-DD>/<kind>/<key>.gz (the body, gzip) and <key>.json (URL, final URL,
status, headers, fetched_at). The metadata file is written last and atomically, so a listing never
sees a half-written entry. Everything downstream of extract can be rebuilt from here.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from news_etl.fetch import Response

FEEDS = "feeds"
PAGES = "pages"


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
    def __init__(self, root: Path | str):
        self.root = Path(root)

    def put(self, source: str, day: date, kind: str, response: Response, feed_item: dict | None = None) -> str:
        """Store a response; pages are write-once per day (a second put of the same URL is a no-op)."""
        if kind == PAGES:
            key = page_key(response.url)
        else:
            stamp = response.fetched_at.strftime("%Y%m%dT%H%M%S%f")
            key = f"{stamp}-{page_key(response.url)[:12]}"
        ref = f"{source}/{day.isoformat()}/{kind}/{key}"
        meta_path = self.root / f"{ref}.json"
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
        _write_atomically(self.root / f"{ref}.gz", gzip.compress(response.body, compresslevel=5, mtime=0))
        _write_atomically(meta_path, json.dumps(meta, sort_keys=True).encode("utf-8"))
        return ref

    def entries(self, source: str, day: date, kind: str) -> list[ArchivedResponse]:
        """Complete entries of one partition, oldest fetch first."""
        folder = self.root / source / day.isoformat() / kind
        if not folder.is_dir():
            return []
        found = []
        for meta_path in folder.glob("*.json"):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            found.append(
                ArchivedResponse(
                    ref=f"{source}/{day.isoformat()}/{kind}/{meta_path.stem}",
                    url=meta["url"],
                    final_url=meta["final_url"],
                    status=meta["status"],
                    headers=meta["headers"],
                    fetched_at=datetime.fromisoformat(meta["fetched_at"]),
                    feed_item=meta.get("feed_item"),
                )
            )
        return sorted(found, key=lambda e: (e.fetched_at, e.ref))

    def has_page(self, source: str, day: date, url: str) -> bool:
        return (self.root / source / day.isoformat() / PAGES / f"{page_key(url)}.json").exists()

    def read(self, ref: str) -> bytes:
        return gzip.decompress((self.root / f"{ref}.gz").read_bytes())


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
