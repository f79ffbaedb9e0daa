"""Main-text extraction: the body of an article page that nobody wrote rules for. Pure.

The page is read as a sequence of text blocks (paragraphs, headings, list items, table rows, text
lines between <br>s), each with its owner element, its length and how much of it is link text.
A block is "good" when it reads like prose: long enough, mostly not links, and outside every block
that announces itself as something else (navigation, related stories, share bars, comments,
footers: by tag, ARIA role, or class/id words). Every element then gets a score:

    good text inside it  -  noise inside it (links, short fragments, marked blocks)

and the element with the highest score is the article's container: its ancestors add more noise
than text, its descendants leave article text out. Its blocks, minus the marked ones, link lists
and interface words, are the body. One pass over the tree builds the blocks; scores are summed up
the ancestor chain of each block, so the cost grows with the page, not with its depth squared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

# Elements whose text is never article text; removed before reading.
NOT_CONTENT_TAGS = frozenset((
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed", "video",
    "audio", "map", "button", "select", "input", "textarea", "option", "label", "dialog", "head", "title",
    "meta", "link",
))
# Elements that start a new block of text; all others are inline.
BLOCK_TAGS = frozenset((
    "address", "article", "aside", "blockquote", "body", "center", "dd", "details", "dir", "div", "dl", "dt",
    "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
    "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
    "thead", "tfoot", "tr", "ul", "caption", "legend", "html",
))
CELL_TAGS = frozenset(("td", "th"))
_LINE_TAGS = CELL_TAGS | {"br"}  # inline elements that still change the line
# Elements that can hold an article's paragraphs (table cells: pages laid out with tables).
CONTAINER_TAGS = frozenset(("body", "div", "article", "main", "section", "td", "form", "center", "font", "span"))
HEADING_TAGS = frozenset(("h2", "h3", "h4", "h5", "h6"))
# Structural elements that are never the article (HTML5 sectioning and ARIA landmarks).
MARKED_TAGS = frozenset(("nav", "aside", "footer", "header", "figure", "figcaption", "menu"))
MARKED_ROLES = frozenset(("navigation", "complementary", "contentinfo", "banner", "search", "menu", "menubar",
                          "dialog", "alertdialog", "toolbar"))
# Words in a class or id (split at -, _ and camelCase humps) that name a block which is not the article.
MARKED_WORDS = frozenset((
    "nav", "navbar", "navigation", "menu", "breadcrumb", "breadcrumbs", "share", "sharing", "sharebar", "social",
    "related", "recommended", "recommendations", "recirc", "promo", "popular", "trending", "mostread",
    "comment", "comments", "disqus", "newsletter", "subscribe", "subscription", "signup", "advert", "advertisement",
    "ad", "ads", "adslot", "dfp", "sponsor", "sponsored", "outbrain", "taboola", "cookie", "cookies", "consent",
    "banner", "sidebar", "widget", "footer", "masthead", "header", "byline", "author", "bio", "tags", "tag",
    "caption", "credit", "credits", "meta", "toolbar", "tools", "pagination", "pager", "modal", "popup", "overlay",
    "hidden", "skip", "print", "rating", "breaking", "ticker", "lightbox", "gallery", "video", "featured",
    "teaser", "teasers", "latest", "cta",
))
# The subset that always holds other people's text, however much prose is in it.
FIRM_WORDS = frozenset((
    "related", "recommended", "recommendations", "recirc", "promo", "popular", "trending", "mostread",
    "comment", "comments", "disqus", "advert", "advertisement", "ad", "ads", "adslot", "dfp", "sponsor",
    "sponsored", "outbrain", "taboola", "cookie", "cookies", "consent", "sidebar", "footer", "teaser", "teasers",
    "newsletter", "subscribe", "subscription", "signup", "breaking", "ticker", "latest", "cta",
))
# The subset that holds other stories, whose titles and dates must never be taken for the article's.
OTHER_STORY_TAGS = frozenset(("nav", "aside", "footer", "menu"))
OTHER_STORY_WORDS = frozenset((
    "nav", "navbar", "navigation", "menu", "related", "recommended", "recommendations", "recirc", "promo",
    "popular", "trending", "mostread", "comment", "comments", "disqus", "sidebar", "featured", "teaser",
    "teasers", "latest", "outbrain", "taboola", "sponsored", "footer", "newsletter", "breaking", "ticker",
))
# Nouns that make a compound with a marked word in one class word: "relatedposts" (Jetpack's related
# posts), "sharebuttons", "commentlist", "adbox". The compound names what its first part names.
COMPOUND_TAILS = ("posts", "post", "stories", "story", "articles", "article", "links", "link", "list", "box",
                  "bar", "buttons", "button", "icons", "area", "block", "wrap", "wrapper", "container", "widget",
                  "module", "items", "item")
# First words of class tokens that describe the page's layout, not the block ("has-sidebar", "no-ads").
LAYOUT_FLAGS = frozenset(("has", "with", "no", "is", "show", "hide", "enable", "enabled", "disable", "disabled"))
# Class tokens made only of these name the article itself ("content", "article-body", "post-text").
CONTENT_WORDS = frozenset(("article", "content", "entry", "post", "story", "body", "text", "main", "blog", "hentry"))
_WORD_SPLIT = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z0-9])(?=[A-Z])")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.I)
_MARKED_OR_OTHER = MARKED_WORDS | OTHER_STORY_WORDS
# Lines that are interface, not text, whatever block they are in.
_INTERFACE_LINE = re.compile(
    r"^[-–—(\[\s]*(?:advertisement|advertisements?|ad|sponsored|caption|close|"
    r"share|share this(?: article| story| post| page)?|"
    r"tweet|email|print|comments?|read more|continue reading|more|next|previous|skip to content|"
    r"scroll to continue|story continues below|image|photo|video|loading\.*|click here|subscribe|"
    r"log ?out|log ?in|sign ?out|sign ?in|register|my account|back to top|"
    r"\d+ comments?|"
    # The same buttons and labels in the other languages most news is in (de, fr, es, it, pt, nl).
    r"anzeige|werbung|drucken|(?:artikel|seite|rezept) drucken|teilen|kommentare?|kommentieren|"
    r"kommentare? schreiben|weiterlesen|mehr lesen|mehr|weiter|zurück|zurück zur (?:startseite|übersicht|"
    r"vorherigen seite)|nach oben|kontakt|mehr zum thema|weitere informationen|"
    r"publicité|imprimer|partager|commentaires?|commenter|lire la suite|suivant|précédent|retour en haut|"
    r"publicidad|imprimir|compartir|comentarios?|comentar|leer más|seguir leyendo|siguiente|"
    r"pubblicità|stampa|condividi|commenti|leggi tutto|continua a leggere|successivo|precedente|"
    r"publicidade|compartilhar|partilhar|comentários|leia mais|continue lendo|próximo|"
    r"advertentie|afdrukken|delen|reacties|lees meer|lees verder|volgende|vorige)[-–—)\]\s.:…!]*$",
    re.I,
)
# What the site says about itself, on every page: copyright lines, cookie banners, privacy notices.
# Read only in short blocks: an article about cookies or privacy has long paragraphs.
_SITE_NOTICE = re.compile(
    r"^\s*(?:©|\(c\)\s|copyright\b)|all rights reserved|"
    r"\b(?:we|this (?:web)?site|our (?:web)?site|the site) uses? cookies\b|\baccept (?:all |\w+ )?cookies\b|"
    r"\bcookie (?:policy|settings|preferences|consent)\b|"
    r"\b(?:read|see|view|review|accept|agree to) (?:our|the) (?:privacy (?:policy|notice|statement)|terms)\b|"
    r"\b(?:our|(?:the|this) (?:web ?)?site'?s?) (?:privacy (?:policy|notice|statement)|accessibility statement)\b|"
    r"\b(?:may )?contains? affiliate links\b|"
    r"\bby (?:clicking|continuing to (?:use|browse)|using this (?:web)?site)\b|"
    r"\b(?:enable|activate|turn on) javascript\b|\bjavascript (?:is )?(?:disabled|required|must be enabled)\b|"
    # The same notices in the other languages most news is in (de, fr, es, it, pt, nl).
    r"alle rechte vorbehalten|tous droits réservés|todos los derechos reservados|tutti i diritti riservati|"
    r"todos os direitos reservados|alle rechten voorbehouden|"
    r"\b(?:wir verwenden|wir nutzen|verwendet|verwendung von|nous utilisons|utilise|utilisons|utilizamos|utiliza|"
    r"usamos|utilizziamo|utilizza|wij gebruiken|gebruikt|gebruik van) (?:des |i |los |os )?cookies?\b|"
    r"\bjavascript (?:aktivieren|einschalten)\b|\baktivieren sie (?:bitte )?javascript\b|"
    r"\b(?:activez|activer|activa|activar|habilite|habilita|habilitar|abilita|abilitare|ative|ativar|schakel) "
    r"(?:le |el |il |o )?javascript\b",
    re.I,
)
_MAX_NOTICE_CHARS = 300
# A word each of _SITE_NOTICE's notices holds (in lower case); a pattern added there needs its word here.
_NOTICE_WORDS = ("©", "(c)", "copyright", "rights", "cookie", "privacy", "terms", "accessibility", "affiliate",
                 "clicking", "continuing", "using this", "javascript", "rechte", "droits", "derechos", "diritti",
                 "direitos")
# A line that points to another story: a read-also label, a colon and that story's headline
# ("READ MORE: ...", "Lea también: ...", "LE PUEDE INTERESAR: ...", "Lesen Sie auch: ..."), in the
# languages of _INTERFACE_LINE. Only as a whole line of a headline's length: prose does not start so.
_TEASER_LINE = re.compile(
    r"^[-–—(\[\s]*(?:read (?:more|also|next)|also read|related(?: stories| articles?)?|see also|more on this|"
    r"lea (?:también|más)|lee (?:también|más)|lea|le puede interesar|te puede interesar|puedes ver|mire|"
    r"ver también|relacionad[oa]s?|lesen sie auch|auch interessant|mehr zum thema|zum weiterlesen|siehe auch|"
    r"lire aussi|à lire aussi|voir aussi|lire également|leggi anche|vedi anche|guarda anche|leia também|"
    r"leia mais|veja também|saiba mais|lees ook|zie ook)\s*[:：»›>|]\s*\S.{0,180}$",
    re.I,
)

# Class words that name an article's standfirst, the paragraph between its headline and its text.
LEAD_WORDS = frozenset(("lead", "lede", "intro", "introduction", "excerpt", "teaser", "standfirst", "deck", "dek",
                        "subtitle", "subheadline", "subhead", "subline", "subheading", "strapline", "sapo", "chapo",
                        "chapeau", "vorspann", "entradilla", "bajada", "sumario", "perex"))
# Where the standfirst is not: a box of other people's text ("teaser" names a lead there too).
_NOT_LEAD_WORDS = FIRM_WORDS - {"teaser", "teasers"}
_BYLINE_LINE = re.compile(r"\s*by\s", re.I)

# A line that heads other stories, in the languages of _INTERFACE_LINE: the article is over.
_OTHER_STORIES_HEADING = re.compile(
    r"^[-–—\s]*(?:(?:the )?(?:most )?recent (?:posts|articles|stories|entries|news)|"
    r"latest (?:posts|news|stories|articles|headlines)|top (?:headlines|stories|news)|"
    r"more (?:stories|news|headlines|articles|posts)(?: from [\w .&'-]{1,40})?|more from [\w .&'-]{1,40}|"
    r"related (?:posts|articles|stories|content|coverage|links|news|reading)|"
    r"you (?:may|might) also (?:like|enjoy|be interested in)|we also recommend|"
    r"recommended(?: for you| reading| stories| articles)?|"
    r"most (?:popular|read|viewed|shared|commented)(?: stories| articles| posts)?|"
    r"popular (?:posts|stories|articles|now)|"
    r"trending(?: now| stories| articles)?|further reading|what to read next|read next|up next|editor'?s'? picks|"
    r"don'?t miss|around the web|from the web|"
    r"weitere (?:artikel|nachrichten|beiträge|meldungen)|das könnte sie auch interessieren|"
    r"meistgelesen(?:e artikel)?|"
    r"(?:beliebte|ähnliche|neueste|verwandte) (?:artikel|beiträge)|mehr aus dem ressort|top-themen|"
    r"à lire aussi|sur le même sujet|articles similaires|les plus lus|derniers articles|vous aimerez aussi|"
    r"(?:noticias|artículos) relacionad[oa]s|lo más leído|últimas noticias|más noticias|"
    r"articoli correlati|potrebbe interessarti|i più letti|ultime notizie|notícias relacionadas|mais lidas|"
    r"gerelateerde artikelen|meest gelezen|laatste nieuws)\s*[:.…]?\s*$",
    re.I,
)
# A line that opens readers' comments (longer than the article, often: only a few paragraphs
# of the article need come before it).
_COMMENTS_HEADING = re.compile(
    r"^[-–—\s]*(?:\d+ (?:comments?|responses?|replies|reactions|users? responded\b.*|thoughts on\b.*|"
    r"responses? to\b.*)|(?:reader )?comments|responses|(?:leave|post|add|write) a (?:comment|reply|response)|"
    r"join the (?:discussion|conversation)|"
    r"\d+ (?:kommentare?|commentaires?|comentarios?|commenti|comentários|reacties)|"
    r"kommentare|commentaires|comentarios|commenti|comentários|reacties)\s*[:.…]?\s*$",
    re.I,
)
_MAX_HEADING_CHARS = 80
COMMENTS_AFTER_CHARS = 400  # two long paragraphs of the article before its comments

MIN_GOOD_CHARS = 40        # a block shorter than this is a label, a date, a caption: not prose
STANDFIRST_CHARS = 80      # a standfirst is a sentence or two; a shorter line is a kicker or a label
MAX_GOOD_LINK_SHARE = 0.3  # a block with more link text than this reads as navigation
MAX_KEPT_LINK_SHARE = 0.6  # in the container, blocks with more link text are dropped
LONG_PARAGRAPH_CHARS = 200  # a paragraph this long is written prose, not a teaser or a label
ARTICLE_PARAGRAPHS = 2      # an element marked by name alone that holds this many of them is the article
WRAPPER_SHARE = 0.5        # a marked element holding this much of the page's prose is a wrapper


@dataclass
class Block:
    """One line of text as a reader sees it, and the element it belongs to."""

    owner: etree._Element
    pieces: list[str] = field(default_factory=list)
    link_chars: int = 0
    heading: bool = False
    text: str = ""

    def close(self) -> None:
        self.text = " ".join("".join(self.pieces).split())


def body_of(container) -> str:
    """The text of a container a source's rules named: its blocks without the marked ones."""
    remove_not_content(container)
    blocks = [b for b in read_blocks(container) if b.text]
    marked = marked_elements(container, blocks)
    kept = [b.text for b in blocks if not _inside(b.owner, marked, container)
            and not _INTERFACE_LINE.match(b.text)]
    return "\n\n".join(kept)


