"""The sample publishers: deterministic articles, the clock rule, feeds, pages and conditional GET.

Pages are checked against the generator's truth with the selectors other code relies on, so a
change to a template that would mislead the parsers' oracle fails here first.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import date, datetime, timedelta, timezone

import lxml.html
import pytest
from lxml import etree

from news_etl import stories
from news_etl.dates import find_date
from news_etl.language import identify_language
from news_etl.sample_sites import PUBLISHERS, articles_for, find_article, serve_in_thread
from news_etl.sample_sites.newsapp import css_class
from news_etl.sample_sites.publishers import Edition, archive_feed_path, live_feed_path
from news_etl.sample_sites.server import route

DAY = date(2024, 3, 1)
NOON = datetime(2024, 3, 1, 12, 0, tzinfo=timezone.utc)  # part way through DAY for every site
NEXT_DAY = datetime(2024, 3, 2, 12, 0, tzinfo=timezone.utc)  # every article of DAY is out by then

ATOM = "{http://www.w3.org/2005/Atom}"
RSS1 = "{http://purl.org/rss/1.0/}"
RDF = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
NEWS = "{http://www.google.com/schemas/sitemap-news/0.9}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
DC = "{http://purl.org/dc/elements/1.1/}"

# publisher -> (feed root tag, item path, how to read an item's link)
RSS_SHAPE = ("rss", "channel/item", lambda item: item.findtext("link"))
FEED_SHAPES = {
    "tehran-wire": RSS_SHAPE,
    "harbor-times": (f"{ATOM}feed", f"{ATOM}entry", lambda item: item.find(f"{ATOM}link").get("href")),
    "nordic-dispatch": (f"{RDF}RDF", f"{RSS1}item", lambda item: item.findtext(f"{RSS1}link")),
    "prairie-courier": RSS_SHAPE,
    "meridian-report": (f"{SITEMAP}urlset", f"{SITEMAP}url", lambda item: item.findtext(f"{SITEMAP}loc")),
    "wadi-post": RSS_SHAPE,
}
LIVE_FEEDS = [slug for slug in PUBLISHERS if live_feed_path(slug)]

# publisher -> (XPath of the body paragraphs in document order, XPath of the headline)
PAGE_SELECTORS = {
    "tehran-wire": ('//div[@class="news-body"]/p', '//h1[@class="news-title"]'),
    "harbor-times": ('//article/div[@class="article-body"]/p', '//h1[@class="headline"]'),
    "nordic-dispatch": ('//div[@id="story"]/p | //div[@id="story"]/blockquote', "//h1"),
    "prairie-courier": ('//article/div[@class="entry-content"]/p | //div[@class="entry-content"]/blockquote/p',
                        '//h1[@class="entry-title"]'),
    "meridian-report": (f'//div[@class="{css_class("text")}"]/p', "//h1"),
    "wadi-post": ('//div[@class="news-text"]/p', '//h1[@class="news-title"]'),
}


@pytest.fixture(scope="module")
def noon_site():
    server, base_url = serve_in_thread(now=lambda: NOON)
    yield base_url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def next_day_site():
    server, base_url = serve_in_thread(now=lambda: NEXT_DAY)
    yield base_url
    server.shutdown()
    server.server_close()


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:  # 304 and 404 arrive as errors in urllib
        return error.code, dict(error.headers), error.read()


# --- the generator ---

def test_articles_are_deterministic_and_days_differ():
    for slug in PUBLISHERS:
        assert articles_for(slug, DAY) == articles_for(slug, DAY)
        assert articles_for(slug, DAY) != articles_for(slug, DAY + timedelta(days=1))


def test_articles_do_not_depend_on_the_process_hash_seed():
    script = (
        "from datetime import date; from news_etl.sample_sites import articles_for; "
        "print([a.title for a in articles_for('harbor-times', date(2024, 3, 1))])"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script], env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert outputs == {repr([a.title for a in articles_for("harbor-times", DAY)])}


def test_stories_of_a_scaled_world_share_as_little_text_as_real_news():
    """A scale benchmark's loads compare each new article with those that share a band key of its
    body (news_etl.stories); in real news that is almost no other article. So it must be in a
    scaled world, where every story of a section would otherwise repeat its bank's sentences."""
    articles = [(f"{slug}-{copy}", a) for copy in range(4) for slug in PUBLISHERS
                for a in articles_for(slug, DAY, Edition(per_day=20, copy=copy))]
    keys = [stories.band_keys(stories.signature(article.body)) for _, article in articles]
    with_key = defaultdict(set)
    for i, article_keys in enumerate(keys):
        for key in article_keys:
            with_key[key].add(i)
    others = sum(len({j for key in keys[i] for j in with_key[key] if articles[j][0] != source})
                 for i, (source, _) in enumerate(articles))
    assert len(articles) == 480 and others / len(articles) < 0.05
    # The words strewn among the sentences are the language's own: the pages still read as it.
    assert {identify_language(a.body) == a.language for _, a in articles} == {True}
    assert articles_for("harbor-times", DAY, Edition(per_day=20, copy=1)) != articles_for(
        "harbor-times", DAY, Edition(per_day=20, copy=2))


