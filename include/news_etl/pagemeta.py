"""What a page says about itself in machine-readable form: JSON-LD, meta tags, microdata. Pure.

JSON-LD is read first: the first object typed NewsArticle or a relative (also inside @graph and
mainEntity). Then OpenGraph, Twitter, Dublin Core and article meta tags. Everything is read when
the page is loaded, before any block of it is removed (JSON-LD lives in <script> elements).
Authors that neither names come from the byline's markup: rel="author" links, hCard names
(`.author .fn`, as WordPress themes print them) and microdata (itemprop="author"), outside
comments and other stories.
"""

from __future__ import annotations

import html
import json
import re
from datetime import timezone
from itertools import islice
from typing import TYPE_CHECKING, Iterator

from lxml import etree

if TYPE_CHECKING:
    from news_etl.maintext import MainText

from news_etl.dates import find_dates
from news_etl.maintext import BLOCK_TAGS
from news_etl.urls import is_http_url

ARTICLE_TYPES = frozenset((
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report",
    "scholarlyarticle", "techarticle", "socialmediaposting", "posting", "discussionforumposting",
))
_BYLINE_PREFIX = re.compile(r"^\s*(?:by|written by|von|par|por|di|door|av|af)(?:\s*:\s*|\s+)", re.I)
# The meta tags that name a page's writer, in the order they are believed.
_META_AUTHOR_KEYS = ("author", "article:author", "dc.creator", "byl", "parsely-author", "sailthru.author")
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
# A role an author box sets after the name ("Emma Ryan" + "Senior Writer"): not part of the name.
# It ends in one of these nouns; the words before it may qualify it ("Senior Research Executive").
_ROLE_NOUNS = frozenset(("writer", "editor", "reporter", "correspondent", "columnist", "contributor", "journalist",
                         "author", "executive", "analyst", "researcher", "expert", "producer", "photographer"))