@dataclass(frozen=True)
class MainText:
    """The article body of a page, the element that holds it, every block of the page, and the
    elements that are not the article (`marked`) or hold other stories (`other_stories`)."""

    body: str
    container: etree._Element | None
    blocks: tuple[Block, ...]
    marked: frozenset
    other_stories: frozenset
    root: etree._Element | None
    # Characters of the page's prose outside the marked elements, wherever it sits.
    page_prose: int = 0
    # Characters of prose between the headline and the body: in the smallest element that holds
    # the page's h1 and the container, outside firmly marked elements (0 where that is the page).
    story_prose: int = 0

    def in_boilerplate(self, el) -> bool:
        """Whether `el` sits in navigation, related stories, comments, footers, bylines..."""
        return _inside(el, self.marked, self.root)

    def in_other_stories(self, el) -> bool:
        """Whether `el` sits in a block about other stories: related, featured, comments, menus."""
        return _inside(el, self.other_stories, self.root)


def main_text(page) -> MainText:
    """The article body of a page (its <body> element) without rules; "" when nothing reads as text."""
    if page is None:
        return MainText("", None, (), frozenset(), frozenset(), None)
    remove_not_content(page)
    blocks = tuple(b for b in read_blocks(page) if b.text)
    marked = frozenset(marked_elements(page, blocks))
    # Whatever holds the headline is about this story, whatever its class says.
    headline = next(page.iter("h1"), None)
    around_headline = set(headline.iterancestors()) if headline is not None else set()
    other_stories = frozenset(el for el in marked if _holds_other_stories(el) and el not in around_headline)
    if not blocks:
        return MainText("", None, blocks, marked, other_stories, page)
    in_marked = _within_any(marked)
    container = best_container(page, blocks, marked, in_marked)
    inside = set(container.iter())
    candidates = [b for b in blocks if b.owner in inside and not _inside(b.owner, marked, container, quotes_count=True)
                  and b.owner.tag != "h1"]  # the headline is the title
    # The article ends where other stories or comments begin; their headings may be interface
    # lines ("Comments", "12 Comments"), so the end is found before those are dropped. What
    # follows it is known not to be the article: no prose the body may be short of.
    kept = _body_blocks(candidates, container)
    after = {id(b) for b in candidates[_end_of_article(candidates, kept):]}
    kept = [b for b in kept if id(b) not in after]
    page_prose = sum(len(b.text) for b in blocks if b.owner not in in_marked and _reads_as_prose(b)
                     and id(b) not in after)
    story = _story_element(page, headline, container)
    kept = _standfirst(blocks, kept, headline, story) + kept
    return MainText("\n\n".join(b.text for b in kept), container, blocks, marked, other_stories, page,
                    page_prose, _story_prose(story, blocks, marked, after))


