"""Article page parsing: bytes of one HTML page in, the fields of one article out. Pure.

Per-source rules (XPath, regex, date format from the source file) come first; the generic extractor
fills whatever the rules do not give and serves sources without rules, in this order: JSON-LD,
OpenGraph and article meta tags, <time> elements, then main-text detection. Blocks that are not the
article (navigation, related and featured stories, comments, share bars, footers) are removed
before anything is read from the page, so their titles and dates never leak into the article.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterable, Iterator

from lxml import etree, html

from news_etl.dates import isoformat, parse_date
from news_etl.errors import DateParseError, PageError
from news_etl.maintext import MainText, body_of, main_text
from news_etl.sources import FieldRule, Source
from news_etl.urls import is_http_url, normalize_url


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


_ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report",
    "scholarlyarticle", "techarticle", "socialmediaposting",
}
# class/id words of blocks that are never the article itself
_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|menu|breadcrumbs?|share|sharing|social|related|more-from|"
    r"featured|most-read|popular|trending|recommended|promo|comments?|newsletter|subscribe|"
    r"advert|ads?|sponsor|cookies?|banner|sidebar|footer|masthead|tags|author-bio)(?:$|[\s_-])",
    re.I,
)
_NOT_CONTENT_TAGS = ("script", "style", "noscript", "template", "iframe", "form", "button", "svg",
                     "nav", "aside", "footer", "figure", "figcaption", "select", "input")
_PARAGRAPH_TAGS = {"p", "blockquote", "h2", "h3", "h4", "li", "pre"}
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|written by|von|par|por)\s+", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&)\s*")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)


def parse_article(data: bytes, *, url: str | None = None, source: Source | None = None,
                  content_type: str | None = None) -> ParsedArticle:
    """Parse one article page. Raises PageError if the bytes are not an HTML page at all; a page
    that lacks a field gives None for it (the quality checks decide what that means)."""
    where = url or "<page>"
    doc = _html_document(data, content_type, where)
    rules = source.rules if source else None
    tz = source.timezone if source else None

    # 1. Per-source rules, read after the source's own drop rules.
    if rules:
        for xpath in rules.drop:
            _remove(xpath(doc))
    title = _rule_text(doc, rules.title if rules else None)
    published = _rule_date(doc, rules.published if rules else None, tz, where, "published")
    updated = _rule_date(doc, rules.updated if rules else None, tz, where, "updated")
    authors = _rule_authors(doc, rules.authors if rules else None)
    section = _rule_text(doc, rules.section if rules else None)
    story_code = None
    if source and source.story_codes:
        raw_code = _rule_text(doc, rules.story_code if rules else None)
        if raw_code is None and source.story_codes.url and url:
            m = source.story_codes.url.search(url)
            raw_code = m.group(1) if m else None
        story_code = normalize_story_code(raw_code, source.story_codes.pattern)
    body = None
    if rules and rules.body:
        containers = [c for c in _as_list(rules.body.xpath(doc)) if isinstance(c, etree._Element)]
        body = "\n\n".join(text for c in containers if (text := body_of(c))) or None

    # 2. The generic extractor fills the gaps: structured metadata first (read before any block is
    # removed: JSON-LD lives in <script>), then the visible page without its non-article blocks.
    meta = _Metadata(doc)
    main = main_text(doc.find("body"))
    title = title or meta.title()
    published = published or meta.published(tz) or _time_element(main, tz)
    updated = updated or meta.updated(tz)
    if updated and published and updated <= published:
        updated = None
    canonical = meta.canonical_url()
    if canonical and url:
        canonical = normalize_url(canonical, base=url)
    elif url:
        canonical = normalize_url(url)
    return ParsedArticle(
        title=title,
        published_at=published,
        updated_at=updated,
        story_code=story_code,
        authors=authors or meta.authors(),
        section=section or meta.section(),
        body=body if body is not None else main.body,
        language=meta.language() or (source.language if source else None),
        canonical_url=canonical,
    )


def normalize_story_code(raw: str | None, pattern: re.Pattern) -> str | None:
    """Strip the code; where the source's codes are numeric, keep only the digits ("No. 1119717")."""
    if raw is None:
        return None
    code = " ".join(raw.split())
    if not code:
        return None
    if not pattern.fullmatch(code):
        digits = re.sub(r"\D", "", code)
        if digits and pattern.fullmatch(digits):
            return digits
    return code


