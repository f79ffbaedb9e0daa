"""What a page says about itself in machine-readable form: JSON-LD, meta tags, microdata. Pure.

JSON-LD is read first: the first object typed NewsArticle or a relative (also inside @graph and
mainEntity). Then OpenGraph, Twitter, Dublin Core and article meta tags. Everything is read when
the page is loaded, before any block of it is removed (JSON-LD lives in <script> elements).
Authors that neither names come from the byline's markup: rel="author" links, hCard names
(`.author .fn`, as WordPress themes print them) and microdata (itemprop="author"), outside
comments and other stories.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Iterator

from lxml import etree

if TYPE_CHECKING:
    from news_etl.maintext import MainText

from news_etl.urls import is_http_url

ARTICLE_TYPES = frozenset((
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report",
    "scholarlyarticle", "techarticle", "socialmediaposting", "posting", "discussionforumposting",
))
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|written by|von|par|por|di|door|av|af)\s+", re.I)
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|\band\b|&|\bund\b|\bet\b|\by\b|\be\b)\s*")


def _has_token(attribute: str, token: str) -> str:
    return f"contains(concat(' ', normalize-space(@{attribute}), ' '), ' {token} ')"


# Byline markup, in document order: rel="author" links, hCard names inside an author card, microdata.
_BYLINE_ELEMENTS = etree.XPath(
    f"//body//a[{_has_token('rel', 'author')}]"
    f" | //body//*[{_has_token('class', 'fn')}][ancestor-or-self::*[{_has_token('class', 'author')}]]"
    " | //body//*[@itemprop='author']"
)
_ITEMPROP_NAME = etree.XPath(".//*[@itemprop='name']")
# Lower-case words that belong inside names ("Ludwig van Beethoven", "Ana de la Cruz").
_NAME_PARTICLES = frozenset(("van", "von", "der", "den", "de", "del", "della", "la", "le", "da", "do", "dos", "du",
                             "di", "bin", "ibn", "al", "el", "ter", "ten", "y"))
_MAX_NAME_CHARS = 60
_MAX_NAME_WORDS = 6


def split_authors(text: str) -> list[str]:
    """'By Ada Byrne and Li Wei' -> ['Ada Byrne', 'Li Wei']."""
    # Whitespace collapsed first: _AUTHOR_SPLIT's leading \s* is tried at every space of a run
    # (quadratic in a byline of a million spaces).
    text = _BYLINE_PREFIX.sub("", " ".join(text.split()))
    return [n.strip() for n in _AUTHOR_SPLIT.split(text) if n.strip()]


def text_of(el) -> str:
    """Visible text of an element, whitespace collapsed."""
    return " ".join("".join(el.itertext()).split())


class PageMetadata:
    """The JSON-LD objects and meta tags of one page, read once."""

    def __init__(self, doc):
        self.doc = doc
        self.ld_objects = list(_ld_objects_of(doc))
        self.article = next((o for o in self.ld_objects if _types(o) & ARTICLE_TYPES), None)
        self.meta: dict[str, str] = {}
        for el in doc.iter("meta"):
            key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "")
            key = key.strip().lower()
            content = el.get("content")
            if key and content and content.strip() and key not in self.meta:
                self.meta[key] = " ".join(content.split())
        # Blog engines leave an RDF block with dc:date in an HTML comment (comments go with the chrome).
        self.rdf_comments = [c.text for c in doc.xpath("//comment()[contains(., 'dc:date')]") if c.text]

    def first_meta(self, *keys: str) -> str | None:
        for key in keys:
            if self.meta.get(key):
                return self.meta[key]
        return None

    def article_value(self, key: str) -> str | None:
        return ld_text(self.article.get(key)) if self.article else None

    def title(self) -> str | None:
        found = self.article_value("headline") or self.first_meta("og:title", "twitter:title")
        if found:
            return found
        for h1 in self.doc.iter("h1"):
            text = text_of(h1)
            if text:
                return text
        title = self.doc.find(".//title")
        return (text_of(title) or None) if title is not None else None

    def authors(self, main: MainText | None = None) -> tuple[str, ...]:
        """JSON-LD authors, else the meta author tags, else (given the page's main text, to tell
        the article from comments and other stories) the names its byline markup holds."""
        names: list[str] = []
        if self.article:
            for person in as_list(self.article.get("author")):
                name = ld_text(person.get("name") if isinstance(person, dict) else person)
                if name:
                    names.append(name)
        if not names:
            meta_author = self.first_meta("author", "article:author", "dc.creator", "byl")
            if meta_author and not is_http_url(meta_author):
                names = split_authors(meta_author)
        if not names and main is not None:
            names = byline_authors(self.doc, main)
        return tuple(dict.fromkeys(names))

    def section(self) -> str | None:
        return self.article_value("articleSection") or self.first_meta("article:section", "section")

    def language(self) -> str | None:
        """ISO 639-1 code: JSON-LD inLanguage, else <html lang>, else og:locale / content-language."""
        lang = self.article_value("inLanguage") or self.doc.get("lang") or \
            self.first_meta("og:locale", "content-language", "language", "dc.language")
        if not lang:
            return None
        code = lang.replace("_", "-").split("-")[0].strip().lower()
        return code if code.isalpha() and 2 <= len(code) <= 3 else None

    def locale(self) -> str:
        """The page's language tag as written ("en-US", "de"), lower case; "" when none."""
        lang = self.doc.get("lang") or self.first_meta("og:locale", "content-language") or ""
        return lang.lower().replace("_", "-")

    def canonical_url(self) -> str | None:
        for link in self.doc.iter("link"):
            if "canonical" in (link.get("rel") or "").lower().split() and (link.get("href") or "").strip():
                return link.get("href").strip()
        og = self.first_meta("og:url")
        if og:
            return og
        if self.article:
            for key in ("url", "mainEntityOfPage"):
                value = self.article.get(key)
                value = value.get("@id") if isinstance(value, dict) else value
                if isinstance(value, str) and is_http_url(value):
                    return value
        return None