@pytest.mark.parametrize(
    "slug, first_day, digits",
    [
        ("tehran-wire", date(2000, 1, 1), 7),
        ("tehran-wire", date(2024, 2, 26), 7),
        ("tehran-wire", date(2040, 12, 25), 7),
        ("nordic-dispatch", date(2000, 1, 1), 6),
        ("nordic-dispatch", date(2024, 2, 26), 6),
        ("nordic-dispatch", date(2040, 12, 25), 6),
        ("wadi-post", date(2000, 1, 1), 6),
        ("wadi-post", date(2040, 12, 25), 6),
    ],
)
def test_story_codes_grow_across_days(slug, first_day, digits):
    week = [first_day + timedelta(days=offset) for offset in range(7)]
    codes = [a.story_code for day in week for a in articles_for(slug, day)]
    assert all(code.isdigit() and len(code) == digits for code in codes)
    numbers = [int(code) for code in codes]
    assert numbers == sorted(set(numbers))  # strictly increasing, hence unique


@pytest.mark.parametrize(
    "slug, day",
    [(slug, DAY) for slug in PUBLISHERS]
    + [
        ("harbor-times", date(2024, 3, 10)),  # clocks go forward in New York
        ("harbor-times", date(2024, 11, 3)),  # and back
        ("nordic-dispatch", date(2024, 3, 31)),
        ("nordic-dispatch", date(2024, 10, 27)),
        ("tehran-wire", date(2021, 3, 22)),  # Iran still changed clocks then
        ("tehran-wire", date(2021, 9, 22)),
        ("prairie-courier", date(2024, 3, 10)),
        ("prairie-courier", date(2024, 11, 3)),
        ("meridian-report", date(2024, 3, 31)),
        ("meridian-report", date(2024, 10, 27)),
        ("wadi-post", date(2024, 4, 26)),  # Cairo: 00:00 is 01:00
        ("wadi-post", date(2024, 10, 31)),  # and 23:00 to 24:00 comes twice
    ],
)
def test_articles_belong_to_their_local_day(slug, day):
    articles = articles_for(slug, day)
    assert 6 <= len(articles) <= 10
    assert [a.published_at for a in articles] == sorted({a.published_at for a in articles})
    assert len({a.title for a in articles}) == len(articles)
    for article in articles:
        assert article.published_at.date() == day
        assert str(article.published_at.tzinfo) == PUBLISHERS[slug].timezone
        assert article.language == PUBLISHERS[slug].language
        assert article.path.startswith(f"/{slug}/") and article.path.isascii()
        assert 4 <= len(article.paragraphs) <= 9
        assert article.body == "\n\n".join(article.paragraphs)
        assert article.updated_at is None or article.updated_at > article.published_at
        assert find_article(article.path) == article
        assert find_article(article.path + "?utm_source=feed") == article


def test_every_tehran_wire_day_ends_at_23_49():
    assert articles_for("tehran-wire", DAY)[-1].published_at.strftime("%Y-%m-%d %H:%M") == "2024-03-01 23:49"


def test_some_but_not_all_harbor_times_stories_are_updated():
    articles = [a for offset in range(5) for a in articles_for("harbor-times", DAY + timedelta(days=offset))]
    updated = sum(a.updated_at is not None for a in articles)
    assert 0 < updated < len(articles)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/tehran-wire/news/1119700/not-the-slug",
        "/tehran-wire/news/99/x",
        "/harbor-times/2024/02/30/x",
        "/nordic-dispatch/article/99999999999999999999-x.html",
        "/prairie-courier/2024/03/01/x/",
        "/prairie-courier/2024/13/01/x/",
        "/meridian-report/world/x-ffffffffffff",
        "/meridian-report/world/x-70c114",
        "/wadi-post/news/730400/x",
        "/elsewhere/2024/03/01/story",
    ],
)
def test_find_article_rejects_paths_of_no_article(path):
    assert find_article(path) is None