# --- decoding ---------------------------------------------------------------------------------

def _html_document(data: bytes, content_type: str | None, where: str) -> html.HtmlElement:
    if not data or not data.strip():
        raise PageError(f"{where}: empty page")
    text = decode_html(data, content_type)
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str input with an XML encoding declaration
    try:
        doc = html.document_fromstring(text)
    except (etree.ParserError, ValueError) as exc:
        raise PageError(f"{where}: not an HTML page ({exc})") from exc
    body = doc.find("body")
    if body is None or not len(body) and not (body.text or "").strip():
        raise PageError(f"{where}: HTML page has no body")
    return doc


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """Text of a page: charset from the HTTP header, else BOM, else <meta charset>, else UTF-8 if it
    decodes, else Windows-1252 (the de-facto default of undeclared Western pages)."""
    for bom, enc in ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom):
            return data[len(bom):].decode(enc, errors="replace")
    candidates = []
    if content_type:
        m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.-]+)", content_type, re.I)
        if m:
            candidates.append(m.group(1))
    m = _META_CHARSET.search(data[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii", errors="ignore"))
    for enc in candidates:
        try:
            return data.decode(_canonical_encoding(enc))
        except (LookupError, UnicodeDecodeError):
            continue
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _canonical_encoding(name: str) -> str:
    name = name.strip().lower()
    # WHATWG: pages labelled latin-1 / ascii are really windows-1252
    return "cp1252" if name in ("iso-8859-1", "latin1", "latin-1", "us-ascii", "ascii") else name


# --- rules --------------------------------------------------------------------------------------

def _strings(found) -> list[str]:
    if isinstance(found, (str, bytes)):
        found = [found]
    elif not isinstance(found, list):
        found = [str(found)]
    out = []
    for item in found:
        text = item.text_content() if isinstance(item, etree._Element) else str(item)
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


def _rule_date(doc, rule: FieldRule | None, tz, where: str, field: str) -> datetime | None:
    text = _rule_text(doc, rule)
    if text is None:
        return None
    try:
        return parse_date(text, tz=tz, formats=(rule.format,) if rule.format else ())
    except DateParseError as exc:
        raise PageError(f"{where}: field '{field}': {exc}") from exc


def _rule_authors(doc, rule: FieldRule | None) -> tuple[str, ...]:
    if rule is None:
        return ()
    names: list[str] = []
    for text in _strings(rule.xpath(doc)):
        value = _apply_regex(rule, text)
        if value:
            names.extend(split_authors(value))
    return tuple(dict.fromkeys(names))


def split_authors(text: str) -> list[str]:
    text = _BYLINE_PREFIX.sub("", text)
    return [n.strip() for n in _AUTHOR_SPLIT.split(text) if n.strip()]


# --- generic metadata: JSON-LD, meta tags, <time> ---------------------------------------------------

class _Metadata:
    def __init__(self, doc: html.HtmlElement):
        self.doc = doc
        self.ld = _first_article_object(doc)
        self.meta: dict[str, str] = {}
        for el in doc.iter("meta"):
            key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
            content = el.get("content")
            if key and content and key not in self.meta:
                self.meta[key] = " ".join(content.split())

    def _first(self, *keys: str) -> str | None:
        for key in keys:
            if self.meta.get(key):
                return self.meta[key]
        return None

    def title(self) -> str | None:
        headline = _ld_text(self.ld.get("headline")) if self.ld else None
        if headline:
            return headline
        title = self._first("og:title", "twitter:title")
        if title:
            return title
        for h1 in self.doc.iter("h1"):
            text = " ".join(h1.text_content().split())
            if text:
                return text
        t = self.doc.find(".//title")
        if t is None:
            return None
        return " ".join(t.text_content().split()) or None

    def _date(self, ld_key: str, meta_keys: tuple[str, ...], tz) -> datetime | None:
        candidates = []
        if self.ld:
            candidates.append(_ld_text(self.ld.get(ld_key)))
        candidates.extend(self.meta.get(k) for k in meta_keys)
        for text in candidates:
            if text:
                try:
                    value = parse_date(text, tz=tz)
                except DateParseError:
                    continue
                if value:
                    return value
        return None

    def published(self, tz) -> datetime | None:
        return self._date(
            "datePublished",
            ("article:published_time", "og:article:published_time", "datepublished", "pubdate",
             "publishdate", "date", "dc.date", "dc.date.issued", "dcterms.created", "sailthru.date"),
            tz,
        )

    def updated(self, tz) -> datetime | None:
        return self._date("dateModified", ("article:modified_time", "og:updated_time", "datemodified",
                                           "dcterms.modified", "last-modified"), tz)

    def authors(self) -> tuple[str, ...]:
        names: list[str] = []
        if self.ld:
            for person in _as_list(self.ld.get("author")):
                name = _ld_text(person.get("name") if isinstance(person, dict) else person)
                if name:
                    names.append(name)
        if not names:
            meta_author = self._first("author", "article:author", "dc.creator", "byl")
            if meta_author and not is_http_url(meta_author):
                names = split_authors(meta_author)
        return tuple(dict.fromkeys(names))

    def section(self) -> str | None:
        if self.ld:
            section = _ld_text(self.ld.get("articleSection"))
            if section:
                return section
        return self._first("article:section", "section")

    def language(self) -> str | None:
        if self.ld:
            lang = _ld_text(self.ld.get("inLanguage"))
            if lang:
                return lang.split("-")[0].lower()
        lang = self.doc.get("lang") or self._first("og:locale", "content-language", "language")
        return lang.replace("_", "-").split("-")[0].lower() if lang else None

    def canonical_url(self) -> str | None:
        for link in self.doc.iter("link"):
            if (link.get("rel") or "").lower() == "canonical" and link.get("href"):
                return link.get("href").strip()
        og = self._first("og:url")
        if og:
            return og
        if self.ld:
            for key in ("url", "mainEntityOfPage"):
                value = self.ld.get(key)
                value = value.get("@id") if isinstance(value, dict) else value
                if isinstance(value, str) and is_http_url(value):
                    return value
        return None


def _remove(elements: Iterable) -> None:
    for el in list(elements):
        if isinstance(el, etree._Element) and el.getparent() is not None:
            el.drop_tree()


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _ld_text(value) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if isinstance(value, str):
        value = " ".join(value.split())
        return value or None
    return None


def _ld_objects(node) -> Iterator[dict]:
    if isinstance(node, list):
        for item in node:
            yield from _ld_objects(item)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity"):
            if key in node:
                yield from _ld_objects(node[key])


def _first_article_object(doc) -> dict | None:
    for script in doc.iter("script"):
        if (script.get("type") or "").lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue
        for obj in _ld_objects(data):
            types = {t.lower() for t in _as_list(obj.get("@type")) if isinstance(t, str)}
            if types & _ARTICLE_TYPES:
                return obj
    return None


def _time_element(main: MainText, tz) -> datetime | None:
    """The first readable <time> of the article: in its container first, then anywhere outside
    related, featured and comment blocks (whose dates belong to other stories)."""
    if main.root is None:
        return None
    scopes = [main.container, main.root] if main.container is not None else [main.root]
    for scope in scopes:
        for el in scope.iter("time"):
            if main.in_boilerplate(el):
                continue
            text = el.get("datetime") or el.text_content()
            if text and text.strip():
                try:
                    return parse_date(text, tz=tz)
                except DateParseError:
                    continue
    return None


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
    story_code = parsed.story_code
    body = parsed.body or ""
    title = parsed.title or feed_item.get("title")
    return {
        "identity": story_code if (source.story_codes and story_code) else canonical,
        "url": url,
        "canonical_url": canonical,
        "story_code": story_code,
        "title": title,
        "published_at": published,
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
    return hashlib.sha256(f"{title or ''}\n{body}".encode("utf-8")).hexdigest()
