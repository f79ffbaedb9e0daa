"""Small helpers shared by tests (fixtures live in conftest.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from news_etl import warehouse
from news_etl.sample_sites.publishers import articles_for, as_of


def rows(dsn: str, query: str, params=()) -> list[tuple]:
    """All rows of one query against the test warehouse."""
    with warehouse.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


def expected_articles(publisher: str, base_url: str, day: date, now: datetime) -> set[tuple]:
    """What a run for `day` must load for a sample publisher: the generator's truth for the day and,
    with the default one-day lookback, the day before, as (source, story_code, title, published_at
    in UTC, body, authors, canonical_url)."""
    truth = [as_of(a, now) for d in (day - timedelta(days=1), day) for a in articles_for(publisher, d)]
    return {(publisher, a.story_code, a.title, a.published_at.astimezone(timezone.utc), a.body, tuple(a.authors),
             base_url + a.path) for a in truth}


def loaded_articles(dsn: str, publisher: str) -> set[tuple]:
    """The same tuple as expected_articles, read from news.article."""
    return {r[:5] + (tuple(r[5]), r[6]) for r in rows(dsn, """
        SELECT s.name, a.story_code, a.title, a.published_at, a.body, a.authors, a.canonical_url
        FROM news.article a JOIN news.source s USING (source_id) WHERE s.name = %s""", (publisher,))}


CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"  # Debian's chromium, chromium-driver


def headless_chromium(profile_dir, window: str = "1400,1000"):
    """A Selenium driver of Debian's headless Chromium, with nothing of its own on the network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 f"--user-data-dir={profile_dir}", f"--window-size={window}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
