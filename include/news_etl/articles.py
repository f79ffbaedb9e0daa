"""Article page parsing: bytes of one HTML page in, the fields of one article out. Pure.

Per-source rules (XPath, regex, date format from the source file) come first; the generic extractor
fills whatever the rules do not give and serves sources without rules, in this order: JSON-LD,
OpenGraph and article meta tags, <time> elements, then main-text detection. Blocks that are not the
article (navigation, related and featured stories, comments, share bars, footers) are removed
before anything is read from the page, so their titles and dates never leak into the article.
The language is the one the page declares, else the one its text is written in (language.py),
else the source's.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from lxml import etree

from news_etl.dates import FLOATING, in_zone, isoformat, offset_stated, parse_date
from news_etl.encoding import decode_html
from news_etl.errors import DateParseError, PageError
from news_etl.language import identify_language
from news_etl.maintext import body_of, drop_tree, main_text, second_opinion
from news_etl.pagedates import publication, updated_at
from news_etl.pagemeta import PageMetadata, as_list, split_authors, text_of
from news_etl.sources import FieldRule, RuleRegexTimeout, Source
from news_etl.urls import normalize_url


@dataclass(frozen=True)
class ParsedArticle:
    title: str | None
    published_at: datetime | None
    updated_at: datetime | None
    story_code: str | None
    authors: tuple[str, ...]
    section: str | None
    body: str
    language: str | None
    canonical_url: str | None
    # Whether the page stated the publication date's offset (False: the source's zone was assumed,
    # or, with no source, published_at is a dates.FLOATING wall time); None without a date.
    published_at_offset_known: bool | None = None


def parse_article(data: bytes, *, url: str | None = None, source: Source | None = None,
                  content_type: str | None = None) -> ParsedArticle:
    """Parse one article page. Raises PageError if the bytes are not an HTML page at all, or when a
    source rule's regex runs out of time on it; a page that lacks a field gives None for it (the
    quality checks decide what that means)."""
    try:
        return _parse_article(data, url=url, source=source, content_type=content_type)
    except RuleRegexTimeout as exc:
        raise RuleRegexTimeout(f"{url or '<page>'}: {exc}") from None


def _parse_article(data: bytes, *, url: str | None, source: Source | None,
                   content_type: str | None) -> ParsedArticle:
    where = url or "<page>"
    doc, page_text = _html_document(data, content_type, where)
    rules = source.rules if source else None
    tz = source.timezone if source else None

    # 1. Per-source rules, read after the source's own drop rules.
    if rules:
        for xpath in rules.drop:
            _remove(xpath(doc))
    title = _rule_text(doc, rules.title if rules else None)
    published = _rule_date(doc, rules.published if rules else None, where, "published")
    offset_known = offset_stated(published) if published else None
    published = in_zone(published, tz)
    updated = in_zone(_rule_date(doc, rules.updated if rules else None, where, "updated"), tz)
    authors = _rule_authors(doc, rules.authors if rules else None)
    section = _rule_text(doc, rules.section if rules else None)
    story_code = None
    if source and source.story_codes:
        # The page's own code first; the URL's where the page shows none.
        story_code = source.story_codes.normalize(_rule_text(doc, rules.story_code if rules else None)) \
            or source.story_codes.in_url(url)
    body = None
    if rules and rules.body:
        containers = [c for c in as_list(rules.body.xpath(doc)) if isinstance(c, etree._Element)]
        body = "\n\n".join(text for c in containers if (text := body_of(c))) or None

    # 2. The generic extractor fills the gaps: structured metadata first (read before any block is
    # removed: JSON-LD lives in <script>), then the visible page without its non-article blocks.
    meta = PageMetadata(doc)
    main = main_text(doc.find("body"))
    title = title or meta.title(main)
    if published is None:
        published, offset_known = publication(meta, main, tz, url, page_text)
    updated = updated or updated_at(meta, main, tz)
    if updated and published and updated <= published:
        updated = None
    canonical = meta.canonical_url()
    if canonical and url:
        canonical = normalize_url(canonical, base=url)
    elif url:
        canonical = normalize_url(url)
    body_text = body if body is not None else second_opinion(page_text, url, main, title)
    # What the page declares, else what its text is written in, else what the source is written in.
    language = meta.language() or identify_language(f"{title or ''}\n{body_text}") \
        or (source.language if source else None)
    return ParsedArticle(
        title=title,
        published_at=published,
        updated_at=updated,
        story_code=story_code,
        authors=authors or meta.authors(main),
        section=section or meta.section(),
        body=body_text,
        language=language,
        canonical_url=canonical,
        published_at_offset_known=offset_known,
    )


# --- the page -----------------------------------------------------------------------------------

_HTML_PARSER = etree.HTMLParser(remove_blank_text=False, no_network=True)


_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _html_document(data: bytes, content_type: str | None, where: str) -> tuple[etree._Element, str]:
    """The page's tree and its decoded text."""
    if not data or not data.strip():
        raise PageError(f"{where}: empty page")
    text = decode_html(data, content_type)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str input with an XML encoding declaration
    # Control characters are not allowed in XML/lxml text and never carry meaning in a page.
    text = _CONTROL_CHARS.sub("", text)
    doc = _parsed(text, where)
    body = doc.find("body") if doc is not None else None
    if body is None and (closed := _title_closed(text)):
        # A <title> never closed holds the whole page as its text (the parser reads a title up to
        # its end tag, as browsers do); closed before its first tag, the page has its body again.
        doc, text = _parsed(closed, where), closed
        body = doc.find("body") if doc is not None else None
    if body is None or not len(body) and not (body.text or "").strip():
        raise PageError(f"{where}: HTML page has no body")
    return doc, text


