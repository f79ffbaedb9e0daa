"""The quality gate through the real pipeline: crafted pages served on 127.0.0.1, a real PostgreSQL.
For each check, the exact rows quarantined and why; good rows of the same batch load; a blocked
source leaves the warehouse unchanged while others load; suite files fail clearly."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import SAMPLE_NOW
from helpers import CHROMEDRIVER, CHROMIUM, headless_chromium, rows
from news_etl import PROJECT_DIR, cli, data_docs, pipeline, quality
from news_etl.errors import ConfigError, NewsEtlError
from news_etl.quality import QualityGateError
from news_etl.sample_sites.publishers import BAD_DAY, articles_for
from news_etl.sources import load_source
from news_etl.suites import DEFAULT_SUITES_DIR, load_suite, suite_files
from sites import Page

DAY = date(2024, 3, 1)
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)  # 15:30 in Tehran

SOURCE = """
name: crafted
title: Crafted Times
timezone: Asia/Tehran
language: en
crawl_delay: 0
feeds: [{feed}]
story_codes: {{pattern: '\\d{{7}}', url: '/news/(\\d+)'}}
rules:
  title: //h1
  published: {{xpath: '//div[@class="date"]', format: '%d %B %Y %H:%M'}}
  story_code: {{xpath: '//div[@class="code"]', regex: 'Code: (\\d+)'}}
  body: //div[@class="body"]
"""
BODY = " ".join(["Words of a real article body that goes on long enough to count."] * 4)
LOGIN_WALL = " ".join(["Subscribe to continue reading this article and every other one."] * 4)


def page(when: str | None, code: str | None = None, title: str | None = "A fine headline", body: str = BODY,
         lang: str = "en", canonical: str | None = None) -> bytes:
    parts = [f'<html lang="{lang}"><head>']
    if canonical:
        parts.append(f'<link rel="canonical" href="{canonical}">')
    parts.append("</head><body>")
    if title:
        parts.append(f"<h1>{title}</h1>")
    if when:
        parts.append(f'<div class="date">{when}</div>')
    if code:
        parts.append(f'<div class="code">Code: {code}</div>')
    parts.append(f'<div class="body"><p>{body}</p></div></body></html>')
    return "".join(parts).encode()


def rss(site, items: list[tuple[str, str | None]]) -> bytes:
    xml = "".join(f"<item><title></title><link>{site.url(path)}</link>"
                  + (f"<pubDate>{pub}</pubDate>" if pub else "") + "</item>" for path, pub in items)
    return f'<rss version="2.0"><channel><title>c</title>{xml}</channel></rss>'.encode()


@pytest.fixture
def suites(tmp_path, monkeypatch):
    """The project's suites, plus an override for the crafted source (written by each test)."""
    directory = tmp_path / "expectations"
    shutil.copytree(DEFAULT_SUITES_DIR, directory)
    monkeypatch.setenv("NEWS_ETL_SUITES", str(directory))

    def override(text: str) -> None:
        (directory / "sources" / "crafted.yaml").write_text(text)

    return override


def crafted(site, write_file, pages: dict[str, tuple[bytes, str | None]]):
    """Serve `pages` ({path: (html, feed pubDate)}) and their feed; return the source."""
    for path, (html, _) in pages.items():
        site.pages[path] = Page(html)
    site.pages["/feed.xml"] = Page(rss(site, [(p, pub) for p, (_, pub) in pages.items()]))
    return load_source(write_file("crafted.yaml", SOURCE.format(feed=site.url("/feed.xml"))))


def run_until_check(source, run) -> None:
    pipeline.extract(source, run, now=NOW)
    pipeline.transform(source, run)
    pipeline.check(source, run, now=NOW)


def quarantined(dsn) -> dict[str, list[tuple]]:
    return {url.rsplit("/", 1)[1]: sorted((r["check"], r["observed"]) for r in reasons)
            for url, reasons in rows(dsn, "SELECT url, reasons FROM news.quarantine")}


