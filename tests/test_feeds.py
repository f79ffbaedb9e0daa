"""Feed parsing: one small fixture per format, the malformed feeds real publishers serve, and hostile XML."""

import dataclasses
import threading

import pytest

from news_etl.dates import isoformat
from news_etl.errors import ConfigError, FeedError
from news_etl.feeds import Feed, FeedItem, parse_feed

RSS2 = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:media="http://search.yahoo.com/mrss/">
  <channel>
    <title>Tehran Daily &amp; World</title>
    <link>https://news.example.ir/</link>
    <atom:link href="https://news.example.ir/feed" rel="self" type="application/rss+xml"/>
    <item>
      <title><![CDATA[<b>Storm</b> hits the  coast]]></title>
      <link>https://news.example.ir/2024/03/storm</link>
      <guid isPermaLink="false">news-4711</guid>
      <pubDate>Fri, 01 Mar 2024 20:19:00 +0330</pubDate>
      <dc:creator>Sara Ahmadi</dc:creator>
      <dc:creator>Reza Karimi</dc:creator>
      <media:title>not the title</media:title>
      <description>&lt;p&gt;Heavy rain&lt;/p&gt;&lt;p&gt;and wind &amp;amp; hail.&lt;/p&gt;</description>
      <content:encoded><![CDATA[<p>The full story.</p>]]></content:encoded>
    </item>
    <item>
      <title>Second story</title>
      <link>https://news.example.ir/2024/03/second</link>
      <pubDate>Fri, 01 Mar 2024 18:00:00 GMT</pubDate>
    </item>
    <item>
      <title>Third story</title>
      <guid>https://news.example.ir/2024/03/third</guid>
      <author>desk@example.ir (News Desk)</author>
      <content:encoded><![CDATA[<p>Only <em>full</em> content.</p>]]></content:encoded>
    </item>
  </channel>
</rss>"""

RSS091 = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"
  "http://my.netscape.com/publish/formats/rss-0.91.dtd">
<rss version="0.91">
  <channel>
    <title>Le Caf&eacute; du Matin</title>
    <link>http://cafe.example.fr/</link>
    <language>fr</language>
    <item>
      <title>Caf&eacute; et croissants</title>
      <link>http://cafe.example.fr/articles/1.html</link>
      <description>Le caf&eacute; ouvre &agrave; 7h.</description>
    </item>
    <item>
      <title>Deuxi\xe8me article</title>
      <link>http://cafe.example.fr/articles/2.html</link>
    </item>
  </channel>
</rss>"""

RDF = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/"
         xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://kyiv.example.ua/rss">
    <title>Kyiv Wire</title>
    <link>https://kyiv.example.ua/</link>
    <description>Wire stories</description>
    <items><rdf:Seq>
      <rdf:li rdf:resource="https://kyiv.example.ua/n/1"/>
      <rdf:li rdf:resource="https://kyiv.example.ua/n/2"/>
    </rdf:Seq></items>
  </channel>
  <item rdf:about="https://kyiv.example.ua/n/1">
    <title>Bridge reopens</title>
    <link>https://kyiv.example.ua/n/1</link>
    <description>Traffic &lt;i&gt;resumes&lt;/i&gt;.</description>
    <dc:date>2024-03-01T09:30:00+02:00</dc:date>
    <dc:creator>Olena Kovalenko</dc:creator>
  </item>
  <item rdf:about="https://kyiv.example.ua/n/2">
    <title>Markets</title>
    <link>https://kyiv.example.ua/n/2</link>
    <dc:date>2024-03-01T08:00:00+02:00</dc:date>
  </item>