def _story_element(page, headline, container):
    """The smallest element that holds the page's headline (its first h1) and the body's
    container; None without a headline, or where that is the whole page."""
    if headline is None:
        return None
    story = container if is_descendant(headline, container) else \
        next((el for el in container.iterancestors() if is_descendant(headline, el)), None)
    return None if story is page else story


def _story_prose(story, blocks, marked, after: set) -> int:
    """The prose of the story element, but for what is firmly marked (comments, related stories,
    ads) and what follows the article's end (`after`, ids of blocks): where a page builder sets
    the article in many boxes its theme names "widget", the body is one box and this is all of them."""
    if story is None:
        return 0
    firm = {el for el in marked if _marks(el.tag, el.get("role"), el.get("class"), el.get("id")) is MARKED_FIRMLY}
    inside = set(story.iter())
    return sum(len(b.text) for b in blocks if b.owner in inside and id(b) not in after and _reads_as_prose(b)
               and not _inside(b.owner, firm, story))


def _standfirst(blocks, kept, headline, story) -> list[Block]:
    """The standfirst: paragraphs between the headline and the body that the site names its lead
    (class or id "lead", "intro", "teaser", "standfirst", "deck", "chapo", "vorspann"...), set in
    the article's header, a box themes mark as not the article. Never a caption, a byline, a
    box of other text (related stories, ads) or interface lines."""
    if story is None or not kept:
        return []
    start = next((i for i, b in enumerate(blocks) if is_descendant(b.owner, headline)), None)
    end = next((i for i, b in enumerate(blocks) if b is kept[0]), None)
    if start is None or end is None:
        return []
    body = {b.text for b in kept}
    return [b for b in blocks[start + 1:end] if len(b.text) >= STANDFIRST_CHARS and _reads_as_prose(b)
            and b.text not in body and not _is_page_furniture(b.text) and not _BYLINE_LINE.match(b.text)
            and _named_lead(b.owner, story)]