def test_each_check_quarantines_exactly_its_rows_and_good_rows_load(dsn, settings, site, write_file, suites):
    suites("thresholds: {max_failed_ratio: 1.0}\n")  # see every row's fate; blocking is tested below
    big_title = "Long " * 70
    source = crafted(site, write_file, {
        # path: (page, the feed's date for the item)
        "/news/1000001": (page("1 March 2024 08:00", "1000001"), None),                       # good
        "/news/1000002": (page("1 March 2024 08:10", "1000002"), None),                       # good
        "/story/no-code": (page("1 March 2024 08:20"), None),
        "/news/1000004": (page("1 March 2024 08:30", "1000005"), None),                       # not the URL's code
        "/news/1000006": (page("1 March 2024 08:40", "1000006"), None),                       # good (dup code below)
        "/story/dup-code": (page("1 March 2024 08:50", "1000006"), None),
        "/news/1000100": (page("1 March 2024 15:00", "1000100"), "Wed, 28 Feb 2024 21:00:00 GMT"),
        "/news/1000009": (page("1 March 2024 09:10", "1000009", title="Crafted Times"), None),
        "/news/1000010": (page("1 March 2024 09:20", "1000010", title=big_title), None),
        "/news/1000011": (page("1 March 2024 09:30", "1000011", body="Too short to be news."), None),
        "/news/1000012": (page("1 March 2024 09:40", "1000012", body=LOGIN_WALL), None),
        "/news/1000013": (page("1 March 2024 09:50", "1000013", lang="fr"), None),
        "/news/1000014": (page("1 March 2024 10:00", "1000014", canonical="ftp://files.example/x"), None),
        "/news/1000015": (page("1 January 2018 10:00", "1000015"), None),
        "/news/1000016": (page("1 March 2024 23:00", "1000016"), None),                       # after NOW
        "/news/1000017": (page("1 March 2024 10:10", "1000017", title=None), None),
        "/news/1000099": (page("1 March 2024 10:20", "1000099"), None),                       # out of order
        "/news/1000018": (page("1 March 2024 10:30", "1000018"), None),
        "/news/1000019": (b"", None),                                                          # not a page
        "/news/1000020": (page("1 March 2024 10:50", "1000020", canonical="/news/1000021"), None),
        "/news/1000021": (page("1 March 2024 11:00", "1000021"), None),                       # same canonical
    })
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    run_until_check(source, run)
    counts = pipeline.load(source, run)

    assert quarantined(dsn) == {
        "no-code": [("story_code_present", None)],
        "1000004": [("story_code_matches_url", False)],
        "1000006": [("story_code_unique", "1000006")],
        "dup-code": [("story_code_unique", "1000006")],
        "1000100": [("published_at_matches_feed", 38.5)],
        "1000009": [("title_not_site_name", True)],
        "1000010": [("title_length", big_title.strip())],
        "1000011": [("body_long_enough", 5)],
        "1000012": [("body_not_boilerplate", True)],
        "1000013": [("language_expected", "fr")],
        "1000014": [("canonical_url_is_http", "ftp://files.example/x")],
        # A wrong date also puts the story code out of line with its neighbours' dates.
        "1000015": [("published_at_in_collected_days", "2018-01-01 06:30:00+00:00"),
                    ("story_code_in_publication_order", 11)],
        "1000016": [("published_at_not_in_future", "2024-03-01 19:30:00+00:00"),
                    ("story_code_in_publication_order", 6)],
        "1000017": [("title_present", None)],
        "1000099": [("story_code_in_publication_order", 4)],  # 14th by date, 18th by code
        "1000019": [("page_parsed", f"{site.url('/news/1000019')}: empty page"), ("published_at_present", None),
                    ("story_code_present", None), ("title_present", None)],
        "1000020": [("canonical_url_unique", site.url("/news/1000021"))],
        "1000021": [("canonical_url_unique", site.url("/news/1000021"))],
    }
    loaded = sorted(code for (code,) in rows(dsn, "SELECT story_code FROM news.article"))
    assert loaded == ["1000001", "1000002", "1000018"]
    assert counts["loaded_new"] == 3
    assert rows(dsn, "SELECT check_id, success, element_count FROM news.dq_result WHERE check_id = 'batch_size_usual'") \
        == [("batch_size_usual", True, None)]
    # Every quarantined row keeps its raw reference: nothing is dropped without a trace.
    assert rows(dsn, "SELECT count(*) FROM news.quarantine WHERE raw_ref IS NULL") == [(0,)]

    # Re-checking the same day replaces its quarantine and results instead of adding to them.
    pipeline.check(source, run, now=NOW)
    assert rows(dsn, "SELECT count(*) FROM news.quarantine") == [(18,)]
    assert rows(dsn, "SELECT count(*) = count(DISTINCT check_id) FROM news.dq_result") == [(True,)]


def test_every_failing_row_is_quarantined_not_only_the_first_twenty(dsn, settings, site, write_file, suites):
    """GX names only the first 20 failing rows unless told otherwise; the rest would have loaded."""
    suites("thresholds: {max_failed_ratio: 1.0}\n")
    short = {f"/news/{1000001 + i}": (page(f"1 March 2024 08:{i:02d}", str(1000001 + i), body="Too short."), None)
             for i in range(25)}
    source = crafted(site, write_file, {**short, "/news/1000100": (page("1 March 2024 09:00", "1000100"), None)})
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    run_until_check(source, run)
    assert quarantined(dsn) == {path.rsplit("/", 1)[1]: [("body_long_enough", 2)] for path in short}
    assert rows(dsn, "SELECT unexpected_count, error FROM news.dq_result WHERE check_id = 'body_long_enough'") == [
        (25, None)]
    assert pipeline.load(source, run)["loaded_new"] == 1


def test_checks_see_whether_a_dates_offset_was_stated_or_assumed(dsn, settings, site, write_file, suites):
    stated = b'<html><head><meta property="article:published_time" content="2024-03-01T08:00:00+03:30">' \
             b'</head><body><h1>A fine headline</h1><p>' + BODY.encode() + b'</p></body></html>'
    assumed = b'<html><head><script type="application/ld+json">{"@type": "NewsArticle", ' \
              b'"datePublished": "2024-03-01T08:10:00"}</script></head><body><h1>A fine headline too</h1><p>' \
              + BODY.encode() + b'</p></body></html>'
    site.pages["/news/stated"], site.pages["/news/assumed"] = Page(stated), Page(assumed)
    site.pages["/feed.xml"] = Page(rss(site, [("/news/stated", None), ("/news/assumed", None)]))
    source = load_source(write_file("generic.yaml", f"name: generic\ntimezone: Asia/Tehran\ncrawl_delay: 0\n"
                                                    f"feeds: [{site.url('/feed.xml')}]\n"))
    run_until_check(source, pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings))

    assert sorted(rows(dsn, "SELECT url, published_at, published_at_offset_known FROM news.stage_article")) == [
        (site.url("/news/assumed"), "2024-03-01T08:10:00+03:30", False),
        (site.url("/news/stated"), "2024-03-01T08:00:00+03:30", True)]
    assert rows(dsn, "SELECT success, element_count, unexpected_count FROM news.dq_result "
                     "WHERE check_id = 'published_at_offset_stated'") == [(False, 2, 1)]
    assert quarantined(dsn) == {}  # recorded only: an assumed offset is the source's zone, not an error


