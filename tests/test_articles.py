"""Article parsing: every sample publisher's pages against the generator's truth, the seed-like
page field by field, and the generic extractor's sources of metadata, decoding and errors."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from news_etl.articles import article_record, content_hash, parse_article
from news_etl.encoding import decode_html
from news_etl.dates import isoformat
from news_etl.errors import PageError
from news_etl.sample_sites.publishers import PUBLISHERS, articles_for, as_of
from news_etl.sample_sites.server import route
from news_etl.sources import DEFAULT_SOURCES_DIR, load_source, load_sources

BASE = "http://127.0.0.1:8750"


@pytest.fixture(scope="module")
def sources():
    return {s.name: s for s in load_sources(DEFAULT_SOURCES_DIR)}


def _page(article, now):
    reply = route(article.path, BASE, now)
    assert reply.status == 200, article.path
    return reply.body


# Days chosen to cross DST changes in Europe (2024-03-31), the US (2024-11-03) and Egypt (2024-10-31,
# whose last hour comes twice), a leap day and dates far from the seed.
@pytest.mark.parametrize("publisher", sorted(PUBLISHERS))
@pytest.mark.parametrize("day", [date(2024, 3, 1), date(2024, 2, 29), date(2024, 3, 31), date(2024, 11, 3),
                                 date(2024, 10, 31), date(2031, 7, 15)])
def test_sample_publisher_pages_parse_exactly(sources, publisher, day):
    source = sources[publisher]
    now = datetime.combine(day + timedelta(days=2), datetime.min.time(), timezone.utc)
    for truth in articles_for(publisher, day):
        truth = as_of(truth, now)
        url = BASE + truth.path
        parsed = parse_article(_page(truth, now), url=url, source=source)
        assert parsed.title == truth.title
        assert isoformat(parsed.published_at) == isoformat(truth.published_at)
        assert parsed.story_code == truth.story_code
        assert parsed.authors == truth.authors
        assert parsed.body == truth.body
        assert parsed.language == truth.language
        assert parsed.canonical_url == url
        assert parsed.updated_at == truth.updated_at


def test_seed_like_page_field_by_field(sources):
    """The page the project started from: a local date line in Tehran time, a story code line,
    and a Featured Stories block whose titles and dates must not leak into the article."""
    now = datetime(2024, 3, 3, tzinfo=timezone.utc)
    last = articles_for("tehran-wire", date(2024, 3, 1))[-1]
    html = _page(last, now)
    assert b"Friday 1 March 2024 - 23:49" in html and b"Featured Stories" in html

    parsed = parse_article(html, url=BASE + last.path, source=sources["tehran-wire"])

    assert parsed.title == "Qadiran Cabinet Approves Reform of Fishing Quotas after Weeks of Talks"
    assert isoformat(parsed.published_at) == "2024-03-01T23:49:00+03:30"
    assert parsed.published_at.astimezone(timezone.utc) == datetime(2024, 3, 1, 20, 19, tzinfo=timezone.utc)
    assert parsed.story_code == "1119706"
    assert parsed.body.startswith("Nils Rahimi, an economist at the Chamber of Commerce, called the result")
    assert parsed.body.endswith("A review of the policy is planned for 2025.")
    assert "Featured Stories" not in parsed.body and "Comment" not in parsed.body.split()
    for other in articles_for("tehran-wire", date(2024, 3, 1))[:-1] + articles_for("tehran-wire", date(2024, 2, 29)):
        assert other.title not in parsed.body
    assert "March 2024" not in parsed.body


def test_generic_extractor_reads_json_ld_graph_meta_and_time():
    html = b"""<html lang="de"><head>
    <script type="application/ld+json">{"@context": "https://schema.org", "@graph": [
      {"@type": "WebSite", "name": "Site"},
      {"@type": ["NewsArticle"], "headline": "Graph headline", "datePublished": "2024-03-01T09:15:00+01:00",
       "dateModified": "2024-03-01T11:00:00+01:00", "author": [{"@type": "Person", "name": "Ada Byrne"}],
       "articleSection": "Science"}]}</script>
    <meta property="og:title" content="OG title"><link rel="canonical" href="/a/1?utm_source=x">
    </head><body><nav><p>Home News Sport and a long navigation sentence here</p></nav>
    <article><p>First paragraph of the story with enough words to count as text.</p>
    <div class="share">Share this on every network you know of, please do</div>
    <p>Second paragraph of the story, again with enough words to count.</p></article>
    <aside class="related"><time datetime="2020-01-01T00:00:00Z">old</time><p>Related story title that is long enough</p></aside>
    </body></html>"""
    parsed = parse_article(html, url="https://example.org/a/1")
    assert parsed.title == "Graph headline"
    assert isoformat(parsed.published_at) == "2024-03-01T09:15:00+01:00"
    assert isoformat(parsed.updated_at) == "2024-03-01T11:00:00+01:00"
    assert parsed.authors == ("Ada Byrne",)
    assert parsed.section == "Science"
    assert parsed.language == "de"
    assert parsed.canonical_url == "https://example.org/a/1"
    assert parsed.body == ("First paragraph of the story with enough words to count as text.\n\n"
                           "Second paragraph of the story, again with enough words to count.")


# (name, byline markup, authors): pages without JSON-LD or meta authors name them in their markup.
BYLINES = [
    ("WordPress hCards", '<span class="byline"> by <span class="author vcard"><a class="url fn n" href="/a/">Ada Byrne'
                         '</a></span> and <span class="author vcard"><a class="url fn n" href="/b/">Li Wei</a></span>'
                         "</span>", ("Ada Byrne", "Li Wei")),
    ("a rel=author link", 'By <a rel="author" href="/staff/ada">Ada Byrne</a>', ("Ada Byrne",)),
    ("microdata with a name", '<span itemprop="author" itemscope><span itemprop="name">Ana de la Cruz</span></span>',
     ("Ana de la Cruz",)),
    ("microdata as text", '<span itemprop="author">By Ada Byrne and Li Wei</span>', ("Ada Byrne", "Li Wei")),
    ("not a label on an author link", '<a rel="author" href="/staff/ada">More from this author</a>', ()),
    ("links to author pages, both of a shared byline",
     'By <a href="https://example.org/author/ada-byrne/">Ada Byrne</a> and <a href="/author/li-wei">Li Wei</a>',
     ("Ada Byrne", "Li Wei")),
    ("a contributor page link", 'Text by <a href="/contributor/ana-cruz/">Ana Cruz</a>', ("Ana Cruz",)),
    ("a written byline", "<p>By Ada Byrne and Li Wei</p>", ("Ada Byrne", "Li Wei")),
    ("a 'By' label beside the name", "<span>By</span><span>Ada Byrne</span>", ("Ada Byrne",)),
    ("a role after the name", '<a href="/profile/ada-byrne">Ada Byrne | Senior Writer</a>', ("Ada Byrne",)),
    ("an element whose class says author, after its label",
     '<div class="header-author"><div class="caption">Author</div><div class="the-author">Ada Byrne</div></div>',
     ("Ada Byrne",)),
    ("a list of authors after a label", '<div class="authors"><span>Authors:</span><a href="/s?q=ada">Ada Byrne</a>,'
                                        ' <a href="/s?q=li">Li Wei</a></div>', ("Ada Byrne", "Li Wei")),
    ("an avatar's alt text in an author element",
     '<div class="post-author"><img src="/a.jpg" alt="Ana de la Cruz"></div>', ("Ana de la Cruz",)),
    ("not an author element's label alone", '<span class="author-label">Written by</span>', ()),
    ("a 'Written by' heading", "<h3>Written by Ada Byrne</h3><p>Ada Byrne writes on transport.</p>", ("Ada Byrne",)),
    ("the name after a bold 'Contributors:' label", "<div><strong>Contributors:</strong> Ada Byrne</div>",
     ("Ada Byrne",)),
    ("names linked after an 'Authors:' label", '<div><span>Authors:</span><a href="/s?q=ada">Ada Byrne</a>, '
                                               '<a href="/s?q=li">Li Wei</a></div>', ("Ada Byrne", "Li Wei")),
    ("the name, not the role set below it in the label's next element",
     "<div><span>Written by</span><div><div>Ada Byrne</div><div>AI Writer, Gulf Ledger</div></div></div>",
     ("Ada Byrne",)),
    ("a role after the name in an author element", '<span class="author-name">Ada Byrne Senior Staff Writer</span>',
     ("Ada Byrne",)),
    ("a 'By:' line", "<p>By: Ada Byrne</p>", ("Ada Byrne",)),
    ("not an author box's biography after the name",
     "<div><div>Written by</div><div>Ada Byrne</div><div>Hi, I'm Ada, I cover transport</div></div>", ("Ada Byrne",)),
]


# (name, head, authors): names that meta tags and JSON-LD give, cleaned of what is not a person.
STATED_AUTHORS = [
    ("an e-mail after the name", '<meta name="author" content="Ada Byrne (ada.byrne@example.org)">', ("Ada Byrne",)),
    ("an e-mail alone", '<meta name="author" content="newsdesk@example.org">', ()),
    ("an agency code and a numeric id",
     '<script type="application/ld+json">{"@type": "NewsArticle", "author": ['
     '{"@type": "Organization", "name": "AFP"}, {"@type": "Person", "name": "48213"}, "Li Wei"]}</script>',
     ("Li Wei",)),
    ("the outlet, not a person",
     '<meta property="og:site_name" content="Gulf Ledger"><meta name="author" content="Gulf Ledger">', ()),
    ("a blogger whose site bears their name",
     '<meta property="og:site_name" content="Ada Byrne"><script type="application/ld+json">{"@type": "Article", '
     '"publisher": {"@type": "Organization", "name": "Ada Byrne"}, "author": {"@type": "Person", "name": "Ada Byrne"}}'
     '</script>', ("Ada Byrne",)),
    ("several in one field", '<meta name="author" content="Ada Byrne, Li Wei &amp; Ana Cruz">',
     ("Ada Byrne", "Li Wei", "Ana Cruz")),
    ("a later tag where article:author is a profile URL",
     '<meta property="article:author" content="https://social.example/gulfledger">'
     '<meta name="parsely-author" content="Ada Byrne">', ("Ada Byrne",)),
    ("a later tag where the first names the outlet", '<meta property="og:site_name" content="Gulf Ledger">'
     '<meta name="author" content="Gulf Ledger"><meta name="sailthru.author" content="Ada Byrne">', ("Ada Byrne",)),
    ("a name ending in a word that may qualify a role stays whole",
     '<meta name="author" content="Centre for Transport Research">', ("Centre for Transport Research",)),
    ("quoted, from a tag that names the writer",
     '<meta name="twitter:label1" content="Written by"><meta name="twitter:data1" content="&quot;Ada Byrne&quot;">',
     ("Ada Byrne",)),
]


@pytest.mark.parametrize("name, head, authors", STATED_AUTHORS, ids=[a[0] for a in STATED_AUTHORS])
def test_authors_are_people_split_and_cleaned(name, head, authors):
    html = (f"<html><head>{head}</head><body><article><h1>Bridge reopens</h1>"
            "<p>The harbour bridge reopened after three months of repairs and new supports, officials said.</p>"
            "</article></body></html>").encode()
    assert parse_article(html, url="https://example.org/a").authors == authors


# (name, JSON-LD in the head, lines around the article's text): the writer, never the outlet.
WRITER_NOT_OUTLET = [
    ("the byline where JSON-LD names only the outlet",
     '<script type="application/ld+json">{"@type": "NewsArticle", "author": {"@type": "Organization", '
     '"name": "Gulf Ledger"}}</script>', '<p>By <a rel="author" href="/staff/ada">Ada Byrne</a></p>', ""),
    ("not a link to the newsroom's profile before the writer's", "",
     '<p><a href="/profiles/gulf-ledger-1">Gulf Ledger</a></p>',
     '<p>Written for the Ledger by <a href="/profiles/ada-byrne-309">Ada Byrne</a></p>'),
]


@pytest.mark.parametrize("name, ld, before, after", WRITER_NOT_OUTLET, ids=[w[0] for w in WRITER_NOT_OUTLET])
def test_the_author_is_the_writer_not_the_outlet(name, ld, before, after):
    html = (f'<html><head><meta property="og:site_name" content="Gulf Ledger">{ld}</head><body><article>'
            f"<h1>Bridge reopens</h1>{before}"
            "<p>The harbour bridge reopened after three months of repairs and new supports, officials said.</p>"
            f"{after}</article></body></html>").encode()
    assert parse_article(html, url="https://example.org/a").authors == ("Ada Byrne",)


# (name, head, headings in the body, title): the on-page headline, without the site's name.
TITLES = [
    ("the h1 over an SEO title with a kicker and the site",
     '<meta property="og:title" content="Breaking: Harbour bridge reopens after repairs | Gulf Ledger">',
     "<h1>Harbour bridge reopens after repairs</h1>", "Harbour bridge reopens after repairs"),
    ("a logo h1 is not the headline",
     "<title>Gulf Ledger - Sport - Harbour bridge reopens after three months</title>",
     "<h1>Gulf Ledger</h1><h2>Harbour bridge reopens after three months</h2>",
     "Harbour bridge reopens after three months"),
    ("the stated site name is cut", '<meta property="og:site_name" content="The Ledger">'
     "<title>Bridge reopens - The Ledger</title>", "<h1>The Ledger</h1>", "Bridge reopens"),
    ("no heading: the longest part of the title", "<title>Ledger :: News :: Harbour bridge reopens today</title>",
     "", "Harbour bridge reopens today"),
    ("a headline marked by class alone", "<title>Harbour bridge reopens on Monday | Ledger</title>",
     '<div class="storyheadline">Harbour bridge reopens on Monday</div>', "Harbour bridge reopens on Monday"),
    ("the page's one h1 over a stated title that rewords it",
     "<title>Using machine learning to personalise shopping | Ledger</title>",
     "<h1>How machine learning personalises online shopping</h1>", "How machine learning personalises online shopping"),
    ("not a section label in the one h1", "<title>Harbour bridge reopens after repairs | Ledger</title>",
     "<h1>Local news</h1>", "Harbour bridge reopens after repairs"),
    ("the site and section before ' : ' separators",
     "<title>The Ledger : Business : Harbour bridge reopens after repairs</title>", "",
     "Harbour bridge reopens after repairs"),
    ("one ' : ' is French typography, not a separator",
     "<title>Retraites : le Sénat adopte la réforme après des semaines de débat | Le Courrier</title>", "",
     "Retraites : le Sénat adopte la réforme après des semaines de débat"),
    ("' : ' beside the stated site name separates it", '<meta property="og:site_name" content="Le Courrier">'
     "<title>Le Courrier : Retraites, le Sénat adopte la réforme</title>", "",
     "Retraites, le Sénat adopte la réforme"),
    ("a line of the page that is the title without the site's name before it",
     "<title>Gulf Ledger: Harbour bridge reopens after repairs</title>",
     "<div>Harbour bridge reopens after repairs</div>", "Harbour bridge reopens after repairs"),
    ("not the logo's line that is the title's site part",
     "<title>Harbour bridge reopens after repairs | The Gulf Coast Evening Ledger</title>",
     "<header><div>The Gulf Coast Evening Ledger</div></header>", "Harbour bridge reopens after repairs"),
    ("the bold line above the text where the title is the site's name and slogan",
     "<title>Gulf Ledger - Local news, weather and sports</title>",
     '<p><font size="4"><b>Harbour bridge reopens after three months</b></font></p>',
     "Harbour bridge reopens after three months"),
    ("not the section's name that the title states and an h1 shows",
     "<title>cbs11tv.com - Local Sports Wire</title>",
     "<h1>Local Sports Wire</h1><h2>Harbour bridge reopens after three months</h2>",
     "Harbour bridge reopens after three months"),
    ("not the dateline set as a heading between the headline and the text",
     "<title>Gulf Ledger - Local news, weather and sports</title>",
     "<h2>Harbour bridge reopens after three months</h2><h5>10:02 AM CST on Friday, December 28, 2007</h5>",
     "Harbour bridge reopens after three months"),
    ("the title of a page whose head landed in its body, over a bold notice",
     "", '<font size="2"><b><title>Harbour bridge reopens after three months</title></b></font>'
     "<p><b>Please support local business today</b></p>", "Harbour bridge reopens after three months"),
    ("not a bold line above the text where the title tells the story",
     "<title>Harbour bridge reopens after three months of repairs | Ledger</title>",
     "<p><b>Officials praise new supports</b></p>", "Harbour bridge reopens after three months of repairs"),
    ("the part that tells the story, not a longer site name and section",
     "<title>Harbour bridge reopens | Halifax, The Daily Ledger: Sports</title>", "",
     "Harbour bridge reopens"),
    ("entities decoded once", "<title>Caf&eacute; &amp; Bar reopen</title>", "", "Café & Bar reopen"),
    ("twice-escaped entities repaired", '<meta property="og:title" content="Caf&amp;eacute; &amp;#038; Bar '
     '&amp;amp; more">', "", "Café & Bar & more"),
    ("a JSON-LD headline with an escaped entity",
     '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Bridge &amp; tunnel reopen"}</script>',
     "", "Bridge & tunnel reopen"),
]


@pytest.mark.parametrize("name, head, headings, title", TITLES, ids=[t[0] for t in TITLES])
def test_title_is_the_on_page_headline(name, head, headings, title):
    html = (f"<html><head>{head}</head><body><article>{headings}"
            "<p>The harbour bridge reopened after three months of repairs and new supports, officials said.</p>"
            "</article></body></html>").encode()
    assert parse_article(html, url="https://example.org/a").title == title


@pytest.mark.parametrize("name, byline, authors", BYLINES, ids=[b[0] for b in BYLINES])
def test_authors_from_byline_markup_but_never_from_comments(name, byline, authors):
    comments = ('<div id="comments" class="comments-area"><div class="comment-author vcard"><b class="fn">Reader One'
                '</b></div><p>A reader comment that is long enough to be read as a paragraph of text.</p>'
                '<a rel="author" href="/u/2">Reader Two</a></div>')
    html = (f"<html><body><article><h1>Bridge reopens</h1><div class='meta'>{byline}</div>"
            "<p>The harbour bridge reopened after three months of repairs and new supports, officials said.</p>"
            f"</article>{comments}</body></html>").encode()
    assert parse_article(html, url="https://example.org/a").authors == authors


def test_time_element_outside_related_blocks_is_the_fallback_date():
    html = b"""<html><body><aside class="related"><time datetime="2019-05-05T10:00:00Z">x</time></aside>
    <article><h1>Title here</h1><time datetime="2024-03-01T08:00:00-05:00">1 March</time>
    <p>Body paragraph long enough to be picked as the article text by the extractor.</p></article></body></html>"""
    parsed = parse_article(html, url="https://example.org/x")
    assert isoformat(parsed.published_at) == "2024-03-01T08:00:00-05:00"
    assert parsed.title == "Title here"


@pytest.mark.parametrize(
    "encoding, text, declared",
    [
        ("windows-1256", "خبر عاجل من طهران اليوم", '<meta charset="windows-1256">'),
        ("cp1251", "Новости дня из Москвы сегодня", '<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'),
        ("utf-8", "Grüße aus Zürich, Åsa Lindqvist sagt “ja”", ""),
    ],
)
def test_page_encodings(encoding, text, declared):
    html = f"<html><head>{declared}<title>t</title></head><body><article><p>{text}, " \
           f"{text}.</p></article></body></html>".encode(encoding)
    parsed = parse_article(html, url="https://example.org/e")
    assert parsed.body == f"{text}, {text}."


def test_http_header_charset_wins_over_meta():
    html = "<html><head><meta charset='utf-8'></head><body><p>Привет</p></body></html>".encode("cp1251")
    assert "Привет" in decode_html(html, "text/html; charset=windows-1251")


def test_a_title_never_closed_does_not_swallow_the_page():
    html = (b"<html><head><title>Harbour bridge reopens<script>var ads = 1;</script></head><body><article>"
            b"<h1>Harbour bridge reopens</h1><p>The harbour bridge reopened after three months of repairs and new "
            b"supports, officials said.</p></article></body></html>")
    parsed = parse_article(html, url="https://example.org/a")
    assert (parsed.title, parsed.body) == ("Harbour bridge reopens", "The harbour bridge reopened after three "
                                           "months of repairs and new supports, officials said.")


@pytest.mark.parametrize("data, problem", [(b"", "empty page"), (b"   \n", "empty page"),
                                            (b"<html><body></body></html>", "no body")])
def test_unparseable_pages_raise_page_error_naming_the_url(data, problem):
    with pytest.raises(PageError, match=f"https://example.org/p: .*{problem}"):
        parse_article(data, url="https://example.org/p")


def test_bad_date_line_names_page_and_field(write_file):
    source = load_source(write_file("s.yaml", """