def _named_lead(el, story) -> bool:
    """Whether an element, or one around it below `story`, is named a lead, and none of them is a
    caption, an aside or a box of other people's text."""
    named = False
    while el is not None and el is not story:
        if (el.tag in MARKED_TAGS and el.tag != "header") or (el.get("role") or "").lower() in MARKED_ROLES \
                or _names_a_block(el.get("class"), el.get("id"), _NOT_LEAD_WORDS):
            return False
        named = named or not LEAD_WORDS.isdisjoint(
            w for token in f"{el.get('class') or ''} {el.get('id') or ''}".split() for w in _token_words(token))
        el = el.getparent()
    return named


# --- a second opinion where the container choice is unsure ---------------------------------------

_WORDS = re.compile(r"\w+")
UNSURE_BODY_WORDS = 50     # a body this short may be a teaser, a notice or the wrong box
UNSURE_PROSE_SHARE = 0.5   # a body shorter than this share of the page's unmarked prose left text out
HEADER_LINE_WORDS = 15     # a header's lines (section, byline, date line) are shorter; prose is longer
NEAR_LINES = 2             # how far from our text a second opinion's prose is more of the article
SECOND_OPINION_GAIN = 2    # trafilatura decides when it reads this many times our text, and is not
                           # short itself: a short article stays ours, not ours plus a teaser beside it


