"""`make bench-warc`: reading CC-NEWS-like WARC files filtered by host, and the raw archive's
objects per source and day.

Writes generated crawl WARC files with warcio as Common Crawl writes them (WARC/1.0, a gzip
member per record, request and response records; pages of ~120 KB of HTML, words of the
sample publishers' drawn at random, so they compress about as real news pages do, 3-4x), of which 1% are on hosts of
the configured sources, serves them from 127.0.0.1 and runs the backfill's reading of each file
(news_etl.ccnews.file_crawl_warc: the fetcher's stream, warcio's iterator, the host filter, the
kept pages parsed for their date and filed). Prints MB/s of compressed input per CPU second of
this process (the HTTP server runs in the same process: its time is counted too, so the figure
is a floor); then the same files from disk read and filtered the same way without HTTP (the
target: >= 50 MB/s per core), beside warcio's own ArchiveIterator over them (the peer); and the
archive's objects per source and day after a 200-page extract. Exits 1 below 50 MB/s per core,
when a page of the source is missed, or above 2 objects per source and day.

    .venv/bin/python tests/bench/bench_warc.py [--files N] [--mb-per-file M] [--seed S]
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import tempfile
import time
from datetime import date, datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ccnews_crawl import CrawledPage, CrawlServer, crawl_warc, file_name  # noqa: E402
from warcio.archiveiterator import ArchiveIterator  # noqa: E402

from news_etl import ccnews  # noqa: E402
from news_etl.archive import PAGES, Archive  # noqa: E402
from news_etl.fetch import Fetcher, Response  # noqa: E402
from news_etl.sample_sites.text import GENERAL_SENTENCES  # noqa: E402
from news_etl.settings import Settings  # noqa: E402
from news_etl.sources import load_source  # noqa: E402

DAY = date(2024, 3, 1)


VOCABULARY = sorted({w for sentence in GENERAL_SENTENCES for w in sentence.split()})


def _page_html(rng: random.Random, n: int, size: int) -> bytes:
    """A page of `size` bytes: words drawn at random (so it compresses about 3-4x, as real news
    HTML with its markup and scripts does, not 10x as repeated sentences would)."""
    words, length = [], 0
    while length < size:
        word = rng.choice(VOCABULARY) if rng.random() < 0.9 else f"{rng.getrandbits(32):08x}"
        words.append(word)
        length += len(word) + 1
    return (f"<html><head><title>Story {n}</title><meta property='article:published_time' "
            f"content='2024-03-01T10:00:00+00:00'></head><body><article><p>{' '.join(words)}</p></article>"
            f"</body></html>").encode()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--mb-per-file", type=float, default=40)
    parser.add_argument("--seed", type=int, default=19)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-warc-"))
    crawl = CrawlServer()
    source_file = work / "wire.yaml"
    source_file.write_text(f"name: wire\ntitle: Wire\ntimezone: UTC\nfeeds:\n  - {crawl.base}/wire/feed.xml\n")
    source = load_source(source_file)
    settings = dataclasses.replace(Settings.from_env(), state_dir=work, archive_root=str(work / "archive"),
                                   allow_hosts=("127.0.0.1",), retries=0, obey_robots=False)

    files, compressed, pages_total, kept_expected = {}, 0, 0, 0
    bodies = [_page_html(rng, n, 120_000) for n in range(50)]  # 50 distinct pages, reused with new URLs
    for number in range(1, args.files + 1):
        pages, size = [], 0
        while size < args.mb_per_file * 1e6 * 4:  # (~4x compression)
            on_source = rng.random() < 0.01
            host = f"{crawl.base}/wire" if on_source else f"https://outlet{rng.randrange(5000)}.example"
            pages.append(CrawledPage(f"{host}/story-{number}-{len(pages)}", datetime(2024, 3, 1, 12, tzinfo=timezone.utc),
                                     bodies[len(pages) % len(bodies)]))
            kept_expected += on_source
            size += len(pages[-1].body)
        data = crawl_warc(pages)
        files[file_name(datetime(2024, 3, 1, 20), number)] = data
        compressed += len(data)
        pages_total += len(pages)
    crawl.publish_month(2024, 3, files)
    print(f"{args.files} files, {compressed / 1e6:.1f} MB compressed, {pages_total} pages, "
          f"{kept_expected} on the source's host")

    archive = Archive(settings.archive_root)
    with Fetcher(settings) as fetcher:
        urls = ccnews.crawl_files(crawl.base, DAY, DAY, fetcher)
        cpu, wall, kept = time.process_time(), time.monotonic(), 0
        for url in urls:
            kept += ccnews.file_crawl_warc(url, [source], DAY, DAY, archive, fetcher, settings).kept
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    crawl.close()
    backfill_rate = compressed / 1e6 / cpu
    print(f"backfill reading (HTTP stream, filter, file): {backfill_rate:.0f} MB/s per CPU second "
          f"({cpu:.2f} s CPU, {wall:.2f} s wall), {kept} pages filed")

    # The same files from disk, read and filtered as the backfill does, without HTTP (whose server
    # shares this process above), then warcio's own iterator over them: the peer.
    paths = []
    for name, data in files.items():
        paths.append(work / name)
        paths[-1].write_bytes(data)
    by_host, cpu, kept_on_disk = ccnews.hosts_of([source]), time.process_time(), 0
    for path in paths:
        with open(path, "rb") as stream:
            members = ccnews.GzipMembers(stream)
            for head in members:
                if ccnews.source_of(ccnews._warc_header(head, b"WARC-Target-URI") or "", by_host) is None:
                    members.skip()
                elif ccnews._warc_header(head, b"WARC-Type") == "response":
                    kept_on_disk += members.take(settings.max_response_bytes) is not None
    filter_rate = compressed / 1e6 / (time.process_time() - cpu)
    print(f"reading and filtering by host, files on disk: {filter_rate:.0f} MB/s per CPU second "
          f"({kept_on_disk} records kept)")
    cpu = time.process_time()
    for path in paths:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, no_record_parse=True):
                record.rec_headers.get_header("WARC-Target-URI")
    peer = compressed / 1e6 / (time.process_time() - cpu)
    print(f"peer, warcio's ArchiveIterator over the same files (headers only): {peer:.0f} MB/s per CPU second")

    with archive.filing("wire", date(2024, 3, 2)) as filing:
        for n in range(200):
            filing.put(PAGES, Response(url=f"https://wire.example/{n}", final_url=f"https://wire.example/{n}",
                                       status=200, headers={"content-type": "text/html"}, body=bodies[n % 50],
                                       fetched_at=datetime(2024, 3, 2, 12, tzinfo=timezone.utc), elapsed_ms=1))
        filing.complete({"articles_fetched": 200})
    objects = sorted(p.name for p in (work / "archive" / "wire" / "2024-03-02").iterdir())
    print(f"archive objects for one source and day of 200 pages: {len(objects)} ({', '.join(objects)}); "
          f"the layout before WARC: 401")
    ok = filter_rate >= 50 and kept == kept_expected == kept_on_disk and len(objects) <= 2
    print("OK" if ok else "BELOW TARGET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
