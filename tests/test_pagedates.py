"""Publication dates of pages without rules: every place a page states one, in order of trust, and
never a date of another story (related, featured, most read, comments)."""

import pytest

from news_etl.articles import parse_article
from news_etl.dates import isoformat
from news_etl.sources import load_source

BODY = "<p>" + "The harbour bridge reopened after three months of repairs and new supports. " * 3 + "</p>"
RELATED = ('<aside class="related"><h3>Related</h3><ul><li><a href="/old">Old story</a> '
           '<time datetime="2019-05-05T10:00:00Z">5 May 2019</time> 05.05.2019</li></ul></aside>')
FEATURED = ('<div class="featured-stories"><h3>Featured Stories</h3><div class="news-date">Monday 4 March 2024'
            ' - 10:00</div><p>A featured story about something else that happened another day entirely.</p></div>')


def page(head: str = "", article: str = BODY, before: str = "", after: str = RELATED) -> bytes:
    return (f"<html><head><title>t</title>{head}</head><body><nav><a href='/'>Home</a></nav>{before}"
            f"<article><h1>Bridge reopens</h1>{article}</article>{after}</body></html>").encode()


def prose(sentence: str) -> str:
    """A paragraph too long to be a date line, with ``sentence`` in its middle."""
    return f"<p>{BODY[3:-4]} {sentence} {BODY[3:-4]}</p>"


