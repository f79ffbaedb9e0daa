"""The generic extractor's main text: crafted pages, each with the page chrome real sites have, and
the exact body a reader would call the article."""

import re

import pytest
from lxml import etree

from news_etl.articles import parse_article
from news_etl.maintext import _reads_the_header, is_unsure, main_text

P1 = "The council voted on Tuesday to reopen the harbour bridge after three months of repairs."
P2 = "Engineers said the new supports would carry twice the load of the old ones, at least."
P3 = "Traffic is expected to return to normal levels by the end of the week, the mayor said."

NAV = ('<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
       '<li><a href="/sport">Sport</a></li></ul></nav>')
SIDEBAR = ('<div class="sidebar"><h3>Most read</h3><p>A long teaser paragraph about another story that is '
           'not this article at all, with enough words to look like prose.</p></div>')
# Paragraphs long enough to read as written prose (200 characters and more).
LONG = [f"{P1} {P2} {P3}", f"{P2} {P3} {P1}", f"{P3} {P1} {P2}", f"{P1} {P3} {P2}"]
CREDITS = ("Photographs: <a href='/s'>Harbour Light Studio of Portmouth</a> and the port archive // Venue: "
           "<a href='/v'>The Old Customs House on the quay</a>, with thanks to the staff // Engineering drawings: "
           "<a href='/e'>Northbank Structural Partners</a> for the council")
FOOTER = '<footer><p>Copyright 2024 Harbour Daily. All rights reserved. Contact us. Privacy policy.</p></footer>'


def page(article: str, *, around: str = "") -> bytes:
    return (f"<html><head><title>t</title></head><body>{NAV}<div id='page'>{around}"
            f"<h1>Bridge reopens</h1>{article}{SIDEBAR}</div>{FOOTER}</body></html>").encode()


