"""When a page says its article was first published (and last updated). Pure.

Candidates are tried from the most to the least explicit; the first that reads as a date wins:

1. JSON-LD: the article object's datePublished;
2. meta tags naming a publication date (article:published_time, pubdate, dc.date.issued, ...);
3. microdata and RDFa in the page (itemprop="datePublished", property="dc:date", ...);
4. JSON-LD datePublished of another object of the page (a WebPage);
5. <time> elements, those marked as the publication date first;
6. elements whose class or id says date (also "datum", "fecha"), time, published, posted, ...: their
   date attributes, then a date inside their text ("Erstellt am: 30.01.2022 18:36", "31.10.23");
7. dc:date of the RDF block that some blog engines leave in an HTML comment;
8. a date line in the text next to the article: between its headline and its body, or just after;
   failing those, the line just above the headline;
9. the date in the page's URL (/2024/03/01/), at the start of that day;
10. only when all of these found nothing: an extensive search of the whole page's HTML (running
    text, attributes, scripts' data), as htmldate does: of the ten days written most often, the
    oldest (the original publication, not a later update), copyright lines and years before 1995
    left out; where the URL files the page under a month (/2010/05/), days of that month only.

The last update is read from JSON-LD dateModified, meta tags, microdata, then hAtom's
<time class="updated">. Steps 5, 6 and 8 never look inside blocks about other stories (related, featured, most read,
comments, menus): their dates are those stories' dates. A date without an offset takes the
source's time zone; with no zone known (the generic CLI path) it is kept as the publisher's wall
time in dates.FLOATING, since the day it names is still the publisher's day. Candidates are read
in FLOATING either way, so the caller learns whether the offset was stated or assumed. A UTC time
is given the publisher's offset where the page writes the same instant with it; failing that, and
with no zone known, a UTC time on the day next to its permalink's day (/2019/01/01/) gives way to
that day, the publisher's.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime, timedelta, tzinfo

from news_etl.dates import FLOATING, find_date, find_dates, in_zone, offset_stated, parse_date
from news_etl.errors import DateParseError
from news_etl.maintext import MainText, is_descendant
from news_etl.pagemeta import PageMetadata, ld_text, text_of
from news_etl.urls import date_in_url, month_in_url

# Meta tag names (lower case, punctuation removed) that carry the publication date.
_PUBLISHED_META = re.compile(
    r"(?:pubdate|publishdate|publisheddate|publishtime|publishedtime|publicationdate|datepublished|"
    r"publishdatetime|originalpublicationdate|dateissued|dcdate|dctermsissued|dctermscreated|dctermsdate|"
    r"dcdatecreated|sailthrudate|datecreated|^date|^created|^issued|^published)$"
)
_UPDATED_META = re.compile(r"(?:modifiedtime|modifieddate|datemodified|updatedtime|updateddate|dctermsmodified|"
                           r"lastmodified|revised|^modified|^updated)$")
_NOT_A_DATE_META = re.compile(r"expir|valid|upload|copyright|birth|startdate|enddate|event")
_PUBLISHED_PROPS = {"datepublished", "datecreated", "dc:date", "dc:created", "dcterms:created", "dcterms:issued",
                    "dcterms:date", "schema:datepublished", "schema:datecreated", "article:published_time",
                    "pubdate", "published"}
_UPDATED_PROPS = {"datemodified", "dcterms:modified", "schema:datemodified", "article:modified_time"}
_DATE_ATTRIBUTES = ("datetime", "content", "title", "data-time", "data-date", "data-datetime", "data-published",
                    "data-timestamp")
_DATE_CLASS = re.compile(r"date|datum|fecha|time|publish|posted|created|dateline|stamp|meta|byline|info|byl|submitted", re.I)
_UPDATED_CLASS = re.compile(r"updat|modif|edited|revis", re.I)
_PUBLISHED_CLASS = re.compile(r"publish|posted|created|entry-date|pubdate|dateline|submitted", re.I)
_RDF_DC_DATE = re.compile(r"dc:date\s*=\s*[\"']([^\"']+)[\"']")
_NON_KEY = re.compile(r"[^a-z]")
_ISO_WITH_OFFSET = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?[+-]\d{2}:?\d{2}(?!\d)")
_UTC_OFFSET = timedelta(0)
_SAME_INSTANT_SECONDS = 60
_MAX_LOCAL_CANDIDATES = 50
_MAX_VALUE_CHARS = 60  # an attribute's or a <time>'s date in a layout of its own; longer is prose
_MAX_TEXT_BLOCK = 250  # a date line is short; a long block is prose that may mention any date
_DATELINE_CHARS = 40  # where a date line's date starts, at the latest, in a paragraph it opens
_DATELINE_TAIL = 40  # the date itself and its time
_DATELINE_WORDS = 12  # a date line is a few words; a longer block is prose
_AFTER_DATE_LINE = "–—-|/:·•,("  # what sets a date line off from the prose after it
_BLOCKS_AROUND_BODY = 12
# The extensive search's bounds: a page's first 2 MB, its first 2,000 dates.
_MAX_PAGE_CHARS = 2_000_000
_MAX_PAGE_DATES = 2_000
_FREQUENT_DAYS = 10
_OLDEST_YEAR = 1995  # before the web's news sites: a date in the text, not the page's
_COPYRIGHT = re.compile(r"©|&copy;|&#169;|\(c\)|copyright", re.I)
_COPYRIGHT_CHARS = 30
_YEAR_LIKE = re.compile(r"[12]\d{3}")  # a character class first: re scans for it fast
_BEFORE_YEAR = 60  # "Wednesday, 30th of September 2020, 10:15": the day and month before the year
_AFTER_YEAR = 40  # "2020-09-30T10:15:00.000+02:00": the month, day and time after it
_STORY_LIST_TAGS = frozenset(("aside", "nav", "menu"))
_STORY_LIST_CLASS = re.compile(r"related|recommend|popular|trending|most-?read|outbrain|taboola|featured|ticker",
                               re.I)


def published_at(meta: PageMetadata, main: MainText, tz: tzinfo | None, url: str | None = None) -> datetime | None:
    return publication(meta, main, tz, url)[0]


def publication(meta: PageMetadata, main: MainText, tz: tzinfo | None, url: str | None = None,
                page_text: str | None = None) -> tuple[datetime | None, bool | None]:
    """(published_at, whether the page stated its offset); (None, None) when the page gives no date.
    Without ``tz`` a date that states no offset is a FLOATING wall time. ``page_text`` is the
    page's HTML as text, where the same instant may be written with the publisher's own offset."""
    day_first = _day_first(meta, tz)
    found = _published_floating(meta, main, day_first, url, page_text)
    if found is not None and offset_stated(found) and found.utcoffset() == _UTC_OFFSET:
        found = _local_rendering(found, meta, page_text)
        if tz is None and found.utcoffset() == _UTC_OFFSET:
            found = _day_of_url(found, meta, url)
    return in_zone(found, tz), (offset_stated(found) if found is not None else None)


def _day_of_url(found: datetime, meta: PageMetadata, url: str | None) -> datetime:
    """The day of the page's URL when a UTC time falls on the day before or after it: blog engines
    write the permalink's /2019/01/01/ in the publisher's zone and the time in UTC, so the URL has
    the publisher's day (a post of 00:11 in Vienna is 23:11 UTC the day before). Only the day is
    known then, not the wall time."""
    for candidate in _page_urls(meta, url):
        day = date_in_url(candidate)
        if day is not None and abs((day - found.date()).days) == 1:
            return datetime(day.year, day.month, day.day, tzinfo=FLOATING)
    return found


def _iso_times_near(page_text: str, found: datetime) -> list[str]:
    """ISO times with an offset in the page whose day is the UTC day or one next to it (every
    offset in use is within a day): found by their day's text, so the page is not scanned by a regex."""
    times = []
    for days in (-1, 0, 1):
        prefix = (found + timedelta(days=days)).date().isoformat()
        start = page_text.find(prefix)
        while start != -1 and len(times) < _MAX_LOCAL_CANDIDATES:
            match = _ISO_WITH_OFFSET.match(page_text, start)
            if match:
                times.append(match.group(0))
            start = page_text.find(prefix, start + len(prefix))
    return times