# (name, page, url, published_at as isoformat, None when the page states no date of its own)
PAGES = [
    ("JSON-LD datePublished",
     page('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-03-01T09:15:00+01:00"}'
          "</script>"), None, "2024-03-01T09:15:00+01:00"),
    ("JSON-LD inside @graph, on a WebPage",
     page('<script type="application/ld+json">{"@graph": [{"@type": "WebPage", "datePublished": "2024-03-01"}]}'
          "</script>"), None, "2024-03-01T00:00:00+01:00"),
    ("OpenGraph article:published_time", page('<meta property="article:published_time" content="2024-03-01T09:15Z">'),
     None, "2024-03-01T09:15:00+00:00"),
    ("a pubdate meta tag of a site's own naming", page("<meta name='sw-pubdate' content='2024-03-01'>"), None,
     "2024-03-01T00:00:00+01:00"),
    ("a published time in a CMS's own layout (Drupal's)",
     page("<meta property='article:published_time' content='Thu, 09/25/2025 - 11:38'>"),
     "https://example.org/2025/09/20/bridge-reopens", "2025-09-25T11:38:00+02:00"),
    ("a quoted ISO time in JSON-LD",
     page('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "\\"2025-12-17T13:22:47Z\\""}'
          "</script>"), None, "2025-12-17T13:22:47+00:00"),
    ("never a guess at a day and month that could be either",
     page("<meta name='pubdate' content='11/01/2023 12:43:42'>",
          article=f'<time datetime="2023-11-01T12:43:42+01:00">1 November</time>{BODY}'), None,
     "2023-11-01T12:43:42+01:00"),
    ("microdata with the date as text",
     page(article=f'<span itemprop="datePublished">\nMay 19, 2020\n</span>{BODY}'), None,
     "2020-05-19T00:00:00+02:00"),
    ("RDFa in the article's own footer",
     page(article=f'{BODY}<footer><span property="dc:date" content="2022-01-28T12:45:46+00:00"></span></footer>'),
     None, "2022-01-28T12:45:46+00:00"),
    ("the published <time> before an earlier 'updated' one",
     page(article='<time class="updated" datetime="2024-03-02T08:00:00+01:00">2 March</time>'
                  f'<time class="entry-date published" datetime="2024-03-01T07:00:00+01:00">1 March</time>{BODY}'),
     None, "2024-03-01T07:00:00+01:00"),
    ("a date line in an element named for it",
     page(article=f'<div class="meta-info">Erstellt am: 30.01.2022 18:36 / sk</div>{BODY}'), None,
     "2022-01-30T18:36:00+01:00"),
    ("a two-digit year in an element named for the date",
     page(article=f'<div class="article-meta">Von: B. Jahner <span>|</span> <span>31.10.23</span></div>{BODY}'), None,
     "2023-10-31T00:00:00+01:00"),
    ("never a two-digit year in running prose",
     page(article=prose("Die Version 1.10.23 der Software lief auf 24.11.19 Rechnern.")), None, None),
    # Named in the page's language ("Datum", "fecha"); the date is a permalink, so no date line.
    ("a date in an element named for the date in German",
     page(article=f'<p class="newsdatum">[<a href="/x">Samstag, 19. Juli 2014</a>]</p>{BODY}',
          after='<script>var a = "2014-07-01", b = "2014-07-01";</script>'), None, "2014-07-19T00:00:00+02:00"),
    ("a date in an element named for the date in Spanish",
     page(article=f'<span class="fecha-nota"><a href="/x">19 de julio de 2014</a></span>{BODY}',
          after='<script>var a = "2014-07-01", b = "2014-07-01";</script>'), None, "2014-07-19T00:00:00+02:00"),
    ("dc:date of an RDF block in a comment",
     page(article=f'<!-- <rdf:RDF><rdf:Description dc:date="2020-07-03T17:16:22+09:00" /></rdf:RDF> -->{BODY}'),
     None, "2020-07-03T17:16:22+09:00"),
    ("a local date line under the headline takes the source's zone",
     page(article=f"<p>Friday 1 March 2024 - 23:49</p>{BODY}"), None, "2024-03-01T23:49:00+01:00"),
    ("a date line just above the headline",
     page(before="<header><span>02.12.19</span></header>", after='<script>var a = "2019-11-30", b = "2019-11-30";</script>'),
     None, "2019-12-02T00:00:00+01:00"),
    ("a date line under the headline before one above it",
     page(before="<header><span>02.12.19</span></header>", article=f"<p>3 December 2019 - 10:00</p>{BODY}"),
     None, "2019-12-03T10:00:00+01:00"),
    ("a date line above the headline before one at the end of the body",
     page(before="<header><span>02.12.19</span></header>", article=f"{BODY}{BODY}<p>05.12.2019 10:00</p>"),
     None, "2019-12-02T00:00:00+01:00"),
    ("a paragraph opened by a date line set off from its prose",
     page(article=prose("").replace("<p>", "<p>BERLIN, 1. März 2024 – ", 1)), None, "2024-03-01T00:00:00+01:00"),
    ("never an event day a sentence under the headline mentions",
     page(article=f"<p>Der Rat hat am 5. September 2017 Soforthilfen für die Brücke beschlossen, die der Sturm "
                  f"beschädigt hatte.</p>{BODY}<p>08.09.2017 11:15</p>"), None, "2017-09-08T11:15:00+02:00"),
    ("the date in the URL, when the page states none",
     page(), "https://example.org/2024/03/01/bridge-reopens", "2024-03-01T00:00:00+01:00"),
    ("never a date of a related block", page(), "https://example.org/bridge-reopens", None),
    ("never a date of a featured block", page(after=FEATURED), None, None),
    # The extensive search, when no marked place states a date: the day written most often.
    ("a date only in the page's own script data",
     page('<script>var dims = {"section": "news", "published": "2022-01-28"};</script>'
          '<script>track({"day": "2022-01-28", "page": 7});</script>'), None, "2022-01-28T00:00:00+01:00"),
    ("the day written most often, not an event day the text names once",
     page(article=prose("Das Café lädt am 31. Januar 2020 ein."),
          after='<div class="share" data-day="2020-01-27"></div><script>var day = "27.01.2020";</script>'), None,
     "2020-01-27T00:00:00+01:00"),
    ("of days written as often, the oldest (the first publication, not the edit)",
     page(article=prose("Stand 03.02.2021, seit 01.02.2021 online.")), None, "2021-02-01T00:00:00+01:00"),
    ("of days written as often, one in the month the URL files the page under",
     page(article=prose("Am 10.03.2010 angekündigt, am 19.05.2010 erschienen.")),
     "https://blog.example.org/2010/05/typography/", "2010-05-19T00:00:00+02:00"),
    ("never a copyright line's date, nor a date before 1995",
     page(article=prose("Die Brücke wurde am 12. Mai 1962 eröffnet."),
          after="<div class='x'>© 01.01.2024 Example Verlag</div>"), None, None),
    ("never a date written only in a list of related stories", page(), None, None),
    ("the URL of a canonical link a PHP warning pushed into the body",
     b"<b>Warning</b>: mysql_connect() failed<br>" + page('<link rel="canonical" '
                                                            'href="https://example.org/2014/05/18/mai/">'),
     "https://example.org/mai", "2014-05-18T00:00:00+02:00"),
    ("never a date of a teaser link",
     page(before='<div class="ticker"><a href="/x"><span>Other story 01.02.2022 16:28</span></a></div>'), None, None),
]