</rdf:RDF>"""

ATOM10 = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://oslo.example.no/">
  <title type="html">Oslo &lt;em&gt;Nyheter&lt;/em&gt;</title>
  <link rel="self" href="https://oslo.example.no/atom.xml"/>
  <link rel="alternate" type="text/html" href="/"/>
  <id>tag:oslo.example.no,2024:feed</id>
  <updated>2024-07-01T12:00:00+02:00</updated>
  <author><name>Redaksjonen</name></author>
  <entry>
    <title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">Ferry <b>strike</b> ends</div></title>
    <link rel="edit" href="/api/entries/1"/>
    <link rel="alternate" type="application/json" href="/n/1.json"/>
    <link rel="alternate" type="text/html" href="n/1"/>
    <link rel="enclosure" type="image/jpeg" href="/img/1.jpg"/>
    <id>tag:oslo.example.no,2024:1</id>
    <published>2024-07-01T10:00:00+02:00</published>
    <updated>2024-07-01T11:30:00+02:00</updated>
    <author><name>Kari Nordmann</name><email>kari@example.no</email></author>
    <author><name>Ola Nordmann</name></author>
    <summary type="html">&lt;p&gt;Boats run&lt;/p&gt;&lt;p&gt;again.&lt;/p&gt;</summary>
    <content type="html">&lt;p&gt;Long text&lt;/p&gt;</content>
  </entry>
  <entry>
    <title>Weather &lt;warning&gt;</title>
    <link href="https://oslo.example.no/n/2"/>
    <id>tag:oslo.example.no,2024:2</id>
    <updated>2024-07-01T09:00:00+02:00</updated>
  </entry>
</feed>"""

ATOM03 = b"""<?xml version="1.0" encoding="utf-8"?>
<feed version="0.3" xmlns="http://purl.org/atom/ns#" xml:lang="en">
  <title mode="escaped" type="text/html">Old &lt;b&gt;Blog&lt;/b&gt;</title>
  <link rel="alternate" type="text/html" href="http://blog.example.com/"/>
  <modified>2004-05-02T10:00:00Z</modified>
  <entry>
    <title>First post</title>
    <link rel="service.edit" type="application/x.atom+xml" href="http://blog.example.com/edit/1"/>
    <link rel="alternate" type="text/html" href="http://blog.example.com/2004/05/first"/>
    <id>tag:blog.example.com,2004:1</id>
    <issued>2004-05-01T09:00:00-05:00</issued>
    <modified>2004-05-02T10:00:00Z</modified>
    <created>2004-05-01T08:00:00Z</created>
    <author><name>Mark</name></author>
    <summary type="text/plain">Hello  world</summary>
    <content type="application/xhtml+xml" mode="xml">
      <div xmlns="http://www.w3.org/1999/xhtml"><p>Body</p></div>
    </content>
  </entry>
  <entry>
    <title>Second post</title>
    <link rel="alternate" type="text/html" href="http://blog.example.com/2004/05/second"/>
    <id>tag:blog.example.com,2004:2</id>
    <created>2004-05-03T08:00:00Z</created>
  </entry>
</feed>"""