def _local_rendering(found: datetime, meta: PageMetadata, page_text: str | None) -> datetime:
    """The same instant as the publisher's local time, when the page writes it so somewhere: CMSs
    put a UTC "Z" time in JSON-LD and the local one ("+0200", "-05:00") in a meta tag or their own
    data, and the publication day is the publisher's, not UTC's."""
    texts = [v for k, v in meta.meta.items() if _is_published_meta(k)]
    if page_text:
        texts += _iso_times_near(page_text, found)
    for text in texts:
        other = _parsed(text, FLOATING)
        if other is not None and offset_stated(other) and other.utcoffset() != _UTC_OFFSET \
                and abs((other - found).total_seconds()) <= _SAME_INSTANT_SECONDS:
            return other
    return found


def _published_floating(meta: PageMetadata, main: MainText, day_first: bool, url: str | None,
                        page_text: str | None) -> datetime | None:
    tz = FLOATING
    finders = (
        lambda: _parsed(meta.article_value("datePublished"), tz),
        lambda: _first_parsed((v for k, v in meta.meta.items() if _is_published_meta(k)), tz),
        lambda: _from_properties(meta, main, _PUBLISHED_PROPS, tz),
        lambda: _first_parsed((ld_text(o.get("datePublished")) for o in meta.ld_objects), tz),
        lambda: _from_time_elements(meta, main, tz),
        lambda: _from_date_classes(meta, main, tz, day_first),
        lambda: _from_rdf_comments(meta, tz),
        lambda: _from_text_near_article(main, tz, day_first),
        lambda: _from_url(meta, url, tz),
        lambda: _from_whole_page(page_text, main, tz, day_first, _month_of_url(meta, url)),
    )
    for finder in finders:
        found = finder()
        if found is not None:
            return found
    return None