# (name, page, the body's paragraphs)
PAGES = [
    ("paragraphs among navigation, sidebar and footer",
     page(f"<article><p>{P1}</p><p>{P2}</p><p>{P3}</p></article>"), [P1, P2, P3]),
    ("a wrapper whose class mentions a sidebar still holds the article",
     page(f"<div class='content has-sidebar theiaStickySidebar'><div class='entry'><p>{P1}</p><p>{P2}</p></div></div>"),
     [P1, P2]),
    ("paragraphs split across sibling wrappers, between ads",
     page(f"<section name='articleBody'><div class='companion'><div><p>{P1}</p></div></div>"
          f"<div class='ad'>Advertisement</div><div class='companion'><div><p>{P2}</p></div></div>"
          f"<div class='companion'><div><p>{P3}</p></div></div></section>"), [P1, P2, P3]),
    ("a link list and its label after the article are dropped; a cited link inside it is kept",
     page(f"<div class='story'><p>{P1}</p><p><a href='/report.pdf'>Read the full engineering report here</a></p>"
          f"<p>{P2}</p><div>You may also like</div><ul><li><a href='/a'>Ferry strike ends after talks</a></li>"
          f"<li><a href='/b'>Harbour fees to rise next year</a></li></ul></div>"),
     [P1, "Read the full engineering report here", P2]),
    ("an embedded tweet in a social box is quoted text",
     page(f"<div class='story'><p>{P1}</p><div class='social-embed'><blockquote class='twitter-tweet'>"
          f"<p>The bridge is open again, finally!</p>— Harbour Council (@council) <a href='/t'>March 1, 2024</a>"
          f"</blockquote></div><p>{P2}</p></div>"),
     [P1, "The bridge is open again, finally!", "— Harbour Council (@council) March 1, 2024", P2]),
    ("text between <br>s, without paragraphs",
     page(f"<div class='post'>{P1}<br><br>{P2}<br>{P3}</div>"), [P1, P2, P3]),
    ("a table of figures in the article is read row by row",
     page(f"<div class='story'><p>{P1}</p><table><tr><th>Span</th><th>Load</th></tr>"
          f"<tr><td>North</td><td>40 t</td></tr></table><p>{P2}</p></div>"),
     [P1, "Span Load", "North 40 t", P2]),
    ("comments, share bars, captions and interface words are not the article",
     page(f"<article><figure><img src='x.jpg'><figcaption>The bridge at dawn, seen from the harbour wall.</figcaption>"
          f"</figure><p>{P1}</p><div class='share-bar'>Share this on Facebook, Twitter and e-mail today</div>"
          f"<p>{P2}</p><p>Advertisement</p><p>Share this story!</p></article>"
          f"<section class='comments'><h2>Comments</h2>"
          f"<p>I drove over it this morning and it felt exactly like before, which is great news.</p></section>"),
     [P1, P2]),
    ("interface words in other languages are not the article either",
     page(f"<article><p>{P1}</p><p>- Anzeige -</p><p>{P2}</p><p><a href='#p'>Artikel drucken</a></p>"
          f"<p><a href='#c'>Kommentare</a></p><p><a href='/'>Zurück zur Startseite</a></p><p><a href='#s'>Partager"
          f"</a></p><p><a href='#l'>Leer más</a></p></article>"),
     [P1, P2]),
    ("a line pointing to another story is not the article, in any of the languages",
     page(f"<article><p>{P1}</p><p><a href='/x'>READ MORE: Ferry strike ends after two weeks of talks</a></p>"
          f"<p>{P2}</p><p>Lea también: <a href='/y'>Impiden el ingreso de dos reporteros al país</a></p>"
          f"<p><strong>LE PUEDE INTERESAR:</strong> La ficha del exministro en el tribunal</p>"
          f"<p>Lesen Sie auch: <a href='/z'>Die Brücke ist wieder offen</a></p><p>{P3}</p></article>"),
     [P1, P2, P3]),
    ("a subheading with text after it stays; a heading over nothing goes",
     page(f"<article><p>{P1}</p><h2>What changes for drivers</h2><p>{P2}</p><h2>Related</h2></article>"),
     [P1, "What changes for drivers", P2]),
    ("a compound class names its block: Jetpack's related posts are not the article",
     page(f"<div class='entry-content'><p>{P1}</p><p>{P2}</p><div id='jp-relatedposts' class='jp-relatedposts'>"
          f"<h3>Related</h3><div class='jp-relatedposts-post'><h4><a href='/x'>Ferry strike ends after talks</a>"
          f"</h4><p>March 1, 2024</p><p>In &quot;Transport&quot;</p></div></div></div>"), [P1, P2]),
    ("a section link above the headline is a kicker, not the first paragraph",
     page(f"<div class='css-1a2b3c'><a href='/world'>World</a><p>{P1}</p><p>{P2}</p></div>"), [P1, P2]),
    ("a short article followed by longer plugin blocks is still the article",
     page("<div class='entry-content'><p>Officials said the bridge would reopen later this week.</p>"
          "<p>More details will follow as they become known.</p>"
          "<div class='sharing'><h3>Share this:</h3><ul><li><a href='#f'>Facebook</a></li><li><a href='#e'>Email</a>"
          "</li></ul></div><div class='related-posts'><h3>Related</h3><ul>"
          + "".join(f"<li><a href='/{n}'>Another story about the harbour and its bridges, part {n}</a></li>"
                    for n in range(4)) + "</ul></div></div>"),
     ["Officials said the bridge would reopen later this week.", "More details will follow as they become known."]),
    ("an article split in a page builder's boxes, each named a 'widget', is still the article",
     page("<div class='elementor-section'>" + "".join(
         f"<div class='elementor-widget-container'><p>{a}</p><p>{b}</p></div>" for a, b in (LONG[:2], LONG[2:]))
          + "</div>"), LONG),
    ("a box named by a word that could be a mislabel, with one paragraph, stays out",
     page(f"<div class='story'><p>{LONG[0]}</p><p>{LONG[1]}</p><div class='widget'><p>{LONG[2]}</p></div></div>"),
     LONG[:2]),
    *[(f"a '{box}' box with long paragraphs stays out, however much prose it holds",
       page("<div class='story'>" + "".join(f"<p>{p}</p>" for p in LONG[:3]) + f"</div><div class='{box}'>"
            f"<p>{LONG[3]}</p><p>{LONG[0]}</p></div>"), LONG[:3])
      for box in ("comments", "breaking-news", "cta-letter")],
    ("a paragraph that credits its sources in links still counts for the article",
     page(f"<div class='post'><p>{P1}</p><p>{P2}</p><p>{CREDITS}</p></div>"
          "<div><p>Letters to the editor may be edited for length and clarity.</p></div>"),
     [P1, P2, " ".join(re.sub("<[^>]+>", "", CREDITS).split())]),
    ("inline markup does not split words",
     page("<article><p>The <b>b</b>ridge re<i>opened</i> on <a href='/t'>Tuesday</a>, after long and costly "
          "repairs that took three months.</p></article>"),
     ["The bridge reopened on Tuesday, after long and costly repairs that took three months."]),
]


