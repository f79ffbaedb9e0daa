"""What `news-etl archive` does with the raw archive: list it per source and day, export a day as
one WARC file, verify every WARC (each record readable, its block and payload digests right, the
index in step with the file), and convert days of the layout before WARC."""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed

from news_etl.archive import FEEDS, PAGES, Archive, open_path
from news_etl.fetch import Response


@dataclass(frozen=True)
class DayListing:
    source: str
    day: date
    pages: int
    feeds: int
    warc_files: int
    complete: bool
    legacy: bool  # holds entries of the layout before WARC


def listing(archive: Archive, source: str | None = None) -> list[DayListing]:
    rows = []
    for name in [source] if source else archive.sources():
        for day in archive.days(name):
            pages, feeds = archive.entries(name, day, PAGES), archive.entries(name, day, FEEDS)
            rows.append(DayListing(name, day, len(pages), len(feeds),
                                   sum(1 for _, index in archive.warc_files(name, day) if index),
                                   archive.is_complete(name, day),
                                   any(e.ref.count("/") == 3 for e in pages + feeds)))
    return rows


def export_day(archive: Archive, source: str, day: date, out) -> int:
    """Write a source's day as one WARC stream to `out` (the day's recorded WARC files one after
    the other: gzip members concatenate; entries of the old layout converted on the way). Returns
    the number of responses."""
    count = 0
    for path, index in archive.warc_files(source, day):
        if index is None:
            continue  # not recorded: not part of the archive
        with open_path(path, "rb") as stream:
            shutil.copyfileobj(stream, out, 1 << 20)
        count += len(index["records"])
    legacy = [e for kind in (FEEDS, PAGES) for e in archive.entries(source, day, kind) if e.ref.count("/") == 3]
    if legacy:
        filing = archive.filing(source, day, extract="export")
        for entry in legacy:
            filing.put(PAGES if f"/{PAGES}/" in entry.ref else FEEDS, _response(archive, entry), entry.feed_item)
        filing._spool.seek(0)
        shutil.copyfileobj(filing._spool, out, 1 << 20)
        filing.discard()
        count += len(legacy)
    return count


def convert_day(archive: Archive, source: str, day: date) -> int:
    """Write a day's entries of the old layout into one WARC extract of that day (`converted`),
    marked complete when the old layout's day was. The old files stay (raw data is not deleted);
    readers then see each page once (the WARC's and the old one are the same page)."""
    legacy = [e for kind in (FEEDS, PAGES) for e in archive.entries(source, day, kind) if e.ref.count("/") == 3]
    if not legacy:
        return 0
    was_complete = archive.is_complete(source, day)
    with archive.filing(source, day, extract="converted", info={"news-etl-converted-from": "gzip+json layout"}) as filing:
        for entry in legacy:
            filing.put(PAGES if f"/{PAGES}/" in entry.ref else FEEDS, _response(archive, entry), entry.feed_item)
        if was_complete:
            filing.complete({"converted": len(legacy)})
    return len(legacy)


def _response(archive: Archive, entry) -> Response:
    return Response(url=entry.url, final_url=entry.final_url, status=entry.status, headers=entry.headers,
                    body=archive.read(entry.ref), fetched_at=entry.fetched_at, elapsed_ms=0)


def verify_stream(stream, name: str) -> Iterator[str]:
    """The problems of one WARC stream, each naming the file, the record and its offset: a record
    that cannot be read (a truncated or corrupt gzip member, bad headers) ends the file."""
    records = ArchiveIterator(stream, check_digests=True)
    record_id, offset = None, 0
    try:
        for record in records:
            offset = records.get_record_offset() if records.member_info else records.offset
            record_id = record.rec_headers.get_header("WARC-Record-ID")
            while record.raw_stream.read(1 << 16):
                pass
            if record.digest_checker.passed is False:
                for problem in record.digest_checker.problems:
                    yield f"{name}: record {record_id} at offset {offset}: {problem}"
    except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
        after = f" after record {record_id}" if record_id else ""
        yield f"{name}: unreadable{after} (byte {records.offset}): {type(exc).__name__}: {exc}"


def verify(archive: Archive, source: str | None = None, day: date | None = None) -> tuple[int, list[str]]:
    """(WARC files checked, problems) of the archive, or of one source or day."""
    checked, problems = 0, []
    for name in [source] if source else archive.sources():
        for d in [day] if day else archive.days(name):
            for path, index in archive.warc_files(name, d):
                label = f"{name}/{d.isoformat()}/{path.name}"
                if index is None:
                    continue  # a WARC no index records (a crash while publishing): not part of the archive
                checked += 1
                with open_path(path, "rb") as stream:
                    problems.extend(verify_stream(stream, label))
                problems.extend(_index_problems(path, index, label))
    return checked, problems


def _index_problems(path, index: dict, label: str) -> Iterator[str]:
    """Every record the index lists is a response record for that URL at that offset."""
    with open_path(path, "rb") as stream:
        for record in index["records"]:
            stream.seek(record["offset"])
            member = stream.read(record["length"])
            try:
                found = next(iter(ArchiveIterator(io.BytesIO(member))), None)
            except (ArchiveLoadFailed, OSError, EOFError, ValueError) as exc:
                yield f"{label}: index entry {record['key']} (offset {record['offset']}): unreadable: {exc}"
                continue
            if found is None or found.rec_type != "response" or \
                    found.rec_headers.get_header("WARC-Target-URI") != record["final_url"]:
                yield f"{label}: index entry {record['key']} (offset {record['offset']}) is not the response for " \
                      f"{record['final_url']}"