# --- the server ---

@pytest.mark.parametrize("slug", PUBLISHERS)
def test_archive_feed_lists_only_what_exists_at_the_clock(noon_site, slug):
    status, _, body = fetch(noon_site + archive_feed_path(slug, DAY))
    assert status == 200
    published = [a for a in articles_for(slug, DAY) if a.published_at <= NOON]
    later = [a for a in articles_for(slug, DAY) if a.published_at > NOON]
    assert published and later, "NOON should split the day for every publisher"
    listed = [find_article(link.removeprefix(noon_site)) for link in _feed_links(slug, body)]
    assert [a.path for a in listed] == [a.path for a in reversed(published)]  # newest first
    assert fetch(noon_site + later[0].path)[0] == 404


@pytest.mark.parametrize("slug, feed", [(slug, "live") for slug in LIVE_FEEDS] + [(slug, "archive")
                                                                                  for slug in PUBLISHERS])
def test_feed_links_resolve_to_their_pages(next_day_site, slug, feed):
    path = live_feed_path(slug) if feed == "live" else archive_feed_path(slug, DAY)
    charset = PUBLISHERS[slug].charset
    status, headers, body = fetch(next_day_site + path)
    assert status == 200 and headers["Content-Type"].endswith(f"; charset={charset}")
    links = _feed_links(slug, body)
    assert len(links) == (20 if feed == "live" else len(articles_for(slug, DAY)))
    for link in links:
        article = find_article(link.removeprefix(next_day_site))
        status, headers, page = fetch(link)
        assert status == 200 and headers["Content-Type"] == f"text/html; charset={charset}"
        html = lxml.html.fromstring(page)
        assert article.title in html.findtext(".//title")
        assert html.xpath(PAGE_SELECTORS[slug][1])[0].text_content() == article.title


@pytest.mark.parametrize("slug", PUBLISHERS)
def test_page_shows_exactly_the_generated_article(next_day_site, slug):
    """The documented selectors find the generator's truth on every page: the parsers' oracle holds."""
    for article in articles_for(slug, DAY):
        html = lxml.html.fromstring(fetch(next_day_site + article.path)[2])
        body_xpath, _ = PAGE_SELECTORS[slug]
        assert tuple(p.text_content() for p in html.xpath(body_xpath)) == article.paragraphs
        _assert_page_dates_and_authors(slug, html, article)


def test_tehran_wire_page_of_the_23_49_story(next_day_site):
    article = articles_for("tehran-wire", DAY)[-1]
    page = fetch(next_day_site + article.path)[2].decode("utf-8")
    html = lxml.html.fromstring(page)
    assert html.findtext('.//div[@class="news-date"]') == "Friday 1 March 2024 - 23:49"
    assert html.findtext('.//div[@class="story-code"]') == f"Story Code : {article.story_code}"
    featured = html.xpath('//div[@class="featured-stories"]')[0]
    assert len(featured.xpath('.//a[@class="featured-title"]')) == 10
    assert article.title not in featured.text_content()
    # Only the visible date line may tell a generic extractor when the story was published.
    assert "<time" not in page and "ld+json" not in page and "og:" not in page


def test_harbor_times_feed_links_are_tracked_but_the_canonical_url_is_clean(next_day_site):
    body = fetch(next_day_site + archive_feed_path("harbor-times", DAY))[2]
    link = _feed_links("harbor-times", body)[0]
    assert link.endswith("?utm_source=feed&utm_medium=atom")
    html = lxml.html.fromstring(fetch(link)[2])
    assert html.xpath('//link[@rel="canonical"]/@href') == [link.split("?")[0]]