def byline_authors(doc, main: MainText) -> list[str]:
    """Names in the page's byline markup, outside comments and other stories, in page order."""
    names = []
    for el in _BYLINE_ELEMENTS(doc):
        if main.in_other_stories(el):
            continue
        if el.get("itemprop") == "author":
            named = _ITEMPROP_NAME(el)
            found = [text_of(named[0])] if named else split_authors(el.get("content") or text_of(el))
        else:
            found = [_BYLINE_PREFIX.sub("", text_of(el))]
        names.extend(name for name in found if _looks_like_name(name))
    return names


def _looks_like_name(text: str) -> bool:
    """A person's name, not a label ("More from this author") or a date: a few words, no digits,
    each capitalized where the script has capitals, but for particles such as "van" and "de"."""
    words = text.split()
    if not 0 < len(words) <= _MAX_NAME_WORDS or len(text) > _MAX_NAME_CHARS:
        return False
    if any(c.isdigit() or c == "@" for c in text):
        return False
    return all(w[:1] == w[:1].upper() or w.lower() in _NAME_PARTICLES for w in words)


def as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def ld_text(value) -> str | None:
    """A JSON-LD value as text: the first of a list, the name or @value of an object."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if isinstance(value, str):
        value = " ".join(value.split())
        return value or None
    return None


def _types(obj: dict) -> set[str]:
    return {t.lower() for t in as_list(obj.get("@type")) if isinstance(t, str)}


def _ld_objects(node) -> Iterator[dict]:
    if isinstance(node, list):
        for item in node:
            yield from _ld_objects(item)
    elif isinstance(node, dict):
        yield node
        for key in ("@graph", "mainEntity"):
            if key in node:
                yield from _ld_objects(node[key])


def _ld_objects_of(doc) -> Iterator[dict]:
    for script in doc.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json" or not script.text:
            continue
        try:
            data = json.loads(script.text)
        except ValueError:
            continue  # one broken block must not hide the others
        yield from _ld_objects(data)


def is_element(node) -> bool:
    return isinstance(node, etree._Element) and isinstance(node.tag, str)