@pytest.mark.parametrize("name, html, url, published", PAGES, ids=[p[0] for p in PAGES])
def test_publication_date_of_a_page_without_rules(oslo, name, html, url, published):
    parsed = parse_article(html, url=url or "https://example.org/bridge-reopens", source=oslo)
    assert (isoformat(parsed.published_at) if parsed.published_at else None) == published


def test_updated_date_from_hatom_time_elements_as_wordpress_prints_them(oslo):
    edited = ('<time class="entry-date published" datetime="2024-03-01T07:00:00+01:00">1 March</time>'
              '<time class="updated" datetime="2024-03-01T12:30:00+01:00">1 March</time>')
    never_edited = '<time class="entry-date published updated" datetime="2024-03-01T07:00:00+01:00">1 March</time>'
    comment = ('<div class="comments"><time class="updated" datetime="2024-03-02T08:00:00+01:00">2 March</time>'
               '<p>A reader’s comment on the bridge, long enough to be read as a paragraph.</p></div>')
    for article, after, updated in ((edited + BODY, RELATED, "2024-03-01T12:30:00+01:00"),
                                    (never_edited + BODY, RELATED, None),
                                    (never_edited + BODY, comment, None)):
        parsed = parse_article(page(article=article, after=after), url="https://example.org/a", source=oslo)
        assert isoformat(parsed.published_at) == "2024-03-01T07:00:00+01:00"
        assert (isoformat(parsed.updated_at) if parsed.updated_at else None) == updated


def test_updated_date_is_reported_only_when_later_than_published(oslo):
    head = ('<meta property="article:published_time" content="2024-03-01T09:00:00+01:00">'
            '<meta property="article:modified_time" content="{}">')
    later = parse_article(page(head.format("2024-03-01T11:00:00+01:00")), url="https://example.org/a", source=oslo)
    same = parse_article(page(head.format("2024-03-01T09:00:00+01:00")), url="https://example.org/a", source=oslo)
    assert isoformat(later.updated_at) == "2024-03-01T11:00:00+01:00"
    assert same.updated_at is None


@pytest.fixture
def oslo(write_file):
    return load_source(write_file("oslo.yaml", "name: oslo\ntimezone: Europe/Oslo\nfeeds: [http://127.0.0.1:9/f]\n"))