# (name, bytes, url, tz, (format, feed title, feed link, item count), every field of the first item)
WELL_FORMED = [
    ("rss2", RSS2, "https://news.example.ir/feed", "Asia/Tehran",
     ("rss2", "Tehran Daily & World", "https://news.example.ir/", 3),
     dict(title="Storm hits the coast", link="https://news.example.ir/2024/03/storm", guid="news-4711",
          published_at="2024-03-01T20:19:00+03:30", published_raw="Fri, 01 Mar 2024 20:19:00 +0330",
          updated_at=None, authors=("Sara Ahmadi", "Reza Karimi"), summary="Heavy rain and wind & hail.",
          published_offset_known=True)),
    ("rss091", RSS091, "http://cafe.example.fr/rss.xml", "Europe/Paris",
     ("rss2", "Le Café du Matin", "http://cafe.example.fr/", 2),
     dict(title="Café et croissants", link="http://cafe.example.fr/articles/1.html", guid=None,
          published_at=None, published_raw=None, updated_at=None, authors=(), summary="Le café ouvre à 7h.",
          published_offset_known=None)),
    ("rdf", RDF, "https://kyiv.example.ua/rss", "Europe/Kyiv",
     ("rdf", "Kyiv Wire", "https://kyiv.example.ua/", 2),
     dict(title="Bridge reopens", link="https://kyiv.example.ua/n/1", guid="https://kyiv.example.ua/n/1",
          published_at="2024-03-01T09:30:00+02:00", published_raw="2024-03-01T09:30:00+02:00",
          updated_at=None, authors=("Olena Kovalenko",), summary="Traffic resumes.", published_offset_known=True)),
    ("atom10", ATOM10, "https://oslo.example.no/atom.xml", "Europe/Oslo",
     ("atom", "Oslo Nyheter", "https://oslo.example.no/", 2),
     dict(title="Ferry strike ends", link="https://oslo.example.no/n/1", guid="tag:oslo.example.no,2024:1",
          published_at="2024-07-01T10:00:00+02:00", published_raw="2024-07-01T10:00:00+02:00",
          updated_at="2024-07-01T11:30:00+02:00", authors=("Kari Nordmann", "Ola Nordmann"),
          summary="Boats run again.", published_offset_known=True)),
    ("atom03", ATOM03, "http://blog.example.com/atom.xml", None,
     ("atom", "Old Blog", "http://blog.example.com/", 2),
     dict(title="First post", link="http://blog.example.com/2004/05/first", guid="tag:blog.example.com,2004:1",
          published_at="2004-05-01T09:00:00-05:00", published_raw="2004-05-01T09:00:00-05:00",
          updated_at="2004-05-02T10:00:00+00:00", authors=("Mark",), summary="Hello world",
          published_offset_known=True)),
]


def _as_dict(item: FeedItem) -> dict:
    """Every field of an item, dates as isoformat text so a table can state them."""
    fields = dataclasses.asdict(item)
    for name in ("published_at", "updated_at"):
        fields[name] = isoformat(fields[name]) if fields[name] else None
    return fields


@pytest.mark.parametrize("name, data, url, tz, feed_fields, first_item", WELL_FORMED,
                         ids=[case[0] for case in WELL_FORMED])
def test_each_format_reads_the_feed_and_every_field_of_its_first_item(name, data, url, tz, feed_fields,
                                                                      first_item):
    feed = parse_feed(data, url=url, tz=tz)
    assert (feed.format, feed.title, feed.link, len(feed.items)) == feed_fields
    assert _as_dict(feed.items[0]) == first_item


def test_rss_fallbacks_guid_permalink_author_name_and_full_content():
    third = parse_feed(RSS2, url="https://news.example.ir/feed").items[2]
    assert third.link == "https://news.example.ir/2024/03/third"
    assert third.authors == ("News Desk",)
    assert third.summary == "Only full content."
    assert third.published_at is None and third.published_raw is None


def test_atom_entry_inherits_feed_author_and_uses_updated_when_nothing_says_published():
    second = parse_feed(ATOM10).items[1]
    assert second.title == "Weather <warning>"  # type="text" is literal text, not markup
    assert second.authors == ("Redaksjonen",)
    assert second.published_raw == "2024-07-01T09:00:00+02:00"
    assert isoformat(second.published_at) == "2024-07-01T09:00:00+02:00"
    assert second.updated_at is None


def test_atom03_created_is_a_published_date():
    second = parse_feed(ATOM03).items[1]
    assert second.published_raw == "2004-05-03T08:00:00Z"


def _rss(items: str, *, channel_link: str = "", head: str = '<?xml version="1.0" encoding="utf-8"?>',
         encoding: str = "utf-8") -> bytes:
    channel_link = f"<link>{channel_link}</link>" if channel_link else ""
    return f"{head}<rss version=\"2.0\"><channel><title>T</title>{channel_link}{items}</channel></rss>".encode(encoding)


ATOM_WITH_XML_BASE = b"""<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://site.example.com/news/">
  <title>T</title>
  <entry xml:base="2024/"><title>One</title><link href="one.html"/><id>1</id></entry>
  <entry><title>Two</title><link href="/abs/two.html" xml:base="https://other.example.com/"/><id>2</id></entry>
</feed>"""

