"""HTML pages and feeds of the first three sample publishers, the pages every publisher shares
(index, front page, not found) and the helpers the other publishers' templates use.

The templates differ on purpose, the way real sites do: tehran-wire shows its date only as visible
text (no JSON-LD, no <time>), harbor-times carries JSON-LD, OpenGraph and <time>, nordic-dispatch
has OpenGraph meta but no JSON-LD (prairie-courier, meridian-report and wadi-post have their own
modules: wordpress, newsapp, arabic). Each page also has blocks that look like content but are not
the body (lead, promos, featured stories, captions, comments), to catch careless extractors.
Every value is escaped; links are absolute, built on the base URL the request came in on.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from html import escape

from news_etl.sample_sites import text
from news_etl.sample_sites.publishers import (
    PUBLISHERS,
    SampleArticle,
    archive_feed_path,
    live_feed_path,
    local_today,
)

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)

# Languages written right to left: their pages say dir="rtl".
RIGHT_TO_LEFT = frozenset(("ar", "fa", "he", "ur"))
# A 1x1 transparent GIF: thumbnails need a src, and fetching one must never hit the server.
PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7"


# --- dates as each site prints them (English names, independent of the process locale) ---

def tehran_date_line(moment: datetime) -> str:
    """'Friday 1 March 2024 - 23:49'."""
    return f"{WEEKDAYS[moment.weekday()]} {tehran_day(moment)} - {moment:%H:%M}"


def tehran_day(moment: datetime) -> str:
    """'1 March 2024'."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def harbor_date_line(moment: datetime) -> str:
    """'March 1, 2024 at 9:15 a.m. EST'."""
    hour = moment.hour % 12 or 12
    meridiem = "a.m." if moment.hour < 12 else "p.m."
    return f"{harbor_day(moment)} at {hour}:{moment:%M} {meridiem} {moment.tzname()}"


def harbor_day(moment: datetime) -> str:
    """'March 1, 2024'."""
    return f"{MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def nordic_date_line(moment: datetime) -> str:
    """'01.03.2024 kl. 09:15'."""
    return f"{moment:%d.%m.%Y} kl. {moment:%H:%M}"


def http_date(moment: datetime) -> str:
    """'Fri, 01 Mar 2024 20:19:00 GMT' (RFC 822 / RFC 9110 dates)."""
    return format_datetime(moment.astimezone(timezone.utc), usegmt=True)


def summary_of(article: SampleArticle) -> str:
    """What most publishers put in feeds and meta descriptions: the first paragraph."""
    return article.paragraphs[0]


def last_change(article: SampleArticle) -> datetime:
    return article.updated_at or article.published_at


# --- article pages ---

def tehran_wire_page(
    base_url: str, article: SampleArticle, others: list[SampleArticle], now: datetime
) -> str:
    """Modelled on a wire site's layout: date line, title, story code, lead, body, featured stories."""
    featured = "\n".join(
        _tehran_featured_item(base_url, other, with_date=i > 0)  # the first item has no date, as on the model
        for i, other in enumerate(others)
    )
    body = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    return f"""<!DOCTYPE html>
<html lang="{escape(article.language)}">
<head>
<meta charset="utf-8">
<title>Tehran Wire - {escape(article.title)}</title>
<link rel="alternate" type="application/rss+xml" href="{escape(base_url + live_feed_path(article.publisher))}">
</head>
<body>
{_site_header(base_url, article.publisher)}
<main class="news-page">
<div class="news-date">{escape(tehran_date_line(article.published_at))}</div>
<h1 class="news-title">{escape(article.title)}</h1>
<div class="story-code">Story Code : {escape(article.story_code or "")}</div>
<h2 class="news-lead">{escape(text.headline_lead(article.title))}</h2>
<div class="news-body">
{body}
</div>
<a class="comment-link" href="#comment-form">Comment</a>
<div class="featured-stories"><h3>Featured Stories</h3>
{featured}
</div>
</main>
{_site_footer(article.publisher, now)}
</body>
</html>
"""