def is_unsure(main: MainText) -> bool:
    """Whether the body may be the wrong box: very short, or much shorter than the prose the page
    shows outside its marked blocks, or than the prose between its headline and it (the article
    split over boxes the scores did not join)."""
    return len(main.body.split()) < UNSURE_BODY_WORDS \
        or len(main.body) < UNSURE_PROSE_SHARE * max(main.page_prose, main.story_prose)


def second_opinion(page_text: str, url: str | None, main: MainText, headline: str | None = None) -> str:
    """The body, with trafilatura's reading of the page where ours is unsure and trafilatura finds
    much more text (measured on real pages: see BENCHMARKS.md, "Extraction on real pages"). Its lines
    go through the same filters as ours: never a notice, a cookie banner or "Log Out". trafilatura
    runs on these pages only, in its fast mode (without its own fallbacks: as good here, 40% cheaper)."""
    if not is_unsure(main):
        return main.body
    import trafilatura  # imported here: most pages never need it
    try:
        found = trafilatura.extract(page_text, url=url, include_comments=False, fast=True) or ""
    except Exception:  # (any: it is another project's code) a second opinion that fails leaves ours
        return main.body
    lines = [line for line in (" ".join(raw.split()) for raw in found.splitlines())
             if line and not _is_page_furniture(line)]
    theirs = "\n\n".join(lines)
    sure = len(theirs.split()) >= UNSURE_BODY_WORDS and len(theirs) >= SECOND_OPINION_GAIN * len(main.body)
    return theirs if sure and not _reads_the_header(theirs, headline, main.body) else main.body


def _reads_the_header(text: str, headline: str | None, ours: str) -> bool:
    """Whether a second opinion's text is our body with the article's header around it (the
    section, headline, byline, date line and share buttons around a brief): then a short article
    stays as short as it is. Where its text holds the headline and not ours, it read the box
    under the headline and ours is another one (a site's "about" blurb, a footer, a comment form);
    where it holds prose besides ours, ours is the article's first lines only."""
    words = _WORDS.findall((headline or "").casefold())
    theirs = " ".join(_WORDS.findall(text.casefold()))
    blocks = [" ".join(_WORDS.findall(block.casefold())) for block in ours.split("\n\n")]
    if len(words) < 3 or " ".join(words) not in theirs or not _shares_most(theirs, blocks):
        return False
    known = [f" {block} " for block in [*blocks, " ".join(words)] if block]
    lines = [f" {' '.join(_WORDS.findall(line.casefold()))} " for line in text.split("\n\n")]
    # Our lines and the headline where trafilatura has them (a line of its text may hold several).
    ours_at = [i for i, line in enumerate(lines) if any(block in line for block in known)]
    if not ours_at:
        return True
    # Prose among them, or right before or after them, is more of the article; a sidebar's blurb
    # further off is not. (Where trafilatura gives the page as one line, the words around ours in it
    # cannot be told from a header, a share bar and related teasers: it is refused.)
    near = range(max(0, ours_at[0] - NEAR_LINES), min(len(lines), ours_at[-1] + 1 + NEAR_LINES))
    return all(len(lines[i].split()) < HEADER_LINE_WORDS for i in near if i not in ours_at)


def _shares_most(theirs: str, blocks: list[str]) -> bool:
    """Whether most of our body's text (by characters of its blocks) is in `theirs`; both already
    reduced to their lower-case words."""
    total = sum(len(b) for b in blocks)
    return total > 0 and sum(len(b) for b in blocks if b and b in theirs) >= total / 2