BLANK_LINES_BEFORE_DECLARATION = (
    b'\xef\xbb\xbf\n\n   \n<?xml version="1.0" encoding="utf-8"?>'
    b'<rss version="2.0"><channel><title>T</title>'
    b"<item><title>Blank lines</title><link>https://x.example/1</link></item></channel></rss>"
)

# (name, bytes, url, expected (title, link) of every item)
MALFORMED = [
    ("undeclared html entities",
     _rss("<item><title>It&rsquo;s&nbsp;here &mdash; caf&eacute;</title><link>https://x.example/1</link></item>"),
     None, [("It\u2019s here \u2014 café", "https://x.example/1")]),
    ("bare ampersands",
     _rss("<item><title>AT&T & partners</title><link>https://x.example/?a=1&b=2&copy=3</link></item>"
          "<item><title><![CDATA[Q&A]]></title><link><![CDATA[https://x.example/?a=1&b=2]]></link></item>"),
     None, [("AT&T & partners", "https://x.example/?a=1&b=2&copy=3"), ("Q&A", "https://x.example/?a=1&b=2")]),
    ("blank lines and a BOM before the XML declaration", BLANK_LINES_BEFORE_DECLARATION, None,
     [("Blank lines", "https://x.example/1")]),
    ("server warning before the XML declaration",
     b"<br />\n<b>Notice</b>: Undefined index\n" + _rss("<item><title>After junk</title></item>"), None,
     [("After junk", None)]),
    ("an XML declaration quoted inside the feed is not junk to cut",
     _rss("<item><title>Code & docs</title><description><![CDATA[write <?xml version=\"1.0\"?> first]]>"
          "</description></item>"), None, [("Code & docs", None)]),
    ("control characters", _rss("<item><title>Bell\x07 and\x0b tab</title></item>"), None,
     [("Bell and tab", None)]),
    ("cp1252 bytes declared utf-8",
     _rss("<item><title>Caf\u00e9 \u201cquoted\u201d \u2013 \u20ac5</title></item>", encoding="cp1252"), None,
     [("Café \u201cquoted\u201d \u2013 \u20ac5", None)]),
    ("windows-1256 Arabic declared correctly",
     _rss("<item><title>\u062e\u0628\u0631 \u0639\u0627\u062c\u0644</title></item>",
          head='<?xml version="1.0" encoding="windows-1256"?>', encoding="cp1256"), None,
     [("\u062e\u0628\u0631 \u0639\u0627\u062c\u0644", None)]),
    ("utf-8 without a declaration",
     _rss("<item><title>\u03a9mega caf\u00e9 \u062e\u0628\u0631</title></item>", head=""), None,
     [("\u03a9mega caf\u00e9 \u062e\u0628\u0631", None)]),
    ("utf-8 declared iso-8859-1",
     _rss("<item><title>Caf\u00e9 \u00e5pner</title></item>", head='<?xml version="1.0" encoding="iso-8859-1"?>'),
     None, [("Café åpner", None)]),
    ("cp1252 quotes declared iso-8859-1",
     _rss("<item><title>\u201cQuoted\u201d caf\u00e9</title></item>",
          head='<?xml version="1.0" encoding="iso-8859-1"?>', encoding="cp1252"),
     None, [("\u201cQuoted\u201d café", None)]),
    ("html in titles",
     _rss("<item><title>&lt;b&gt;Breaking:&lt;/b&gt; vote &amp;amp; count</title></item>"
          "<item><title><![CDATA[<em>Live</em>: <a href='/x'>results</a>]]></title></item>"
          "<item><title>Raw <b>markup</b> inside</title></item>"
          "<item><title>5 &lt; 6 &amp;&amp; 7 &gt; 3</title></item>"), None,
     [("Breaking: vote & count", None), ("Live: results", None), ("Raw markup inside", None),
      ("5 < 6 && 7 > 3", None)]),
    ("relative links resolved against url=",
     _rss("<item><title>A</title><link>/2024/a.html</link></item>"
          "<item><title>B</title><link>b.html</link></item>"
          "<item><title>C</title><link>//cdn.example.com/c</link></item>"),
     "https://site.example.com/feeds/main.xml",
     [("A", "https://site.example.com/2024/a.html"), ("B", "https://site.example.com/feeds/b.html"),
      ("C", "https://cdn.example.com/c")]),
    ("relative links resolved against the feed's link when no url is given",
     _rss("<item><title>A</title><link>/2024/a.html</link></item>", channel_link="https://site.example.com/"),
     None, [("A", "https://site.example.com/2024/a.html")]),
    ("relative links resolved against the feed's link when url= is a local path",
     _rss("<item><title>A</title><link>/2024/a.html</link></item>", channel_link="https://site.example.com/"),
     "samples/site.xml", [("A", "https://site.example.com/2024/a.html")]),
    ("relative links resolved against xml:base", ATOM_WITH_XML_BASE, "https://ignored.example.com/feed",
     [("One", "https://site.example.com/news/2024/one.html"), ("Two", "https://other.example.com/abs/two.html")]),
    ("a repeated item (same guid or link, same title and date) keeps the first occurrence",
     _rss("<item><title>First</title><guid>g1</guid><link>https://x.example/1</link></item>"
          "<item><title>First</title><guid>g1</guid><link>https://x.example/1b</link></item>"
          "<item><title>First</title><guid>g2</guid><link>https://x.example/1</link></item>"
          "<item><title>Other</title><guid>g3</guid><link>https://x.example/3</link></item>"), None,
     [("First", "https://x.example/1"), ("Other", "https://x.example/3")]),
    ("a reused guid on a different post keeps both posts",
     _rss("<item><title>Morning</title><guid>https://x.example/d#a</guid><pubDate>Sat, 24 Jun 2017 14:26:32 GMT"
          "</pubDate></item><item><title>Afternoon</title><guid>https://x.example/d#a</guid>"
          "<pubDate>Sat, 24 Jun 2017 14:52:32 GMT</pubDate></item>"), None,
     [("Morning", "https://x.example/d#a"), ("Afternoon", "https://x.example/d#a")]),
    ("items without links",
     _rss("<item><title>No link, no guid</title></item>"
          "<item><title>Guid is not a permalink</title><guid isPermaLink=\"false\">https://x.example/p</guid></item>"
          "<item><title>Guid is not a URL</title><guid>urn:uuid:1234</guid></item>"
          "<item><title>Guid is the permalink</title><guid>https://x.example/g</guid></item>"
          "<item><title>Empty link</title><link>  </link></item>"), None,
     [("No link, no guid", None), ("Guid is not a permalink", None), ("Guid is not a URL", None),
      ("Guid is the permalink", "https://x.example/g"), ("Empty link", None)]),
]


