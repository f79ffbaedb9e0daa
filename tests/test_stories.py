"""Stories across outlets: crafted articles through the load path (pipeline.load on staged rows of
several sources) into story clusters, and the signing and planning functions on their own."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import psycopg2
import pytest

from helpers import rows
from news_etl import pipeline, stories, warehouse
from news_etl.articles import content_hash
from news_etl.sources import load_source

DAY = date(2024, 3, 5)

# A wire story as the agency sent it; each outlet retitles it and trims or adds a paragraph.
WIRE = (
    "Port Aldous, Tuesday. The harbour council voted on Tuesday evening to raise the fees paid by "
    "container ships by a fifth from the first of May, after a debate that lasted four hours.",
    "The council's chair, Mira Odell, said the port had to pay for the dredging of the northern "
    "channel, which silted up again after the winter storms and now closes at low tide.",
    "Shipping lines that call at the port warned that the rise would push cargo to the rival "
    "terminal at Kestrel Bay, forty kilometres along the coast, where fees were frozen last year.",
    "Dock workers, whose union had asked for the vote to be delayed, gathered outside the town hall "
    "with banners, but the meeting was not interrupted and the police made no arrests.",
    "The new fees will be reviewed in a year, when the dredging contract ends, the council said in a "
    "statement published after the vote.",
)
# Another story on the same topic, in the same week, in other words.
OTHER = (
    "Port Aldous. Ferry passengers will pay less for parking at the harbour from June, the council "
    "decided on Thursday, as it tries to win back day visitors lost to the coastal railway.",
    "The car park by the ferry terminal, half empty most mornings, will charge two crowns an hour "
    "instead of five, and residents of the old town will park there free on weekends.",
    "Traders on the quay welcomed the change and said visitors had stayed away since the charge "
    "was raised two summers ago, when the new terminal building opened.",
)


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def record(source: str, slug: str, title: str, paragraphs, published: datetime) -> dict:
    url = f"https://{source}.example/news/{slug}"
    body = "\n\n".join(paragraphs)
    return {"identity": url, "url": url, "canonical_url": url, "title": title,
            "published_at": published.isoformat(), "authors": [], "language": "en", "body": body,
            "word_count": len(body.split()), "content_hash": content_hash(title, body)}


@pytest.fixture
def load(dsn, settings, write_file, monkeypatch):
    """load(source, records) stages the records (or one record) as passed for the source and loads them."""
    monkeypatch.setenv("NEWS_ETL_WATCH_TERMS", str(write_file("terms.yaml", "terms: []\n")))

    def run(source: str, records: list[dict] | dict, run_id: str | None = None) -> dict:
        records = [records] if isinstance(records, dict) else records
        src = load_source(write_file(f"{source}.yaml", f"name: {source}\ntimezone: UTC\n"
                                                       "feeds: [http://127.0.0.1:9/feed.xml]\n"))
        run_id = run_id or f"run-{uuid.uuid4().hex[:8]}"
        with warehouse.connect(dsn) as conn, conn.cursor() as cur:
            warehouse.stage_records(conn, run_id, source, DAY, records)
            cur.execute("UPDATE news.stage_article SET dq_status = 'passed' WHERE run_id = %s", (run_id,))
        return pipeline.load(src, pipeline.Run(run_id=run_id, day=DAY, dsn=dsn, settings=settings))

    return run


def clusters(dsn) -> list[tuple]:
    """Each cluster as (first source, headline, outlets, sorted member URLs), in a stable order."""
    return sorted(rows(dsn, """
        SELECT s.name, c.headline, c.outlets, array_agg(a.url ORDER BY a.url)
        FROM news.story_cluster c
        JOIN news.source s ON s.source_id = c.first_source_id
        JOIN news.story_member m USING (cluster_id)
        JOIN news.article a USING (article_id)
        GROUP BY c.cluster_id, s.name, c.headline, c.outlets"""), key=lambda c: c[3])


WIRE_COPIES = [
    ("agency", record("agency", "harbour-fees", "Harbour council raises ship fees by a fifth", WIRE,
                      utc(2024, 3, 5, 6, 0))),
    # retitled, last paragraph cut
    ("gazette", record("gazette", "port-fees-up", "Port Aldous: ships to pay 20% more", WIRE[:4],
                       utc(2024, 3, 5, 7, 30))),
    # retitled, first paragraph cut, a line of its own added at the end
    ("courier", record("courier", "fees", "Dock workers protest as fees rise",
                       WIRE[1:] + ("Read more on the harbour in our weekend edition.",), utc(2024, 3, 5, 9, 15))),
]
OTHER_STORY = ("gazette", record("gazette", "ferry-parking", "Cheaper parking for ferry passengers", OTHER,
                                 utc(2024, 3, 5, 11, 0)))


def test_a_wire_story_carried_by_three_outlets_is_one_story_and_another_on_the_topic_is_another(dsn, load):
    for source, rec in WIRE_COPIES + [OTHER_STORY]:
        load(source, [rec])
    assert clusters(dsn) == [
        ("agency", "Harbour council raises ship fees by a fifth", 3,
         sorted(r["url"] for _, r in WIRE_COPIES)),
        ("gazette", "Cheaper parking for ferry passengers", 1, [OTHER_STORY[1]["url"]]),
    ]
    # Reloading changes nothing: no row of the stories is written again.
    before = rows(dsn, "SELECT cluster_id, changed_at, articles FROM news.story_cluster ORDER BY 1")
    for source, rec in WIRE_COPIES + [OTHER_STORY]:
        load(source, [rec])
    assert rows(dsn, "SELECT cluster_id, changed_at, articles FROM news.story_cluster ORDER BY 1") == before


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_the_story_is_the_same_whichever_order_the_outlets_load(dsn, load, order):
    for i in order:
        load(*WIRE_COPIES[i])
    assert [(c[0], c[2], c[3]) for c in clusters(dsn)] == [("agency", 3, sorted(r["url"] for _, r in WIRE_COPIES))]


def test_an_article_that_joins_two_clusters_merges_them(dsn, load):
    # agency's first three paragraphs and courier's last three share one: two stories, until
    # gazette carries all five.
    head = record("agency", "a", "A", WIRE[:3], utc(2024, 3, 5, 6))
    tail = record("courier", "c", "C", WIRE[2:], utc(2024, 3, 5, 8))
    load("agency", [head])
    load("courier", [tail])
    assert len(clusters(dsn)) == 2
    load("gazette", [record("gazette", "b", "B", WIRE, utc(2024, 3, 5, 7))])
    assert [(c[0], c[2]) for c in clusters(dsn)] == [("agency", 3)]


def test_copies_published_beyond_the_window_are_other_stories(dsn, load):
    late = dict(WIRE_COPIES[1][1], published_at=(utc(2024, 3, 5, 6) + timedelta(days=stories.WINDOW_DAYS + 1))
                .isoformat())
    load(*WIRE_COPIES[0])
    load("gazette", [late])
    assert [c[2] for c in clusters(dsn)] == [1, 1]


def test_one_source_s_near_identical_pages_are_its_own_templates_not_one_story(dsn, load):
    load("agency", [WIRE_COPIES[0][1], record("agency", "harbour-fees-2", "Harbour fees, again", WIRE,
                                               utc(2024, 3, 5, 8))])
    assert [c[2] for c in clusters(dsn)] == [1, 1]


def test_an_edit_moves_the_article_to_the_story_it_now_tells(dsn, load):
    load(*WIRE_COPIES[0])
    load(*OTHER_STORY)
    # gazette rewrites its ferry article into a copy of the wire story
    edited = record("gazette", "ferry-parking", "Harbour fees up", WIRE, utc(2024, 3, 5, 11))
    load("gazette", [edited])
    assert [(c[0], c[2], c[3]) for c in clusters(dsn)] == [
        ("agency", 2, sorted([WIRE_COPIES[0][1]["url"], edited["url"]]))]


def test_two_loads_at_once_make_one_cluster_for_one_story(dsn, load):
    load("agency", [])  # the sources exist before the race
    load("gazette", [])
    errors = []
    barrier = threading.Barrier(2)

    def go(source, rec):
        try:
            barrier.wait(timeout=10)
            load(source, [rec])
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=go, args=WIRE_COPIES[i]) for i in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and not any(t.is_alive() for t in threads)
    assert [c[2] for c in clusters(dsn)] == [2]


class HeldStoryLock:
    """The story clusters' lock held by the test, so loads look for candidates and then queue for
    it; `wait_for(n)` returns once n sessions wait for it, `release()` commits what the test wrote."""

    def __init__(self, dsn):
        self.dsn = dsn
        self.conn = psycopg2.connect(dsn)
        self.cur = self.conn.cursor()
        self.cur.execute("SELECT pg_advisory_xact_lock(hashtext('news.story_clusters'))")

    def wait_for(self, sessions: int) -> None:
        deadline = time.monotonic() + 30
        # pg_locks is the server's: only this test's database counts (other workers share the server)
        while rows(self.dsn, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                             "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")[0][0] < sessions:
            if time.monotonic() > deadline:
                self.release()  # so the loads waiting end too
                raise AssertionError(f"{sessions} loads never queued for the story lock")
            time.sleep(0.05)

    def release(self) -> None:
        self.conn.commit()
        self.conn.close()


def in_threads(*calls) -> list:
    """Start each call in a thread; returns a join() that gives the errors raised."""
    errors, threads = [], []

    def go(call):
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - returned to the test
            errors.append(exc)

    for call in calls:
        threads.append(threading.Thread(target=go, args=(call,)))
        threads[-1].start()

    def join() -> list:
        for t in threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in threads)
        return errors

    return join


def test_a_copy_written_while_a_load_looked_for_candidates_is_found_under_the_lock(dsn, load):
    # Both loads look for candidates while the lock is held elsewhere, so neither sees the other's
    # article then; the second to get the lock must still find the first's among those written since.
    load("agency", [])
    load("gazette", [])
    held = HeldStoryLock(dsn)
    first = in_threads(lambda: load(*WIRE_COPIES[0]))
    held.wait_for(1)
    second = in_threads(lambda: load(*WIRE_COPIES[1]))
    held.wait_for(2)
    held.release()
    assert first() == [] and second() == []
    assert [(c[2], len(c[3])) for c in clusters(dsn)] == [(2, 2)]


def test_a_candidate_whose_story_was_merged_while_a_load_looked_joins_the_story_it_is_in_now(dsn, load):
    load(*WIRE_COPIES[0])
    load(*OTHER_STORY)
    (wire, other), = rows(dsn, "SELECT min(cluster_id), max(cluster_id) FROM news.story_cluster")
    held = HeldStoryLock(dsn)
    copy = in_threads(lambda: load(*WIRE_COPIES[2]))
    held.wait_for(1)  # the copy's load has found the agency's article in its story, and waits
    # what another load's merge does, committed before the copy's load gets the lock
    held.cur.execute("UPDATE news.story_member SET cluster_id = %s WHERE cluster_id = %s", (other, wire))
    held.cur.execute("DELETE FROM news.story_cluster WHERE cluster_id = %s", (wire,))
    held.release()
    assert copy() == []
    assert rows(dsn, "SELECT cluster_id, articles, outlets FROM news.story_cluster") == [(other, 3, 3)]


def test_short_bodies_are_stories_of_their_own():
    assert stories.signature("Breaking: fees rise.") is None
    assert stories.signature(" ".join(WIRE)) is not None


@pytest.mark.parametrize("a, b, same", [
    (WIRE, WIRE[:4], True),
    (WIRE, WIRE[1:] + ("Read more on the harbour in our weekend edition.",), True),
    (WIRE, OTHER, False),
    (WIRE[:2], WIRE[3:], False),
])
def test_similarity_of_bodies(a, b, same):
    sa, sb = stories.signature("\n".join(a)), stories.signature("\n".join(b))
    assert stories.same_story(sa, sb) is same
    shared = set(stories.band_keys(sa)) & set(stories.band_keys(sb))
    assert bool(shared) is same


def test_plan_clusters_is_connected_components_rooted_at_the_oldest_cluster():
    plan = stories.plan_clusters([10, 11, 12, 13], [(10, 5, 7), (10, 6, 3), (11, 12, None), (13, 99, 3)])
    assert plan.existing == {10: 3, 13: 3}
    assert plan.new == {11: 11, 12: 11}
    assert plan.merged == {7: 3}


def test_the_backfill_puts_articles_loaded_before_stories_into_the_same_stories_once(dsn, load, postgres,
                                                                                      monkeypatch, capsys):
    from news_etl import cli

    late = record("courier", "late", "Ferry parking, a week on", OTHER, utc(2024, 3, 12, 9))
    for source, rec in WIRE_COPIES + [OTHER_STORY, ("courier", late)]:
        load(source, [rec])
    loaded = clusters(dsn)
    # A warehouse loaded before migration 0040: its articles in no story (0040 made the tables empty).
    rows(dsn, "DELETE FROM news.story_cluster RETURNING cluster_id")
    assert rows(dsn, "SELECT count(*) FROM news.story_member") == [(0,)]

    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", postgres.airflow_uri(dsn.split("/")[3].split("?")[0]))
    # --since leaves the older articles out; batches of one article, each its own transaction
    assert cli.main(["stories", "backfill", "--since", "2024-03-06", "--batch", "1"]) == 0
    assert capsys.readouterr().out == "1 articles signed and put in stories\n"
    assert [c[3] for c in clusters(dsn)] == [[late["url"]]]
    assert warehouse.backfill_stories(dsn, batch=2) == 4
    capsys.readouterr()  # its log lines
    # the same stories as the loads made, the first outlet and the headline included
    assert clusters(dsn) == loaded
    before = rows(dsn, "SELECT cluster_id, changed_at, articles FROM news.story_cluster ORDER BY 1")
    assert cli.main(["stories", "backfill"]) == 0
    assert capsys.readouterr().out == "every article is in a story already\n"
    assert rows(dsn, "SELECT cluster_id, changed_at, articles FROM news.story_cluster ORDER BY 1") == before


def test_migration_0046_gives_each_stored_signature_its_band_keys(make_database, tmp_path):
    dsn, _ = make_database(migrate=False)
    before = tmp_path / "migrations"
    before.mkdir()
    for path in sorted(warehouse.MIGRATIONS_DIR.glob("*.sql")):
        if int(path.name[:4]) < 46:
            (before / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    warehouse.upgrade(dsn, before)
    sig = stories.signature(" ".join(WIRE))
    rows(dsn, """
        WITH s AS (INSERT INTO news.source (name, title, timezone, has_story_codes)
                   VALUES ('agency', 'Agency', 'UTC', false) RETURNING source_id),
             i AS (INSERT INTO news.article_identity (source_id, identity, published_at)
                   SELECT source_id, unnest(ARRAY['https://agency.example/a', 'https://agency.example/b']),
                          '2024-03-05T06:00Z' FROM s RETURNING article_id),
             c AS (INSERT INTO news.story_cluster DEFAULT VALUES RETURNING cluster_id)
        INSERT INTO news.story_member (article_id, cluster_id, content_hash, title, signature)
        SELECT i.article_id, c.cluster_id, 'h', 'A', CASE WHEN i.article_id = min(i.article_id) OVER () THEN %s END
        FROM i, c RETURNING article_id""", (sig,))
    assert warehouse.upgrade(dsn)[0] == "0046_story_band_keys.sql"
    assert rows(dsn, "SELECT band_keys FROM news.story_member ORDER BY article_id") == [
        (sorted(stories.band_keys(sig)),), (None,)]  # a body too short has no signature, and no band keys
