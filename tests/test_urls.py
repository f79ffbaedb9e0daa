"""URL normalization: one spelling per article, so the same story is never counted twice."""

from datetime import date

import pytest

from news_etl.urls import date_in_url, is_http_url, month_in_url, normalize_url

ARABIC = "https://example.org/news/1/%D8%AE%D8%A8%D8%B1"
# (url, base, normalized)
NORMALIZED = [
    ("https://Example.ORG/News/1", None, "https://example.org/News/1"),              # host, not path, is lower-cased
    ("HTTPS://example.org/a", None, "https://example.org/a"),
    ("https://example.org/a#comments", None, "https://example.org/a"),               # no fragment
    ("https://example.org:443/a", None, "https://example.org/a"),                    # no default port
    ("http://example.org:80/a", None, "http://example.org/a"),
    ("http://example.org:8080/a", None, "http://example.org:8080/a"),
    ("http://[::1]:8080/a", None, "http://[::1]:8080/a"),  # an IPv6 literal keeps its brackets
    ("http://[2001:DB8::1]/a", None, "http://[2001:db8::1]/a"),
    ("https://example.org", None, "https://example.org/"),
    ("https://example.org/a?utm_source=rss&utm_medium=feed&id=7", None, "https://example.org/a?id=7"),
    ("https://example.org/a?UTM_Campaign=x&fbclid=abc&gclid=def&msclkid=g", None, "https://example.org/a"),
    ("https://example.org/a?b=2&a=1&mc_cid=x", None, "https://example.org/a?a=1&b=2"),   # sorted: one order
    ("https://example.org/a?q=&x=1", None, "https://example.org/a?q=&x=1"),         # blank values kept
    ("  https://example.org/a  ", None, "https://example.org/a"),
    ("/2024/03/storm?utm_source=x#top", "https://Example.org/feed.xml", "https://example.org/2024/03/storm"),
    ("storm.html", "https://example.org/news/feed.xml", "https://example.org/news/storm.html"),
    ("//cdn.example.org/a", "https://example.org/", "https://cdn.example.org/a"),
    # one identity for one story however its URL is spelled (w3lib's canonical form)
    ("https://example.org/news/1/خبر", None, ARABIC),                               # raw Arabic slug
    ("https://example.org/news/1/%D8%AE%D8%A8%D8%B1", None, ARABIC),                # percent-encoded
    ("https://example.org/news/1/%d8%ae%d8%a8%d8%b1", None, ARABIC),                # lower-case hex
    ("https://example.org/a/./b/../c", None, "https://example.org/a/c"),            # dot segments
    ("https://example.org/%7Eeditor/a", None, "https://example.org/~editor/a"),     # unreserved unescaped
    ("https://خبر.example/a", None, "https://xn--ngblk.example/a"),                  # IDN host as punycode
    ("https://XN--NGBLK.example/a", None, "https://xn--ngblk.example/a"),
    ("https://example.org/a b", None, "https://example.org/a%20b"),
]


@pytest.mark.parametrize("url, base, normalized", NORMALIZED)
def test_normalize_url(url, base, normalized):
    assert normalize_url(url, base=base) == normalized


@pytest.mark.parametrize("url, expected", [
    ("https://example.org/a", True), ("http://example.org", True), ("HTTP://EXAMPLE.ORG/", True),
    ("ftp://example.org/a", False), ("mailto:desk@example.org", False), ("/relative/path", False),
    ("https://", False), ("", False), (None, False),
])
def test_is_http_url(url, expected):
    assert is_http_url(url) is expected


@pytest.mark.parametrize("url, day", [
    ("https://example.org/2024/03/01/storm-hits", date(2024, 3, 1)),
    ("https://example.org/news/2024-03-01-storm", date(2024, 3, 1)),
    ("https://example.org/20240301/storm", date(2024, 3, 1)),
    ("https://example.org/2024/03/storm", None),                  # no day
    ("https://example.org/2023/02/30/storm", None),               # no such day
    ("https://example.org/a?date=2024/03/01", None),              # the query is not the path
    ("https://example.org/news/1119717/storm", None),
])
def test_date_in_url(url, day):
    assert date_in_url(url) == day


@pytest.mark.parametrize("url, month", [
    ("https://blog.example.org/2018/08/irland-roadtrip.html", (2018, 8)),
    ("https://example.org/2024/03/01/storm-hits", (2024, 3)),
    ("https://web.archive.org/web/20160218174457/http://example.org/2010/05/typography/", (2010, 5)),
    ("https://example.org/2024/13/storm", None),                  # no 13th month
    ("https://example.org/news/2018/0812/storm", None),
    ("https://example.org/a?month=2018/08/", None),               # the query is not the path
])
def test_month_in_url(url, month):
    assert month_in_url(url) == month