def test_data_docs_is_one_site_with_every_validation_readable_offline(dsn, settings, site, write_file, suites):
    """Two runs of a day and one of the next: one site, its index listing all three validations
    as plain HTML with a stylesheet served from the site; each page under the source and
    collected day, showing the Airflow run id, naming the failing row by its URL."""
    runs = [("manual__2024-03-01T10:00:00+00:00", DAY), ("manual__2024-03-01T11:00:00+00:00", DAY),
            ("scheduled__2024-02-29T00:00:00+00:00", date(2024, 2, 29))]
    root, pages = checked_runs(runs, dsn, settings, site, write_file, suites)
    assert [p.relative_to(root).parts[:4] for p in pages] == [
        ("validations", "news", "crafted", f"{day} {run_id}") for run_id, day in runs]
    index = (root / "index.html").read_text()
    listed = re.findall(r'<a href="(validations/[^"]+)">([^<]+)</a>', index)
    assert sorted((unquote(href), name) for href, name in listed) == sorted(
        (str(p.relative_to(root)), f"{day} {run_id}") for p, (run_id, day) in zip(pages, runs))
    for html in [index] + [p.read_text() for p in pages]:
        assert re.findall(r'(?:src|href)="(https?:[^"]*)"', html) == [], "nothing from the internet"
        assert "<script src=" not in html
    stylesheet = root / "static" / data_docs.STYLESHEET
    assert 'href="./static/news_etl_data_docs.css"' in index and stylesheet.is_file()
    assert pages[0].parent.joinpath(*[".."] * 5, "static", data_docs.STYLESHEET).resolve() == stylesheet
    first = pages[0].read_text()
    assert "Run Name" in first and "2024-03-01 manual__2024-03-01T10:00:00+00:00" in first
    assert site.url("/news/1000002") in first  # the row failing body_long_enough, by its URL
    # The site grows by a validation's page and result, not by copies of static files: besides
    # them it holds the index, one stylesheet and GX's store marker.
    files = {str(f.relative_to(root)) for f in root.rglob("*") if f.is_file()}
    results = {str(Path("results", *p.relative_to(root / "validations").parts)).removesuffix(".html") + ".json"
               for p in pages}
    assert files - results - {str(p.relative_to(root)) for p in pages} == {
        "index.html", f"static/{data_docs.STYLESHEET}", ".build.lock", "results/.ge_store_backend_id"}
    assert stylesheet.stat().st_size < 10_000


def test_a_data_docs_build_waits_for_another_a_bounded_time(tmp_path):
    with data_docs.site_lock(tmp_path, wait=5):  # one build holds the site...
        with pytest.raises(NewsEtlError, match=r"Data Docs site .*\.build\.lock for more than 0 s"):
            with data_docs.site_lock(tmp_path, wait=0.2):  # ...another gives up, naming the lock
                pass
    with data_docs.site_lock(tmp_path, wait=0.2):  # released: the next build goes ahead
        pass


def checked_runs(runs: list[tuple[str, date]], dsn, settings, site, write_file, suites) -> tuple[Path, list[Path]]:
    """The crafted source (one good row, one too short) checked in each (run id, day) of
    `runs`; returns the Data Docs site and each run's page."""
    suites("thresholds: {max_failed_ratio: 1.0}\n")
    source = crafted(site, write_file, {"/news/1000001": (page("1 March 2024 08:00", "1000001"), None),
                                        "/news/1000002": (page("1 March 2024 08:10", "1000002", body="Short."), None)})
    for run_id, day in runs:
        pipeline.check(source, run_with_staged(source, run_id, day, dsn, settings), now=NOW)
    return settings.data_docs_root, [Path(p) for (p,) in rows(dsn, "SELECT data_docs FROM news.etl_run ORDER BY attempt_id")]


@pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                    reason="chromium and chromium-driver not installed (apt-get install chromium chromium-driver)")
def test_data_docs_index_in_a_headless_browser_offline(dsn, settings, site, write_file, suites, tmp_path):
    """The index as a reader's browser shows it with no network: both validations listed and
    styled by the site's own stylesheet, a click away from a page that names the failing row."""
    from selenium.webdriver.common.by import By

    runs = [("manual__2024-03-01T10:00:00+00:00", DAY), ("scheduled__2024-02-29T00:00:00+00:00", date(2024, 2, 29))]
    root, pages = checked_runs(runs, dsn, settings, site, write_file, suites)
    browser = headless_chromium(tmp_path / "chromium", window="1400,900")
    try:
        browser.set_page_load_timeout(30)
        browser.get((root / "index.html").as_uri())
        listed = browser.find_elements(By.CSS_SELECTOR, "table.ge-index-page-validation-results-table tbody tr")
        assert [row.is_displayed() for row in listed] == [True, True]
        assert sorted(a.text for a in browser.find_elements(By.CSS_SELECTOR, "tbody a")) == sorted(
            f"{day} {run_id}" for run_id, day in runs)
        style = "return getComputedStyle(arguments[0])[arguments[1]]"
        header = browser.find_element(By.CSS_SELECTOR, "table.ge-index-page-validation-results-table th")
        assert browser.execute_script(style, header, "backgroundColor") == "rgb(238, 242, 246)"  # not transparent
        assert browser.execute_script(style, browser.find_element(By.CSS_SELECTOR, "nav.navbar"),
                                      "backgroundColor") == "rgb(23, 50, 77)"
        failed = browser.find_element(By.CSS_SELECTOR, "tr.validation-failed td")
        assert browser.execute_script(style, failed, "backgroundColor") == "rgb(255, 244, 244)"
        # Everything the page loads: the site's stylesheet, and no script (file:// loads are not
        # in the browser's resource timing, so the document's own lists are read).
        assert browser.execute_script("return Array.from(document.styleSheets).map(s => s.href)") == [
            (root / "static" / data_docs.STYLESHEET).as_uri()]
        assert browser.execute_script("return Array.from(document.scripts).map(s => s.src)") == []
        artifacts = PROJECT_DIR / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(artifacts / "data-docs-index.png"))

        browser.find_element(By.LINK_TEXT, f"{runs[0][1]} {runs[0][0]}").click()
        assert unquote(browser.current_url) == unquote(pages[0].as_uri())
        assert site.url("/news/1000002") in browser.find_element(By.TAG_NAME, "body").text
        assert browser.execute_script(style, browser.find_element(By.CSS_SELECTOR, "nav.navbar"),
                                      "backgroundColor") == "rgb(23, 50, 77)"
    finally:
        browser.quit()


def test_gx_is_set_up_once_per_warehouse_and_site(make_database, settings, site, write_file, suites, tmp_path):
    """A check task validating many sources reuses one GX context per warehouse and Data Docs
    site; another warehouse (or site) gets its own, so no result lands in the wrong one."""
    suites("thresholds: {max_failed_ratio: 1.0}\n")
    source = crafted(site, write_file, {"/news/1000001": (page("1 March 2024 08:00", "1000001"), None),
                                        "/news/1000002": (page("1 March 2024 08:10", "1000002", body="Short."), None)})
    first, second = make_database()[0], make_database()[0]
    quality._validators.clear()
    pipeline.check(source, run_with_staged(source, "a", DAY, first, settings), now=NOW)
    (made,) = quality._validators.values()
    pipeline.check(source, run_with_staged(source, "b", DAY, first, settings), now=NOW)
    assert list(quality._validators.values()) == [made] and made.context is quality._validators[
        next(iter(quality._validators))].context  # the same context, not a new one
    pipeline.check(source, run_with_staged(source, "c", DAY, second, settings), now=NOW)
    assert len(quality._validators) == 2
    for dsn, run_ids in ((first, ["a", "b"]), (second, ["c"])):
        assert rows(dsn, "SELECT DISTINCT run_id FROM news.dq_result ORDER BY 1") == [(r,) for r in run_ids[-1:]]
        assert rows(dsn, "SELECT run_id, passed, quarantined FROM news.etl_run ORDER BY attempt_id") == [
            (r, 1, 1) for r in run_ids]


def verdicts(make_database, settings, sources: list, together: bool):
    """Extract, transform and check `sources` in a new warehouse, validated together (as a check
    task does) or each alone; each source's outcome, results, quarantine, status and pages."""
    dsn = make_database()[0]
    run = pipeline.Run(run_id="together" if together else "alone", day=DAY, dsn=dsn, settings=settings)
    for source in sources:
        pipeline.extract(source, run, now=NOW)
        pipeline.transform(source, run)
    validated = pipeline.check_together(sources, run, NOW) if together else {}
    assert (set(validated) == {s.name for s in sources}) is together
    outcome = {}
    for source in sources:
        try:
            outcome[source.name] = pipeline.check(source, run, now=NOW, alone=False, validated=validated.get(source.name))
        except QualityGateError as exc:
            outcome[source.name] = str(exc).split(" Data Docs:")[0]
    return (outcome,
            rows(dsn, "SELECT source, check_id, action, expectation, column_name, success, element_count, "
                      "unexpected_count, observed_value, error FROM news.dq_result ORDER BY source, check_id"),
            rows(dsn, "SELECT source, url, reasons FROM news.quarantine ORDER BY source, url"),
            rows(dsn, "SELECT source, status, passed, quarantined FROM news.etl_run ORDER BY source")), \
        [p for (p,) in rows(dsn, "SELECT DISTINCT data_docs FROM news.etl_run")]


def reasons(quarantine) -> list[tuple]:
    return sorted((s, u.rsplit("/", 1)[1], sorted(r["check"] for r in rs)) for s, u, rs in quarantine)


