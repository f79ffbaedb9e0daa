"""The dimensional model through the load path (pipeline.load on staged rows): article history,
partitions and identity, watched terms, language-aware search, the 0001 data move, and the
analysts' read-only role."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone

import psycopg2
import pytest

from helpers import rows
from news_etl import pipeline, warehouse
from news_etl.articles import content_hash
from news_etl.sources import load_source

TERMS = """
terms:
  - name: North Korea
    kind: place
    aliases: [DPRK, Pyongyang]
  - name: United States
    aliases: [U.S.]
"""


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def record(identity: str, title: str, body: str, published: datetime, *, updated: datetime | None = None,
           url: str | None = None, language: str = "en") -> dict:
    """A staged row as transform makes it (story identity = canonical URL)."""
    canonical = f"https://wire.example/{identity}"
    return {"identity": canonical, "url": url or canonical, "canonical_url": canonical, "title": title,
            "published_at": published.isoformat(), "updated_at": updated.isoformat() if updated else None,
            "authors": ["Åsa Lindqvist"], "language": language, "body": body, "word_count": len(body.split()),
            "content_hash": content_hash(title, body)}


@pytest.fixture
def load(dsn, settings, write_file, monkeypatch):
    """load(run_id, day, records) stages the records as passed and runs pipeline.load on them."""
    monkeypatch.setenv("NEWS_ETL_WATCH_TERMS", str(write_file("terms.yaml", TERMS)))
    source = load_source(write_file("wire.yaml", "name: wire\ntimezone: UTC\nfeeds: [http://127.0.0.1:9/feed.xml]\n"))

    def run(run_id: str, day: date, records: list[dict]) -> tuple[int, int]:
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            warehouse.stage_records(conn, run_id, "wire", day, records)
            cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s", (run_id,))
        counts = pipeline.load(source, pipeline.Run(run_id=run_id, day=day, dsn=dsn, settings=settings))
        return counts["loaded_new"], counts["loaded_updated"]

    return run


BODY_A1 = "North Korea said on Friday it had tested a missile. Officials in Pyongyang gave no details."
BODY_A2 = "The DPRK said on Friday it had tested a new missile over the sea."
BODY_B = "Harbour fees rise again in Port Aldous, where the council met on Friday evening."


def history(dsn) -> list[tuple]:
    """(identity, version, title, valid_from, valid_to) of every version."""
    return [(i.rsplit("/", 1)[1], *rest) for i, *rest in rows(dsn, """
        SELECT i.identity, v.version, v.title, v.valid_from, v.valid_to
        FROM news.article_version v JOIN news.article_identity i USING (article_id)
        ORDER BY i.identity, v.version""")]


def articles(dsn) -> list[tuple]:
    """(identity, partition, title, published_at, collected_day) of every article."""
    return [(i.rsplit("/", 1)[1], *rest) for i, *rest in rows(dsn, """
        SELECT identity, tableoid::regclass::text, title, published_at, collected_day
        FROM news.article ORDER BY identity""")]


def mentions(dsn) -> list[tuple]:
    return [(i.rsplit("/", 1)[1], *rest) for i, *rest in rows(dsn, """
        SELECT i.identity, t.name, m.mentions, m.published_at
        FROM news.article_mention m JOIN news.watch_term t USING (term_id)
        JOIN news.article_identity i USING (article_id) ORDER BY 1, 2""")]


def test_an_article_keeps_every_version_and_an_old_day_never_undoes_an_edit(dsn, load):
    a1 = record("a", "Missile test", BODY_A1, utc(2024, 3, 1, 10))
    b = record("b", "Harbour fees", BODY_B, utc(2024, 3, 31, 23))
    assert load("r1", date(2024, 3, 1), [a1, b]) == (2, 0)
    assert articles(dsn) == [("a", "news.article_2024_03", "Missile test", utc(2024, 3, 1, 10), date(2024, 3, 1)),
                             ("b", "news.article_2024_03", "Harbour fees", utc(2024, 3, 31, 23), date(2024, 3, 1))]
    assert history(dsn) == [("a", 1, "Missile test", utc(2024, 3, 1, 10), None),
                            ("b", 1, "Harbour fees", utc(2024, 3, 31, 23), None)]
    assert mentions(dsn) == [("a", "North Korea", 2, utc(2024, 3, 1, 10))]

    # The same day again: nothing is written.
    before = rows(dsn, "SELECT * FROM news.article ORDER BY article_id")
    assert load("r1-again", date(2024, 3, 1), [a1, b]) == (0, 0)
    assert rows(dsn, "SELECT * FROM news.article ORDER BY article_id") == before

    # The next day brings an edit of a (at another URL, same canonical URL): a new version, valid
    # from the page's modification time; mentions counted on the new text.
    a2 = record("a", "Missile test confirmed", BODY_A2, utc(2024, 3, 1, 10), updated=utc(2024, 3, 2, 8),
                url="https://wire.example/a?rev=2")
    assert load("r2", date(2024, 3, 2), [a2]) == (0, 1)
    assert history(dsn)[:2] == [("a", 1, "Missile test", utc(2024, 3, 1, 10), utc(2024, 3, 2, 8)),
                                ("a", 2, "Missile test confirmed", utc(2024, 3, 2, 8), None)]
    assert rows(dsn, "SELECT title, url, updated_at, last_changed_run_id FROM news.article "
                     "WHERE url LIKE 'https://wire.example/a?%%'") \
        == [("Missile test confirmed", "https://wire.example/a?rev=2", utc(2024, 3, 2, 8), "r2")]
    assert mentions(dsn) == [("a", "North Korea", 1, utc(2024, 3, 1, 10))]
    assert rows(dsn, "SELECT count(*) FROM news.article "
                     "WHERE search_vector @@ news.search_query('confirmed')") == [(1,)]

    # A backfill of the first day brings the old page again: it is older than the edit, so nothing.
    assert load("backfill-r1", date(2024, 3, 1), [a1]) == (0, 0)
    assert [v[:2] for v in history(dsn)] == [("a", 1), ("a", 2), ("b", 1)]

    # b's publication time is corrected into April (same text), collected on April 1st (partitions
    # are made only for months inside a run's window): the row moves to April's partition with its
    # mentions; no new version. a goes back to its first text on a later day: version 3.
    b_moved = record("b", "Harbour fees", BODY_B, utc(2024, 4, 1, 1))
    a3 = record("a", "Missile test", BODY_A1, utc(2024, 3, 1, 10))
    assert load("r3", date(2024, 4, 1), [b_moved, a3]) == (0, 2)
    assert articles(dsn) == [
        ("a", "news.article_2024_03", "Missile test", utc(2024, 3, 1, 10), date(2024, 4, 1)),
        ("b", "news.article_2024_04", "Harbour fees", utc(2024, 4, 1, 1), date(2024, 4, 1))]
    (_, _, _, a3_from, _), = [v for v in history(dsn) if v[:2] == ("a", 3)]
    assert [v for v in history(dsn) if v[0] == "a"] == [
        ("a", 1, "Missile test", utc(2024, 3, 1, 10), utc(2024, 3, 2, 8)),
        ("a", 2, "Missile test confirmed", utc(2024, 3, 2, 8), a3_from),
        ("a", 3, "Missile test", a3_from, None)]
    assert a3_from > utc(2024, 3, 2, 8)  # no modification time on the page: the load's time
    assert [v[:2] for v in history(dsn) if v[0] == "b"] == [("b", 1)]
    assert rows(dsn, "SELECT published_at FROM news.article_identity WHERE identity = 'https://wire.example/b'") == [
        (utc(2024, 4, 1, 1),)]
    assert mentions(dsn) == [("a", "North Korea", 2, utc(2024, 3, 1, 10))]


def test_identity_is_unique_across_partitions(dsn, load):
    load("r1", date(2024, 3, 1), [record("a", "Missile test", BODY_A1, utc(2024, 3, 1, 10))])
    (article_id, source_id, identity), = rows(dsn, "SELECT article_id, source_id, identity FROM news.article")
    with pytest.raises(psycopg2.errors.UniqueViolation):
        rows(dsn, "INSERT INTO news.article_identity (source_id, identity, published_at) VALUES (%s, %s, now())",
             (source_id, identity))
    # A second row of the same story in another month's partition cannot exist: the story is
    # filed under one publication time.
    rows(dsn, "SELECT news.add_article_months('2024-02-01', '2024-02-01')")
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        rows(dsn, "INSERT INTO news.article (article_id, source_id, identity, url, canonical_url, title, published_at,"
                  " authors, body, word_count, content_hash, collected_day, search_config, search_vector, first_run_id,"
                  " last_changed_run_id) SELECT article_id, source_id, identity, url, canonical_url, title,"
                  " published_at - interval '1 month', authors, body, word_count, content_hash, collected_day,"
                  " search_config, search_vector, first_run_id, last_changed_run_id FROM news.article")


def test_partitions_and_calendar_days_are_made_as_needed(dsn, load):
    assert rows(dsn, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'news.article'::regclass") == [(0,)]
    load("r1", date(2024, 3, 1), [record("a", "Leap day story", BODY_A1, utc(2024, 2, 29, 23, 30)),
                                  record("b", "Harbour fees", BODY_B, utc(2024, 3, 1, 0, 15))])
    assert rows(dsn, "SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'news.article'::regclass "
                     "ORDER BY 1") == [("news.article_2024_02",), ("news.article_2024_03",)]
    assert rows(dsn, "SELECT tableoid::regclass::text, published_day FROM news.article ORDER BY published_at") == [
        ("news.article_2024_02", date(2024, 2, 29)), ("news.article_2024_03", date(2024, 3, 1))]
    # Days outside the calendar's first years are added with their month.
    load("r2", date(1999, 12, 31), [record("c", "Millennium eve", BODY_B, utc(1999, 12, 31, 12))])
    assert rows(dsn, "SELECT min(day), max(day), count(*) FROM news.calendar_date WHERE day < '2000-01-01'") == [
        (date(1999, 12, 1), date(1999, 12, 31), 31)]
    assert rows(dsn, "SELECT day_name, iso_week, month_start, is_weekend FROM news.calendar_date "
                     "WHERE day = '1999-12-31'") == [("Friday", 52, date(1999, 12, 1), False)]


def test_watched_terms_are_counted_whole_words_and_recounted_when_the_file_changes(dsn, load, write_file):
    text = ("North Korea and north\nkorea, the DPRK's envoy, the U.S. and the US: "
            "North Koreans, dprkx and UxSx do not count. Pyongyang-based.")
    load("r1", date(2024, 3, 1), [record("a", "Talks with the DPRK", text, utc(2024, 3, 1, 10))])
    assert mentions(dsn) == [("a", "North Korea", 5, utc(2024, 3, 1, 10)),
                             ("a", "United States", 1, utc(2024, 3, 1, 10))]

    # "United States" loses its alias, "North Korea" gains one, "Iran" is new, a load recounts all.
    write_file("terms.yaml", """