@pytest.mark.parametrize("name, data, url, expected", MALFORMED, ids=[case[0] for case in MALFORMED])
def test_malformed_feeds_still_give_the_right_items(name, data, url, expected):
    feed = parse_feed(data, url=url)
    assert [(item.title, item.link) for item in feed.items] == expected


def test_one_bad_item_date_keeps_the_raw_text_and_the_rest_of_the_feed():
    feed = parse_feed(_rss(
        "<item><title>Bad</title><pubDate>sometime last week</pubDate></item>"
        "<item><title>Good</title><pubDate>Fri, 01 Mar 2024 20:19:00 GMT</pubDate></item>"))
    assert [(i.published_raw, i.published_at is None) for i in feed.items] == [
        ("sometime last week", True), ("Fri, 01 Mar 2024 20:19:00 GMT", False)]


@pytest.mark.parametrize("namespace", ["http://backend.example.org/rss-2.0", "urn:publisher:feed"])
def test_rss_in_a_default_namespace_is_read(namespace):
    # Some publishers declare a namespace of their own on <rss>: every element then sits in it.
    feed = parse_feed(f"""<?xml version="1.0"?><rss version="2.0" xmlns="{namespace}"
        xmlns:media="http://search.yahoo.com/mrss/"><channel><title>Harbour news</title>
        <link>https://harbour.example/</link>
        <item><title>Ferry strike ends</title><link>/news/ferry-strike-ends</link>
          <media:title>not the title</media:title>
          <pubDate>Fri, 01 Mar 2024 20:19:00 GMT</pubDate></item>
        <item><title>Port reopens</title><link>https://harbour.example/news/port</link></item>
        </channel></rss>""".encode())
    assert (feed.title, feed.link) == ("Harbour news", "https://harbour.example/")
    assert [(i.title, i.link, i.published_raw) for i in feed.items] == [
        ("Ferry strike ends", "https://harbour.example/news/ferry-strike-ends", "Fri, 01 Mar 2024 20:19:00 GMT"),
        ("Port reopens", "https://harbour.example/news/port", None)]