def test_prairie_courier_is_a_wordpress_site(next_day_site):
    article = articles_for("prairie-courier", DAY)[-1]
    assert re.fullmatch(r"/prairie-courier/2024/03/01/[a-z0-9-]+/", article.path)
    page = fetch(next_day_site + article.path)[2].decode("utf-8")
    html = lxml.html.fromstring(page)
    assert "/wp-content/" in page and 'class="wp-block-' in page and 'content="WordPress ' in page
    assert html.xpath('//article[contains(concat(" ", @class, " "), " post ")]/div[@class="entry-content"]')
    assert "ld+json" not in page and "og:" not in page  # only WordPress's own markup says who and when
    # WordPress's feed of the day's archive: newest first, the full text, one dc:creator per author.
    feed = etree.fromstring(fetch(next_day_site + "/prairie-courier/2024/03/01/feed/")[2])
    newest = feed.find("channel/item")
    assert newest.findtext("link") == next_day_site + article.path
    assert [c.text for c in newest.findall(f"{DC}creator")] == list(article.authors)
    content = lxml.html.fragment_fromstring(newest.findtext(f"{CONTENT}encoded"), create_parent="div")
    assert tuple(p.text_content() for p in content.iter("p")) == article.paragraphs


def test_meridian_report_says_when_and_who_only_in_its_json_ld(next_day_site):
    assert live_feed_path("meridian-report") is None  # found only through its news sitemaps
    sitemap = etree.fromstring(fetch(next_day_site + archive_feed_path("meridian-report", DAY))[2])
    dates = [datetime.fromisoformat(d.text) for d in sitemap.iter(f"{NEWS}publication_date")]
    assert dates == [a.published_at for a in reversed(articles_for("meridian-report", DAY))]
    for article in articles_for("meridian-report", DAY):
        page = fetch(next_day_site + article.path)[2].decode("utf-8")
        assert "<time" not in page and "og:" not in page and 'rel="canonical"' not in page and " lang=" not in page
        html = lxml.html.fromstring(page)
        for script in html.xpath("//script | //style"):
            script.drop_tree()
        visible = html.text_content()
        assert find_date(visible, tz="Europe/London") is None
        assert not any(name in visible for name in article.authors)


def test_wadi_post_is_arabic_right_to_left_in_windows_1256(next_day_site):
    article = articles_for("wadi-post", DAY)[-1]
    _, headers, body = fetch(next_day_site + article.path)
    assert headers["Content-Type"] == "text/html; charset=windows-1256"
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")
    page = body.decode("cp1256")
    assert '<html dir="rtl" lang="ar">' in page and '<meta charset="windows-1256">' in page
    html = lxml.html.fromstring(body)
    # 1 March 2024 was a Friday (الجمعة), in March (مارس); the time is Cairo's.
    assert html.findtext('.//span[@class="news-date"]') == (
        f"الجمعة، 1 مارس 2024 - {article.published_at:%H:%M}")
    assert html.findtext('.//span[@class="news-code"]') == f"رقم الخبر: {article.story_code}"
    feed = fetch(next_day_site + archive_feed_path("wadi-post", DAY))[2]
    assert feed.startswith(b'<?xml version="1.0" encoding="windows-1256"?>')
    assert etree.fromstring(feed).findtext("channel/item/title") == article.title  # newest first


@pytest.mark.parametrize("validator", ["If-None-Match", "If-Modified-Since"])
@pytest.mark.parametrize(
    "path", [live_feed_path("nordic-dispatch"), articles_for("harbor-times", DAY)[0].path,
             archive_feed_path("meridian-report", DAY), articles_for("wadi-post", DAY)[0].path]
)
def test_conditional_get_answers_304(next_day_site, validator, path):
    status, headers, _ = fetch(next_day_site + path)
    assert status == 200
    value = headers["ETag"] if validator == "If-None-Match" else headers["Last-Modified"]
    status, _, body = fetch(next_day_site + path, {validator: value})
    assert (status, body) == (304, b"")
    assert fetch(next_day_site + path, {"If-None-Match": '"something-else"'})[0] == 200


@pytest.mark.parametrize(
    "path, status, expected",
    [
        ("/", 200, b"Sample publishers"),
        ("/robots.txt", 200, b"Allow: /"),
        ("/harbor-times/", 200, b"Harbor Times"),
        ("/wadi-post/", 200, "بريد الوادي".encode("cp1256")),
        ("/meridian-report/", 200, b"Meridian Report"),  # a site without a live feed links none
        ("/prairie-courier/2024/03/09/feed/", 404, b"Not found"),  # a day that has not begun
        ("/meridian-report/sitemaps/news-2024-3-1.xml", 404, b"Not found"),  # not the spelling it links to
        ("/nope", 404, b"Not found"),
        ("/tehran-wire/archive/2024/03/09/rss.xml", 404, b"Not found"),  # a day that has not begun
        ("/harbor-times/archive/2024-02-30.atom", 404, b"Not found"),
    ],
)
def test_other_paths(noon_site, path, status, expected):
    got_status, _, body = fetch(noon_site + path)
    assert got_status == status and expected in body