# --- reading the page into blocks -------------------------------------------------------------------

def remove_not_content(root) -> None:
    """Scripts, styles, forms' controls, hidden elements and comments: never text a reader sees.
    (Their tails stay where they were, as with drop_tree.)"""
    etree.strip_elements(root, etree.Comment, etree.PI, *NOT_CONTENT_TAGS, with_tail=False)  # in C
    for el in root.xpath(".//*[@hidden or @aria-hidden or @style]"):
        if el.get("hidden") is not None or el.get("aria-hidden") == "true" \
                or _HIDDEN_STYLE.search(el.get("style") or ""):
            drop_tree(el)


def drop_tree(el) -> None:
    """Remove an element and its content; the text after it (its tail) stays where it was."""
    parent = el.getparent()
    if parent is None:
        return
    if el.tail:
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + el.tail
        else:
            parent.text = (parent.text or "") + el.tail
    parent.remove(el)


def read_blocks(root) -> list[Block]:
    """The text of `root` as blocks in reading order. Block-level tags and <br> end a block; inline
    tags continue it, so "W<b>ord</b>" stays one word. Table cells without blocks inside are one
    row: their texts are joined with spaces. (Hot code: one call per element, names bound locally,
    each tag read once.)"""
    blocks: list[Block] = []
    block_tags, line_tags, cell_tags, heading_tags = BLOCK_TAGS, _LINE_TAGS, CELL_TAGS, HEADING_TAGS
    open_block: Block | None = None  # the open block (None until text comes)
    owner = root  # the element that owns the open line

    def add(text: str, in_link: bool) -> None:
        nonlocal open_block
        block = open_block
        if block is None:
            if text.isspace():
                return  # whitespace between blocks starts no line
            block = open_block = Block(owner, [], 0, owner.tag in heading_tags)
            blocks.append(block)
        block.pieces.append(text)
        if in_link:
            block.link_chars += len(text.strip())

    def walk(el, tag, in_link: bool) -> None:
        nonlocal open_block, owner
        is_block = tag in block_tags
        if is_block:
            open_block, owner = None, el
        elif tag == "br":
            open_block = None
        elif tag in cell_tags and open_block is not None:
            open_block.pieces.append(" ")
        link = in_link or tag == "a"
        text = el.text
        if text:
            add(text, link)
        for child in el:
            child_tag = child.tag
            if len(child) or child_tag in block_tags or child_tag in line_tags:
                walk(child, child_tag, link)
            else:  # a leaf inline element ("<b>word</b>"): its text joins the line
                text = child.text
                if text:
                    add(text, link or child_tag == "a")
            tail = child.tail
            if tail:
                add(tail, link)
        if is_block:
            # The text after a block belongs to a new line of the parent.
            parent = el.getparent()
            open_block, owner = None, (parent if parent is not None else el)
        elif tag in cell_tags and open_block is not None:
            open_block.pieces.append(" ")

    walk(root, root.tag, False)
    for block in blocks:
        block.close()
    return [b for b in blocks if b.text]


# --- which blocks are not the article --------------------------------------------------------------

def _looks_marked(el) -> bool:
    return _marks(el.tag, el.get("role"), el.get("class"), el.get("id")) is not NOT_MARKED


NOT_MARKED, MARKED_BY_NAME, MARKED_FIRMLY = "not marked", "marked by a class or id", "marked firmly"


@lru_cache(maxsize=8192)
def _marks(tag: str, role: str | None, class_attr: str | None, id_attr: str | None) -> str:
    """Whether an element announces itself as not the article: firmly by its tag, its role or a
    class word that names other people's text (comments, related stories, ads); by name alone when
    only a word that themes also put on the article's own boxes says so ("widget", "nav", "meta")."""
    if tag in MARKED_TAGS or (role or "").lower() in MARKED_ROLES:
        return MARKED_FIRMLY
    if not _names_a_block(class_attr, id_attr, MARKED_WORDS):
        return NOT_MARKED
    return MARKED_FIRMLY if _names_a_block(class_attr, id_attr, FIRM_WORDS) else MARKED_BY_NAME


def _names_a_block(class_attr: str | None, id_attr: str | None, words: frozenset) -> bool:
    """Whether a class/id names one of `words`' blocks: some token does ("related-posts",
    "shareBar"), and none names the content itself ("content", "article-body"). Tokens that are
    layout flags about something else ("has-sidebar", "theiaStickySidebar") say nothing."""
    named = False
    for token in f"{class_attr or ''} {id_attr or ''}".split():
        parts = _token_words(token)
        if not words.isdisjoint(parts):
            named = True
        elif parts and parts <= CONTENT_WORDS:
            return False
    return named


