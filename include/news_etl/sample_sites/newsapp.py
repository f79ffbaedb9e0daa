"""Meridian Report: a page rendered by a JavaScript app, whose facts are only in its JSON-LD.

What a reader sees has no date, no byline and no semantic class names (the class names are the
hashes a CSS-in-JS library makes); no OpenGraph, no <time>, no canonical <link>, no language
declared anywhere. The JSON-LD @graph holds the NewsArticle: headline, datePublished with the
London offset, authors (one Person object, or a list of them), section, and the canonical URL as
mainEntityOfPage. There is no RSS feed: stories are found only through a Google News sitemap per
day, /meridian-report/sitemaps/news-YYYY-MM-DD.xml, with news:publication_date and news:title.
"""

from __future__ import annotations

import hashlib
import json
import random
from datetime import datetime
from html import escape

from news_etl.sample_sites import text
from news_etl.sample_sites.publishers import PUBLISHERS, SampleArticle
from news_etl.sample_sites.render import PIXEL, summary_of


def css_class(role: str) -> str:
    """A stable hashed class name, as CSS-in-JS libraries generate ("css-1q2w3e4")."""
    return "css-" + hashlib.sha1(role.encode()).hexdigest()[:7]


def story_page(base_url: str, article: SampleArticle, others: list[SampleArticle], now: datetime) -> str:
    home = f"{base_url}/{article.publisher}/"
    url = base_url + article.path
    name = PUBLISHERS[article.publisher].name
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "@id": f"{home}#website", "name": name, "url": home},
            {"@type": "NewsMediaOrganization", "@id": f"{home}#publisher", "name": name,
             "logo": {"@type": "ImageObject", "url": f"{home}logo.png"}},
            {"@type": "WebPage", "@id": url, "url": url, "name": article.title, "isPartOf": {"@id": f"{home}#website"}},
            {
                "@type": "NewsArticle",
                "headline": article.title,
                "description": summary_of(article),
                "datePublished": article.published_at.isoformat(),
                "dateModified": article.published_at.isoformat(),
                # One author is an object, several a list: both are common.
                "author": _people(article.authors),
                "publisher": {"@id": f"{home}#publisher"},
                "articleSection": article.section,
                "mainEntityOfPage": {"@type": "WebPage", "@id": url},
                "image": [f"{home}images/{article.path.rsplit('-', 1)[1]}.jpg"],
            },
        ],
    }
    graph_text = json.dumps(graph, ensure_ascii=False).replace("</", "<\\/")
    app_state = json.dumps({"props": {"pageProps": {"storyId": article.path.rsplit("-", 1)[1],
                                                    "section": article.section.lower()}},
                            "page": "/[section]/[story]", "buildId": "m3r1d14n"})
    rng = random.Random(f"app-caption:{article.path}")
    caption = text.photo_caption(rng, article.published_at.weekday())
    paragraphs = "\n".join(f'<p class="{css_class("paragraph")}">{escape(p)}</p>' for p in article.paragraphs)
    read_next = "\n".join(
        f'<li class="{css_class("next-item")}"><a class="{css_class("next-link")}" '
        f'href="{escape(base_url + other.path)}">{escape(other.title)}</a></li>'
        for other in others[:5]
    )
    sections = ("World", "Politics", "Economy", "Science", "Health", "Culture")
    menu = "".join(f'<li><a class="{css_class("menu-link")}" href="{escape(home)}{s.lower()}">{s}</a></li>'
                   for s in sections)
    return f"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>{escape(article.title)} | {escape(name)}</title>
<meta name="description" content="{escape(summary_of(article))}">
<link rel="preload" href="{escape(home)}_app/fonts/serif.woff2" as="font" type="font/woff2" crossorigin>
<style>.{css_class("page")}{{max-width:72rem;margin:0 auto}}.{css_class("paragraph")}{{font-size:1.1rem}}</style>
<script type="application/ld+json">{graph_text}</script>
</head>
<body>
<div id="__app">
<div class="{css_class("page")}">
<div class="{css_class("top")}">
<a class="{css_class("logo")}" href="{escape(home)}">{escape(name)}</a>
<ul class="{css_class("menu")}">{menu}</ul>
</div>
<div class="{css_class("layout")}">
<div class="{css_class("story")}">
<a class="{css_class("kicker")}" href="{escape(home)}{escape(article.section.lower())}">{escape(article.section)}</a>
<h1 class="{css_class("headline")}">{escape(article.title)}</h1>
<figure class="{css_class("figure")}"><img src="{PIXEL}" alt=""><figcaption class="{css_class("caption")}">{escape(caption)}</figcaption></figure>
<div class="{css_class("text")}">
{paragraphs}
</div>
</div>
<div class="{css_class("next")}">
<h2 class="{css_class("next-title")}">Read next</h2>
<ul class="{css_class("next-list")}">
{read_next}
</ul>
</div>
<div class="{css_class("briefing")}">
<p class="{css_class("briefing-text")}">Get the {escape(name)} morning briefing in your inbox every weekday.</p>
<form class="{css_class("briefing-form")}"><input type="email" placeholder="Email address"><button type="submit">Sign up</button></form>
</div>
</div>
<div class="{css_class("bottom")}">
<p class="{css_class("copyright")}">&copy; {now.year} {escape(name)}</p>
<a class="{css_class("bottom-link")}" href="{escape(home)}terms">Terms</a>
<a class="{css_class("bottom-link")}" href="{escape(home)}privacy">Privacy</a>
</div>
</div>
</div>
<script id="__APP_STATE__" type="application/json">{escape(app_state, quote=False)}</script>
<script src="{escape(home)}_app/static/chunks/main-4f1c2a.js" defer></script>
</body>
</html>
"""


def news_sitemap(base_url: str, publisher: str, articles: list[SampleArticle], self_path: str,
                 updated: datetime) -> str:
    """A Google News sitemap of one day's stories."""
    name = PUBLISHERS[publisher].name
    urls = "\n".join(
        f"""<url>
<loc>{escape(base_url + a.path)}</loc>
<news:news>
<news:publication><news:name>{escape(name)}</news:name><news:language>en</news:language></news:publication>
<news:publication_date>{a.published_at.isoformat()}</news:publication_date>
<news:title>{escape(a.title)}</news:title>
</news:news>
</url>"""
        for a in articles
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
{urls}
</urlset>
"""


def _people(names: tuple[str, ...]):
    people = [{"@type": "Person", "name": name} for name in names]
    return people[0] if len(people) == 1 else people