@pytest.mark.parametrize("name, html, paragraphs", PAGES, ids=[p[0] for p in PAGES])
def test_generic_extractor_finds_exactly_the_article(name, html, paragraphs):
    assert parse_article(html, url="https://example.org/a").body == "\n\n".join(paragraphs)


def test_a_page_without_text_has_an_empty_body():
    html = b"<html><body><nav><a href='/'>Home</a></nav><div><img src='a.jpg'></div></body></html>"
    assert parse_article(html, url="https://example.org/a").body == ""


STORY = ("The harbour bridge reopened on Monday after three months of repairs, and the first ferries of the "
         "season docked beside it within the hour, officials of the port authority said.")
# (name, a block the site puts inside the article's container): never part of the body.
NOTICES = [
    ("a copyright line", "<p>© 2024 Gulf Ledger Media Group. All rights reserved.</p>"),
    ("a copyright line in words", "<p>Copyright 2024 The Ledger, reproduction without permission prohibited</p>"),
    ("a cookie banner", "<div><p>We use cookies to improve your experience on our site. By continuing to browse "
                        "you agree to our use of cookies.</p></div>"),
    ("a privacy notice", "<p>Your data is processed as described in our terms; please review our privacy policy "
                         "before you comment.</p>"),
    ("a site's privacy line", "<p>This site follows the website privacy policy found here. View the website's "
                              "accessibility statement here.</p>"),
    ("an affiliate disclosure", "<p>Disclosure: this post may contain affiliate links, at no extra cost to you.</p>"),
    ("a log-out link line", "<p><a href='/logout'>Log Out</a></p>"),
    ("a script notice", "<p>Please enable JavaScript in your browser to see the comments and the photo gallery.</p>"),
    ("an embed's consent line", "<p>Please accept YouTube cookies to play this video from an external service.</p>"),
    # The same in the other languages most news is in.
    ("a copyright line in German", "<p>Alle Rechte vorbehalten | Impressum | Datenschutz</p>"),
    ("a cookie banner in German", "<div><p>Wir verwenden Cookies, die unser Angebot nutzerfreundlicher machen. "
                                  "Durch die Nutzung stimmen Sie der Verwendung von Cookies zu.</p></div>"),
    ("a script notice in German", "<p>Dieser Shop setzt voraus, dass Sie JavaScript aktiviert haben. Bitte "
                                  "aktivieren Sie JavaScript und laden Sie die Seite erneut.</p>"),
    ("a cookie banner in French", "<p>Ce site utilise des cookies pour mesurer son audience. En savoir plus</p>"),
    ("a copyright line in Spanish", "<p>Diario del Puerto 2024. Todos los derechos reservados.</p>"),
]


@pytest.mark.parametrize("name, notice", NOTICES, ids=[n[0] for n in NOTICES])
def test_the_body_is_never_a_site_notice(name, notice):
    html = (f"<html><body><article><h1>Bridge reopens</h1><p>{STORY}</p>{notice}<p>{STORY}</p></article>"
            "</body></html>").encode()
    assert parse_article(html, url="https://example.org/a").body == f"{STORY}\n\n{STORY}"


def test_an_article_about_privacy_keeps_its_long_paragraphs():
    long = ("The regulator said that every privacy policy must now say in plain words which cookie settings a "
            "reader may refuse, and that sites which make readers accept cookies before reading an article "
            "break the rules; fines of up to four percent of turnover apply from June, the agency added in "
            "its statement to parliament on Tuesday, after a year of consultations with publishers.")
    short = "The ferry company changed its privacy policy on Tuesday, a day after the breach."
    html = (f"<html><body><article><h1>Cookie rules</h1><p>{long}</p><p>{short}</p><p>{STORY}</p></article>"
            "</body></html>").encode()
    assert parse_article(html, url="https://example.org/a").body == f"{long}\n\n{short}\n\n{STORY}"


