"""The raw archive's layout before WARC, written as the pipeline wrote it until then (one gzip
body and one JSON per response, `_complete.json` for a finished day), so that the tests of what
reads the archive run on archives of both layouts (the `archive_layout` fixture)."""

from __future__ import annotations

import gzip
import hashlib
import json

from news_etl.archive import _entry_key, _write_whole


class LegacyFiling:
    """What Archive.filing returns, writing the old layout: every put is stored at once."""

    def __init__(self, archive, source, day, extract=None, info=None):
        self.archive, self.source, self.day = archive, source, day
        self.completed = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def put(self, kind, response, feed_item=None) -> str:
        ref = f"{self.source}/{self.day.isoformat()}/{kind}/{_entry_key(kind, response)}"
        meta_path = self.archive._path(f"{ref}.json")
        if meta_path.exists():
            return ref
        meta = {"url": response.url, "final_url": response.final_url, "status": response.status,
                "headers": response.headers, "fetched_at": response.fetched_at.isoformat(),
                "size": len(response.body), "sha256": hashlib.sha256(response.body).hexdigest()}
        if feed_item is not None:
            meta["feed_item"] = feed_item
        meta_path.parent.mkdir(parents=True, exist_ok=True)
        _write_whole(self.archive._path(f"{ref}.gz"), gzip.compress(response.body, compresslevel=5, mtime=0))
        _write_whole(meta_path, json.dumps(meta, sort_keys=True).encode("utf-8"))
        return ref

    def complete(self, summary: dict) -> None:
        self.completed = summary

    def close(self) -> None:
        if self.completed is not None:
            path = self.archive._path(self.source, self.day.isoformat(), "_complete.json")
            path.parent.mkdir(parents=True, exist_ok=True)
            _write_whole(path, json.dumps(self.completed, sort_keys=True, default=str).encode("utf-8"))
            self.completed = None

