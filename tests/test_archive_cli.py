"""`news-etl archive`: list per source and day, export a day as one WARC, verify records and
digests (exit 1 naming the file and the record), convert days of the layout before WARC."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime, timezone

from warcio.archiveiterator import ArchiveIterator

from legacy_archive import LegacyFiling
from news_etl.archive import FEEDS, PAGES, Archive
from news_etl.cli import main
from news_etl.fetch import Response

DAY, OLD_DAY = date(2024, 3, 1), date(2024, 2, 1)


def _response(url: str, body: bytes, hour: int = 12) -> Response:
    return Response(url=url, final_url=url, status=200, headers={"content-type": "text/html"}, body=body,
                    fetched_at=datetime(2024, 3, 1, hour, tzinfo=timezone.utc), elapsed_ms=5)


def test_list_export_verify_and_convert(settings, tmp_path, capsys):
    archive = Archive(settings.archive_root)
    with archive.filing("wire", DAY) as filing:  # a partial extract, then the one completing the day
        filing.put(FEEDS, _response("https://wire.example/feed", b"<rss/>", 11))
        filing.put(PAGES, _response("https://wire.example/1", b"<html>1</html>"))
    with archive.filing("wire", DAY) as filing:
        filing.put(PAGES, _response("https://wire.example/2", b"<html>2</html>", 13))
        filing.complete({"articles_fetched": 2})
    with LegacyFiling(archive, "wire", OLD_DAY) as old:
        old.put(PAGES, _response("https://wire.example/0", b"<html>0</html>"))
        old.complete({"articles_fetched": 1})

    assert main(["archive", "list", "--json"]) == 0
    listed = {(r["source"], r["day"]): r for r in json.loads(capsys.readouterr().out)}
    assert {k: (r["pages"], r["feeds"], r["warc_files"], r["complete"], r["legacy"]) for k, r in listed.items()} == {
        ("wire", "2024-02-01"): (1, 0, 0, True, True), ("wire", "2024-03-01"): (2, 1, 2, True, False)}

    exported = tmp_path / "day.warc.gz"
    assert main(["archive", "export", "--source", "wire", "--date", "2024-03-01", "-o", str(exported)]) == 0
    with open(exported, "rb") as stream:
        responses = [(r.rec_headers.get_header("WARC-Target-URI"), r.content_stream().read())
                     for r in ArchiveIterator(stream, check_digests="raise") if r.rec_type == "response"]
    assert responses == [("https://wire.example/feed", b"<rss/>"), ("https://wire.example/1", b"<html>1</html>"),
                         ("https://wire.example/2", b"<html>2</html>")]
    assert main(["archive", "export", "--source", "wire", "--date", "2024-01-01", "-o", str(exported)]) == 1
    assert "holds nothing of wire on 2024-01-01" in capsys.readouterr().err

    assert main(["archive", "convert"]) == 0
    assert "wire 2024-02-01: 1 responses converted" in capsys.readouterr().out
    archive = Archive(settings.archive_root)
    (page,) = archive.entries("wire", OLD_DAY, PAGES)  # once, though in both layouts now
    assert archive.read(page.ref) == b"<html>0</html>" and archive.is_complete("wire", OLD_DAY)
    assert len(archive.warc_files("wire", OLD_DAY)) == 1

    assert main(["archive", "verify"]) == 0
    capsys.readouterr()
    # A byte of page 2 changed inside its gzip member: only the digests can tell.
    (index,) = [i for i in archive.day_indexes("wire", DAY) if i["complete"]]
    record = index["records"][0]
    path = tmp_path / "state" / "archive" / "wire" / "2024-03-01" / index["warc"]
    data = path.read_bytes()
    member = gzip.decompress(data[record["offset"]:record["offset"] + record["length"]])
    path.write_bytes(data[:record["offset"]] + gzip.compress(member.replace(b"<html>2", b"<html>3"))
                     + data[record["offset"] + record["length"]:])
    assert main(["archive", "verify", "--source", "wire"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out and all(line.startswith(f"wire/2024-03-01/{index['warc']}: record <urn:uuid:") for line in out)
    assert any("payload digest failed" in line for line in out) and any("block digest failed" in line for line in out)
