"""The news-etl command line: the parse-article / parse-feed JSON-lines contract, and `db`."""

from __future__ import annotations

import gzip
import io
import json
from datetime import date, datetime, timezone

from news_etl import cli, warehouse
from news_etl.sample_sites.publishers import articles_for
from news_etl.sample_sites.server import route

NOW = datetime(2024, 3, 3, tzinfo=timezone.utc)


def lines(capsys) -> list[dict]:
    return [json.loads(ln) for ln in capsys.readouterr().out.splitlines()]


def test_parse_article_contract_with_rules_gz_and_a_failure(tmp_path, capsys):
    seed_like = articles_for("tehran-wire", date(2024, 3, 1))[-1]
    page = tmp_path / "page.html.gz"
    page.write_bytes(gzip.compress(route(seed_like.path, "http://127.0.0.1:8750", NOW).body))
    empty = tmp_path / "empty.html"
    empty.write_bytes(b"")

    code = cli.main(["parse-article", "--source", "tehran-wire", str(page), str(empty)])

    first, second = lines(capsys)
    assert code == 1  # one file failed, the other was still parsed
    assert list(first) == ["path", "title", "published_at", "published_at_offset_known", "story_code", "authors", "body", "language",
                           "canonical_url", "error"]
    assert first["path"] == str(page)
    assert (first["title"], first["published_at"], first["story_code"], first["error"]) == (
        seed_like.title, "2024-03-01T23:49:00+03:30", "1119706", None)
    assert first["body"] == seed_like.body
    assert second["path"] == str(empty) and "empty page" in second["error"]


def test_parse_article_reads_paths_from_stdin_with_the_generic_extractor(tmp_path, capsys, monkeypatch):
    truth = articles_for("harbor-times", date(2024, 3, 1))[0]
    page = tmp_path / "h.html"
    page.write_bytes(route(truth.path, "http://127.0.0.1:8750", NOW).body)
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{page}\n"))
    assert cli.main(["parse-article", "-"]) == 0
    (out,) = lines(capsys)
    assert (out["title"], out["published_at"], out["authors"]) == (
        truth.title, truth.published_at.isoformat(), list(truth.authors))
    assert out["canonical_url"] == "http://127.0.0.1:8750" + truth.path


def test_parse_feed_lines_per_item_and_an_error_line(tmp_path, capsys):
    feed = tmp_path / "feed.xml"
    feed.write_bytes(route("/tehran-wire/archive/2024/03/01/rss.xml", "http://127.0.0.1:8750", NOW).body)
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<html><body>no</body></html>")
    assert cli.main(["parse-feed", str(feed), str(broken)]) == 1
    *items, error = lines(capsys)
    truth = articles_for("tehran-wire", date(2024, 3, 1))
    assert [i["link"] for i in items] == ["http://127.0.0.1:8750" + a.path for a in reversed(truth)]
    assert items[0] == {"path": str(feed), "title": truth[-1].title, "link": "http://127.0.0.1:8750" + truth[-1].path,
                        "guid": truth[-1].story_code, "published_at": "2024-03-01T20:19:00+00:00",
                        "published_at_offset_known": True}
    assert error["path"] == str(broken) and "not an RSS, RDF or Atom feed" in error["error"]


def test_db_upgrade_and_url_use_the_configured_connection(make_database, postgres, monkeypatch, capsys):
    _, name = make_database(migrate=False)
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", postgres.airflow_uri(name))
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["db", "upgrade"]) == 0
    assert cli.main(["db", "url"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "applied: " + ", ".join(name for _, name, _ in warehouse.migration_files())
    assert out[1] == "warehouse schema is up to date"
    assert f"dbname={name}" in out[2]


def test_unknown_source_is_a_clear_error(capsys, tmp_path):
    assert cli.main(["parse-article", "--source", "no-such-site", str(tmp_path / "x.html")]) == 2
    assert "source 'no-such-site' not found" in capsys.readouterr().err