@pytest.mark.parametrize("written, tz, expected, stated", [
    # No source zone (the generic CLI path): the publisher's wall time is kept, without an offset.
    ("2024-03-01 23:49", None, "2024-03-01T23:49:00", False),
    ("Sat, Dec 16 2023 02:02:33 PM", None, "2023-12-16T14:02:33", False),
    ("2024-03-01", None, "2024-03-01", False),
    ("2024-03-01T23:49:00+03:30", None, "2024-03-01T23:49:00+03:30", True),
    # With a source zone the zone applies, and the offset is still known to be assumed.
    ("2024-03-01 23:49", "Asia/Tehran", "2024-03-01T23:49:00+03:30", False),
])
def test_an_item_date_without_offset_is_kept(written, tz, expected, stated):
    feed = parse_feed(_rss(f"<item><title>One</title><pubDate>{written}</pubDate></item>"), tz=tz)
    item = feed.items[0]
    assert (isoformat(item.published_at), item.published_offset_known) == (expected, stated)


def test_dates_without_offset_take_the_source_zone():
    feed = parse_feed(_rss("<item><title>Local</title><pubDate>2024-07-01 12:00</pubDate></item>"), tz="Europe/Oslo")
    assert isoformat(feed.items[0].published_at) == "2024-07-01T12:00:00+02:00"


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<rss version="2.0"><channel><title>Laughs</title>
<item><title>Ha &lol9;</title><description>&lol9;&lol9;</description><link>https://x.example/1</link></item>
</channel></rss>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>XXE</title>
<item><title>Leak &secret;</title><description>&secret;</description><link>https://x.example/1</link></item>
</channel></rss>"""

EXTERNAL_PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY % remote SYSTEM "file:///etc/passwd"> %remote;]>
<rss version="2.0"><channel><title>XXE</title>
<item><title>Leak</title><link>https://x.example/1</link></item>
</channel></rss>"""

HOSTILE = [
    ("billion laughs", BILLION_LAUGHS),
    # a bare '&' sends the same document through the repairing, recovering parse
    ("billion laughs, malformed", BILLION_LAUGHS.replace(b"<title>Laughs", b"<title>Laughs & more")),
    ("external entity", EXTERNAL_ENTITY),
    ("external entity, malformed", EXTERNAL_ENTITY.replace(b"<title>XXE", b"<title>XXE &nbsp; & more")),
    ("external parameter entity", EXTERNAL_PARAMETER_ENTITY),
]