terms:
  - name: North Korea
    aliases: [DPRK, Pyongyang, North Koreans]
  - name: United States
  - name: Iran
""")
    assert load("r2", date(2024, 3, 2), []) == (0, 0)
    assert mentions(dsn) == [("a", "North Korea", 6, utc(2024, 3, 1, 10))]
    assert rows(dsn, "SELECT name, kind, aliases FROM news.watch_term ORDER BY name") == [
        ("Iran", "topic", ["Iran"]), ("North Korea", "topic", ["North Korea", "DPRK", "Pyongyang", "North Koreans"]),
        ("United States", "topic", ["United States"])]

    write_file("terms.yaml", "terms: []")
    load("r3", date(2024, 3, 3), [])
    assert mentions(dsn) == [] and rows(dsn, "SELECT count(*) FROM news.watch_term") == [(0,)]


def test_search_stems_each_article_in_its_language(dsn, load):
    load("r1", date(2024, 3, 1), [
        record("en", "Elections called", "The government called early elections for the spring. " * 3,
               utc(2024, 3, 1, 9)),
        record("de", "Neuwahlen angekündigt",
               "Die Regierung hat vorgezogene Wahlen für den Frühling angekündigt. " * 3,
               utc(2024, 3, 1, 10), language="de-AT"),
        record("xx", "Kuulutus", "Hallitus kuulutti ennenaikaiset vaalit keväälle. " * 3,
               utc(2024, 3, 1, 11), language="xx"),
    ])
    assert rows(dsn, "SELECT identity, search_config FROM news.article ORDER BY identity") == [
        ("https://wire.example/de", "german"), ("https://wire.example/en", "english"),
        ("https://wire.example/xx", "simple")]

    def search(terms: str) -> list[str]:
        with warehouse.connect(dsn) as conn:
            _, found = warehouse.run_query(conn, "search_articles", terms=terms, since="2024-03-01", limit=10)
        return [title for _, _, title, _ in found]

    assert search("election") == ["Elections called"]          # English stem
    assert search("wahl") == ["Neuwahlen angekündigt"]          # German stem
    assert search("vaalit") == ["Kuulutus"]                     # no stemming: the word itself
    assert search('"early elections" -spring') == []
    assert search("government or regierung") == ["Neuwahlen angekündigt", "Elections called"]


def test_articles_of_0001_move_into_the_model(make_database, tmp_path):
    dsn, _ = make_database(migrate=False)
    first = tmp_path / "first"
    first.mkdir()
    (first / "0001_initial.sql").write_text((warehouse.MIGRATIONS_DIR / "0001_initial.sql").read_text())
    warehouse.upgrade(dsn, first)
    rows(dsn, """
        INSERT INTO news.source (name, title, timezone, has_story_codes) VALUES ('wire', 'Wire', 'UTC', true);
        INSERT INTO news.etl_run (run_id, source, day) VALUES ('r1', 'wire', '2024-03-02');
        INSERT INTO news.article (article_id, source_id, identity, story_code, url, canonical_url, title, published_at,
                                  authors, language, body, word_count, content_hash, first_run_id, last_changed_run_id)
        VALUES (41, 1, '1000001', '1000001', 'https://w/1', 'https://w/1', 'Old title', '2024-03-01 23:30+00', '{}',
                'en', 'Old body words', 3, 'h', 'r1', 'r1');
        SELECT 1""")
    assert warehouse.upgrade(dsn) == [name for _, name, _ in warehouse.migration_files()[1:]]
    assert rows(dsn, "SELECT article_id, tableoid::regclass::text, identity, title, collected_day, search_config "
                     "FROM news.article") == [(41, "news.article_2024_03", "1000001", "Old title", date(2024, 3, 2),
                                               "english")]
    assert rows(dsn, "SELECT article_id, version, title, valid_from, valid_to FROM news.article_version") == [
        (41, 1, "Old title", utc(2024, 3, 1, 23, 30), None)]
    assert rows(dsn, "INSERT INTO news.article_identity (source_id, identity, published_at) "
                     "VALUES (1, 'new', now()) RETURNING article_id") == [(42,)]


@pytest.fixture
def analyst_dsn(dsn, postgres):
    """A login role in news_analyst, as an analyst would get; dropped afterwards."""
    name = f"analyst_{uuid.uuid4().hex[:8]}"
    rows(dsn, f"CREATE ROLE {name} LOGIN IN ROLE news_analyst; SELECT 1")
    yield dsn.replace("postgresql://postgres@", f"postgresql://{name}@")
    rows(dsn, f"DROP ROLE {name}; SELECT 1")


def test_analysts_read_everything_and_write_nothing(dsn, load, analyst_dsn):
    load("r1", date(2024, 3, 1), [record("a", "Missile test", BODY_A1, utc(2024, 3, 1, 10))])
    for relation in ("article", "article_2024_03", "article_version", "article_identity", "article_mention",
                     "watch_term", "source", "calendar_date", "daily_volume", "source_health", "dq_daily",
                     "term_daily", "etl_run", "feed_fetch", "quarantine", "dq_result", "stage_article"):
        assert rows(analyst_dsn, f"SELECT count(*) >= 0 FROM news.{relation}") == [(True,)], relation
    with warehouse.connect(analyst_dsn) as conn:
        assert warehouse.run_query(conn, "search_articles", terms="missile", since="2024-03-01", limit=5)[1] == [
            ("wire", date(2024, 3, 1), "Missile test", "https://wire.example/a")]
    for statement in (
        "INSERT INTO news.watch_term (name, kind, aliases, pattern) VALUES ('x', 'topic', '{x}', 'x')",
        "UPDATE news.article SET title = 'changed'",
        "UPDATE news.article_2024_03 SET title = 'changed'",
        "DELETE FROM news.article_version",
        "TRUNCATE news.etl_run",
        "CREATE TABLE news.mine (x int)",
        "CREATE VIEW news.mine AS SELECT 1",
        "SELECT news.add_article_months(now(), now())",
    ):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            rows(analyst_dsn, statement)
    assert rows(dsn, "SELECT title FROM news.article") == [("Missile test",)]



def test_canonical_urls_migration_makes_one_story_of_every_spelling(make_database, settings, write_file, monkeypatch,
                                                                    tmp_path):
    """A warehouse loaded before 0041, with URLs as the old code kept them (as written), is
    migrated; then the same pages, loaded again by today's code, add nothing."""
    from news_etl.urls import normalize_url

    dsn, _ = make_database(migrate=False)
    before = tmp_path / "migrations"
    before.mkdir()
    # and the later migrations today's load code needs that 0041 does not touch (0046 story band
    # keys, 0050 the offset-known column of staging, 0051 the order story members were written in)
    for path in warehouse.MIGRATIONS_DIR.glob("*.sql"):
        if int(path.name[:4]) < 41 or int(path.name[:4]) in (46, 50, 51):
            (before / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    warehouse.upgrade(dsn, before)
    monkeypatch.setenv("NEWS_ETL_WATCH_TERMS", str(write_file("terms.yaml", TERMS)))
    source = load_source(write_file("wire.yaml", "name: wire\ntimezone: UTC\nfeeds: [http://127.0.0.1:9/feed.xml]\n"))

    def load_as(spelling, run_id: str, day: date, pages: list[tuple[str, str, str, datetime]]) -> int:
        records = [dict(record("x", title, body, published), identity=spelling(url), url=spelling(url),
                        canonical_url=spelling(url)) for url, title, body, published in pages]
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            warehouse.stage_records(conn, run_id, "wire", day, records)
            cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s", (run_id,))
        return pipeline.load(source, pipeline.Run(run_id=run_id, day=day, dsn=dsn, settings=settings))["loaded_new"]

    raw = ("https://wire.example/news/1/خبر", "North Korea tests a missile", BODY_A1, utc(2024, 3, 1, 10))
    encoded = ("https://wire.example/news/1/%d8%ae%d8%a8%d8%b1",) + raw[1:]  # one story, the feed's other spelling
    dots = ("https://wire.example/a/./b/../harbour", "Harbour fees", BODY_B, utc(2024, 3, 1, 11))
    tilde = ("https://wire.example/%7Eeditor/missile", "The DPRK again", BODY_A2, utc(2024, 3, 1, 12))
    as_written = lambda url: url  # noqa: E731 - what the old normalize_url did to these
    assert load_as(as_written, "old-1", date(2024, 3, 1), [raw, dots, tilde]) == 3
    assert load_as(as_written, "old-2", date(2024, 3, 2), [encoded]) == 1  # the story split in two
    assert rows(dsn, "SELECT count(*) FROM news.article") == [(4,)]

    assert warehouse.upgrade(dsn) == [name for version, name, _ in warehouse.migration_files() if version >= 41 and version not in (46, 50, 51)]
    canonical = ["https://wire.example/%7Eeditor/missile".replace("%7E", "~"), "https://wire.example/a/harbour",
                 "https://wire.example/news/1/%D8%AE%D8%A8%D8%B1"]
    assert rows(dsn, "SELECT identity, url, canonical_url FROM news.article ORDER BY identity") == \
        [(u, u, u) for u in sorted(canonical)]
    assert rows(dsn, "SELECT identity, dropped_url FROM news.identity_merge") == [(canonical[2], encoded[0])]

    # Every spelling is now known (not fetched again) and loads as the story it is.
    with warehouse.connect(dsn) as conn:
        assert warehouse.known_urls(conn, "wire", [normalize_url(p[0]) for p in (raw, encoded, dots, tilde)]) == \
            set(canonical)
    assert load_as(normalize_url, "new-1", date(2024, 3, 1), [raw, dots, tilde]) == 0
    assert load_as(normalize_url, "new-2", date(2024, 3, 2), [encoded]) == 0
    assert rows(dsn, "SELECT count(*), count(DISTINCT identity) FROM news.article") == [(3, 3)]
    assert rows(dsn, "SELECT count(*) FROM news.article_version") == [(3,)]
    assert rows(dsn, "SELECT count(*), sum(articles) FROM news.story_cluster") == [(3, 3)]  # one story each