_ROLE_WORDS = _ROLE_NOUNS | frozenset(("staff", "senior", "chief", "managing", "associate", "contributing",
                                       "research", "freelance", "news", "sports", "features", "digital", "ai"))


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
        # Read now: a page whose head lands in its body (text before <html>, as a PHP warning
        # leaves) loses its <link>s when the main text removes what readers do not see.
        self.canonical_links = [link.get("href").strip() for link in doc.iter("link")
                                if "canonical" in (link.get("rel") or "").lower().split()
                                and (link.get("href") or "").strip()]
        # So is the <title>, which such a page has inside a <font> or <b> of its body.
        title = doc.find(".//title")
        self.document_title = (text_of(title) or None) if title is not None else None

    def first_meta(self, *keys: str) -> str | None:
        for key in keys:
            if self.meta.get(key):
                return self.meta[key]
        return None

    def article_value(self, key: str) -> str | None:
        return ld_text(self.article.get(key)) if self.article else None

    def title(self, main: MainText | None = None) -> str | None:
        """The headline as the page shows it. The stated titles (JSON-LD headline, og:title,
        twitter:title, <title>) often carry the site's name or an SEO rewording; an on-page heading
        (h1, else h2) that tells the same story as one of them wins, since it is what readers see.
        Else the page's one h1; else (given the page's main text) a line of the page that is the
        stated title without a site or section name before or after it ("Site: Headline"); else
        the headline just above the article's text where the stated title is not about the story
        (older pages state only the site's name); else the first stated title without its
        site-name part; else the first h1."""
        stated = [clean_title(t) for t in (self.article_value("headline"), self.first_meta("og:title"),
                                           self.first_meta("twitter:title"), self.document_title) if t]
        stated = [t for t in stated if t]
        # islice: only the first headings are read, so a page of many h2s is not all turned into text.
        headings = [clean_title(text_of(h)) for h in
                    islice((h for tag in ("h1", "h2") for h in self.doc.iter(tag)), _MAX_HEADINGS)]
        # Older templates mark the headline by class alone (<div class="storyheadline">).
        marked = _HEADLINE_CLASS(self.doc)
        headings += [clean_title(text_of(h)) for h in marked[:_MAX_HEADINGS]]
        headings = [h for h in headings if h and len(h) <= _MAX_TITLE_CHARS]
        site_names = self._site_names()
        story = set(_WORD.findall(main.body.casefold())) if main is not None else set()
        for heading in headings:
            if any(_same_headline(heading, without_site_name(t, site_names, story)) for t in stated):
                # A stated title that is the site's section ("Local Sports Wire") may be on the
                # page too: the headline above the text wins where the text does not tell of it.
                if main is not None and _story_share(heading, story) < _NOT_ABOUT_STORY:
                    above = _headline_above_text(main)
                    if above and _story_share(above, story) >= _story_share(heading, story) + _STORY_MARGIN:
                        return above
                return heading
        # The one h1 of the page, a full line that is not the site's name, is the headline the
        # readers see even where the stated title rewords it for search engines.
        h1s = [h for h in (clean_title(text_of(h)) for h in self.doc.iter("h1")) if h]
        if len(h1s) == 1 and len(_WORD.findall(h1s[0])) >= _MIN_HEADLINE_WORDS \
                and h1s[0].casefold() not in site_names and len(h1s[0]) <= _MAX_TITLE_CHARS:
            return h1s[0]
        if main is not None:
            part = _title_part_on_page(main, stated, site_names)
            if part:
                return part
            above = _headline_above_text(main)
            if above and (not stated or _story_share(above, story)
                          >= _story_share(without_site_name(stated[0], site_names), story) + _STORY_MARGIN):
                return above
        if stated:
            return without_site_name(stated[0], site_names, story)
        return next((h for h in headings if h), None)

    def _site_names(self) -> set[str]:
        """The outlet's names as the page states them (casefolded)."""
        names = {self.first_meta("og:site_name"), self.first_meta("application-name"),
                 self.first_meta("apple-mobile-web-app-title")}
        publisher = self.article.get("publisher") if self.article else None
        names.add(ld_text(publisher.get("name")) if isinstance(publisher, dict) else ld_text(publisher))
        return {" ".join(n.split()).casefold() for n in names if n}

    def authors(self, main: MainText | None = None) -> tuple[str, ...]:
        """JSON-LD authors, else the meta author tags, else (given the page's main text, to tell
        the article from comments and other stories) the names its byline markup holds. Each is
        read only where the ones before gave no person: a JSON-LD author that is the outlet
        ("Organization": the site's name) leaves the byline to say who wrote."""
        # A blogger's site bears their name: an author the page types as a Person is one.
        persons: set[str] = set()
        site_names = self._site_names()

        def people(names: list[str]) -> tuple[str, ...]:
            cleaned = (clean_author(n) for n in names)
            return tuple(dict.fromkeys(n for n in cleaned if n and (n.casefold() not in site_names
                                                                      or n.casefold() in persons)))

        names: list[str] = []
        if self.article:
            for person in as_list(self.article.get("author")):
                name = ld_text(person.get("name") if isinstance(person, dict) else person)
                if name:
                    names.append(name)
                    if isinstance(person, dict) and "person" in _types(person):
                        persons.add(name.casefold())
        found = people(names)
        # Each meta tag in turn: article:author is often a profile URL, or the outlet's name,
        # where a later tag names the writer.
        meta_authors = [self.meta.get(key) for key in _META_AUTHOR_KEYS]
        if (self.first_meta("twitter:label1") or "").lower().startswith(("written by", "author")):
            meta_authors.append(self.first_meta("twitter:data1"))
        for meta_author in meta_authors:
            if found:
                break
            if meta_author and not is_http_url(meta_author):
                found = people(split_authors(meta_author))
        if not found and main is not None:
            found = people(byline_authors(self.doc, main))
        if not found and main is not None:
            found = people(linked_authors(self.doc, main, site_names) or written_bylines(self.doc, main)
                           or classed_authors(self.doc, main))
        return found

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
        if self.canonical_links:
            return self.canonical_links[0]
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


# Author pages by their path: /author/ada-byrne, /contributor/li-wei/, /profile/..., /team/...
_AUTHOR_HREF = etree.XPath(
    "//body//a[re:test(@href, '/(author|authors|contributor|contributors|profile|profiles|people|writer|writers|"
    "staff|team|journalist|journalists|autor|autoren|auteur|redacteur|producers)/[^/?#]+/?([?#].*)?$', 'i')]",
    namespaces={"re": "http://exslt.org/regular-expressions"})
_EMAIL = re.compile(r"\s*[(<\[]?\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b[)>\]]?\s*")
_AGENCY_CODE = re.compile(r"[A-Z]{2,5}|[\d\W_]+")
_QUOTE_CHARS = "\"'“”‘’«»"