def _tehran_featured_item(base_url: str, article: SampleArticle, with_date: bool) -> str:
    url = escape(base_url + article.path)
    title = escape(article.title)
    date_line = ""
    if with_date:
        date_line = f'\n<div class="featured-date">{escape(tehran_day(article.published_at))}</div>'
    return (
        f'<div class="featured-item">\n'
        f'<a href="{url}"><img src="{PIXEL}" alt="{title}"><span class="thumb-caption">{title}</span></a>\n'
        f'<a class="featured-title" href="{url}">{title}</a>{date_line}\n'
        f"</div>"
    )


def harbor_times_page(
    base_url: str, article: SampleArticle, others: list[SampleArticle], now: datetime
) -> str:
    """A modern template: canonical link, JSON-LD, OpenGraph, <time>, promos inside the article."""
    canonical = base_url + article.path
    published = article.published_at.isoformat()
    modified = last_change(article).isoformat()
    json_ld = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": article.title,
        "datePublished": published,
        # Equal to datePublished when the story was never revised: a parser reports no update then.
        "dateModified": modified,
        "author": [{"@type": "Person", "name": name} for name in article.authors],
        "articleSection": article.section,
        "inLanguage": article.language,
        "mainEntityOfPage": canonical,
        "publisher": {"@type": "Organization", "name": "Harbor Times"},
    }
    published_line = harbor_date_line(article.published_at)
    # "</" inside a script would end it early, whatever the JSON means.
    json_ld_text = json.dumps(json_ld, ensure_ascii=False, indent=2).replace("</", "<\\/")
    updated_line = (
        f'\n<p class="updated">Updated <time datetime="{escape(modified)}">'
        f"{escape(harbor_date_line(article.updated_at))}</time></p>"
        if article.updated_at
        else ""
    )
    modified_meta = ""
    if article.updated_at:
        modified_meta = f'\n<meta property="article:modified_time" content="{escape(modified)}">'
    return f"""<!DOCTYPE html>
<html lang="{escape(article.language)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(article.title)} | Harbor Times</title>
<link rel="canonical" href="{escape(canonical)}">
<meta name="description" content="{escape(summary_of(article))}">
<meta property="og:site_name" content="Harbor Times">
<meta property="og:title" content="{escape(article.title)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{escape(canonical)}">
<meta property="article:published_time" content="{escape(published)}">{modified_meta}
<meta property="article:section" content="{escape(article.section)}">
<script type="application/ld+json">
{json_ld_text}
</script>
</head>
<body>
{_site_header(base_url, article.publisher)}
<main>
<article>
<header class="article-header">
<p class="kicker">{escape(article.section)}</p>
<h1 class="headline">{escape(article.title)}</h1>
<p class="byline">By {_byline_links(article.authors)}</p>
<p class="published"><time datetime="{escape(published)}">{escape(published_line)}</time></p>{updated_line}
</header>
<div class="article-body">
{_harbor_body(base_url, article, others)}
</div>
</article>
<section class="related">
<h2>More from Harbor Times</h2>
<ul>
{_dated_links(base_url, others[:5], _harbor_time)}
</ul>
</section>
{_harbor_comments(article, now)}
</main>
{_site_footer(article.publisher, now)}
</body>
</html>
"""


def _harbor_time(article: SampleArticle) -> str:
    moment = article.published_at
    return f'<time datetime="{escape(moment.isoformat())}">{escape(harbor_day(moment))}</time>'


def _harbor_body(base_url: str, article: SampleArticle, others: list[SampleArticle]) -> str:
    """The paragraphs, with a share bar and a "Read more" promo between them (neither is body)."""
    share_bar = (
        '<div class="share">Share this story: <a href="#share-email">Email</a> '
        '<a href="#share-link">Copy link</a></div>'
    )
    promo = ""
    if others:
        promo = (
            f'<aside class="related-inline">Read more: '
            f'<a href="{escape(base_url + others[0].path)}">{escape(others[0].title)}</a></aside>'
        )
    blocks = []
    for index, paragraph in enumerate(article.paragraphs):
        blocks.append(f"<p>{escape(paragraph)}</p>")
        if index == 0:
            blocks.append(share_bar)
        if index == 2 and promo:
            blocks.append(promo)
    return "\n".join(blocks)


