"""A source whose feed is a sitemap index: extract reads the news sitemaps the index names (those
changed since the collected window began) and fetches the stories of the window they list."""

from __future__ import annotations

from datetime import date, datetime, timezone

from helpers import rows
from news_etl import pipeline
from news_etl.sources import load_source

DAY = date(2024, 3, 1)

SOURCE = """
name: mapped
timezone: Europe/Oslo
feeds: [{index}]
crawl_delay: 0
"""


def _index(site) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>{site.url('/news.xml')}</loc><lastmod>2024-03-01T23:00:00+01:00</lastmod></sitemap>
  <sitemap><loc>/2023-12.xml</loc><lastmod>2023-12-31T23:00:00+01:00</lastmod></sitemap>
</sitemapindex>""".encode()


def _news_sitemap(site) -> bytes:
    urls = "".join(
        f"<url><loc>{site.url(path)}</loc><news:news><news:publication_date>{published}</news:publication_date>"
        f"<news:title>{path}</news:title></news:news></url>"
        for path, published in (("/a", "2024-03-01T09:00:00+01:00"), ("/b", "2024-02-29T22:00:00+01:00"),
                                ("/old", "2024-02-20T09:00:00+01:00")))
    return (f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{urls}</urlset>').encode()


def test_extract_follows_a_sitemap_index_to_the_news_sitemap_of_the_window(dsn, settings, site, write_file):
    from sites import Page

    site.pages["/sitemap.xml"] = Page(_index(site), content_type="application/xml")
    site.pages["/news.xml"] = Page(_news_sitemap(site), content_type="application/xml")
    for path in ("/a", "/b", "/old"):
        site.pages[path] = Page(f"<html><body><h1>{path}</h1><p>text</p></body></html>".encode())
    source = load_source(write_file("mapped.yaml", SOURCE.format(index=site.url("/sitemap.xml"))))
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)

    counts = pipeline.extract(source, run, now=datetime(2024, 3, 2, tzinfo=timezone.utc))

    fetched = {(kind, url.rsplit("/", 1)[1]) for kind, url in rows(dsn, "SELECT kind, url FROM news.feed_fetch")}
    # The December sitemap has not changed since the window began; /old is outside the window.
    assert fetched == {("feed", "sitemap.xml"), ("feed", "news.xml"), ("page", "a"), ("page", "b")}
    assert (counts["feeds_fetched"], counts["articles_fetched"]) == (2, 2)


def test_nested_sitemap_indexes_are_read_up_to_the_cap_for_the_whole_extract(dsn, settings, site, write_file,
                                                                             monkeypatch):
    """Indexes that list indexes that list indexes (20 each): at most NEWS_ETL_MAX_FEED_ITEMS
    sitemaps are read in the whole extract, not that many per index; the rest are counted as cut."""
    from sites import Page

    def index(level: int, n: int) -> bytes:
        children = "".join(f"<sitemap><loc>{site.url(f'/i{level + 1}-{n}-{k}.xml')}</loc></sitemap>" for k in range(20))
        return f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>'.encode()

    site.pages["/sitemap.xml"] = Page(index(0, 0), content_type="application/xml")
    for n in range(20):
        site.pages[f"/i1-0-{n}.xml"] = Page(index(1, n), content_type="application/xml")
    monkeypatch.setenv("NEWS_ETL_MAX_FEED_ITEMS", "30")
    settings = type(settings).from_env()
    source = load_source(write_file("mapped.yaml", SOURCE.format(index=site.url("/sitemap.xml"))))
    run = pipeline.Run(run_id="r", day=DAY, dsn=dsn, settings=settings)

    counts = pipeline.extract(source, run, now=datetime(2024, 3, 2, tzinfo=timezone.utc))

    assert rows(dsn, "SELECT count(*) FROM news.feed_fetch WHERE kind = 'feed'") == [(1 + 30,)]
    # 20 + 20 x 20 listed, 30 read: the first index's 20 and the first 10 of the next level.
    assert counts["items_cut"] == 20 + 20 * 20 - 30