def test_sources_validated_together_get_the_verdicts_each_gets_alone(make_database, settings, site, write_file,
                                                                     suites):
    """A check task validates its shard's sources in one GX validation: each source's results,
    quarantine and status are what checking it alone gives. The two sources differ in time zone
    (so in window), story-code shape and language, and share pages: a URL and a story code in both
    are no duplicates, uniqueness being each source's own. One validation, one Data Docs page."""
    suites("thresholds: {max_failed_ratio: 1.0}\n")
    first = crafted(site, write_file, {
        "/news/1000001": (page("1 March 2024 08:00", "1000001"), None),
        "/news/1000002": (page("1 March 2024 08:10", "1000002", body="Too short to be news."), None),
        "/news/1000003": (page("1 March 2024 08:20", "1000002"), None),                # its code twice
        "/news/1000004": (page("1 March 2024 08:30", "10000004", lang="fr"), None),    # 8 digits, French
        "/news/1000005": (page("27 February 2024 22:00", "1000005"), None),           # before the window
    })
    site.pages["/other.xml"] = Page(rss(site, [(p, None) for p in ("/news/1000001", "/news/1000004", "/news/1000005")]))
    second = load_source(write_file("neighbour.yaml", SOURCE.format(feed=site.url("/other.xml")).replace(
        "name: crafted", "name: neighbour").replace("Asia/Tehran", "UTC").replace("language: en", "language: fr")
        .replace("\\d{7}", "\\d{8}")))

    alone, alone_pages = verdicts(make_database, settings, [first, second], together=False)
    together, together_pages = verdicts(make_database, settings, [first, second], together=True)
    assert together == alone
    outcome, results, quarantine, statuses = together
    assert reasons(quarantine) == [
        ("crafted", "1000002", ["body_long_enough", "story_code_unique"]),
        ("crafted", "1000003", ["story_code_matches_url", "story_code_unique"]),
        ("crafted", "1000004", ["language_expected", "story_code_matches_url", "story_code_pattern"]),
        ("crafted", "1000005", ["published_at_in_collected_days"]),
        ("neighbour", "1000001", ["language_expected", "story_code_pattern"]),  # its URL and code: no duplicates
        ("neighbour", "1000004", ["story_code_matches_url"]),
        ("neighbour", "1000005", ["language_expected", "published_at_in_collected_days", "story_code_pattern"]),
    ]
    assert statuses == [("crafted", "running", 1, 4), ("neighbour", "blocked", 0, 3)]
    assert len(alone_pages) == 2 and len(together_pages) == 1  # one validation, one page for both
    assert "/validations/news/shard/crafted/2-sources/" in together_pages[0]


def test_no_transaction_is_left_open_while_great_expectations_validates(make_database, settings, site, write_file,
                                                                        suites, monkeypatch):
    """A shard's validation and a source's own take seconds: the check's warehouse session has
    ended its reads by then, so it is not "idle in transaction" (holding back vacuum) meanwhile."""
    suites("thresholds: {max_failed_ratio: 1.0}\n")
    first = crafted(site, write_file, {"/news/1000001": (page("1 March 2024 08:00", "1000001"), None)})
    site.pages["/other.xml"] = Page(rss(site, [("/news/2000001", None)]))
    site.pages["/news/2000001"] = Page(page("1 March 2024 09:00", "2000001", canonical="/news/2000001"))
    second = load_source(write_file("alike.yaml", SOURCE.format(feed=site.url("/other.xml")).replace(
        "name: crafted", "name: alike")))
    dsn = make_database()[0]
    open_while_validating = []
    validate = quality.run_checks

    def watched(*args, **kwargs):
        open_while_validating.extend(rows(dsn, "SELECT left(query, 60) FROM pg_stat_activity WHERE datname = "
                                               "current_database() AND state IN ('idle in transaction', "
                                               "'idle in transaction (aborted)')"))
        return validate(*args, **kwargs)
    monkeypatch.setattr(quality, "run_checks", watched)
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    for source in (first, second):
        pipeline.extract(source, run, now=NOW)
        pipeline.transform(source, run)
    assert set(pipeline.check_together([first, second], run, NOW)) == {"crafted", "alike"}  # validated together
    pipeline.check(first, run, now=NOW)  # and alone
    assert open_while_validating == []
    assert rows(dsn, "SELECT passed, quarantined FROM news.etl_run WHERE source = 'crafted'") == [(1, 0)]


