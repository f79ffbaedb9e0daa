"""Feed parsing: read the bytes of an RSS 2.0 / 0.9x, RSS 1.0 (RDF) or Atom 1.0 / 0.3 feed, or of a
(news) sitemap or sitemap index, into a Feed.

Every format comes out the same way: a FeedItem per story with plain-text title and summary, an
absolute link, the guid, aware dates and the authors. The module is pure (bytes in, values out).

Sitemaps: a <url> of a news sitemap is a story with its news:title and news:publication_date; in a
plain sitemap the <lastmod> stands in for the date, as an Atom entry's <updated> does when it says
nothing else. A sitemap index lists no stories: its sitemaps (with their <lastmod>) are on
``Feed.sitemaps`` for the caller to fetch.

Safety: the XML parser never expands entities, never loads a DTD and never touches the network,
so a billion-laughs document or an external entity (``file:///etc/passwd``) stays an unexpanded
reference. Unresolved references to HTML entities (``&eacute;``) are read as their character.

Recovery: real feeds are often not well-formed. When strict parsing fails the bytes are decoded
(BOM, then the declared encoding, then UTF-8, then cp1252), text before the XML declaration and the
DOCTYPE are dropped, HTML named entities become character references, bare ``&`` becomes ``&amp;``,
control characters are removed, and the result is parsed in libxml2's recover mode. A feed labelled
ISO-8859-1 that is valid UTF-8 is read as UTF-8, and cp1252 quotes under that label as cp1252.
Bytes that are not a feed raise FeedError naming the feed and the reason.

Links are resolved against xml:base, then the feed's own URL (``url``, when it is a URL), then the site link;
a relative link stays relative only when none of these exists.

Identity: feeds repeat items (sticky stories, overlapping pages, a story filed under two
categories), so an item that repeats an earlier one of the same feed (same guid or link, same
title and date) is dropped; the first occurrence wins. Items that share a guid or link but differ
in title or date are different posts of a publisher that reuses identifiers: both are kept.
"""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html.entities import name2codepoint
from urllib.parse import urljoin

from lxml import etree

from news_etl.dates import FLOATING, in_zone, offset_stated, parse_date, resolve_zone
from news_etl.errors import ConfigError, DateParseError, FeedError