def _parsed(text: str, where: str) -> etree._Element:
    try:
        return etree.fromstring(text, _HTML_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise PageError(f"{where}: not an HTML page ({exc})") from exc


_TITLE_START = re.compile(r"<title\b[^<>]*>", re.IGNORECASE)
_TITLE_END = re.compile(r"</title\s*>", re.IGNORECASE)


def _title_closed(text: str) -> str | None:
    """The page with its unclosed <title> ended before the first tag inside it; None when its
    title is closed (or it has none)."""
    start = _TITLE_START.search(text)
    if start is None or _TITLE_END.search(text, start.end()):
        return None
    tag = text.find("<", start.end())
    return None if tag < 0 else f"{text[:tag]}</title>{text[tag:]}"


# --- rules --------------------------------------------------------------------------------------

def _strings(found) -> list[str]:
    if isinstance(found, (str, bytes)):
        found = [found]
    elif not isinstance(found, list):
        found = [str(found)]
    out = []
    for item in found:
        text = text_of(item) if isinstance(item, etree._Element) else str(item)
        text = " ".join(text.split())
        if text:
            out.append(text)
    return out


def _apply_regex(rule: FieldRule, text: str) -> str | None:
    if rule.regex is None:
        return text
    m = rule.regex.search(text)
    if not m:
        return None
    return (m.group(1) if rule.regex.groups else m.group(0)).strip() or None


def _rule_text(doc, rule: FieldRule | None) -> str | None:
    if rule is None:
        return None
    for text in _strings(rule.xpath(doc)):
        value = _apply_regex(rule, text)
        if value:
            return value
    return None


def _rule_date(doc, rule: FieldRule | None, where: str, field: str) -> datetime | None:
    """The rule's date; one whose text states no offset is a FLOATING wall time for the caller to place."""
    text = _rule_text(doc, rule)
    if text is None:
        return None
    try:
        return parse_date(text, tz=FLOATING, formats=(rule.format,) if rule.format else ())
    except DateParseError as exc:
        raise PageError(f"{where}: field '{field}': {exc}") from exc


def _remove(elements: Iterable) -> None:
    for el in list(elements):
        if isinstance(el, etree._Element):
            drop_tree(el)


def _rule_authors(doc, rule: FieldRule | None) -> tuple[str, ...]:
    if rule is None:
        return ()
    names: list[str] = []
    for text in _strings(rule.xpath(doc)):
        value = _apply_regex(rule, text)
        if value:
            names.extend(split_authors(value))
    return tuple(dict.fromkeys(names))


# --- records ----------------------------------------------------------------------------------------

def article_record(source: Source, url: str, parsed: ParsedArticle | None, *, feed_item: dict | None = None,
                   raw_ref: str | None = None, parse_error: str | None = None) -> dict:
    """One staging row from a parsed page and the feed item that announced it. The page wins;
    the feed fills the title and date a page lacks. Dates are ISO text with their offset."""
    feed_item = feed_item or {}
    canonical = (parsed.canonical_url if parsed else None) or url
    if parsed is None:
        return {"url": url, "canonical_url": canonical, "identity": canonical, "raw_ref": raw_ref,
                "title": feed_item.get("title"), "feed_published_at": feed_item.get("published_at"),
                "parse_error": parse_error or "page not parsed"}
    published = isoformat(parsed.published_at) if parsed.published_at else feed_item.get("published_at")
    offset_known = parsed.published_at_offset_known if parsed.published_at else feed_item.get("published_at_offset_known")
    story_code = parsed.story_code
    try:
        code_in_url = source.story_codes.in_url(url) if source.story_codes else None
    except RuleRegexTimeout as exc:  # the page's error: the row is kept, and quarantined for it
        code_in_url, parse_error = None, parse_error or f"{url}: {exc}"
    body = parsed.body or ""
    title = parsed.title or feed_item.get("title")
    return {
        "identity": story_code if (source.story_codes and story_code) else canonical,
        "url": url,
        "canonical_url": canonical,
        "story_code": story_code,
        # Where the URL carries a code too; the quality checks compare it with story_code.
        "story_code_in_url": code_in_url,
        "title": title,
        "published_at": published,
        # Whether the offset was stated by the page or the source's zone assumed.
        "published_at_offset_known": offset_known,
        "feed_published_at": feed_item.get("published_at"),
        "updated_at": isoformat(parsed.updated_at) if parsed.updated_at else None,
        "authors": list(parsed.authors),
        "section": parsed.section,
        "language": parsed.language,
        "body": body,
        "word_count": len(body.split()),
        "content_hash": content_hash(title, body),
        "raw_ref": raw_ref,
        "parse_error": parse_error,
    }


def content_hash(title: str | None, body: str) -> str:
    """SHA-256 of the normalized title and body: Unicode NFC, whitespace collapsed, so a page that
    only changed its markup or line breaks keeps its hash (and is not counted as an update)."""
    text = "\n".join(" ".join(unicodedata.normalize("NFC", part or "").split()) for part in (title, body))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