def linked_authors(doc, main: MainText, site_names: set[str] = frozenset()) -> list[str]:
    """Names of the first byline that links to author pages (the links sharing its parent, so
    "By <a>Ada Byrne</a> and <a>Li Wei</a>" gives both), outside comments and other stories; a
    link named for the site (its newsroom's profile page) is not that byline."""
    links = [a for a in _AUTHOR_HREF(doc) if not main.in_other_stories(a) and _looks_like_name(text_of(a))
             and text_of(a).casefold() not in site_names]
    if not links:
        return []
    parent = links[0].getparent()
    return [text_of(a) for a in links if a.getparent() is parent or a is links[0]]


_BYLINE_TEXT = re.compile(r"(?:(?:by|written by|text by|posted by|words by|von|par|por)\s*:?"
                          r"|(?:authors?|contributors?):)(?:\s+|$)(.*)", re.I | re.S)
_BYLINE_START = re.compile(r"\s*(?:(?:by|written|text|posted|words|von|par|por)\b|authors?:|contributors?:)", re.I)
# Headings too: an author box opens with "Written by Ada Byrne" set as a heading.
_BYLINE_TAGS = ("p", "span", "div", "li", "address", "em", "strong", "b", "h2", "h3", "h4", "h5", "h6")
_MAX_BYLINE_CHARS = 80
_INLINE_TAGS = frozenset(("a", "span", "strong", "b", "em", "i", "br"))


def written_bylines(doc, main: MainText) -> list[str]:
    """Names of the first line that reads "By Ada Byrne and Li Wei", or a "By" element followed by
    the name (<span>By</span><span>Ada Byrne</span>), outside comments and other stories."""
    body = doc.find("body")
    for el in body.iter(_BYLINE_TAGS) if body is not None else ():
        # The element's own leading text must open the byline: a cheap test before reading its text.
        if not el.text or not _BYLINE_START.match(el.text):
            continue
        text = text_of(el)
        match = _BYLINE_TEXT.fullmatch(text) if len(text) < _MAX_BYLINE_CHARS else None
        if match is None or main.in_other_stories(el):
            continue
        rest = match.group(1)
        if not rest:  # the names follow the label's element: the rest of its line, else the next element
            around, following = text_of(el.getparent()), el.getnext()
            if around.startswith(text) and len(around) < 2 * _MAX_BYLINE_CHARS \
                    and all(sibling.tag in _INLINE_TAGS for sibling in el.itersiblings()):
                rest = around[len(text):]
            else:
                rest = _first_line(following) if following is not None else ""
        names = [n for n in split_authors(rest) if _looks_like_name(n)]
        if names:
            return names
    return []


def _first_line(el) -> str:
    """The text of an element up to its second block: the name, not the role set below it
    (<div><div>Ada Byrne</div><div>Senior Writer</div></div>)."""
    while not (el.text or "").strip():
        child = next((c for c in el if isinstance(c.tag, str) and text_of(c)), None)
        if child is None or child.tag not in BLOCK_TAGS:
            break
        el = child
    return text_of(el)


# An element whose class or id names the author: "the-author", "author-name", "byline__name".
# contains() runs in C (an EXSLT regex per element cost a fifth of the parse); the capital is
# left out so "Author" and "author" both match.
_AUTHOR_CLASS = etree.XPath("//body//*[" + " or ".join(
    f"contains(@{attribute}, '{part}')" for attribute in ("class", "id") for part in ("uthor", "yline", "riter")) + "]")
# What such an element says before the name, or instead of one.
_AUTHOR_LABEL = re.compile(r"^\s*(?:(?:about the |the )?authors?|written by|posted by|by|von|par|por|"
                           r"autor(?:in)?|auteur|redakteur(?:in)?|text)\b\s*:?\s*", re.I)


def classed_authors(doc, main: MainText) -> list[str]:
    """Names in the first element whose class says author (<div class="the-author">Ada Byrne</div>,
    an avatar's alt text inside one), innermost first, outside comments and other stories; a
    label before the name ("Author", "Authors:", "by") is not part of it."""
    elements = _AUTHOR_CLASS(doc)
    inside = {a for el in elements for a in el.iterancestors()}
    for el in elements:
        if el in inside or main.in_other_stories(el):
            continue
        text = text_of(el)
        if not text:
            text = next((img.get("alt") or "" for img in el.iter("img") if (img.get("alt") or "").strip()), "")
        if not text or len(text) > _MAX_BYLINE_CHARS:
            continue
        names = [n for n in split_authors(_AUTHOR_LABEL.sub("", text)) if _looks_like_name(n)
                 and not _AUTHOR_LABEL.fullmatch(n)]
        if names:
            return names
    return []