def _harbor_comments(article: SampleArticle, now: datetime) -> str:
    """Two or three reader comments, each only once its time has come."""
    rng = random.Random(f"comments:{article.path}")
    comments = text.reader_comments(rng, rng.randint(2, 3))
    delays = sorted(rng.randint(20, 600) for _ in comments)
    items = []
    for (commenter, comment), delay in zip(comments, delays):
        posted = article.published_at + timedelta(minutes=delay)
        if posted > now:
            continue
        items.append(
            f'<div class="comment"><p class="comment-author">{escape(commenter)}</p>'
            f'<time datetime="{escape(posted.isoformat())}">{escape(harbor_date_line(posted))}</time>'
            f"<p>{escape(comment)}</p></div>"
        )
    heading = f"<h2>Comments ({len(items)})</h2>"
    return '<section class="comments">\n' + "\n".join([heading, *items]) + "\n</section>"


def nordic_dispatch_page(
    base_url: str, article: SampleArticle, others: list[SampleArticle], now: datetime
) -> str:
    """OpenGraph meta but no JSON-LD; a pull quote in the body, a photo caption and sidebar outside it."""
    url = base_url + article.path
    rng = random.Random(f"caption:{article.path}")
    caption = text.photo_caption(rng, article.published_at.weekday())
    blocks = []
    for index, paragraph in enumerate(article.paragraphs):
        # The quote is body text even though it is not a <p>: a per-source rule must include it.
        tag = "blockquote" if text.is_quote(paragraph) else "p"
        blocks.append(f"<{tag}>{escape(paragraph)}</{tag}>")
        if index == 0:
            figure = f'<figure><img src="{PIXEL}" alt=""><figcaption>{escape(caption)}</figcaption></figure>'
            blocks.append(figure)
    most_read = _dated_links(
        base_url, others[:5], lambda a: f'<span class="date">{escape(f"{a.published_at:%d.%m.%Y}")}</span>'
    )
    return f"""<!DOCTYPE html>
<html lang="{escape(article.language)}">
<head>
<meta charset="utf-8">
<title>{escape(article.title)} – Nordic Dispatch</title>
<meta name="description" content="{escape(summary_of(article))}">
<meta name="author" content="{escape(", ".join(article.authors))}">
<meta property="og:title" content="{escape(article.title)}">
<meta property="og:type" content="article">
<meta property="og:url" content="{escape(url)}">
<meta property="article:published_time" content="{escape(article.published_at.isoformat())}">
<meta property="article:section" content="{escape(article.section)}">
</head>
<body>
<div class="cookie-banner">We use cookies to remember your settings and to count visits.
<button type="button">Accept all</button></div>
{_site_header(base_url, article.publisher)}
<main>
<article class="story">
<header class="story-header">
<span class="section">{escape(article.section)}</span>
<h1>{escape(article.title)}</h1>
<p class="byline">By {escape(join_names(article.authors))}</p>
<p class="dateline">{escape(nordic_date_line(article.published_at))}</p>
</header>
<div id="story">
{chr(10).join(blocks)}
</div>
</article>
<div class="most-read">
<h2>Most read</h2>
<ol>
{most_read}
</ol>
</div>
</main>
{_site_footer(article.publisher, now)}
</body>
</html>
"""


# --- other pages ---