def _parse_within(data: bytes, seconds: float) -> Feed:
    """Run parse_feed in a thread so an entity expansion that hangs fails the test instead of the run."""
    result: list = []
    worker = threading.Thread(target=lambda: result.append(parse_feed(data)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"parse_feed did not finish within {seconds} s"
    return result[0]


@pytest.mark.parametrize("name, data", HOSTILE, ids=[case[0] for case in HOSTILE])
def test_entities_are_never_expanded(name, data):
    feed = _parse_within(data, seconds=5)
    assert len(feed.items) == 1
    item = feed.items[0]
    assert item.link == "https://x.example/1"
    for text in (feed.title, item.title, item.summary):
        assert "lollol" not in (text or "")
        assert "root:" not in (text or "")
    assert len(item.title) < 20


# (name, bytes, words the message must contain)
NOT_FEEDS = [
    ("html page", b"<!DOCTYPE html>\n<html><head><title>Home</title></head><body><p>Hi&nbsp;<br></body></html>",
     ["root element <html>"]),
    ("xhtml page", b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body/></html>',
     ["root element <html>"]),
    ("empty body", b"", ["empty body"]),
    ("blank body", b"  \r\n\t ", ["empty body"]),
    ("json", b'{"items": [{"title": "x"}]}', ["not XML", "items"]),
    ("plain text", b"Service Unavailable", ["not XML", "Service Unavailable"]),
    ("urlset of another vocabulary", b'<urlset xmlns="http://example.com/not-a-sitemap"><url/></urlset>',
     ["root element <urlset>"]),
]


@pytest.mark.parametrize("name, data, words", NOT_FEEDS, ids=[case[0] for case in NOT_FEEDS])
def test_bytes_that_are_not_a_feed_raise_feed_error_naming_the_feed(name, data, words):
    url = "https://site.example.com/rss"
    with pytest.raises(FeedError) as raised:
        parse_feed(data, url=url)
    message = str(raised.value)
    assert message.startswith(f"{url}: not an RSS, RDF or Atom feed")
    for word in words:
        assert word in message


def test_feed_error_without_url_names_the_bytes():
    with pytest.raises(FeedError, match=r"^<bytes>: not an RSS, RDF or Atom feed or a sitemap \(empty body\)"):
        parse_feed(b"")


def test_unknown_source_zone_is_a_config_error_naming_the_feed():
    with pytest.raises(ConfigError, match=r"https://site.example.com/rss: .*Mars/Olympus"):
        parse_feed(RSS2, url="https://site.example.com/rss", tz="Mars/Olympus")


def test_a_large_feed_parses_quickly():
    item = (
        "<item><title>Story {n} &amp; more</title><link>https://x.example/{n}</link><guid>g{n}</guid>"
        "<pubDate>Fri, 01 Mar 2024 20:19:00 +0330</pubDate><description>&lt;p&gt;{body}&lt;/p&gt;</description>"
        "</item>"
    )
    data = _rss("".join(item.format(n=n, body="word " * 170) for n in range(1000)))
    assert len(data) > 1_000_000
    feed = _parse_within(data, seconds=5)
    assert len(feed.items) == 1000
    assert feed.items[-1].link == "https://x.example/999"


NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://news.example.ir/news/1119706/cabinet-approves-reform</loc>
    <lastmod>2024-03-02T08:00:00+03:30</lastmod>
    <news:news>
      <news:publication><news:name>Tehran Wire</news:name><news:language>en</news:language></news:publication>
      <news:publication_date>2024-03-01T23:49:00+03:30</news:publication_date>
      <news:title>Cabinet Approves Reform &amp; More</news:title>
    </news:news>
    <image:image><image:loc>https://news.example.ir/img/1.jpg</image:loc></image:image>
  </url>
  <url>
    <loc>/news/1119707/local-date</loc>
    <news:news><news:publication_date>2024-03-01 22:10</news:publication_date>
      <news:title>Local date</news:title></news:news>
  </url>
</urlset>"""

PLAIN_SITEMAP = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>https://site.example.com/a</loc><lastmod>2024-03-01</lastmod></url>
  <url><loc>https://site.example.com/b</loc></url>
  <url><loc>https://site.example.com/a</loc><lastmod>2024-03-01</lastmod></url>
</urlset>"""

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>https://site.example.com/sitemap-news.xml</loc><lastmod>2024-03-01T23:50:00Z</lastmod></sitemap>
  <sitemap><loc>/sitemap-2023-12.xml</loc></sitemap>
</sitemapindex>"""

RSS090 = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://my.netscape.com/rdf/simple/0.9/">
  <channel><title>Mozilla Dot Org</title><link>http://www.mozilla.org</link></channel>
  <item><title>New Status Updates</title><link>http://www.mozilla.org/status/</link></item>
  <item><title>Bugzilla Reorganized</title><link>http://www.mozilla.org/bugs/</link></item>
</rdf:RDF>"""

RSS092 = b"""<?xml version="1.0"?>
<rss version="0.92"><channel><title>Dave</title><link>http://www.scripting.com/</link>
  <item><description>A post with no title &amp; no link.</description></item>
  <item><title>Second</title><link>http://www.scripting.com/2</link>
    <pubDate>Sun, 29 Sep 2002 19:59:01 GMT</pubDate></item>
</channel></rss>"""


# (name, bytes, url, (format, [(title, link, published_at isoformat)]))
OTHER_FORMATS = [
    ("news sitemap", NEWS_SITEMAP, "https://news.example.ir/sitemap-news.xml",
     ("sitemap", [("Cabinet Approves Reform & More", "https://news.example.ir/news/1119706/cabinet-approves-reform",
                   "2024-03-01T23:49:00+03:30"),
                  ("Local date", "https://news.example.ir/news/1119707/local-date", "2024-03-01T22:10:00+03:30")])),
    ("plain sitemap: lastmod stands in, repeats dropped", PLAIN_SITEMAP, None,
     ("sitemap", [(None, "https://site.example.com/a", "2024-03-01T00:00:00+03:30"),
                  (None, "https://site.example.com/b", None)])),
    ("rss 0.90", RSS090, None,
     ("rdf", [("New Status Updates", "http://www.mozilla.org/status/", None),
              ("Bugzilla Reorganized", "http://www.mozilla.org/bugs/", None)])),
    ("rss 0.92", RSS092, None,
     ("rss2", [(None, None, None), ("Second", "http://www.scripting.com/2", "2002-09-29T19:59:01+00:00")])),
]


@pytest.mark.parametrize("name, data, url, expected", OTHER_FORMATS, ids=[case[0] for case in OTHER_FORMATS])
def test_sitemaps_and_old_rss_versions(name, data, url, expected):
    feed = parse_feed(data, url=url, tz="Asia/Tehran")
    items = [(i.title, i.link, isoformat(i.published_at) if i.published_at else None) for i in feed.items]
    assert (feed.format, items) == expected


def test_sitemap_index_lists_its_sitemaps_with_their_lastmod():
    feed = parse_feed(SITEMAP_INDEX, url="https://site.example.com/sitemap.xml")
    assert feed.format == "sitemapindex" and feed.items == ()
    assert [(s.url, isoformat(s.modified_at) if s.modified_at else None) for s in feed.sitemaps] == [
        ("https://site.example.com/sitemap-news.xml", "2024-03-01T23:50:00+00:00"),
        ("https://site.example.com/sitemap-2023-12.xml", None),
    ]


@pytest.mark.parametrize("reference", ["&#xD800;", "&#55296;", "&#xDFFF;", "&#0;", "&#x1;", "&#x110000;",
                                       "&#" + "9" * 5000 + ";"])
def test_a_reference_to_a_character_xml_forbids_is_a_replacement_character(reference):
    """A lone surrogate (or NUL, a control, a code point past U+10FFFF) referenced in a title costs
    neither its item nor the feed: it reads as U+FFFD, and every other reference as written."""
    feed = parse_feed((f'<rss version="2.0"><channel><title>t</title><item><title>Bad {reference} title</title>'
                       f'<link>http://e.org/a</link></item><item><title>ok &#233; &#x00000041;</title>'
                       f'<link>http://e.org/b</link></item></channel></rss>').encode(), url="http://e.org/feed")
    assert [(i.title, i.link) for i in feed.items] == [("Bad \ufffd title", "http://e.org/a"),
                                                       ("ok \u00e9 A", "http://e.org/b")]