def updated_at(meta: PageMetadata, main: MainText, tz: tzinfo | None) -> datetime | None:
    return in_zone(_updated_floating(meta, main), tz)


def _updated_floating(meta: PageMetadata, main: MainText) -> datetime | None:
    tz = FLOATING
    return (_parsed(meta.article_value("dateModified"), tz)
            or _first_parsed((v for k, v in meta.meta.items() if _is_updated_meta(k)), tz)
            or _from_properties(meta, main, _UPDATED_PROPS, tz)
            or _updated_time_element(meta, main, tz))


# --- candidates ----------------------------------------------------------------------------------

def _parsed(text: str | None, tz) -> datetime | None:
    """The date a value names: a standard form, else the first date in a short value of a CMS's own
    layout ("Thu, 09/25/2025 - 11:38", "26. Januar 2022 13:05", a quoted ISO time), where
    "11/01/2023" is refused (either order may be meant: no page-wide convention is known here)."""
    if not text or not text.strip():
        return None
    if len(text) > _MAX_VALUE_CHARS:
        return _parsed_strictly(text, tz)
    found = _parsed_strictly(text, tz) or _parsed_strictly(text.strip().strip("\"'"), tz)
    if found is not None:
        return found
    found = find_date(text, tz=tz)
    return found if found is not None and found == find_date(text, tz=tz, day_first=False) else None


def _parsed_strictly(text: str, tz) -> datetime | None:
    try:
        return parse_date(text, tz=tz)
    except DateParseError:
        return None


def _first_parsed(texts, tz) -> datetime | None:
    for text in texts:
        found = _parsed(text, tz)
        if found is not None:
            return found
    return None


def _meta_key(key: str) -> str:
    return _NON_KEY.sub("", key)


def _is_published_meta(key: str) -> bool:
    return not _NOT_A_DATE_META.search(key) and bool(_PUBLISHED_META.search(_meta_key(key)))


def _is_updated_meta(key: str) -> bool:
    return not _NOT_A_DATE_META.search(key) and bool(_UPDATED_META.search(_meta_key(key)))


def _from_properties(meta: PageMetadata, main: MainText, names: set[str], tz) -> datetime | None:
    for el in meta.doc.xpath("//body//*[@itemprop or @property]"):
        props = f"{el.get('itemprop') or ''} {el.get('property') or ''}".lower().split()
        if names.isdisjoint(props) or main.in_other_stories(el):
            continue
        found = _parsed(el.get("content") or el.get("datetime") or text_of(el), tz)
        if found is not None:
            return found
    return None


def _from_time_elements(meta: PageMetadata, main: MainText, tz) -> datetime | None:
    """Publication <time>s first (pubdate, class "published"), then any not marked as an update."""
    times = [el for el in meta.doc.iter("time") if not main.in_other_stories(el)]
    marked_published = [el for el in times if el.get("pubdate") is not None
                        or _PUBLISHED_CLASS.search(el.get("class") or "")]
    plain = [el for el in times if not _UPDATED_CLASS.search(el.get("class") or "")]
    for el in marked_published + plain:
        found = _parsed(el.get("datetime"), tz) or _parsed(text_of(el), tz)
        if found is not None:
            return found
    return None