def front_page(base_url: str, publisher: str, latest: list[SampleArticle], now: datetime) -> str:
    """A publisher's home page: its newest stories, so the site can also be crawled from the top."""
    site = PUBLISHERS[publisher]
    name = site.name
    links = _dated_links(
        base_url, latest, lambda a: f'<span class="date">{escape(a.published_at.isoformat())}</span>'
    )
    direction = ' dir="rtl"' if site.language in RIGHT_TO_LEFT else ""
    return f"""<!DOCTYPE html>
<html lang="{site.language}"{direction}>
<head>
<meta charset="{site.charset}">
<title>{escape(name)}</title>
</head>
<body>
{_site_header(base_url, publisher)}
<main>
<h1>{escape(name)}: latest news</h1>
<ul class="latest">
{links}
</ul>
</main>
{_site_footer(publisher, now)}
</body>
</html>
"""


def index_page(base_url: str, now: datetime) -> str:
    """The server's own home: every publisher with its live feed and today's archive feed."""
    rows = []
    for publisher in PUBLISHERS.values():
        today = local_today(publisher.slug, now)
        live_path = live_feed_path(publisher.slug)
        live = f'live feed <a href="{escape(base_url + live_path)}">{escape(base_url + live_path)}</a>, ' \
            if live_path else "no live feed, "
        archive = base_url + archive_feed_path(publisher.slug, today)
        rows.append(
            f'<li><a href="{escape(base_url)}/{escape(publisher.slug)}/">{escape(publisher.name)}</a> '
            f"({escape(publisher.timezone)}, {escape(publisher.feed_format)}, {escape(publisher.charset)}): "
            f"{live}"
            f'archive for {today.isoformat()} <a href="{escape(archive)}">{escape(archive)}</a></li>'
        )
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Sample publishers</title>
</head>
<body>
<h1>Sample publishers</h1>
<p>Generated news for offline runs and tests. Clock: {escape(now.isoformat())}</p>
<ul>
{chr(10).join(rows)}
</ul>
</body>
</html>
"""


def not_found_page(path: str) -> str:
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Not found</title></head>
<body><h1>Not found</h1><p>No page at {escape(path)}.</p></body>
</html>
"""


# --- feeds ---

def rss2_feed(
    base_url: str, publisher: str, articles: list[SampleArticle], self_path: str, updated: datetime,
    describe=lambda article: text.headline_lead(article.title), tagline: str = "Latest news from {name}",
) -> str:
    """RSS 2.0 in the publisher's charset and language; `describe` writes an item's description."""
    site = PUBLISHERS[publisher]
    items = "\n".join(
        f"""<item>
<title>{escape(a.title)}</title>
<link>{escape(base_url + a.path)}</link>
<guid isPermaLink="false">{escape(a.story_code or a.path)}</guid>
<pubDate>{http_date(a.published_at)}</pubDate>
<description>{escape(describe(a))}</description>
<category>{escape(a.section)}</category>
</item>"""
        for a in articles
    )
    name = site.name
    return f"""<?xml version="1.0" encoding="{site.charset}"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{escape(name)}</title>
<link>{escape(base_url)}/{escape(publisher)}/</link>
<description>{escape(tagline.format(name=name))}</description>
<language>{site.language}</language>
<atom:link href="{escape(base_url + self_path)}" rel="self" type="application/rss+xml"/>
<lastBuildDate>{http_date(updated)}</lastBuildDate>
{items}
</channel>
</rss>
"""


def atom_feed(
    base_url: str, publisher: str, articles: list[SampleArticle], self_path: str, updated: datetime
) -> str:
    entries = "\n".join(_atom_entry(base_url, a) for a in articles)
    name = PUBLISHERS[publisher].name
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
<title>{escape(name)}</title>
<id>{escape(_tag_uri(publisher, "2000-01-01", self_path))}</id>
<link rel="self" type="application/atom+xml" href="{escape(base_url + self_path)}"/>
<link rel="alternate" type="text/html" href="{escape(base_url)}/{escape(publisher)}/"/>
<updated>{updated.isoformat()}</updated>
{entries}
</feed>
"""


def _atom_entry(base_url: str, article: SampleArticle) -> str:
    # Feed links carry tracking parameters, as real ones do; the canonical URL on the page does not.
    link = f"{base_url}{article.path}?utm_source=feed&utm_medium=atom"
    authors = "".join(f"<author><name>{escape(name)}</name></author>" for name in article.authors)
    tag = _tag_uri(article.publisher, article.published_at.date().isoformat(), article.path)
    return f"""<entry>