@lru_cache(maxsize=8192)
def _token_words(token: str) -> frozenset:
    """The lower-case words of one class or id token, with the marked word a compound starts
    with ("jp-relatedposts": jp, relatedposts, related); none for a layout flag."""
    parts = [w.lower() for w in _WORD_SPLIT.split(token) if w]
    if not parts or parts[0] in LAYOUT_FLAGS or "sticky" in parts:
        return frozenset()
    return frozenset(parts + [head for part in parts if (head := _compound_head(part))])


def _compound_head(word: str) -> str | None:
    """"relatedposts" -> "related": the marked word before a layout noun, when that is all the word is."""
    match = _COMPOUND.fullmatch(word)
    return match.group(1) if match else None


# (Longest heads first, so "comments" + "box" wins over "comment" + "sbox", which is no tail anyway.)
_COMPOUND = re.compile("(%s)(?:%s)" % ("|".join(sorted(_MARKED_OR_OTHER, key=len, reverse=True)),
                                       "|".join(sorted(COMPOUND_TAILS, key=len, reverse=True))))


def _holds_other_stories(el) -> bool:
    if el.tag == "footer":
        # An <article>'s own footer holds its byline and date; the page's footer holds links.
        return not any(a.tag == "article" for a in el.iterancestors())
    return _names_other_stories(el.tag, el.get("role"), el.get("class"), el.get("id"))


@lru_cache(maxsize=8192)
def _names_other_stories(tag: str, role: str | None, class_attr: str | None, id_attr: str | None) -> bool:
    if tag in OTHER_STORY_TAGS or (role or "").lower() in ("navigation", "complementary"):
        return True
    return _names_a_block(class_attr, id_attr, OTHER_STORY_WORDS)


def marked_elements(root, blocks: list[Block]) -> set:
    """Elements whose blocks are not article text. One that holds most of the page's prose is a
    page wrapper with an unlucky class ("has-sidebar", "theiaStickySidebar") and is not marked; nor
    is one marked by name alone that holds several long paragraphs (the article split in a theme's
    "widget" boxes: page builders name every box so). Only elements with text can matter: the
    blocks' owners and their ancestors below `root`."""
    prose: dict = {}
    paragraphs: dict = {}
    has_text: set = set()
    for block in blocks:
        length = len(block.text) if _reads_as_prose(block) else 0
        long = length >= LONG_PARAGRAPH_CHARS
        el = block.owner
        while el is not None:
            if length:
                prose[el] = prose.get(el, 0) + length
                if long:
                    paragraphs[el] = paragraphs.get(el, 0) + 1
            elif el in has_text:
                break  # (nothing to add, and its ancestors are in already)
            has_text.add(el)
            if el is root:
                break
            el = el.getparent()
    limit = WRAPPER_SHARE * prose.get(root, 0)
    marked = set()
    for el in has_text:
        if el is root or prose.get(el, 0) >= limit:
            continue
        how = _marks(el.tag, el.get("role"), el.get("class"), el.get("id"))
        if how is MARKED_FIRMLY or (how is MARKED_BY_NAME and paragraphs.get(el, 0) < ARTICLE_PARAGRAPHS):
            marked.add(el)
    return marked


def _reads_as_prose(block: Block) -> bool:
    return len(block.text) >= MIN_GOOD_CHARS and block.link_chars <= MAX_GOOD_LINK_SHARE * len(block.text)


def _inside(el, marked: set, stop, quotes_count: bool = False) -> bool:
    """Whether `el` is in a marked element below `stop`. With `quotes_count`, a quotation in the
    article (an embedded tweet in a "social-embed" box) is text even inside a marked block."""
    while el is not None:
        if el in marked:
            return True
        if quotes_count and el.tag == "blockquote":
            return False
        if el is stop:
            return False
        el = el.getparent()
    return False


def _totals(root, weights: dict) -> dict:
    """Every element's own weight plus its descendants' (one pass, children before parents)."""
    totals = dict(weights)
    for el in reversed(list(root.iter())):
        value = totals.get(el)
        if value and el is not root:
            parent = el.getparent()
            totals[parent] = totals.get(parent, 0) + value
    return totals


def _by_owner(blocks, weigh) -> dict:
    weights: dict = {}
    for block in blocks:
        weights[block.owner] = weights.get(block.owner, 0) + weigh(block)
    return weights


# --- the container ---------------------------------------------------------------------------------

def best_container(root, blocks: list[Block], marked: set, in_marked: set):
    """The container element whose prose outweighs its noise the most. A paragraph is never the
    container, even a long one: the article is what holds the paragraphs. (`in_marked`: every
    element in one of `marked`.)"""
    scores = _totals(root, _by_owner(blocks, lambda b: _weight(b, b.owner in in_marked)))
    candidates = [el for el in scores if el.tag in CONTAINER_TAGS]
    if not candidates:
        return root
    best = max(candidates, key=scores.get)
    if scores[best] > 0:
        return best
    # No element's prose outweighs its noise: a short article followed by long blocks a plugin
    # appends to it (share buttons, related posts). The marked blocks are left out of the body
    # anyway; the container is then the deepest element holding the most prose outside them.
    unmarked = _totals(root, _by_owner(blocks, lambda b: 0 if b.owner in in_marked else _weight(b, False)))
    fallback = max((el for el in unmarked if el.tag in CONTAINER_TAGS),
                   key=lambda el: (unmarked[el], _depth(el)), default=None)
    return fallback if fallback is not None and unmarked[fallback] > 0 else best