def _updated_time_element(meta: PageMetadata, main: MainText, tz) -> datetime | None:
    """hAtom's <time class="updated">, as WordPress themes print an edited post's date; one
    marked both published and updated (a post never edited) comes after those marked updated only."""
    times = [el for el in meta.doc.iter("time")
             if _UPDATED_CLASS.search(el.get("class") or "") and not main.in_other_stories(el)]
    times.sort(key=lambda el: bool(_PUBLISHED_CLASS.search(el.get("class") or "")))
    for el in times:
        found = _parsed(el.get("datetime"), tz) or _parsed(text_of(el), tz)
        if found is not None:
            return found
    return None


def _from_date_classes(meta: PageMetadata, main: MainText, tz, day_first: bool) -> datetime | None:
    for el in meta.doc.xpath("//body//*[@class or @id]"):
        marker = f"{el.get('class') or ''} {el.get('id') or ''}"
        if not _DATE_CLASS.search(marker) or _UPDATED_CLASS.search(marker) or main.in_other_stories(el):
            continue
        for name in _DATE_ATTRIBUTES:
            found = _parsed(el.get(name), tz)
            if found is not None:
                return found
        text = text_of(el)
        if text and len(text) <= _MAX_TEXT_BLOCK:
            found = find_date(text, tz=tz, day_first=day_first, short_years=True)
            if found is not None:
                return found
    return None


def _from_rdf_comments(meta: PageMetadata, tz) -> datetime | None:
    for comment in meta.rdf_comments:
        match = _RDF_DC_DATE.search(comment)
        found = _parsed(match.group(1), tz) if match else None
        if found is not None:
            return found
    return None


def _from_text_near_article(main: MainText, tz, day_first: bool) -> datetime | None:
    """A date line between the headline and the body, at the top of the body, or right after it;
    failing those, the line just above the headline (a date over it, beside the kicker)."""
    # Link text is a teaser of another story.
    blocks = [b for b in main.blocks if b.link_chars * 2 < len(b.text) and not main.in_other_stories(b.owner)]
    if not blocks:
        return None
    headline = next((i for i, b in enumerate(blocks) if b.owner.tag == "h1"), None)
    in_body = [i for i, b in enumerate(blocks) if main.container is not None and is_descendant(b.owner, main.container)]
    start = headline
    if start is None:
        start = max(0, in_body[0] - _BLOCKS_AROUND_BODY) if in_body else 0
    end = (in_body[-1] + 1 + _BLOCKS_AROUND_BODY) if in_body else start + 2 * _BLOCKS_AROUND_BODY
    above = [blocks[headline - 1]] if headline else []
    # The line above the headline comes before the body's later blocks and those after it, where
    # teasers and comments carry dates of their own.
    top = next((i + 1 for i in in_body if i > start), start + 1)
    for block in blocks[start:top] + above + blocks[top:end]:
        found = _date_line(block.text, tz, day_first)
        if found is not None:
            return found
    return None


def _date_line(text: str, tz, day_first: bool) -> datetime | None:
    """The date of a date line: a short block ("Friday 1 March 2024 - 23:49", "Erstellt am:
    30.01.2022 / sk"), or a paragraph that opens with one set off from its prose ("BERLIN,
    1. März 2024 – Der ..."). A sentence that mentions a day ("Der Rat hat am 5. September 2017
    beschlossen ...") names an event, not the story's date."""
    if _COPYRIGHT.search(text):
        return None  # "© 01.01.2024 Example Verlag": the site's notice, not the story's date
    if len(text) <= _MAX_TEXT_BLOCK and len(text.split()) <= _DATELINE_WORDS:
        return find_date(text, tz=tz, day_first=day_first, short_years=True)
    head = text[:_DATELINE_CHARS + _DATELINE_TAIL]
    for start, found in find_dates(head, tz=tz, day_first=day_first, limit=1):
        year = _YEAR_LIKE.search(head, start)
        rest = head[year.end():].lstrip() if year else ""
        if start <= _DATELINE_CHARS and (not rest or rest[0] in _AFTER_DATE_LINE or rest[0].isdigit()):
            return found
    return None