__all__ = ["Feed", "FeedItem", "SitemapRef", "parse_feed"]


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One story as a feed lists it."""

    title: str | None  # plain text: tags stripped, entities decoded, whitespace collapsed
    link: str | None  # absolute URL unless the feed gives no base to resolve a relative one
    guid: str | None  # RSS guid / Atom id / rdf:about
    published_at: datetime | None  # aware; None when absent or unreadable
    published_raw: str | None  # the date as written (stripped), kept even when unreadable
    updated_at: datetime | None  # only when the item also has a separate published date
    authors: tuple[str, ...]
    summary: str | None  # plain text
    # Whether the item's date stated its offset (False: the source's zone was assumed, or, with no
    # zone, published_at is a dates.FLOATING wall time); None without a date.
    published_offset_known: bool | None = None


@dataclass(frozen=True, slots=True)
class SitemapRef:
    """One sitemap a sitemap index lists."""

    url: str
    modified_at: datetime | None  # its <lastmod>: a sitemap not changed since a day holds nothing new of it


@dataclass(frozen=True, slots=True)
class Feed:
    """A parsed feed: "rss2" (also RSS 0.9x), "rdf" (RSS 1.0 / 0.90), "atom" (1.0 and 0.3),
    "sitemap" (also news sitemaps) or "sitemapindex" (no items; its sitemaps)."""

    format: str
    title: str | None
    link: str | None
    items: tuple[FeedItem, ...]
    sitemaps: tuple[SitemapRef, ...] = ()


_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True)

_ATOM_10 = "http://www.w3.org/2005/Atom"
_SITEMAP_NAMESPACES = {None, "http://www.sitemaps.org/schemas/sitemap/0.9",
                       "http://www.google.com/schemas/sitemap/0.84", "http://www.google.com/schemas/sitemap/0.9"}
_NEWS = "http://www.google.com/schemas/sitemap-news/0.9"
_ATOM_03 = "http://purl.org/atom/ns#"
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML_BASE = "{http://www.w3.org/XML/1998/namespace}base"

# Children are looked up by "prefix:local". Each format's core vocabulary maps to one prefix, so
# the RSS 1.0, RSS 0.90 and namespaced RSS 2.0 elements read exactly like plain RSS 2.0 ones.
# Elements in other namespaces (media:title, itunes:summary, ...) are ignored.
_PREFIXES = {
    "http://purl.org/rss/1.0/": "",
    "http://my.netscape.com/rdf/simple/0.9/": "",
    "http://backend.userland.com/rss2": "",
    "http://blogs.law.harvard.edu/tech/rss": "",
    _ATOM_10: "atom:",
    _ATOM_03: "atom:",
    "http://purl.org/rss/1.0/modules/content/": "content:",
    "http://purl.org/dc/elements/1.1/": "dc:",
    "http://purl.org/dc/elements/1.0/": "dc:",
    "http://purl.org/dc/terms/": "dcterms:",
    _RDF: "rdf:",
    "http://www.sitemaps.org/schemas/sitemap/0.9": "",
    "http://www.google.com/schemas/sitemap/0.84": "",
    "http://www.google.com/schemas/sitemap/0.9": "",
    _NEWS: "news:",
}

# Preference order for the published date; Atom 0.3 calls them issued / created / modified.
_PUBLISHED_KEYS = ("pubDate", "pubdate", "dc:date", "atom:published", "atom:issued", "dcterms:issued",
                   "atom:created", "dcterms:created")
_UPDATED_KEYS = ("atom:updated", "atom:modified", "dcterms:modified")
_SUMMARY_KEYS = ("description", "atom:summary", "content:encoded", "atom:content", "dc:description")

_HTML_LINK_TYPES = ("text/html", "application/xhtml+xml")
_XML_ENTITIES = {"amp", "lt", "gt", "quot", "apos"}
# HTML elements that separate words; inline ones (<b>, <a>) must not split "W<b>ord</b>".
_BLOCK_TAGS = {
    "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "img", "li", "main", "nav", "ol", "p",
    "pre", "section", "table", "td", "th", "tr", "ul",
}

_HAS_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_HTTP_URL = re.compile(r"https?://\S+\Z", re.IGNORECASE)
# No '(' or second '@' in the address: with them, a fullmatch backtracks over every split (quadratic).
_EMAIL_AND_NAME = re.compile(r"[^\s@()]+@[^\s@()]+\s*\((.+)\)")
# Sections (script, style, comment, CDATA) are found by their start and then their end, never by
# one lazy ``start.*?end`` regex: that rescans to the end of the text for every unclosed start (a
# title of 100,000 "<script" took minutes). See _sections.
_SCRIPT_OR_STYLE_START = re.compile(r"<(script|style)\b", re.IGNORECASE)
_SCRIPT_OR_STYLE_END = {"script": re.compile(r"</script\s*>", re.IGNORECASE),
                        "style": re.compile(r"</style\s*>", re.IGNORECASE)}
_COMMENT_START, _COMMENT_END = re.compile(r"<!--"), re.compile(r"-->")
_CDATA_START, _CDATA_END = re.compile(r"<!\[CDATA\["), re.compile(r"\]\]>")
# The tag name is possessive: giving its letters back to [^<>]* can never help, and trying costs
# quadratic time on one long unclosed "<aaaa...".
_HTML_TAG = re.compile(r"<(?:/?([A-Za-z][A-Za-z0-9:-]*+)[^<>]*|![^<>]*|\?[^<>]*)>")
_AMPERSAND = re.compile(r"&(?:(#[0-9]+;|#[xX][0-9a-fA-F]+;)|([A-Za-z][A-Za-z0-9._:-]*);)?")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_XML_DECLARATION = re.compile(r"<\?xml\s")
_FEED_ROOT_START = re.compile(r"<(?:[A-Za-z][\w.-]*:)?(?:rss|feed|RDF|urlset|sitemapindex)\b")
_DOCTYPE_START = re.compile(r"<!DOCTYPE\s[^\[>]*+", re.IGNORECASE)
_INTERNAL_SUBSET_END = re.compile(r"\]\s*>")
_DECLARED_ENCODING = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._:-]+)[\"']")
_C1_BYTES = re.compile(rb"[\x80-\x9f]")
_LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "us-ascii", "ascii",
                  "windows-1252", "cp1252"}
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)


def parse_feed(data: bytes, *, url: str | None = None, tz: str | tzinfo | None = None) -> Feed:
    """Parse feed bytes. ``url`` is the feed's own URL (base for relative links, named in errors);
    ``tz`` is the source's time zone for dates written without an offset; without one such a date
    is kept as the publisher's wall time in dates.FLOATING (dates.offset_stated tells them apart).

    Raises FeedError when the bytes are not an RSS, RDF or Atom feed. One unreadable item date never
    raises: that item gets ``published_at=None`` and keeps ``published_raw``.
    """
    source = url or "<bytes>"
    try:
        zone = resolve_zone(tz)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from exc
    root = _parse_xml(data, source)
    kind = _feed_format(root, source)
    root_fields = _fields(root)
    if kind == "sitemap":
        return _sitemap(root_fields, url, zone)
    if kind == "sitemapindex":
        return _sitemap_index(root_fields, url, zone)
    if kind == "atom":
        return _build_feed(kind, root_fields, root_fields.get("atom:entry", []), url, zone)
    channel = _first(root_fields, "channel")
    channel_fields = _fields(channel) if channel is not None else {}
    # RSS 1.0 puts items beside the channel; some RSS 0.9x feeds do too, by mistake.
    item_elements = channel_fields.get("item", []) + root_fields.get("item", [])
    return _build_feed(kind, channel_fields, item_elements, url, zone)


# --- XML: strict first, then a repaired, recovering parse ---------------------------------------

def _parse_xml(data: bytes, source: str) -> etree._Element:
    if not data or not data.strip(b" \t\r\n\x00" + codecs.BOM_UTF8):
        raise FeedError(f"{source}: not an RSS, RDF or Atom feed or a sitemap (empty body)")
    try:
        root = etree.fromstring(data, etree.XMLParser(**_PARSER_OPTIONS))
    except etree.XMLSyntaxError:
        return _parse_repaired(data, source)
    relabelled = _mislabelled_encoding(data, root.getroottree().docinfo.encoding)
    if relabelled:
        try:
            return etree.fromstring(data, etree.XMLParser(encoding=relabelled, **_PARSER_OPTIONS))
        except etree.XMLSyntaxError:
            pass  # the guess was wrong (cp1252 leaves five bytes undefined); the label stands
    return root


def _mislabelled_encoding(data: bytes, declared: str | None) -> str | None:
    """The real encoding when a Latin-1 label is wrong in the two common ways, else None.

    Servers stamp ISO-8859-1 on UTF-8 text (valid UTF-8 with non-ASCII bytes is practically never
    Latin-1 prose), and Windows editors write cp1252 quotes (0x80-0x9f) under a Latin-1 label.
    """
    if (declared or "").lower() not in _LATIN1_LABELS or data.isascii():
        return None
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if declared.lower() not in ("windows-1252", "cp1252") and _C1_BYTES.search(data):
        return "windows-1252"
    return None


def _parse_repaired(data: bytes, source: str) -> etree._Element:
    text = _repair_markup(_drop_doctype(_drop_prolog_junk(_decode(data))))
    parser = etree.XMLParser(recover=True, encoding="utf-8", **_PARSER_OPTIONS)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        preview = data.lstrip()[:40].decode("utf-8", errors="replace")
        raise FeedError(f"{source}: not an RSS, RDF or Atom feed or a sitemap (not XML: starts with {preview!r})")
    return root


def _decode(data: bytes) -> str:
    """Text of the bytes: a BOM wins, then the declared encoding, then UTF-8, then cp1252."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    declared = _DECLARED_ENCODING.match(data)
    candidates = [declared.group(1).decode("ascii")] if declared else []
    for encoding in (*candidates, "utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
    # cp1252 leaves five byte values undefined; keep the rest of the feed readable.
    return data.decode("cp1252", errors="replace")


def _drop_prolog_junk(text: str) -> str:
    """Blank lines, a BOM or a server's warning text before '<?xml' make libxml2 stop at once."""
    text = text.lstrip("\ufeff \t\r\n")
    declaration = _XML_DECLARATION.search(text, 0, 4096)
    if declaration is None or _FEED_ROOT_START.search(text, 0, declaration.start()):
        return text  # an '<?xml' after the root is text inside the feed, not a declaration
    return text[declaration.start():]


def _drop_doctype(text: str) -> str:
    """Without its DOCTYPE a document cannot declare entities. Nothing is lost (DTDs are never loaded
    and entities never expanded), and libxml2 stops at the first reference of an entity bomb, which
    would cost the items after it."""
    start = _DOCTYPE_START.search(text)
    if start is None:
        return text
    end = start.end()
    if text.startswith("[", end):  # the internal subset, where entities are declared
        subset_end = _INTERNAL_SUBSET_END.search(text, end)
        end = subset_end.end() if subset_end else -1
    elif text.startswith(">", end):
        end += 1
    else:
        end = -1
    # Only the first DOCTYPE is the document's; an unclosed one is left to the recovering parser.
    return text[:start.start()] + text[end:] if end >= 0 else text


def _repair_markup(text: str) -> str:
    """HTML entities to character references and bare '&' escaped, outside CDATA sections
    (whose text is literal, so a link like '?a=1&b=2' inside CDATA must stay as written)."""
    return "".join(part if is_cdata else _AMPERSAND.sub(_fix_ampersand, _CONTROL_CHARS.sub("", part))
                   for is_cdata, part in _sections(text, _CDATA_START, lambda _: _CDATA_END))


def _sections(text: str, start: re.Pattern, end_for) -> list[tuple[bool, str]]:
    """``text`` cut into (is_section, piece) in order: a section runs from a match of ``start`` to
    the first match after it of ``end_for(start_match)``; a start without an end is plain text.

    Linear: each start is looked at once, each end searched once, and once an end pattern is found
    missing after some position it is missing after every later one, so its starts are skipped.
    """
    pieces: list[tuple[bool, str]] = []
    done = scan = 0
    unclosed: set[str] = set()
    while (opening := start.search(text, scan)) is not None:
        end = end_for(opening)
        closing = None if end.pattern in unclosed else end.search(text, opening.end())
        if closing is None:
            unclosed.add(end.pattern)
            scan = opening.end()
            continue
        pieces += ((False, text[done:opening.start()]), (True, text[opening.start():closing.end()]))
        done = scan = closing.end()
    pieces.append((False, text[done:]))
    return pieces


def _fix_ampersand(match: re.Match[str]) -> str:
    numeric, name = match.groups()
    if numeric:
        # A reference to a character XML forbids (a lone surrogate such as &#xD800;, NUL, a C0
        # control) would make libxml2 keep bytes no text can be read from: U+FFFD stands for it.
        hexadecimal = numeric[1] in "xX"
        digits = numeric[2 if hexadecimal else 1:-1].lstrip("0") or "0"
        if len(digits) > 8:  # past U+10FFFF (and int() refuses 5,000 digits)
            return "&#xFFFD;"
        return match.group(0) if _xml_char(int(digits, 16 if hexadecimal else 10)) else "&#xFFFD;"
    if name is None:
        return "&amp;"
    if name in name2codepoint and name not in _XML_ENTITIES:
        return f"&#{name2codepoint[name]};"
    # XML's own entities, and names the document's DTD may declare, stay references.
    return match.group(0)


def _xml_char(code: int) -> bool:
    """Whether XML 1.0 allows the character (its production Char)."""
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


def _feed_format(root: etree._Element, source: str) -> str:
    namespace, local = _split_tag(root.tag if isinstance(root.tag, str) else "")
    if local.lower() == "rss":
        return "rss2"
    if local == "RDF":
        return "rdf"
    if local == "feed" and namespace in (_ATOM_10, _ATOM_03):
        return "atom"
    if local in ("urlset", "sitemapindex") and namespace in _SITEMAP_NAMESPACES:
        return "sitemap" if local == "urlset" else "sitemapindex"
    described = f"root element <{local}>" if local else "no root element"
    raise FeedError(f"{source}: not an RSS, RDF or Atom feed or a sitemap ({described})")


# --- feed and items -------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class _Context:
    """What every item of one feed needs: the base for relative links, the zone, inherited authors."""

    document_base: str | None
    zone: tzinfo | None
    feed_authors: tuple[str, ...]


def _build_feed(kind: str, fields: dict, item_elements: list, url: str | None, zone: tzinfo | None) -> Feed:
    """``fields`` are the children of the RSS/RDF <channel> or the Atom <feed>."""
    link = _link(fields, url)
    context = _Context(
        # XML Base resolves against the document's own URL; the site link is the fallback base
        # (also when ``url`` is a local path, as for a feed read from disk).
        document_base=next((base for base in (url, link) if base and _HAS_SCHEME.match(base)), url),
        zone=zone,
        # Atom entries without an author inherit the feed's (RFC 4287 section 4.2.1).
        feed_authors=_authors(fields, ()) if kind == "atom" else (),
    )
    return Feed(format=kind, title=_title(fields), link=link, items=_unique_items(item_elements, context))


def _unique_items(item_elements: list, context: _Context) -> tuple[FeedItem, ...]:
    return _without_repeats(_item(element, context) for element in item_elements)


def _without_repeats(items) -> tuple[FeedItem, ...]:
    """The items minus those that repeat an earlier one: same guid or link, same title and date."""
    kept: list[FeedItem] = []
    seen: set[tuple] = set()
    for item in items:
        content = (item.title, item.published_raw)
        keys = {("guid", item.guid, *content)} if item.guid else set()
        if item.link:
            keys.add(("link", item.link, *content))
        if keys & seen:
            continue
        seen |= keys
        kept.append(item)
    return tuple(kept)


def _item(element: etree._Element, context: _Context) -> FeedItem:
    fields = _fields(element)
    guid, permalink = _guid(fields, element)
    published_raw, published, updated = _dates(fields)
    published_at, updated_at = in_zone(published, context.zone), in_zone(updated, context.zone)
    link = _link(fields, context.document_base) or permalink
    return FeedItem(
        title=_title(fields),
        link=link,
        guid=guid,
        published_at=published_at,
        published_raw=published_raw,
        updated_at=updated_at,
        authors=_authors(fields, context.feed_authors),
        summary=_summary(fields),
        published_offset_known=offset_stated(published) if published else None,
    )


def _fields(element: etree._Element) -> dict[str, list[etree._Element]]:
    """Child elements by "prefix:local" (see _PREFIXES); no-namespace children by local name. A
    child in the same unlisted namespace as its parent reads as a no-namespace one: that is RSS whose
    publisher put it in a default namespace (<rss xmlns="...">), where every element shares it."""
    fields: dict[str, list[etree._Element]] = {}
    own_namespace = _split_tag(element.tag)[0] if isinstance(element.tag, str) else None
    for child in element:
        tag = child.tag
        if not isinstance(tag, str):  # processing instructions and entity references
            continue
        if tag[0] == "{":
            namespace, _, local = tag[1:].partition("}")
            prefix = _PREFIXES.get(namespace)
            if prefix is None and namespace == own_namespace:
                prefix = ""
            if prefix is None:
                continue
            tag = prefix + local
        fields.setdefault(tag, []).append(child)
    return fields


def _first(fields: dict, *keys: str) -> etree._Element | None:
    for key in keys:
        found = fields.get(key)
        if found:
            return found[0]
    return None


def _title(fields: dict) -> str | None:
    element = _first(fields, "title", "dc:title")
    if element is not None:
        return _html_to_text(_inner_text(element))
    element = _first(fields, "atom:title")
    return _atom_text(element) if element is not None else None


def _summary(fields: dict) -> str | None:
    for key in _SUMMARY_KEYS:
        for element in fields.get(key, ()):
            text = _atom_text(element) if key.startswith("atom:") else _html_to_text(_inner_text(element))
            if text:
                return text
    return None


def _link(fields: dict, document_base: str | None) -> str | None:
    for element in fields.get("link", ()):
        # A few RSS feeds write <link href="..."/> as if it were Atom.
        href = _inner_text(element).strip() or (element.get("href") or "").strip()
        if href:
            return _absolute(href, element, document_base)
    element = _alternate_link(fields.get("atom:link", ()))
    if element is None:
        return None
    href = (element.get("href") or _inner_text(element)).strip()
    return _absolute(href, element, document_base) if href else None


def _alternate_link(links: list[etree._Element]) -> etree._Element | None:
    """The entry's web page: rel="alternate" (the default), HTML type first, then untyped, then any."""
    best, best_rank = None, 3
    for element in links:
        rel = (element.get("rel") or "alternate").strip().lower()
        if rel != "alternate" or not ((element.get("href") or "").strip() or _inner_text(element).strip()):
            continue
        kind = (element.get("type") or "").strip().lower()
        rank = 0 if kind in _HTML_LINK_TYPES else 1 if not kind else 2
        if rank < best_rank:
            best, best_rank = element, rank
    return best


def _absolute(href: str, element: etree._Element, document_base: str | None) -> str:
    """``href`` resolved against the xml:base of the element and its ancestors, then the document base.
    Stays relative only when nothing gives a base."""
    if _HAS_SCHEME.match(href):
        return href
    bases = [element.get(_XML_BASE)] + [ancestor.get(_XML_BASE) for ancestor in element.iterancestors()]
    base = document_base
    for xml_base in reversed(bases):
        if xml_base:
            base = urljoin(base, xml_base.strip()) if base else xml_base.strip()
    return urljoin(base, href) if base else href


def _guid(fields: dict, element: etree._Element) -> tuple[str | None, str | None]:
    """(guid, permalink): the permalink is the guid when RSS says it is one and it is an http(s) URL."""
    guid_element = _first(fields, "guid")
    if guid_element is not None:
        guid = _inner_text(guid_element).strip() or None
        is_permalink = (guid_element.get("isPermaLink") or "true").strip().lower() != "false"
        return guid, guid if guid and is_permalink and _HTTP_URL.match(guid) else None
    id_element = _first(fields, "atom:id")
    if id_element is not None:
        return _inner_text(id_element).strip() or None, None
    about = (element.get(f"{{{_RDF}}}about") or "").strip()
    return about or None, None


def _dates(fields: dict) -> tuple[str | None, datetime | None, datetime | None]:
    """(published_raw, published, updated), FLOATING where the text states no offset; the updated
    date stands in when nothing says published."""
    published_raw = _first_string(fields, _PUBLISHED_KEYS)
    updated_raw = _first_string(fields, _UPDATED_KEYS)
    if published_raw is None:
        return updated_raw, _read_floating(updated_raw), None
    return published_raw, _read_floating(published_raw), _read_floating(updated_raw)


def _first_string(fields: dict, keys: tuple[str, ...]) -> str | None:
    for key in keys:
        for element in fields.get(key, ()):
            text = _inner_text(element).strip()
            if text:
                return text
    return None


def _read_date(raw: str | None, zone: tzinfo | None) -> datetime | None:
    """The date, placed in ``zone`` when it states no offset (FLOATING without a zone)."""
    return in_zone(_read_floating(raw), zone)


def _read_floating(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        return parse_date(raw, tz=FLOATING)
    except DateParseError:
        # One garbled date must not cost the whole feed; the raw text stays on the item for review.
        return None


def _authors(fields: dict, inherited: tuple[str, ...]) -> tuple[str, ...]:
    names = [_rss_author(element) for element in fields.get("author", ())]
    names += [_html_to_text(_inner_text(element)) for element in fields.get("dc:creator", ())]
    names += [_atom_person(element) for element in fields.get("atom:author", ())]
    found = tuple(dict.fromkeys(name for name in names if name))
    return found or inherited


def _rss_author(element: etree._Element) -> str | None:
    """RSS <author> is an e-mail address, conventionally 'jd@example.com (Jane Doe)': keep the name."""
    text = _html_to_text(_inner_text(element))
    match = _EMAIL_AND_NAME.fullmatch(text) if text else None
    return match.group(1).strip() if match else text


def _atom_person(element: etree._Element) -> str | None:
    name = _first(_fields(element), "atom:name")
    if name is not None:
        return _collapse(_inner_text(name))
    # Some feeds write <author>Jane Doe</author> without the <name> child.
    return _collapse(_inner_text(element)) if len(element) == 0 else None


# --- sitemaps ------------------------------------------------------------------------------------

def _sitemap(fields: dict, url: str | None, zone: tzinfo | None) -> Feed:
    items = []
    for location, entry in _sitemap_entries(fields, "url", url):
        news = _first(entry, "news:news")
        news_fields = _fields(news) if news is not None else {}
        raw = _first_string(news_fields, ("news:publication_date",)) or _first_string(entry, ("lastmod",))
        title = _first(news_fields, "news:title")
        published = _read_floating(raw)
        items.append(FeedItem(
            title=_html_to_text(_inner_text(title)) if title is not None else None,
            link=location,
            guid=None,
            published_at=in_zone(published, zone),
            published_raw=raw,
            updated_at=None,
            authors=(),
            summary=None,
            published_offset_known=offset_stated(published) if published else None,
        ))
    return Feed(format="sitemap", title=None, link=None, items=_without_repeats(items))


def _sitemap_index(fields: dict, url: str | None, zone: tzinfo | None) -> Feed:
    sitemaps = [SitemapRef(location, _read_date(_first_string(entry, ("lastmod",)), zone))
                for location, entry in _sitemap_entries(fields, "sitemap", url)]
    return Feed(format="sitemapindex", title=None, link=None, items=(), sitemaps=tuple(dict.fromkeys(sitemaps)))


def _sitemap_entries(fields: dict, tag: str, url: str | None):
    """(absolute <loc>, child fields) of each <url> or <sitemap> entry that has a location."""
    base = url if url and _HAS_SCHEME.match(url) else None
    for element in fields.get(tag, ()):
        entry = _fields(element)
        location = _first_string(entry, ("loc",))
        if location:
            yield _absolute(location, element, base), entry


# --- text -----------------------------------------------------------------------------------------

def _atom_text(element: etree._Element) -> str | None:
    """An Atom text construct as plain text: type text (Atom 0.3: text/plain), html or xhtml."""
    kind = (element.get("type") or "text").strip().lower()
    if kind in ("xhtml", "application/xhtml+xml"):
        return _collapse(_inner_text(element))
    if "html" in kind:
        return _html_to_text(_inner_text(element))
    return _collapse(_inner_text(element))


def _inner_text(element: etree._Element) -> str:
    """The text inside an element with its child elements' text; words in separate HTML blocks stay
    apart. Unexpanded entity references become their character when HTML names one, else nothing."""
    if len(element) == 0:
        return element.text or ""
    parts = [element.text or ""]
    for child in element:
        if child.tag is etree.Entity:
            codepoint = name2codepoint.get(child.name)
            parts.append(chr(codepoint) if codepoint else "")
        elif isinstance(child.tag, str):
            block = " " if _split_tag(child.tag)[1].lower() in _BLOCK_TAGS else ""
            parts += (block, _inner_text(child), block)
        parts.append(child.tail or "")
    return "".join(parts)


def _html_to_text(markup: str) -> str | None:
    """Plain text of an HTML fragment: RSS titles and descriptions are HTML, escaped or in CDATA."""
    if "<" not in markup and "&" not in markup:
        return _collapse(markup)
    markup = "".join(" " if is_code else piece for is_code, piece in _sections(
        markup, _SCRIPT_OR_STYLE_START, lambda opening: _SCRIPT_OR_STYLE_END[opening.group(1).lower()]))
    markup = "".join("" if is_comment else piece
                     for is_comment, piece in _sections(markup, _COMMENT_START, lambda _: _COMMENT_END))
    markup = _HTML_TAG.sub(_tag_separator, markup)
    return _collapse(html.unescape(markup))


def _tag_separator(match: re.Match[str]) -> str:
    name = match.group(1)
    return " " if name and name.lower() in _BLOCK_TAGS else ""


def _collapse(text: str) -> str | None:
    return " ".join(text.split()) or None


def _split_tag(tag: str) -> tuple[str | None, str]:
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return None, tag