def test_sources_alike_share_each_check_of_the_validation(make_database, settings, site, write_file, suites):
    """Sources whose suites ask the same and share no value: one expectation per check covers them
    all, uniqueness too (duplicates inside each source are still found), and only the batch size,
    a table-level check, is one per source; the verdicts are each source's own."""
    suites("thresholds: {max_failed_ratio: 1.0}\n")
    first = crafted(site, write_file, {
        "/news/1000001": (page("1 March 2024 08:00", "1000001"), None),
        "/news/1000002": (page("1 March 2024 08:10", "1000001"), None),                # its code twice
    })
    site.pages["/other.xml"] = Page(rss(site, [("/news/2000001", None), ("/news/2000002", None)]))
    site.pages["/news/2000001"] = Page(page("1 March 2024 09:00", "2000001", canonical="/news/2000001"))
    site.pages["/news/2000002"] = Page(page("1 March 2024 09:10", "2000002", canonical="/news/2000001"))
    second = load_source(write_file("alike.yaml", SOURCE.format(feed=site.url("/other.xml")).replace(
        "name: crafted", "name: alike")))

    alone, _ = verdicts(make_database, settings, [first, second], together=False)
    together, (docs,) = verdicts(make_database, settings, [first, second], together=True)
    assert together == alone
    assert reasons(together[2]) == [
        ("alike", "2000001", ["canonical_url_unique"]),
        ("alike", "2000002", ["canonical_url_unique"]),
        ("crafted", "1000001", ["story_code_unique"]),
        ("crafted", "1000002", ["story_code_matches_url", "story_code_unique"]),
    ]
    (stored,) = [json.loads(p.read_text()) for p in (settings.data_docs_root / "results").rglob("*.json")
                 if "shard" in str(p)]
    checks = sorted((r["expectation_config"]["meta"]["check_id"],
                     json.dumps(r["expectation_config"]["kwargs"].get("row_condition"), sort_keys=True))
                    for r in stored["results"])
    assert len(checks) == 26  # 24 checks once, the batch size twice
    assert ("story_code_unique", "null") in checks and ("canonical_url_unique", "null") in checks
    conditioned = [(c, condition) for c, condition in checks if condition != "null"]
    assert [c for c, _ in conditioned] == ["batch_size_usual", "batch_size_usual"]
    assert '"alike"' in conditioned[0][1] and '"crafted"' in conditioned[1][1]  # each on its source's rows


def run_with_staged(source, run_id: str, day: date, dsn: str, settings) -> pipeline.Run:
    run = pipeline.Run(run_id=run_id, day=day, dsn=dsn, settings=settings)
    pipeline.extract(source, run, now=NOW)
    pipeline.transform(source, run)
    return run


def test_story_code_held_by_another_article_in_the_warehouse(dsn, settings, site, write_file, suites):
    source = crafted(site, write_file, {"/news/1000001": (page("1 March 2024 08:00", "1000001"), None)})
    first = pipeline.Run(run_id="day-1", day=DAY, dsn=dsn, settings=settings)
    run_until_check(source, first)
    pipeline.load(source, first)

    site.pages["/story/reused"] = Page(page("1 March 2024 09:00", "1000001"))
    site.pages["/feed.xml"] = Page(rss(site, [("/news/1000001", None), ("/story/reused", None)]))
    # The next day: 1000001 is known, so only the new page is fetched, checked against the warehouse.
    again = pipeline.Run(run_id="day-2", day=date(2024, 3, 2), dsn=dsn, settings=settings)
    suites("thresholds: {max_failed_ratio: 1.0}\n")
    run_until_check(source, again)
    assert quarantined(dsn) == {"reused": [("story_code_new_to_warehouse", True)]}


def test_blocked_source_leaves_the_warehouse_unchanged_while_others_load(
        dsn, settings, site, write_file, suites, sample_sources):
    # 1 of 4 rows bad: 25% > the default 20%.
    source = crafted(site, write_file, {
        "/news/1000001": (page("1 March 2024 08:00", "1000001"), None),
        "/news/1000002": (page("1 March 2024 08:10", "1000002"), None),
        "/news/1000003": (page("1 March 2024 08:20", "1000003"), None),
        "/news/1000004": (page("1 March 2024 08:30", "1000004", body="Too short."), None),
    })
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    before = rows(dsn, "SELECT * FROM news.article")
    with pytest.raises(QualityGateError) as blocked:
        run_until_check(source, run)
    message = str(blocked.value)
    assert message.startswith("source crafted: load blocked by the quality gate: 1 of 4 rows failed (25% > 20%).")
    # (published_at_offset_stated is recorded only: the crafted pages state no offset)
    assert "Failed checks: published_at_offset_stated: 4 rows; body_long_enough: 1 rows." in message
    (status, run_message, docs), = rows(dsn, "SELECT status, message, data_docs FROM news.etl_run WHERE source = 'crafted'")
    assert status == "blocked" and run_message == message
    assert docs.startswith(f"{settings.data_docs_root}/validations/news/crafted/2024-03-01 r/")
    assert open(docs).read().count("<html") == 1
    assert rows(dsn, "SELECT * FROM news.article") == before == []
    assert quarantined(dsn) == {"1000004": [("body_long_enough", 2)]}

    # Another source of the same run still loads.
    other = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)
    harbor = sample_sources["harbor-times"]
    pipeline.extract(harbor, other, now=SAMPLE_NOW)
    pipeline.transform(harbor, other)
    pipeline.check(harbor, other, now=SAMPLE_NOW)
    assert pipeline.load(harbor, other)["loaded_new"] > 0

    # A `block` check blocks even when a single row fails it.
    suites("checks:\n  - id: title_not_site_name\n    action: block\n")
    site.pages["/news/1000004"] = Page(page("1 March 2024 08:30", "1000004", title="Crafted Times"))
    site.pages["/feed.xml"] = Page(rss(site, [("/news/1000001", None), ("/news/1000004", None)]))
    fresh = pipeline.Run(run_id="r2", day=date(2024, 3, 2), dsn=dsn, settings=settings)
    with pytest.raises(QualityGateError, match="load blocked by the quality gate: title_not_site_name failed"):
        run_until_check(source, fresh)


