"""Wadi Post (بريد الوادي): an Arabic site, right to left, in windows-1256, and its RSS 2.0 feeds.

Pages declare `<html dir="rtl" lang="ar">` and `<meta charset="windows-1256">` (the server says
charset=windows-1256 too); the feeds are RSS 2.0 with encoding="windows-1256". The date is a local
line in Cairo time with Arabic week-day and month names ("الجمعة، 1 مارس 2024 - 23:49"), the story
code a line of its own ("رقم الخبر: 730406"), the byline only in <meta name="author"> and a visible
"بقلم" line. URLs carry the code and an Arabic slug, percent-encoded as UTF-8. An aside in the
text ("اقرأ أيضا", read also) and the most-read sidebar with its dates are not the article.
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from news_etl.sample_sites.publishers import PUBLISHERS, SampleArticle, live_feed_path
from news_etl.sample_sites.render import rss2_feed, summary_of
from news_etl.sample_sites.text_ar import READ_ALSO, SECTION_NAMES, WEEKDAYS

MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر",
          "ديسمبر")


def date_line(moment: datetime) -> str:
    """'الجمعة، 1 مارس 2024 - 23:49' (Friday, 1 March 2024 - 23:49)."""
    return f"{WEEKDAYS[moment.weekday()]}، {short_date(moment)} - {moment:%H:%M}"


def short_date(moment: datetime) -> str:
    """'1 مارس 2024'."""
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year}"


def news_page(base_url: str, article: SampleArticle, others: list[SampleArticle], now: datetime) -> str:
    home = f"{base_url}/{article.publisher}/"
    url = base_url + article.path
    name = PUBLISHERS[article.publisher].name
    author = article.authors[0] if article.authors else ""
    blocks = []
    for index, paragraph in enumerate(article.paragraphs):
        blocks.append(f"<p>{escape(paragraph)}</p>")
        if index == 1 and others:
            blocks.append(f'<aside class="read-also"><strong>{READ_ALSO}:</strong> '
                          f'<a href="{escape(base_url + others[0].path)}">{escape(others[0].title)}</a></aside>')
    most_read = "\n".join(
        f'<li><a href="{escape(base_url + other.path)}">{escape(other.title)}</a> '
        f'<span class="date">{escape(short_date(other.published_at))}</span></li>'
        for other in others[1:6]
    )
    menu = "".join(f'<li><a href="{escape(home)}section/{key.lower()}">{escape(label)}</a></li>'
                   for key, label in SECTION_NAMES.items())
    return f"""<!DOCTYPE html>
<html dir="rtl" lang="ar">
<head>
<meta charset="windows-1256">
<title>{escape(article.title)} - {escape(name)}</title>
<meta name="description" content="{escape(summary_of(article))}">
<meta name="author" content="{escape(author)}">
<link rel="canonical" href="{escape(url)}">
<link rel="alternate" type="application/rss+xml" title="{escape(name)}" href="{escape(base_url + live_feed_path(article.publisher))}">
</head>
<body>
<div class="top-bar">
<a class="logo" href="{escape(home)}">{escape(name)}</a>
<ul class="menu"><li><a href="{escape(home)}">الرئيسية</a></li>{menu}</ul>
</div>
<div class="container">
<div class="col-main">
<header class="news-head">
<div class="breadcrumb"><a href="{escape(home)}">الرئيسية</a> &gt; <a href="{escape(home)}section/">{escape(article.section)}</a></div>
<h1 class="news-title">{escape(article.title)}</h1>
<div class="news-info"><span class="news-date">{escape(date_line(article.published_at))}</span> | <span class="news-code">رقم الخبر: {escape(article.story_code or "")}</span></div>
<div class="writer">بقلم: {escape(author)}</div>
</header>
<div class="news-text">
{chr(10).join(blocks)}
</div>
<div class="share-box">شارك الخبر: <a href="#facebook">فيسبوك</a> <a href="#x">إكس</a> <a href="#whatsapp">واتساب</a></div>
</div>
<div class="col-side">
<div class="most-read"><h3>الأكثر قراءة</h3>
<ul>
{most_read}
</ul>
</div>
</div>
</div>
<div class="footer">جميع الحقوق محفوظة &copy; {now.year} {escape(name)}</div>
</body>
</html>
"""


def rss_feed(base_url: str, publisher: str, articles: list[SampleArticle], self_path: str, updated: datetime) -> str:
    """RSS 2.0 declared as windows-1256 (the server encodes it so), the first paragraph as description."""
    return rss2_feed(base_url, publisher, articles, self_path, updated, describe=summary_of,
                     tagline="آخر الأخبار من {name}")
