"""Faults of WARC input: a crawl file of the CC-NEWS backfill with a truncated gzip member, a
record whose payload is not what its digest says, a record far larger than any page, and a
corrupted record in the raw archive's own WARC, which `archive verify` must name."""

from __future__ import annotations

import dataclasses
import gc
import gzip
import io
import tracemalloc
from datetime import date, datetime, timezone
from pathlib import Path

from model import Outcome, Scenario
from warcio.archiveiterator import ArchiveIterator

from ccnews_crawl import CrawledPage, CrawlServer, crawl_warc, file_name
from news_etl import ccnews
from news_etl.archive import PAGES, Archive
from news_etl.archive_tools import verify
from news_etl.articles import parse_article
from news_etl.errors import NewsEtlError
from news_etl.fetch import Fetcher, Response
from news_etl.settings import Settings
from news_etl.sources import load_source

WARC = "WARC input: nothing corrupt filed, nothing good lost"
DAY = date(2024, 3, 1)
FETCHED = datetime(2024, 3, 1, 15, tzinfo=timezone.utc)


def _page(base: str, n: int) -> CrawledPage:
    body = (f"<html><head><title>Story {n}</title><meta property='article:published_time' "
            f"content='2024-03-01T10:{n:02d}:00+00:00'></head><body><article><p>{'Words of the story. ' * 40}"
            f"</p></article></body></html>").encode()
    return CrawledPage(f"{base}/wire/story-{n}", FETCHED, body)


def _setup(work_dir: Path, **changes):
    crawl = CrawlServer()
    source_file = work_dir / "wire.yaml"
    source_file.write_text(f"name: wire\ntitle: Wire\ntimezone: UTC\nfeeds:\n  - {crawl.base}/wire/feed.xml\n")
    settings = dataclasses.replace(Settings.from_env(), state_dir=work_dir, archive_root=str(work_dir / "archive"),
                                   allow_hosts=("127.0.0.1",), retries=0, **changes)
    return crawl, load_source(source_file), settings


def _filed(settings: Settings) -> list[str]:
    return [e.url for e in Archive(settings.archive_root).entries("wire", DAY, PAGES)]


def _members(pages: list[CrawledPage]) -> list[bytes]:
    """The crawl file's gzip members: warcinfo, then request and response per page."""
    data, members = crawl_warc(pages), []
    stream = ArchiveIterator(io.BytesIO(data))
    for _ in stream:
        stream.read_to_end()
        offset, length = stream.member_info
        members.append(data[offset:offset + length])
    return members