# (name, page, url, published_at as `news-etl parse-article` prints it without a source, offset known)
WITHOUT_A_SOURCE = [
    ("a stated offset is kept",
     page('<meta property="article:published_time" content="2024-03-01T23:49:00+03:30">'), None,
     "2024-03-01T23:49:00+03:30", True),
    ("a time without an offset is the publisher's wall time",
     page('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-03-01T23:49:00"}'
          "</script>"), None, "2024-03-01T23:49:00", False),
    ("a day alone stays a day", page("<meta name='pubdate' content='2024-03-01'>"), None, "2024-03-01", False),
    ("a local date line", page(article=f"<p>Friday 1 March 2024 - 23:49</p>{BODY}"), None,
     "2024-03-01T23:49:00", False),
    ("the day in the URL", page(), "https://example.org/2024/03/01/bridge-reopens", "2024-03-01", False),
    ("no date at all", page(), None, None, None),
    # The publisher's day, not UTC's: the same instant written with the local offset elsewhere wins.
    ("a UTC JSON-LD time beside a local meta tag",
     page('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2019-10-18T22:04:00Z"}'
          '</script><meta name="date" content="Sat, 19 Oct 2019 00:04:00 +0200">'), None,
     "2019-10-19T00:04:00+02:00", True),
    ("a UTC JSON-LD time beside the site's own data",
     page('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-11-09T03:28:35Z"}'
          '</script><script>var post = {"date": "2023-11-08T22:28:35-05:00", "id": 29475634};</script>'), None,
     "2023-11-08T22:28:35-05:00", True),
    ("a UTC time the day before the permalink's day: the URL's day",
     page('<meta property="article:published_time" content="2018-12-31T23:11:59+00:00">'),
     "https://blog.example.org/2019/01/01/new-year/", "2019-01-01", False),
    ("a UTC time on the permalink's day stays UTC",
     page('<meta property="article:published_time" content="2019-01-01T09:11:59+00:00">'),
     "https://blog.example.org/2019/01/01/new-year/", "2019-01-01T09:11:59+00:00", True),
    ("a UTC time far from the URL's day stays UTC (the URL is an archive's, say)",
     page('<meta property="article:published_time" content="2018-12-29T23:11:59+00:00">'),
     "https://blog.example.org/2019/01/01/new-year/", "2018-12-29T23:11:59+00:00", True),
    ("a UTC time alone stays UTC",
     page('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2023-11-09T03:28:35Z"}'
          '</script><script>var other = {"date": "2023-11-02T22:28:35-05:00"};</script>'), None,
     "2023-11-09T03:28:35+00:00", True),
]


@pytest.mark.parametrize("name, html, url, published, known", WITHOUT_A_SOURCE, ids=[p[0] for p in WITHOUT_A_SOURCE])
def test_publication_date_without_a_source_keeps_the_publishers_wall_time(name, html, url, published, known):
    parsed = parse_article(html, url=url or "https://example.org/bridge-reopens")
    assert (isoformat(parsed.published_at) if parsed.published_at else None,
            parsed.published_at_offset_known) == (published, known)


def test_with_a_source_a_date_without_offset_takes_its_zone_and_says_it_was_assumed(oslo):
    # 23:49 in Oslo is still the 1st there, though the 1st has ended in Tehran: the day is the publisher's.
    naive = page('<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2024-07-01T23:49"}'
                 "</script>")
    stated = page('<meta property="article:published_time" content="2024-07-01T23:49:00+03:30">')
    assumed = parse_article(naive, url="https://example.org/a", source=oslo)
    given = parse_article(stated, url="https://example.org/a", source=oslo)
    assert (isoformat(assumed.published_at), assumed.published_at_offset_known) == ("2024-07-01T23:49:00+02:00", False)
    assert (isoformat(given.published_at), given.published_at_offset_known) == ("2024-07-01T23:49:00+03:30", True)
    assert assumed.published_at.date().isoformat() == "2024-07-01"
    # With a zone the stated UTC instant is kept: it is exact, and the zone gives its local day.
    utc = page('<meta property="article:published_time" content="2018-12-31T23:11:59+00:00">')
    kept = parse_article(utc, url="https://example.org/2019/01/01/a", source=oslo)
    assert (isoformat(kept.published_at), kept.published_at_offset_known) == ("2018-12-31T23:11:59+00:00", True)