# Paragraphs of 140 characters, in boxes whose class says "sponsored": each is marked, none holds
# half the page's prose, so the container choice finds only the letters line beside them.
SPLIT = [STORY[:-1] + f", part {n} of the report." for n in range(1, 4)]


def split_page(box: str) -> str:
    return ("<html><body><nav><a href='/'>Home</a> <a href='/n'>News</a></nav><div id='page'><h1>Bridge reopens</h1>"
            + "".join(f"<div class='{box}'><p>{p}</p></div>" for p in SPLIT)
            + "<p>© 2024 Harbour Daily. All rights reserved.</p>"
            "<div class='box'><p>Letters to the editor may be edited for length and clarity.</p></div></div></body></html>")


def test_where_the_body_is_unsure_trafilatura_reads_the_page_without_its_notices():
    html = split_page("sponsored-content")
    main = main_text(etree.fromstring(html, etree.HTMLParser()).find("body"))
    assert main.body == "Letters to the editor may be edited for length and clarity." and is_unsure(main)
    # trafilatura keeps the copyright line; the body never does.
    assert parse_article(html.encode(), url="https://example.org/a").body == "\n\n".join(
        SPLIT + ["Letters to the editor may be edited for length and clarity."])


@pytest.mark.parametrize("paragraphs, unsure", [(LONG[:2], False), ([P1, P2], True)], ids=["long", "short"])
def test_a_body_is_unsure_when_short(paragraphs, unsure):
    html = page("<article>" + "".join(f"<p>{p}</p>" for p in paragraphs) + "</article>")
    main = main_text(etree.fromstring(html, etree.HTMLParser()).find("body"))
    assert main.body == "\n\n".join(paragraphs) and is_unsure(main) is unsure


STANDFIRST = ("The harbour bridge is open again after a winter of repairs, and the council says it will last "
              "fifty years.")


def standfirst_page(lead: str) -> bytes:
    return (f"<html><body>{NAV}<div class='post'><header class='article-header'><h1>Bridge reopens</h1>{lead}"
            f"<p class='byline'>By Ada Byrne, transport correspondent</p></header><div class='article-body'>"
            + "".join(f"<p>{p}</p>" for p in LONG[:2]) + f"</div>{SIDEBAR}</div>{FOOTER}</body></html>").encode()


# (name, what sits between the headline and the text, whether it opens the body)
LEADS = [
    ("a standfirst the site names so, in the article's header", f"<p class='article-lead'>{STANDFIRST}</p>", True),
    ("a teaser text in a news extension's detail view", f"<div class='teaser-text'><p>{STANDFIRST}</p></div>", True),
    ("not a paragraph nobody names a lead", f"<p>{STANDFIRST}</p>", False),
    ("not a caption named a lead", f"<figure class='lead-image'><figcaption>{STANDFIRST}</figcaption></figure>",
     False),
    ("not a related story's teaser", f"<div class='related-stories'><p class='teaser'>{STANDFIRST}</p></div>", False),
    ("not a short kicker", "<p class='intro'>Transport</p>", False),
]


@pytest.mark.parametrize("lead, opens", [c[1:] for c in LEADS], ids=[c[0] for c in LEADS])
def test_the_standfirst_opens_the_body(lead, opens):
    body = parse_article(standfirst_page(lead), url="https://example.org/a").body
    assert body == "\n\n".join(([STANDFIRST] if opens else []) + LONG[:2])


TEASERS = ["Ferry timetable changes for the summer season announced by the port authority on Monday morning.",
           "School sports day moves to the new field after the old pitch floods for the third time this spring."]