def clean_author(name: str) -> str | None:
    """A person's name as a byline field holds it, without what is not the name: e-mail
    addresses, a role after a separator ("Ada Byrne | Senior Writer"), quotes. Agency codes and
    numeric ids ("AP", "12345") are not people: None."""
    name = _BYLINE_PREFIX.sub("", _EMAIL.sub(" ", name)).strip().strip(_QUOTE_CHARS).strip()
    name = _TITLE_SEPARATOR.split(name)[0].strip() if name else name
    if not name or _AGENCY_CODE.fullmatch(name) or len(name) > _MAX_NAME_CHARS:
        return None
    words = name.split()
    if len(words) > 2 and words[-1].casefold() in _ROLE_NOUNS:
        while len(words) > 2 and words[-1].casefold() in _ROLE_WORDS:
            words.pop()
    return " ".join(words)


def _looks_like_name(text: str) -> bool:
    """A person's name, not a label ("More from this author") or a date: a few words, no digits,
    each capitalized where the script has capitals, but for particles such as "van" and "de"."""
    words = text.split()
    if not 0 < len(words) <= _MAX_NAME_WORDS or len(text) > _MAX_NAME_CHARS:
        return False
    if any(c.isdigit() or c == "@" for c in text):
        return False
    return all(w[:1] == w[:1].upper() or w.lower() in _NAME_PARTICLES for w in words)


_MAX_HEADINGS = 12
# "headline", "Headline", "storyTitle": contains() is case-sensitive, so the capital is left out.
_HEADLINE_TAGS = ("div", "span", "p", "td", "font", "b", "strong", "h3")
# The tag test comes first in the predicate so that the attribute tests run on those tags only.
_HEADLINE_CLASS = etree.XPath(
    "//body//*[" + " or ".join(f"self::{tag}" for tag in _HEADLINE_TAGS) + "]"
    "[contains(@class, 'eadline') or contains(@id, 'eadline') or contains(@class, 'itle')]")
_MAX_TITLE_CHARS = 300
_MIN_HEADLINE_WORDS = 4  # fewer is a section label ("Sport", "Local news"), not a headline
# A separator between a title and the site's or section's name: " | ", " - ", " – ", " :: ", " » "...
_TITLE_SEPARATOR = re.compile(r"\s+(?:\||-{1,2}|–|—|·|•|»|::|>|/)\s+")
# " : " separates names only where it is not French typography ("Retraites : le Sénat adopte..."):
# twice or more in one part ("Site : Section : Headline"), or beside the site's stated name.
_SPACED_COLON = re.compile(r"\s+:\s+")
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
_WORD = re.compile(r"\w+")


def clean_title(text: str | None) -> str | None:
    """Whitespace collapsed; an entity left in text that was already decoded once ("&amp;ouml;"
    shows as "&ouml;", "&#038;" as "&#038;") was escaped twice and is decoded once more."""
    if not text:
        return None
    if "&" in text and _ENTITY.search(text):
        text = html.unescape(text)
    return " ".join(text.split()) or None


def without_site_name(title: str, site_names: set[str] = frozenset(), story: set[str] = frozenset()) -> str:
    """'Storm hits the coast | Gulf Ledger' -> 'Storm hits the coast': parts that are the site's
    stated name go; without a stated name the longest part is the headline, as sites put their
    name and section around it ('Site - Sport - Headline'), unless (given the article's words,
    `story`) a shorter part tells of the story and the longest does not ('Rocket down Eagles |
    Halifax, The Daily News: Sports')."""
    parts = [piece for part in _TITLE_SEPARATOR.split(title) if part.strip()
             for piece in _colon_parts(part, site_names)]
    if len(parts) < 2:
        return title
    kept = [p for p in parts if p.casefold() not in site_names]
    parts = kept or parts
    if len(parts) == 1:
        return parts[0]
    longest = max(parts, key=lambda p: len(_WORD.findall(p)))
    if story:
        told = max(parts, key=lambda p: _story_share(p, story))
        if len(_WORD.findall(told)) >= _MIN_PART_WORDS \
                and _story_share(told, story) >= _story_share(longest, story) + _STORY_MARGIN:
            return told
    return longest


def _colon_parts(part: str, site_names: set[str]) -> list[str]:
    pieces = [p for p in _SPACED_COLON.split(part) if p.strip()]
    if len(pieces) > 2 or (len(pieces) == 2 and any(p.casefold() in site_names for p in pieces)):
        return pieces
    return [part]


