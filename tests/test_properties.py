"""Property tests: arbitrary input to every parser and loader gives a result or a typed error,
never a crash or a hang. `make faults` runs the same properties with many more examples
(HYPOTHESIS_PROFILE=fuzz)."""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from news_etl.articles import parse_article
from news_etl.dates import parse_date
from news_etl.errors import ConfigError, DateParseError, FeedError, PageError
from news_etl.feeds import parse_feed
from news_etl.sources import load_source
from news_etl.urls import normalize_url

settings.register_profile("default", max_examples=150, deadline=2000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=5000, deadline=5000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# Inputs that look a little like what they are meant to be find more than random bytes alone.
FEED_PIECES = st.sampled_from([
    b'<?xml version="1.0"?>', b"<rss version=\"2.0\">", b"<channel>", b"<item>", b"</item>", b"<title>",
    b"</title>", b"<link>http://e.org/a</link>", b"<pubDate>Fri, 01 Mar 2024 20:19:00 GMT</pubDate>",
    b'<feed xmlns="http://www.w3.org/2005/Atom">', b"<entry>", b"<link href='/x'/>", b"&amp;", b"&nbsp;",
    b"&", b"<!DOCTYPE x [<!ENTITY a \"aaaa\">]>", b"&a;", b"<![CDATA[", b"]]>", b"\xff\xfe", b"\x00",
    b"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">", b"<urlset>", b"<loc>", b"</loc>",
])
HTML_PIECES = st.sampled_from([
    b"<html>", b"<head>", b"<meta charset='windows-1256'>", b"<body>", b"<p>", b"</p>", b"<article>",
    b"<h1>Title</h1>", b"<time datetime='2024-03-01T10:00:00+03:30'>", b"<script type='application/ld+json'>",
    b'{"@type": "NewsArticle", "datePublished": "2024-13-45"}', b"</script>", b"<div class='related'>",
    b"<meta property='article:published_time' content='yesterday'>", b"\xe9\xe8", b"<!--", b"-->", b"<",
])


def _joined(pieces):
    return st.lists(st.one_of(pieces, st.binary(max_size=20)), max_size=30).map(b"".join)


@given(st.one_of(st.binary(max_size=2000), _joined(FEED_PIECES)))
def test_feed_parser_gives_a_feed_or_a_feed_error(data):
    try:
        feed = parse_feed(data, url="http://example.org/feed")
    except FeedError as exc:
        assert "http://example.org/feed" in str(exc)
        return
    for item in feed.items:
        assert item.published_at is None or item.published_at.tzinfo is not None


@given(st.one_of(st.binary(max_size=3000), _joined(HTML_PIECES)))
def test_page_parser_gives_an_article_or_a_page_error(data):
    try:
        article = parse_article(data, url="http://example.org/a")
    except PageError as exc:
        assert "http://example.org/a" in str(exc)
        return
    assert isinstance(article.body, str)
    assert article.published_at is None or article.published_at.tzinfo is not None


@given(st.one_of(st.text(max_size=60), st.from_regex(r"\A[0-9A-Za-z ,:+\-./()]{0,40}\Z")),
       st.sampled_from([None, "Asia/Tehran", "UTC"]))
def test_date_parser_gives_an_aware_date_none_or_a_date_error(text, tz):
    try:
        value = parse_date(text, tz=tz)
    except DateParseError:
        return
    assert value is None or (isinstance(value, datetime) and value.utcoffset() is not None)


@given(st.text(max_size=100))
def test_url_normalization_gives_a_url_or_a_value_error(text):
    try:
        url = normalize_url(text, base="http://example.org/")
    except ValueError:
        return
    assert isinstance(url, str) and "#" not in url


@given(st.text(max_size=400))
@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
def test_source_loader_gives_a_source_or_a_config_error(tmp_path, text):
    path = tmp_path / "fuzzed.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        source = load_source(path)
    except ConfigError as exc:
        assert str(path) in str(exc)
        return
    assert source.feeds


@pytest.mark.parametrize("text", [
    "name: x\ntimezone: UTC\nfeeds: ['http://e.org/{date:%Y']\n",   # an unclosed date field
    "name: x\ntimezone: UTC\nfeeds: [http://e.org/a]\nrules: {title: '//*[']}\n",
    "name: x\ntimezone: UTC\nfeeds: [http://e.org/a]\nrules: {body: {xpath: //p, regex: '(?P<'}}\n",
    "!!python/object/apply:os.system ['true']\n",                    # YAML that would run code
])
def test_hostile_source_files_are_config_errors(tmp_path, text):
    path = tmp_path / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=str(path)):
        load_source(path)