# (name, the article's column as the container holds it, the body)
COLUMNS = [
    ("the article ends at a heading over other stories",
     f"<p>{LONG[0]}</p><p>{LONG[1]}</p><h3>Recent Posts</h3>" + "".join(f"<p>{t}</p>" for t in TEASERS),
     [LONG[0], LONG[1]]),
    ("in German too", f"<p>{LONG[0]}</p><p>{LONG[1]}</p><p><b>Das könnte Sie auch interessieren:</b></p>"
     + "".join(f"<p>{t}</p>" for t in TEASERS), [LONG[0], LONG[1]]),
    ("not at such a heading before most of the text",
     f"<h3>Top Stories</h3><p>{TEASERS[0]}</p><p>{LONG[0]}</p><p>{LONG[1]}</p>",
     ["Top Stories", TEASERS[0], LONG[0], LONG[1]]),
    ("the article ends where readers' comments begin, longer than it",
     f"<p>{LONG[0]}</p><p>{LONG[1]}</p><p>12 users responded in “Bridge reopens”</p>"
     + "".join(f"<p>Reader {n} said,</p><p>{t} {t}</p>" for n, t in enumerate(TEASERS * 3)), [LONG[0], LONG[1]]),
    ("not at a comments line before a few paragraphs of it", f"<p>Leave a comment</p><p>{LONG[0]}</p>",
     ["Leave a comment", LONG[0]]),
    ("the article ends at a 'Comments' heading, an interface line",
     f"<p>{LONG[0]}</p><p>{LONG[1]}</p><h2>12 Comments</h2>" + "".join(f"<p>{t} {t}</p>" for t in TEASERS * 2),
     [LONG[0], LONG[1]]),
    ("not at an inline box of related links: the article goes on after it",
     f"<p>{LONG[0]}</p><p>{LONG[1]}</p><h3>Related articles</h3><ul><li><a href='/f'>{TEASERS[0]}</a></li>"
     f"<li><a href='/s'>{TEASERS[1]}</a></li></ul><p>{LONG[2]}</p>", [LONG[0], LONG[1], LONG[2]]),
    ("not at a 'Comments' link above the text", f"<p><a href='#c'>Comments</a></p><p>{LONG[0]}</p><p>{LONG[1]}</p>",
     [LONG[0], LONG[1]]),
    ("not at a sentence that names them",
     f"<p>{LONG[0]}</p><p>{LONG[1]}</p><p>{TEASERS[0]} Read our recent posts on the harbour for more.</p>",
     [LONG[0], LONG[1], f"{TEASERS[0]} Read our recent posts on the harbour for more."]),
]


@pytest.mark.parametrize("column, body", [c[1:] for c in COLUMNS], ids=[c[0] for c in COLUMNS])
def test_the_body_ends_where_other_stories_or_comments_begin(column, body):
    html = f"<html><body>{NAV}<div id='column'><h1>Bridge reopens</h1>{column}</div>{FOOTER}</body></html>"
    assert parse_article(html.encode(), url="https://example.org/a").body == "\n\n".join(body)


BUILT = [f"{P2} {P1} {P3}", f"{P3} {P2} {P1}"]


def builder_page() -> bytes:
    """An article a page builder sets in one box per paragraph, boxes its theme names "widget":
    one box holds two long paragraphs, the others one each."""
    boxes = [[LONG[0]], [LONG[1]], [LONG[2], LONG[3]], [BUILT[0]], [BUILT[1]]]
    return ("<html><body><nav><a href='/'>Home</a> <a href='/n'>News</a></nav><div class='builder-page'>"
            "<div class='builder-widget builder-widget-heading'><h1>Harbour bridge reopens after repairs</h1></div>"
            + "".join("<div class='builder-widget builder-widget-text'>" + "".join(f"<p>{p}</p>" for p in box)
                      + "</div>" for box in boxes)
            + f"</div>{FOOTER}</body></html>").encode()


def test_an_article_set_in_a_page_builders_boxes_is_read_whole():
    html = builder_page()
    main = main_text(etree.fromstring(html, etree.HTMLParser()).find("body"))
    # Ours is the one box of two paragraphs: long enough, and the page shows little prose outside
    # the "widget" boxes, but the boxes between the headline and it hold much more.
    assert main.body == f"{LONG[2]}\n\n{LONG[3]}" and main.page_prose < 2 * len(main.body)
    assert is_unsure(main)
    assert parse_article(html, url="https://example.org/a").body == "\n\n".join(
        [*LONG, *BUILT])


# A short article under its headline, and trafilatura's reading of the page beside ours.
POEM = ["I walk the quay at break of day,", "The gulls are loud above the bay,", "The ferry sounds its horn again,",
        "And fishing boats come in with rain.", "The harbour lights go out by eight,", "The market opens at the gate,",
        "The bridge is mended, strong and wide,", "And traffic crosses with the tide.",
        "Then evening comes and all is still,", "The lamps are lit along the hill."]