def _page_urls(meta: PageMetadata, url: str | None) -> list[str]:
    """The page's addresses a date may be read from: its canonical URL first, then the fetched one."""
    return [candidate for candidate in (meta.canonical_url(), url) if candidate]


def _from_url(meta: PageMetadata, url: str | None, tz) -> datetime | None:
    for candidate in _page_urls(meta, url):
        day = date_in_url(candidate)
        if day is not None:
            return datetime(day.year, day.month, day.day, tzinfo=tz)
    return None


def _month_of_url(meta: PageMetadata, url: str | None) -> tuple[int, int] | None:
    for candidate in _page_urls(meta, url):
        month = month_in_url(candidate)
        if month is not None:
            return month
    return None


def _from_whole_page(page_text: str | None, main: MainText, tz, day_first: bool,
                     url_month: tuple[int, int] | None = None) -> datetime | None:
    """The day the page writes most often, the oldest of those written as often (htmldate's
    extensive search): a page that marks no date still names its own in its text or its scripts'
    data, usually more than once. Dates written in lists of other stories (related, featured,
    most read, menus) are theirs: each such occurrence is taken off its day's count. Other
    blocks the main text leaves out (a footer, a teaser) often carry the page's own date."""
    if not page_text:
        return None
    text = page_text[:_MAX_PAGE_CHARS]
    days, first_seen = _days_written(text, tz, day_first)
    if not days:
        return None
    lists = [el for el in main.other_stories if _lists_other_stories(el)]
    outermost = [el for el in lists if not any(a in main.other_stories for a in el.iterancestors())]
    others = "\n".join(_text_and_attributes(el) for el in outermost)
    days -= _days_written(others[:_MAX_PAGE_CHARS], tz, day_first)[0]
    # A page filed under a month (/2010/05/) was published in it: the days of other months it
    # writes are other posts' or events'.
    in_month = Counter({day: n for day, n in days.items() if (day.year, day.month) == url_month})
    days = in_month or days
    if not days:
        return None
    most = max(days.values())
    return first_seen[min(day for day, count in days.items() if count == most)]


def _around_years(text: str) -> str:
    """The parts of ``text`` around each year from 1900 to 2099: every date find_dates reads has
    one, and a page's HTML is mostly markup and scripts, so the date patterns read a few kB
    instead of the whole page. Parts are joined by a line no date pattern reads across."""
    spans: list[list[int]] = []
    for match in _YEAR_LIKE.finditer(text):
        start, end = match.span()
        if text[start:start + 2] not in ("19", "20") or text[start - 1:start].isdigit() \
                or text[end:end + 1].isdigit():
            continue
        begin, stop = max(0, start - _BEFORE_YEAR), end + _AFTER_YEAR
        if spans and begin <= spans[-1][1]:
            spans[-1][1] = stop
        else:
            spans.append([begin, stop])
    return "\n#\n".join(text[begin:stop] for begin, stop in spans)


def _days_written(text: str, tz, day_first: bool) -> tuple[Counter, dict]:
    """How often each day is written in ``text``, and the first date written for each."""
    days: Counter = Counter()
    first_seen: dict = {}
    text = _around_years(text)
    for start, found in find_dates(text, tz=tz, day_first=day_first, limit=_MAX_PAGE_DATES):
        if found.year < _OLDEST_YEAR or _COPYRIGHT.search(text, max(0, start - _COPYRIGHT_CHARS), start):
            continue
        days[found.date()] += 1
        first_seen.setdefault(found.date(), found)
    return days, first_seen


def _lists_other_stories(el) -> bool:
    return el.tag in _STORY_LIST_TAGS or bool(_STORY_LIST_CLASS.search(f"{el.get('class') or ''} {el.get('id') or ''}"))


def _text_and_attributes(el) -> str:
    """An element's text and its attributes' values: where the page's HTML writes its dates."""
    parts = []
    for node in el.iter():
        if isinstance(node.tag, str):
            parts.extend(node.attrib.values())
        parts.append(node.text or "")
        if node is not el:  # the element's own tail is the text after it
            parts.append(node.tail or "")
    return " ".join(parts)


def _day_first(meta: PageMetadata, tz) -> bool:
    """Whether "02/11/2021" is the 2nd of November: everywhere but on US pages."""
    zone_name = getattr(tz, "key", "") or ""
    return not (meta.locale().startswith("en-us") or zone_name.startswith("America/") and
                meta.locale().startswith("en"))
