"""The news-etl command line: the parse-article / parse-feed JSON-lines contract, `db`, and the
conventions: --version, --json, exit statuses, bad input answered at once, no traceback in a pipe."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import socket
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from news_etl import INCLUDE_DIR, __version__, cli, local_run, warehouse
from news_etl.errors import ConfigError, NewsEtlError
from news_etl.sources import load_source
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


# --- conventions: version, exit statuses, JSON, pipes --------------------------------------------

def test_version(capsys):
    with pytest.raises(SystemExit) as exit:
        cli.main(["--version"])
    assert exit.value.code == 0 and capsys.readouterr().out == f"news-etl {__version__}\n"


@pytest.mark.parametrize("argv, code, error", [
    (["run", "--date", "2999-01-01"], cli.EXIT_USAGE, "news-etl: --date 2999-01-01: that day has not started in any "
                                                      "source's time zone\n"),
    (["run", "--date", "yesterday"], cli.EXIT_USAGE, "argument --date: invalid fromisoformat value: 'yesterday'"),
    (["dq", "report"], cli.EXIT_USAGE, "the following arguments are required: --date"),
])
def test_bad_arguments_are_usage_errors_at_once(argv, code, error, capsys):
    """Before anything starts (no Airflow, no warehouse): the answer comes at once."""
    try:
        got = cli.main(argv)
    except SystemExit as exit:  # argparse's own usage errors
        got = exit.code
    assert got == code
    err = capsys.readouterr().err
    assert err == error if err.startswith("news-etl:") else error in err


def test_sources_lists_the_good_and_leaves_out_a_broken_file_naming_file_and_key(tmp_path, monkeypatch, capsys):
    from news_etl.sources import DEFAULT_SOURCES_DIR

    copy = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES_DIR, copy)
    (copy / "broken.yaml").write_text("name: broken\ntimezone: Europe/Nowhere\nfeeds: [http://127.0.0.1:9/f]\n")
    monkeypatch.setenv("NEWS_ETL_SOURCES", str(copy))
    assert cli.main(["sources", "--json"]) == cli.EXIT_CONFIG
    listed = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in listed["sources"]] == sorted(p.stem for p in DEFAULT_SOURCES_DIR.glob("*.yaml"))
    assert listed["left_out"] == [{"file": "broken", "error": f"{copy / 'broken.yaml'}: key 'timezone': "
                                   "'Europe/Nowhere' is not an IANA time zone (e.g. Asia/Tehran)"}]
    # A copy of the sample list is served by the sample publishers, wherever it lives.
    assert local_run.uses_sample_publishers([load_source(p) for p in copy.glob("harbor-times.yaml")])
    assert not local_run.uses_sample_publishers([load_source(_plain_source(tmp_path))])


def test_sources_check_passes_every_source_list_of_the_repository(capsys):
    """CI's check of every list under include/sources (make test runs it): what plan would leave out."""
    lists = sorted(p for p in (INCLUDE_DIR / "sources").iterdir() if p.is_dir())
    assert cli.main(["sources", "check", *map(str, lists)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{d}: {len(list(d.glob('*.yaml')))} sources ok" for d in lists]


def test_sources_check_names_the_file_and_key_of_each_bad_source(tmp_path, capsys):
    from news_etl.sources import DEFAULT_SOURCES_DIR

    copy = tmp_path / "sources"
    shutil.copytree(DEFAULT_SOURCES_DIR, copy)
    (copy / "broken.yaml").write_text("name: broken\ntimezone: Europe/Nowhere\nfeeds: [http://127.0.0.1:9/f]\n")
    (copy / "twice.yaml").write_text((copy / "harbor-times.yaml").read_text())
    assert cli.main(["sources", "check", str(copy)]) == cli.EXIT_CONFIG
    out, err = capsys.readouterr()
    assert out == f"{copy}: {len(list(DEFAULT_SOURCES_DIR.glob('*.yaml')))} sources ok, 2 left out\n"
    assert err.splitlines() == [
        f"news-etl: {copy / 'broken.yaml'}: key 'timezone': 'Europe/Nowhere' is not an IANA time zone (e.g. Asia/Tehran)",
        f"news-etl: {copy / 'twice.yaml'}: key 'name': 'harbor-times' is already used by {copy / 'harbor-times.yaml'}"]


def _plain_source(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("name: plain\ntimezone: UTC\nfeeds: [https://news.example/feed.xml]\n")
    return path


def test_a_sample_port_in_use_is_a_one_line_error(monkeypatch, capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # bound, not listening: nothing answers, nobody else can bind
        port = taken.getsockname()[1]
        monkeypatch.setenv("NEWS_SAMPLE_PORT", str(port))
        assert cli.main(["sample-sites"]) == 1  # `make sample-sites`: NEWS_SAMPLE_PORT honoured
        (line,) = capsys.readouterr().err.splitlines()
        assert line.startswith(f"Cannot listen on 127.0.0.1:{port}: ") and "in use" in line
        with pytest.raises(NewsEtlError, match=rf"^cannot serve the sample publishers on 127.0.0.1:{port}: "
                                               r"Address already in use \(another program"):
            local_run.ensure_sample_sites({})
    monkeypatch.setenv("NEWS_SAMPLE_PORT", "80a")
    with pytest.raises(ConfigError, match="NEWS_SAMPLE_PORT='80a': expected a port number"):
        local_run.sample_port()


def test_dq_report_json(make_database, postgres, monkeypatch, capsys):
    _, name = make_database()
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", postgres.airflow_uri(name))
    with warehouse.connect(postgres.dsn(name)) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO news.dq_result (run_id, source, day, expectation, success, element_count, "
                    "unexpected_count, check_id, action) VALUES ('r', 'wire', '2024-03-01', "
                    "'expect_column_values_to_not_be_null', false, 10, 2, 'title_present', 'quarantine')")
    assert cli.main(["dq", "report", "--date", "2024-03-01", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [
        {"source": "wire", "status": "", "check_id": "title_present", "action": "quarantine", "success": False,
         "element_count": 10, "unexpected_count": 2, "observed_value": None, "data_docs": None}]


def test_no_traceback_when_the_reader_goes_away(tmp_path):
    """`news-etl parse-feed … | head -1`: the reader has gone before the first line is written."""
    feed = tmp_path / "feed.xml"
    feed.write_bytes(route("/tehran-wire/archive/2024/03/01/rss.xml", "http://127.0.0.1:8750", NOW).body)
    proc = subprocess.Popen([str(Path(sys.executable).with_name("news-etl")), "parse-feed", *[str(feed)] * 50],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err.decode()) == (cli.EXIT_FAILED, "")


def test_two_runs_of_one_day_at_once_the_second_is_a_clear_error(settings):
    with local_run._one_run_of(settings, date(2024, 3, 1)):
        with pytest.raises(NewsEtlError, match=r"^another `news-etl run` of 2024-03-01 is going \(pid \d+\)"):
            with local_run._one_run_of(settings, date(2024, 3, 1)):
                pass
        with local_run._one_run_of(settings, date(2024, 3, 2)):  # another day may run meanwhile
            pass
    with local_run._one_run_of(settings, date(2024, 3, 1)):  # and the day again once the first is done
        pass


def test_a_second_news_etl_run_of_a_day_going_exits_1_with_the_message(settings, postgres, make_database, tmp_path):
    # The real command path: the lock is taken before Airflow or the sample publishers are touched.
    _, name = make_database(migrate=False)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWS_"))}
    env.update(NEWS_ETL_STATE_DIR=str(settings.state_dir), AIRFLOW_HOME=str(tmp_path / "airflow"),
               AIRFLOW_CONN_NEWS_WAREHOUSE=postgres.airflow_uri(name),
               AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=postgres.sqlalchemy_url(name))
    with local_run._one_run_of(settings, date(2024, 3, 1)):
        second = subprocess.run([str(Path(sys.executable).with_name("news-etl")), "run", "--date", "2024-03-01"],
                                env=env, capture_output=True, text=True, timeout=300)
    assert second.returncode == 1, second.stdout + second.stderr
    assert "another `news-etl run` of 2024-03-01 is going (pid " in second.stderr, second.stderr
    assert "Traceback" not in second.stderr