name: s
timezone: Asia/Tehran
feeds: [http://127.0.0.1:9/f]
rules:
  published: {xpath: '//div[@class="d"]', format: '%A %d %B %Y - %H:%M'}
"""))
    html = b"<html><body><div class='d'>Someday soon</div><p>text text text text text text</p></body></html>"
    with pytest.raises(PageError, match=r"https://example.org/p: field 'published': .*Someday soon"):
        parse_article(html, url="https://example.org/p", source=source)


def test_story_code_from_url_when_the_page_has_none(sources):
    now = datetime(2024, 3, 5, tzinfo=timezone.utc)
    truth = articles_for("nordic-dispatch", date(2024, 3, 1))[0]
    parsed = parse_article(_page(truth, now), url=BASE + truth.path, source=sources["nordic-dispatch"])
    assert parsed.story_code == truth.story_code and truth.path.split("/")[-1].startswith(truth.story_code)


def test_record_identity_and_fallbacks(sources):
    tehran, harbor = sources["tehran-wire"], sources["harbor-times"]
    parsed = parse_article(b"<html><body><h1>Only a title</h1><p>Body words here.</p></body></html>",
                           url="https://example.org/n/1", source=harbor)
    feed_item = {"title": "Feed title", "published_at": "2024-03-01T10:00:00+00:00"}
    rec = article_record(harbor, "https://example.org/n/1", parsed, feed_item=feed_item, raw_ref="r")
    assert rec["identity"] == "https://example.org/n/1"          # no story codes: the canonical URL
    assert rec["published_at"] == "2024-03-01T10:00:00+00:00"    # the page has no date: the feed's
    assert rec["title"] == "Only a title"                         # the page's title wins
    assert rec["word_count"] == 3
    failed = article_record(tehran, "https://example.org/n/2", None, feed_item=feed_item, parse_error="boom")
    assert failed["parse_error"] == "boom" and failed["title"] == "Feed title"


def test_record_keeps_page_and_feed_dates_and_the_code_the_url_carries(sources):
    tehran = sources["tehran-wire"]
    url = "https://example.org/news/1119717/storm"
    html = (b"<html><body><h1>Storm</h1><div class='news-date'>Friday 1 March 2024 - 23:49</div>"
            b"<div class='story-code'>Story Code : 1119718</div><div class='news-body'><p>Text.</p></div></body></html>")
    parsed = parse_article(html, url=url, source=tehran)
    rec = article_record(tehran, url, parsed, feed_item={"published_at": "2024-03-03T10:00:00+00:00"})
    assert (rec["published_at"], rec["feed_published_at"]) == ("2024-03-01T23:49:00+03:30", "2024-03-03T10:00:00+00:00")
    assert (rec["story_code"], rec["story_code_in_url"]) == ("1119718", "1119717")


@pytest.mark.parametrize("a, b, same", [
    (("Title", "One  two\n\nthree"), ("Title", "One two three"), True),   # whitespace only
    (("Cafe\u0301", "x"), ("Caf\u00e9", "x"), True),                       # the same text in NFD and NFC
    (("Title", "One two three"), ("Title", "One two four"), False),
    (("Title", "Body"), ("Other", "Body"), False),
])
def test_content_hash_of_the_normalized_title_and_body(a, b, same):
    assert (content_hash(*a) == content_hash(*b)) is same