def _same_headline(heading: str, title: str) -> bool:
    """Whether a heading and a stated title tell the same story: most of the words of each are in
    the other (an SEO title adds or rewords a few)."""
    a, b = set(_WORD.findall(heading.casefold())), set(_WORD.findall(title.casefold()))
    if len(a) < 2 or not b:
        return heading.casefold() == title.casefold()
    shared = len(a & b)
    return shared >= 0.7 * len(a) and shared >= 0.6 * len(b)


# A line of the page that is a stated title's part: at least this many words, and at least as
# many as the rest (the site's or section's name is the shorter part).
_MIN_PART_WORDS = 3
_HEADING_OWNERS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))


def _title_part_on_page(main: MainText, stated: list[str], site_names: set[str]) -> str | None:
    """A line of the page that is a stated title without a name before or after it:
    "NDTV.com: Modi meets BJP leaders" over a line "Modi meets BJP leaders". The rest must be
    cut off by punctuation, or the line be a heading ("Adnkronos international Algeria: ...")."""
    titles = [t.casefold() for t in stated]
    for block in main.blocks:
        text = block.text
        if len(text) > _MAX_TITLE_CHARS or text.casefold() in site_names or main.in_boilerplate(block.owner):
            continue  # a logo's or a footer's line is the site's name
        folded = text.casefold()
        for folded_title in titles:
            if len(folded) >= len(folded_title):
                continue
            suffix = folded_title.endswith(folded)
            if not suffix and not folded_title.startswith(folded):
                continue
            rest = folded_title[:-len(folded)] if suffix else folded_title[len(folded):]
            if _WORD.match(rest[-1:] if suffix else rest[:1]) or len(_WORD.findall(text)) < max(
                    _MIN_PART_WORDS, len(_WORD.findall(rest))):
                continue  # a cut inside a word, or the longer part is the rest
            adjacent = rest.rstrip()[-1:] if suffix else rest.lstrip()[:1]
            separated = bool(adjacent) and not adjacent.isalnum()
            if separated or block.owner.tag in _HEADING_OWNERS:
                return text
    return None


# The headline above the article's text: this many lines up from its first paragraph at most.
_MAX_LINES_ABOVE = 8
_HEADLINE_WORDS = (3, 30)
_NOT_ABOUT_STORY = 0.5  # a line whose words the text holds less often than this is not its headline
_STORY_MARGIN = 0.3  # how much more of the line's words the text must hold than of the stated title's
_HEADLINE_MARKUP = ("h1", "h2", "h3", "h4", "h5", "h6", "b", "strong", "font")
_HEADLINE_NAMES = ("eadline", "itle", "head", "Head", "aption")


def _headline_above_text(main: MainText) -> str | None:
    """The nearest line above the article's first paragraph (or that paragraph itself, where the
    text starts with its heading) that is set as a headline: a heading, bold or <font> throughout,
    or in an element whose class or id says headline or title. None when no such line is near."""
    first = main.body.split("\n\n", 1)[0]
    if not first or main.container is None:
        return None
    index = next((i for i, b in enumerate(main.blocks) if b.text == first), None)
    if index is None:
        return None
    for block in reversed(main.blocks[max(0, index - _MAX_LINES_ABOVE):index + 1]):
        words = len(_WORD.findall(block.text))
        if not _HEADLINE_WORDS[0] <= words <= _HEADLINE_WORDS[1] or block.text[-1:] in ".,;" \
                or _BYLINE_START.match(block.text) or main.in_other_stories(block.owner) \
                or find_dates(block.text, tz=timezone.utc, limit=1):
            continue  # a dateline set in bold ("10:02 AM CST on Friday, December 28, 2007") is no headline
        if _set_as_headline(block):
            return clean_title(block.text)
    return None


def _set_as_headline(block) -> bool:
    owner = block.owner
    if owner.tag in _HEADING_OWNERS or _names_headline(owner):
        return True
    # The whole line inside one bold, <font> or headline-classed element.
    for el in owner.iterdescendants(_HEADLINE_MARKUP + ("span", "div", "a")):
        if (el.tag in _HEADLINE_MARKUP or _names_headline(el)) and text_of(el) == block.text:
            return True
    return False


def _names_headline(el) -> bool:
    names = f"{el.get('class') or ''} {el.get('id') or ''}"
    return any(n in names for n in _HEADLINE_NAMES)


def _story_share(line: str, story: set[str]) -> float:
    """The share of a line's words that the article's text (`story`, its lower-case words) holds:
    a headline's words come back in the story; a site's name and slogan ("Local news, weather and
    sports") mostly do not."""
    words = set(_WORD.findall(line.casefold()))
    if not words:
        return 0.0
    return len(words & story) / len(words)


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