ABOUT = ("Harbour Daily is an independent publisher of local news for the towns along the northern coast, with "
         "offices in Portmouth and Eastbay. Our reporters cover the council, the port, schools and sport.")
BRIEF = ("The council voted on Tuesday to reopen the harbour bridge after three months of repairs. "
         "Engineers said the new supports would carry twice the load of the old ones.")
HEADER_LINES = ["Published 1 March 2024, 09:15", "Updated 1 March 2024, 11:40", "Filed from the Portmouth newsroom",
                "Local news, Transport, Council", "Harbour, Bridges, Roads, Ferries", "Reading time: two minutes"]


def short_page(headline: str, article: str, after: str = "") -> bytes:
    return (f"<html><head><title>{headline} | Harbour Daily</title></head><body>"
            f"<nav><a href='/'>Home</a> <a href='/news'>News</a></nav><div id='main'><div class='story'>"
            f"<h1>{headline}</h1>{article}</div></div>{after}</body></html>").encode()


# (name, page, body): trafilatura's text, where it holds the headline, replaces ours only when it
# does not also hold ours (then ours is another box than the one under the headline).
SECOND_OPINIONS = [
    ("a poem of short lines, and the site's blurb in the footer: trafilatura's text is the article",
     short_page("Morning on the quay", "<p class='by'>Posted by Ada Byrne</p><div class='text'><p>"
                + "<br>".join(POEM) + "</p></div>", f"<div id='footer_left'><p>{ABOUT}</p></div>"),
     "\n\n".join(["Morning on the quay", "Posted by Ada Byrne", *POEM])),
    ("a brief under a header: trafilatura's text is ours with the header, ours stays",
     short_page("Harbour bridge reopens after repairs",
                "<div class='story-header'>" + "".join(f"<p>{line}</p>" for line in HEADER_LINES)
                + f"</div><div class='story-body'><p>{BRIEF}</p></div>"),
     BRIEF),
]


@pytest.mark.parametrize("html, body", [case[1:] for case in SECOND_OPINIONS], ids=[c[0] for c in SECOND_OPINIONS])
def test_a_second_opinion_holding_the_headline_replaces_ours_only_when_ours_is_another_box(html, body):
    main = main_text(etree.fromstring(html, etree.HTMLParser()).find("body"))
    assert is_unsure(main) and main.body in (ABOUT, BRIEF)
    assert parse_article(html, url="https://example.org/a").body == body


HEADLINE = "Harbour bridge reopens after repairs"
MORE_PROSE = ("Drivers queued at both ends before the barriers lifted, and the first buses crossed at noon while "
              "the harbour master watched from the quay with the engineers who had worked through the winter.")
SIDEBAR_LINES = ["Older posts", "Subscribe", "Search this site", "Archive", "About the author",
                 "Ada Byrne writes about the coast, its towns and its weather, and has done so for the Harbour "
                 "Daily since the paper first went online in the spring of the year two thousand and one."]


# (name, trafilatura's lines, whether they are our brief with the article's header around it)
SECOND_READINGS = [
    ("our brief under its header", [HEADLINE, *HEADER_LINES, BRIEF], True),
    ("our brief and a sidebar's blurb further off", [HEADLINE, *HEADER_LINES[:2], BRIEF, *SIDEBAR_LINES], True),
    ("more prose right after our first lines", [HEADLINE, *HEADER_LINES[:2], BRIEF, MORE_PROSE], False),
    ("more prose between the headline and our lines", [HEADLINE, MORE_PROSE, MORE_PROSE, BRIEF], False),
    ("the page read as one line, ours inside it: not told from a header", [" ".join([HEADLINE, BRIEF, MORE_PROSE])],
     True),
]


@pytest.mark.parametrize("lines, header", [c[1:] for c in SECOND_READINGS], ids=[c[0] for c in SECOND_READINGS])
def test_a_second_opinion_is_a_header_around_ours_only_without_prose_beside_ours(lines, header):
    assert _reads_the_header("\n\n".join(lines), HEADLINE, BRIEF) is header