def truncated_gzip_member(work_dir: Path, dsn: str) -> Outcome:
    """The third page's response member of a crawl file ends halfway (a broken upload): the file
    is an error naming it and the byte reached, nothing of it is filed, and once the file is
    whole again a re-run files every page once."""
    crawl, source, settings = _setup(work_dir)
    try:
        pages = [_page(crawl.base, n) for n in range(6)]
        members = _members(pages)
        broken = members[:5] + [members[5][:len(members[5]) // 2]] + members[6:]  # member 5: page 2's response
        (path,) = crawl.publish_month(2024, 3, {file_name(datetime(2024, 3, 1, 20), 1): b"".join(broken)})
        try:
            ccnews.backfill([source], DAY, DAY, settings, "truncated-1", base=crawl.base)
            error = ""
        except NewsEtlError as exc:
            error = str(exc)
        filed_first = _filed(settings)
        crawl.files[f"/{path}"] = b"".join(members)
        ccnews.backfill([source], DAY, DAY, settings, "truncated-2", base=crawl.base)
        filed = _filed(settings)
    finally:
        crawl.close()
    expected = sorted(p.url for p in pages)
    named = path.rsplit("/", 1)[-1] in error and "could not be read past byte" in error
    return Outcome(fault="ccnews-truncated-gzip-member", fetch_outcome="failed" if error else "ok", reason=error,
                   ok=named and filed_first == [], loaded=len(filed),
                   rows_lost=len(set(expected) - set(filed)), rows_duplicated=len(filed) - len(set(filed)),
                   detail=f"first read: {error[:120]}; re-run filed {len(filed)} of {len(expected)}")


def bad_payload_digest(work_dir: Path, dsn: str) -> Outcome:
    """One record's WARC-Payload-Digest does not match its payload (bit rot, a bad copy): that
    page is not filed; the others are."""
    crawl, source, settings = _setup(work_dir)
    try:
        pages = [_page(crawl.base, n) for n in range(5)]
        # The second page's body altered after the digest was computed, in its own gzip member.
        members = _members(pages)
        response = gzip.decompress(members[3])
        members[3] = gzip.compress(response.replace(b"Story 1<", b"Story X<"))
        crawl.publish_month(2024, 3, {file_name(datetime(2024, 3, 1, 20), 1): b"".join(members)})
        (outcome,) = ccnews.backfill([source], DAY, DAY, settings, "digest-1", base=crawl.base)
        filed = _filed(settings)
    finally:
        crawl.close()
    good = sorted(p.url for p in pages if not p.url.endswith("story-1"))
    return Outcome(fault="ccnews-bad-payload-digest", fetch_outcome=f"bad_digest={outcome['bad_digest']}",
                   ok=outcome["bad_digest"] == 1 and sorted(filed) == good, loaded=len(filed),
                   rows_lost=len(set(good) - set(filed)), rows_duplicated=len(filed) - len(set(filed)),
                   detail=f"{outcome['bad_digest']} record not filed, {len(filed)} filed")


def huge_record(work_dir: Path, dsn: str) -> Outcome:
    """A 64 MB record (zeros: a few hundred KB compressed) among pages, with a 1 MiB response
    cap: not kept, never held whole; the pages around it are filed."""
    crawl, source, settings = _setup(work_dir, max_response_bytes=1 << 20)
    try:
        pages = [_page(crawl.base, n) for n in range(4)]
        huge = CrawledPage(f"{crawl.base}/wire/huge", FETCHED, b"\0" * (64 << 20))
        data = crawl_warc(pages[:2] + [huge] + pages[2:])
        del huge
        crawl.publish_month(2024, 3, {file_name(datetime(2024, 3, 1, 20), 1): data})
        # What the first backfill imports (Airflow's object storage, the parsers) is not its reading.
        Archive(settings.archive_root).day_indexes("wire", DAY)
        parse_article(pages[0].body, url=pages[0].url, source=source)
        with Fetcher(settings) as fetcher:
            ccnews.crawl_files(crawl.base, DAY, DAY, fetcher)
        tracing = tracemalloc.is_tracing()  # (the matrix may trace already: its peak is reset here)
        tracemalloc.start()
        gc.collect()
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]  # (what the test's own setup still holds)
        (outcome,) = ccnews.backfill([source], DAY, DAY, settings, "huge-1", base=crawl.base)
        peak = tracemalloc.get_traced_memory()[1] - before  # the backfill's own peak
        if not tracing:
            tracemalloc.stop()
        filed = _filed(settings)
    finally:
        crawl.close()
    good = sorted(p.url for p in pages)
    return Outcome(fault="ccnews-huge-record", fetch_outcome=f"too_large={outcome['too_large']}",
                   ok=outcome["too_large"] == 1 and sorted(filed) == good and peak < 16 << 20,
                   loaded=len(filed), peak_memory_mb=peak / 2**20, rows_lost=len(set(good) - set(filed)),
                   rows_duplicated=len(filed) - len(set(filed)),
                   detail=f"not kept; peak {peak / 2**20:.1f} MB while streaming it")


def archive_record_corrupted(work_dir: Path, dsn: str) -> Outcome:
    """A byte of a page in the raw archive's WARC changed on disk (the gzip member rewritten, so
    only the digest can tell): `archive verify` names the file and the record; a whole one passes."""
    archive = Archive(str(work_dir / "archive"))
    with archive.filing("wire", DAY) as filing:
        for n in range(3):
            filing.put(PAGES, Response(url=f"https://wire.example/{n}", final_url=f"https://wire.example/{n}",
                                       status=200, headers={"content-type": "text/html"},
                                       body=f"<html>story {n}</html>".encode(), fetched_at=FETCHED, elapsed_ms=1))
    clean = verify(archive)
    (index,) = archive.day_indexes("wire", DAY)
    record = index["records"][1]
    path = work_dir / "archive" / "wire" / DAY.isoformat() / index["warc"]
    data = path.read_bytes()
    member = gzip.decompress(data[record["offset"]:record["offset"] + record["length"]])
    rewritten = gzip.compress(member.replace(b"story 1", b"story 7"))
    path.write_bytes(data[:record["offset"]] + rewritten + data[record["offset"] + record["length"]:])
    checked, problems = verify(Archive(str(work_dir / "archive")))
    named = len(problems) >= 1 and all(index["warc"] in p for p in problems) and "digest" in problems[0] \
        and "urn:uuid:" in problems[0]
    return Outcome(fault="archive-warc-record-corrupted", fetch_outcome="named" if named else "missed",
                   ok=clean == (1, []) and named, reason=problems[0] if problems else "",
                   detail=(problems[0] if problems else "verify found nothing")[:160])


SCENARIOS = [
    Scenario("ccnews-truncated-gzip-member", WARC, "the file's error names it and the byte; nothing of it filed; "
             "the re-run files each page once", truncated_gzip_member),
    Scenario("ccnews-bad-payload-digest", WARC, "that record not filed, the others are", bad_payload_digest),
    Scenario("ccnews-huge-record", WARC, "not kept, never held whole (peak < 16 MB)", huge_record),
    Scenario("archive-warc-record-corrupted", WARC, "archive verify names the file and the record",
             archive_record_corrupted),
]