<title>{escape(article.title)}</title>
<link rel="alternate" type="text/html" href="{escape(link)}"/>
<id>{escape(tag)}</id>
<published>{article.published_at.isoformat()}</published>
<updated>{last_change(article).isoformat()}</updated>
{authors}
<category term="{escape(article.section)}"/>
<summary>{escape(summary_of(article))}</summary>
</entry>"""


def rdf_feed(
    base_url: str, publisher: str, articles: list[SampleArticle], self_path: str, updated: datetime
) -> str:
    sequence = "\n".join(f'<rdf:li rdf:resource="{escape(base_url + a.path)}"/>' for a in articles)
    items = "\n".join(
        f"""<item rdf:about="{escape(base_url + a.path)}">
<title>{escape(a.title)}</title>
<link>{escape(base_url + a.path)}</link>
<description>{escape(summary_of(a))}</description>
<dc:date>{a.published_at.isoformat()}</dc:date>
{"".join(f"<dc:creator>{escape(name)}</dc:creator>" for name in a.authors)}
<dc:subject>{escape(a.section)}</dc:subject>
</item>"""
        for a in articles
    )
    name = PUBLISHERS[publisher].name
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{escape(base_url + self_path)}">
<title>{escape(name)}</title>
<link>{escape(base_url)}/{escape(publisher)}/</link>
<description>Latest news from {escape(name)}</description>
<dc:language>en</dc:language>
<dc:date>{updated.isoformat()}</dc:date>
<items>
<rdf:Seq>
{sequence}
</rdf:Seq>
</items>
</channel>
{items}
</rdf:RDF>
"""


FEED_MEDIA_TYPES = {
    "rss2": "application/rss+xml",
    "atom": "application/atom+xml",
    "rdf": "application/rdf+xml",
    "news-sitemap": "application/xml",
}


# --- shared pieces ---

def _site_header(base_url: str, publisher: str) -> str:
    home = f"{base_url}/{publisher}/"
    name = PUBLISHERS[publisher].name
    sections = ("World", "Politics", "Economy", "Science", "Sport")
    links = "".join(f'<li><a href="{escape(home)}#{s.lower()}">{s}</a></li>' for s in sections)
    feed = live_feed_path(publisher)  # None for a site found only through its sitemaps
    if feed:
        links += f'<li><a href="{escape(base_url + feed)}">Feed</a></li>'
    return (
        f'<header class="site-header">\n<a class="logo" href="{escape(home)}">{escape(name)}</a>\n'
        f'<nav><ul><li><a href="{escape(home)}">Home</a></li>{links}</ul></nav>\n</header>'
    )


def _site_footer(publisher: str, now: datetime) -> str:
    name = PUBLISHERS[publisher].name
    return (
        f'<footer class="site-footer"><p>© {now.year} {escape(name)}. All rights reserved.</p>'
        '<p><a href="#about">About us</a> · <a href="#contact">Contact</a> · '
        '<a href="#privacy">Privacy</a></p></footer>'
    )


def _dated_links(base_url: str, articles: list[SampleArticle], date_html) -> str:
    return "\n".join(
        f'<li><a href="{escape(base_url + a.path)}">{escape(a.title)}</a> {date_html(a)}</li>'
        for a in articles
    )


def _byline_links(authors: tuple[str, ...]) -> str:
    links = [
        f'<a class="author" rel="author" href="#author-{text.slugify(name)}">{escape(name)}</a>'
        for name in authors
    ]
    return join_names(links)


def join_names(names) -> str:
    """'A', 'A and B', 'A, B and C'."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _tag_uri(publisher: str, day: str, specific: str) -> str:
    """A tag: URI (RFC 4151): an id that stays the same whatever host or port serves the feed."""
    return f"tag:{publisher.replace('-', '')}.example,{day}:{specific}"