def test_bad_day_of_the_sample_publishers(dsn, settings, sample_sources, sample_clock):
    """BAD_DAY: what `make run DATE=2024-04-01` shows a user: tehran-wire is blocked, the other
    publishers load everything but their one bad article each."""
    now = datetime(2024, 4, 3, tzinfo=timezone.utc)
    sample_clock(now)
    run = pipeline.Run(run_id="bad", day=BAD_DAY, dsn=dsn, settings=settings)
    expected = {
        "login-wall": [("body_long_enough", 9), ("body_not_boilerplate", True)],
        "story-code-not-in-url": [("story_code_in_publication_order", None), ("story_code_matches_url", False)],
        "title-is-site-name": [("title_not_site_name", True)],
        "wrong-language": [("language_expected", "fa")],
        "body-too-short": [("body_long_enough", 16)],
    }
    for name, source in sample_sources.items():
        pipeline.extract(source, run, now=now)
        pipeline.transform(source, run)
        if name == "tehran-wire":
            with pytest.raises(QualityGateError, match="source tehran-wire: load blocked .* 4 of"):
                pipeline.check(source, run, now=now)
        else:
            pipeline.check(source, run, now=now)
            pipeline.load(source, run)
        bad = {a.path: a.defect for a in articles_for(name, BAD_DAY) if a.defect}
        got = {urlsplit(url).path: sorted((r["check"], r["observed"] if r["check"] != "story_code_in_publication_order"
                                           else None) for r in reasons)
               for url, reasons in rows(dsn, "SELECT url, reasons FROM news.quarantine WHERE source = %s", (name,))}
        assert got == {path: expected[defect] for path, defect in bad.items()}, name
    loaded = dict(rows(dsn, "SELECT s.name, count(*) FROM news.article JOIN news.source s USING (source_id) GROUP BY 1"))
    assert "tehran-wire" not in loaded and all(loaded[name] > 0 for name in sample_sources if name != "tehran-wire")