def _depth(el) -> int:
    return sum(1 for _ in el.iterancestors())


def _within_any(marked) -> set:
    """Every element that is, or is inside, one of `marked`."""
    inside = set()
    for el in marked:
        if el not in inside:
            inside.update(el.iter())
    return inside


def _weight(block: Block, marked: bool) -> int:
    """Prose counts for its container, links and marked blocks against it; short lines of plain
    text (datelines, labels, table cells) are neutral: articles have them, so do page chromes."""
    length = len(block.text)
    if marked:
        return -length
    if block.link_chars > MAX_GOOD_LINK_SHARE * length:
        # Link text counts against, the plain text around it for: a link list weighs its whole
        # length, a paragraph that credits its sources in links about nothing.
        return length - 2 * block.link_chars
    return length if length >= MIN_GOOD_CHARS else 0


def _body_blocks(blocks: list[Block], container) -> list[Block]:
    """Of the container's unmarked blocks, those a reader counts as the article: not interface
    words, not link lists (two or more link lines in a row, or link lines in a list) nor their
    labels, not link lines before the first paragraph (a kicker, a section label); a heading only
    when text follows it. A single link line between paragraphs is kept: it is a quoted tweet's
    byline, a product link, a source cited."""
    blocks = [b for b in blocks if not _is_page_furniture(b.text)]
    linky = [b.link_chars > MAX_KEPT_LINK_SHARE * len(b.text) for b in blocks]
    drop = [False] * len(blocks)
    leading = True
    for i, block in enumerate(blocks):
        in_run = (i > 0 and linky[i - 1]) or (i + 1 < len(blocks) and linky[i + 1])
        leading = leading and linky[i]
        drop[i] = linky[i] and (in_run or leading or _in_list(block.owner, container))
    for i in range(len(blocks) - 1):
        # "You may also like", "Don't miss": the label of a dropped link list.
        if drop[i + 1] and not drop[i] and len(blocks[i].text) < MIN_GOOD_CHARS:
            drop[i] = True
    kept = [b for b, dropped in zip(blocks, drop) if not dropped]
    # A heading whose section kept no text (a "Related" title over a dropped link list) goes too.
    return [b for i, b in enumerate(kept) if not b.heading or (i + 1 < len(kept) and not kept[i + 1].heading)]


def _end_of_article(blocks: list[Block], kept: list[Block]) -> int:
    """Where the article ends among the container's unmarked blocks, interface lines still among
    them (their count where it runs to the last): at a line that heads other stories ("Recent
    Posts", "Top Headlines", "We also recommend"...) after most of the body's text (`kept`, the
    blocks the body keeps), or readers' comments ("Comments", "45 users responded", "Leave a
    Reply") after a few paragraphs of it. What follows is not the article, in a container that
    was too large (a blog's whole column, comments without comment markup)."""
    kept_ids = {id(b) for b in kept}
    total, before = sum(len(b.text) for b in kept), 0
    for i, block in enumerate(blocks):
        in_body = id(block) in kept_ids
        # (A heading over other stories counts only where the body keeps it: one over a link list
        # the body drops is an inline "Related articles" box, and the article goes on after it.)
        if before and len(block.text) <= _MAX_HEADING_CHARS and (
                (in_body and before >= total / 2 and _OTHER_STORIES_HEADING.match(block.text))
                or (before >= COMMENTS_AFTER_CHARS and _COMMENTS_HEADING.match(block.text))):
            return i
        if in_body:
            before += len(block.text)
    return len(blocks)


def _is_page_furniture(text: str) -> bool:
    """An interface line, a site notice or a line pointing to another story: never the body's,
    whichever extractor found it."""
    return _INTERFACE_LINE.match(text) is not None or _is_site_notice(text) or _TEASER_LINE.match(text) is not None


def _is_site_notice(text: str) -> bool:
    if len(text) > _MAX_NOTICE_CHARS:
        return False
    folded = text.lower()
    # Every notice the pattern knows holds one of these words: most lines hold none, and a few
    # substring tests cost a tenth of the pattern's search (it ran on every short line of a page).
    return any(word in folded for word in _NOTICE_WORDS) and _SITE_NOTICE.search(text) is not None


def is_descendant(el, ancestor) -> bool:
    while el is not None:
        if el is ancestor:
            return True
        el = el.getparent()
    return False


def _in_list(el, container) -> bool:
    while el is not None and el is not container:
        if el.tag in ("li", "ul", "ol", "dl", "dd", "dt", "menu", "nav"):
            return True
        el = el.getparent()
    return False