def test_links_follow_the_host_header(noon_site):
    body = fetch(noon_site + live_feed_path("tehran-wire"), {"Host": "news.example:9999"})[2]
    links = _feed_links("tehran-wire", body)
    assert links and all(link.startswith("http://news.example:9999/tehran-wire/news/") for link in links)


def test_an_update_appears_only_once_it_has_happened():
    article = next(a for a in articles_for("harbor-times", DAY) if a.updated_at)
    before = route(article.path, "http://news.example", article.updated_at - timedelta(minutes=1)).body
    after = route(article.path, "http://news.example", article.updated_at).body
    assert b"article:modified_time" not in before and b"article:modified_time" in after


@pytest.mark.parametrize("slug", PUBLISHERS)
def test_archive_of_a_day_with_nothing_out_yet_is_an_empty_feed(slug):
    first = articles_for(slug, DAY)[0].published_at
    reply = route(archive_feed_path(slug, DAY), "http://news.example", first - timedelta(minutes=1))
    assert reply.status == 200 and _feed_links(slug, reply.body) == []


def test_command_line_serves_until_ctrl_c():
    process = subprocess.Popen(
        [sys.executable, "-m", "news_etl.sample_sites", "--port", "0", "--now", "2024-03-01T12:00Z"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        first_line = process.stdout.readline()
        assert first_line.startswith("Sample publishers serving at http://127.0.0.1:")
        assert fetch(first_line.split()[-1] + "/robots.txt")[0] == 200
    finally:
        process.send_signal(signal.SIGINT)
        _, errors = process.communicate(timeout=5)
    assert process.returncode == 0 and "Traceback" not in errors


# --- helpers ---

def _feed_links(slug: str, body: bytes) -> list[str]:
    root_tag, item_path, link_of = FEED_SHAPES[slug]
    root = etree.fromstring(body)  # raises on XML that is not well formed
    assert root.tag == root_tag
    return [link_of(item) for item in root.findall(item_path)]


def _assert_page_dates_and_authors(slug: str, html, article) -> None:
    if slug == "tehran-wire":
        expected = article.published_at.strftime("%A %-d %B %Y - %H:%M")
        assert html.findtext('.//div[@class="news-date"]') == expected
    elif slug == "harbor-times":
        ld = json.loads(html.xpath('//script[@type="application/ld+json"]')[0].text)
        assert datetime.fromisoformat(ld["datePublished"]) == article.published_at
        modified = datetime.fromisoformat(ld["dateModified"])
        assert (modified if modified != article.published_at else None) == article.updated_at
        assert [author["name"] for author in ld["author"]] == list(article.authors)
    elif slug == "nordic-dispatch":
        published = html.xpath('//meta[@property="article:published_time"]/@content')[0]
        assert datetime.fromisoformat(published) == article.published_at
        byline = html.findtext('.//p[@class="byline"]').removeprefix("By ")
        assert byline.replace(" and ", ", ") == ", ".join(article.authors)
    elif slug == "prairie-courier":
        published = html.xpath('//time[contains(@class, "published")]/@datetime')
        updated = html.xpath('//time[@class="updated"]/@datetime')
        assert [datetime.fromisoformat(t) for t in published] == [article.published_at]
        assert [datetime.fromisoformat(t) for t in updated] == ([article.updated_at] if article.updated_at else [])
        assert html.xpath('//span[@class="author vcard"]/a[contains(@class, "fn")]/text()') == list(article.authors)
    elif slug == "meridian-report":
        (graph,) = [json.loads(s.text) for s in html.xpath('//script[@type="application/ld+json"]')]
        (story,) = [node for node in graph["@graph"] if node["@type"] == "NewsArticle"]
        assert datetime.fromisoformat(story["datePublished"]) == article.published_at
        people = story["author"] if isinstance(story["author"], list) else [story["author"]]
        assert [person["name"] for person in people] == list(article.authors)
    else:
        assert html.xpath('//meta[@name="author"]/@content') == list(article.authors)
        assert html.findtext('.//div[@class="writer"]') == f"بقلم: {article.authors[0]}"