def test_dq_report_prints_the_days_results(dsn, settings, site, write_file, suites, postgres, monkeypatch, capsys):
    source = crafted(site, write_file, {"/news/1000001": (page("1 March 2024 08:00", "1000001"), None),
                                        "/news/1000002": (page("1 March 2024 08:10", "1000002", body="Short."), None)})
    suites("thresholds: {max_failed_ratio: 1.0}\n")
    run_until_check(source, pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings))
    monkeypatch.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", "postgresql://postgres@" +
                       postgres.socket_dir.replace("/", "%2F") + "/" + dsn.split("/")[3].split("?")[0])
    capsys.readouterr()  # the run's own log lines
    assert cli.main(["dq", "report", "--date", "2024-03-01"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["source", "status", "check", "action", "result", "rows", "failed", "observed"]
    assert out[2].split() == ["crafted", "running", "body_long_enough", "quarantine", "FAILED", "2", "1"]
    # the suite's checks and the gate's two guards (values storable, published in the window)
    # every check and the two gate rows but body_long_enough and the recorded published_at_offset_stated
    assert sum(" ok " in line for line in out) == len(load_suite("crafted").checks) + 2 - 2 == 25
    ((docs,),) = rows(dsn, "SELECT data_docs FROM news.etl_run WHERE source = 'crafted'")
    assert out[-2:] == [f"Data Docs: {settings.data_docs_root / 'index.html'}", f"  crafted: {docs}"]


@pytest.mark.parametrize("override, key, problem", [
    ("checks:\n  - id: new_check\n", "checks[0]", "is not a common check, so it needs its own type"),
    ("checks:\n  - id: title_length\n    action: explode\n", "checks[0].action", "expected one of quarantine"),
    ("checks:\n  - id: title_length\n    severity: high\n", "checks[0].severity", "unknown key"),
    ("thresholds: {max_failed_ratio: 2}\n", "thresholds.max_failed_ratio", "from 0 to 1"),
    ("thresholds: {max_fail: 0.1}\n", "thresholds.max_fail", "unknown key"),
    ("checks:\n  - id: x\n    type: not_a_check\n    kwargs: {}\n", "checks[0].type", "Great Expectations type"),
])
def test_suite_file_errors_name_file_key_and_problem(suites, override, key, problem):
    suites(override)
    with pytest.raises(ConfigError) as err:
        load_suite("crafted")
    assert "sources/crafted.yaml: key '" + key + "': " in str(err.value) and problem in str(err.value)


def test_suite_files_are_the_files_the_suite_is_read_from(suites):
    """A run's fingerprint hashes suite_files (found without parsing them): the same files as the
    suite's own, with and without a source's override."""
    assert suite_files("other") == load_suite("other").files and len(suite_files("other")) == 1
    suites("thresholds: {max_failed_ratio: 0.5}\n")
    assert suite_files("crafted") == load_suite("crafted").files
    assert [p.name for p in suite_files("crafted")] == ["common.yaml", "crafted.yaml"]


def test_a_suite_read_again_sees_its_edited_file_and_owns_its_values(suites, tmp_path):
    """common.yaml is parsed once per text (suites._parse): an edit is seen by the next read, a
    broken edit fails every read, and one suite's values changed in place are not the next one's."""
    common = tmp_path / "expectations" / "common.yaml"
    first = load_suite("crafted")
    first.checks[0].kwargs["changed"] = True
    first.parameters["changed"] = True
    again = load_suite("crafted")
    assert "changed" not in again.checks[0].kwargs and "changed" not in again.parameters
    common.write_text(common.read_text().replace("max_failed_ratio: 0.2", "max_failed_ratio: 0.35"))
    assert load_suite("crafted").max_failed_ratio == 0.35
    common.write_text(common.read_text() + "checks: [\n")
    for _ in range(2):
        with pytest.raises(ConfigError, match="common.yaml: cannot read suite file: while parsing"):
            load_suite("crafted")


def test_unknown_parameter_and_check_type_fail_when_built(suites, write_file):
    from datetime import timedelta

    from news_etl.quality import build_expectations, collection_window, run_parameters

    source = load_source(write_file("crafted.yaml", SOURCE.format(feed="http://127.0.0.1:9/f")))

    def build():
        suite = load_suite("crafted")
        params = run_parameters(suite, source, collection_window(DAY, source, 1), NOW, timedelta(minutes=10), [])
        return build_expectations(suite, source, params)

    assert len(build()) == 25
    suites("checks:\n  - id: odd\n    type: expect_column_values_to_be_null\n    kwargs: {column: {$PARAMETER: nope}}\n")
    with pytest.raises(ConfigError, match=r"crafted.yaml: check 'odd': unknown parameter 'nope'"):
        build()
    suites("checks:\n  - id: odd\n    type: expect_nothing_at_all\n    kwargs: {}\n")
    with pytest.raises(ConfigError, match=r"crafted.yaml: check 'odd': not a valid Great Expectations check"):
        build()


def test_checks_run_for_a_source_with_a_non_latin_title(write_file):
    from news_etl.quality import staged_rows_query

    text = SOURCE.format(feed="http://127.0.0.1:9/f").replace("title: Crafted Times", "title: بريد الوادي")
    query = staged_rows_query("run-1", [load_source(write_file("crafted.yaml", text))])
    assert "ARRAY['بريد الوادي','crafted']::text[]" in query and "s.run_id = 'run-1'" in query


@pytest.mark.parametrize("success, column, failed, result, exception_info, error", [
    (True, "title", {}, {"unexpected_count": 0}, {}, None),
    (False, "title", {7: "x"}, {"unexpected_count": 1}, {}, None),
    # GX's shapes of an error inside itself or PostgreSQL: flat, or keyed by metric
    (False, "title", {}, {}, {"raised_exception": True, "exception_message": "time zone displacement out of range"},
     "time zone displacement out of range"),
    (False, "title", {}, {}, {"('column_values.nonnull.unexpected_count', ...)": {
        "raised_exception": True, "exception_message": "(psycopg2.errors.DataException) bad\nmore"}},
     "(psycopg2.errors.DataException) bad"),
    (False, "title", {}, {"unexpected_count": 3}, {}, "3 rows failed but none was named"),
    (False, "title", {7: "x"}, {"unexpected_count": 21}, {}, "21 rows failed, only 1 named"),
    (False, "title", {}, {}, {"raised_exception": False}, "failed without naming a failing row"),
    (True, None, {}, {"observed_value": None}, {}, "no observed value"),
    (True, None, {}, {"observed_value": 0}, {}, None),
    (None, "title", {}, {}, {}, "no success or failure was reported"),
])
def test_a_result_gx_could_not_evaluate_is_an_error(success, column, failed, result, exception_info, error):
    from news_etl.quality import evaluation_error

    assert evaluation_error(success, column, failed, result, exception_info) == error


def test_a_check_that_cannot_be_evaluated_blocks_even_a_record_or_quarantine_check():
    from news_etl.quality import CheckResult, QualityReport

    def result(check_id, action, error=None, success=True):
        return CheckResult(check_id, "expect_x", "title", action, success and not error, 1, 0, None, error=error)

    report = QualityReport(checked=1, max_failed_ratio=0.2, results=[
        result("ok", "quarantine"), result("broken", "quarantine", error="relation does not exist"),
        result("counted", "record", error="no observed value")])
    assert report.blocking() == ["broken could not be evaluated: relation does not exist"]
    assert report.failed_checks() == ("broken: not evaluated: relation does not exist; "
                                      "counted: not evaluated: no observed value")


def test_a_shared_checks_result_is_split_into_each_sources_own():
    shared = quality.CheckResult(check_id="body_long_enough", expectation="expect_column_values_to_be_between",
                                 column="word_count", action="quarantine", success=False, element_count=5,
                                 unexpected_count=2, observed_value=None, failed_rows={11: 3, 21: 4})
    source_of, checked = {11: "a", 12: "a", 21: "b", 22: "b", 23: "b"}, {"a": 2, "b": 3, "c": 0}
    split = quality._per_source(shared, ["a", "b", "c"], source_of, checked)
    assert [(n, r.success, r.element_count, r.unexpected_count, r.failed_rows, r.error) for n, r in split.items()] == [
        ("a", False, 2, 1, {11: 3}, None), ("b", False, 3, 1, {21: 4}, None), ("c", True, 0, 0, {}, None)]
    # GX counted more failing rows than it named, or named a row of another source: no verdict for any
    for count, rows_ in ((3, {11: 3, 21: 4}), (2, {11: 3, 99: 1})):
        unsure = quality._per_source(dataclasses.replace(shared, unexpected_count=count, failed_rows=rows_),
                                     ["a", "b"], source_of, checked)
        assert all(not r.success and r.error and r.unexpected_count is None for r in unsure.values())
    assert quality._per_source(shared, ["a"], source_of, checked) == {"a": shared}  # checked on a's rows alone
