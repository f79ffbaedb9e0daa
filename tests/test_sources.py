"""Source files: a valid file loads into a Source; every kind of mistake names file, key and problem."""

import re
from datetime import date

import pytest

from news_etl.errors import ConfigError
from news_etl.sources import DEFAULT_SOURCES_DIR, StoryCodes, load_source, load_sources

VALID = """
name: daily-star
title: Daily Star
timezone: Asia/Tehran
language: en
feeds:
  - ${NEWS_STAR_URL:-http://127.0.0.1:9}/rss.xml
  - http://127.0.0.1:9/archive/{date:%Y/%m/%d}/rss.xml
story_codes:
  pattern: '\\d{7}'
  url: '/news/(\\d+)/'
rules:
  title: //h1
  published: {xpath: '//div[@class="date"]', format: '%A %d %B %Y - %H:%M'}
  story_code: {xpath: '//div[@class="code"]', regex: 'Code\\s*:\\s*(\\d+)'}
  body: //div[@class="body"]
  drop: ['//div[@class="featured"]']
"""


def test_valid_source_loads_with_expanded_feeds(write_file, monkeypatch):
    monkeypatch.delenv("NEWS_STAR_URL", raising=False)
    source = load_source(write_file("star.yaml", VALID))
    assert source.name == "daily-star"
    assert source.timezone.key == "Asia/Tehran"
    assert source.feed_urls(date(2024, 3, 1)) == [
        "http://127.0.0.1:9/rss.xml",
        "http://127.0.0.1:9/archive/2024/03/01/rss.xml",
    ]
    assert source.story_codes.pattern.pattern == r"\d{7}"
    assert source.rules.published.format == "%A %d %B %Y - %H:%M"
    assert len(source.rules.drop) == 1


def test_environment_variable_wins_over_default(write_file, monkeypatch):
    monkeypatch.setenv("NEWS_STAR_URL", "http://127.0.0.1:4321/")
    source = load_source(write_file("star.yaml", VALID))
    assert source.feed_urls(date(2024, 3, 1))[0] == "http://127.0.0.1:4321/rss.xml"


@pytest.mark.parametrize(
    "change, key, problem",
    [
        (("title: Daily Star", "titel: Daily Star"), "titel", "unknown key"),
        (("timezone: Asia/Tehran", "timezone: Asia/Teheran"), "timezone", "not an IANA time zone"),
        (("  title: //h1", "  title: //h1[@class="), "rules.title", "invalid XPath"),
        (("  title: //h1", "  headline: //h1"), "rules.headline", "unknown key"),
        (("regex: 'Code\\s*:\\s*(\\d+)'", "regex: 'Code(\\d+'"), "rules.story_code.regex", "invalid regular expression"),
        (("  url: '/news/(\\d+)/'", "  url: '/news/\\d+/'"), "story_codes.url", "capturing group"),
        (("  - http://127.0.0.1:9/archive", "  - ftp://127.0.0.1:9/archive"), "feeds[1]", "not an http(s) URL"),
        (("${NEWS_STAR_URL:-http://127.0.0.1:9}", "${NEWS_STAR_URL}"), "feeds[0]", "NEWS_STAR_URL is not set"),
        (("name: daily-star", "name: Daily Star"), "name", "lower-case"),
        (("  body: //div[@class=\"body\"]", "  body: {regex: x}"), "rules.body.xpath", "missing"),
        (("  title: //h1", "  title: {xpath: //h1, format: '%Y'}"), "rules.title.format", "only the published"),
        (("format: '%A %d %B %Y - %H:%M'", "format: '%A %e %B %Y - %H:%M'"), "rules.published.format",
         "uses %e, which strptime does not know"),
        (("  title: //h1", "  title: {xpath: //h1, colour: red}"), "rules.title.colour", "unknown key"),
        (("  drop: ['//div[@class=\"featured\"]']", "  drop: ['//div[']"), "rules.drop[0]", "invalid XPath"),
        (("  drop: ['//div[@class=\"featured\"]']", "  drop: //div"), "rules.drop", "expected a list"),
        (("  pattern: '\\d{7}'", "  pattern: '(\\d{7}'"), "story_codes.pattern", "invalid regular expression"),
        # Numbers YAML reads that are no delay, and keys YAML would silently overwrite.
        *[(("language: en", f"language: en\ncrawl_delay: {value}"), "crawl_delay", f"got {shown}")
          for value, shown in ((".nan", "nan"), (".inf", "inf"), ("-.inf", "-inf"), ("true", "True"), ("-1", "-1"),
                               ("'2'", "'2'"))],
        (("language: en", "language: en\nname: other"), "name", "duplicate key (line 6; first on line 2)"),
        (("  body: //div", "  title: //h2\n  body: //div"), "rules.title", "duplicate key"),
        (("  url: '/news/(\\d+)/'", "  url: '/news/(\\d+)/'\n  url: '/n/(\\d+)/'"), "story_codes.url", "duplicate key"),
        # Feed URLs that are no URL, or name a port that cannot exist.
        *[(("  - http://127.0.0.1:9/archive", f"  - {url}"), "feeds[1]", problem) for url, problem in (
            ("http://127.0.0.1:99999/archive", "Port out of range"),
            ("http://127.0.0.1:0/archive", "port 0 is out of range"),
            ("http://127.0.0.1:-80/archive", "Port could not be cast"),
            ("http://127.0.0.1:http/archive", "Port could not be cast"),
            ("http://[::1/archive", "Invalid IPv6 URL"),
            ("http://exa mple.org/archive", "not a URL: it has whitespace"),
            ("http://example.org\\@127.0.0.1/archive", "backslash"),
            ("http://:80/archive", "no valid host name"),
            ("http://a..b/archive", "no valid host name"),
            ("http:///archive", "not an http(s) URL"),
        )],
        # Only NEWS_* variables: a source file must not copy a secret from the environment into a URL.
        (("${NEWS_STAR_URL:-http://127.0.0.1:9}", "${AIRFLOW_CONN_NEWS_WAREHOUSE:-http://127.0.0.1:9}"), "feeds[0]",
         "only environment variables named NEWS_*"),
        (("${NEWS_STAR_URL:-http://127.0.0.1:9}", "http://127.0.0.1:9/${HOME}"), "feeds[0]",
         "only environment variables named NEWS_*"),
    ],
)
def test_config_errors_name_file_key_and_problem(write_file, monkeypatch, change, key, problem):
    monkeypatch.delenv("NEWS_STAR_URL", raising=False)
    old, new = change
    assert old in VALID
    path = write_file("star.yaml", VALID.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_source(path)
    message = str(err.value)
    assert str(path) in message
    assert f"key '{key}'" in message
    assert problem in message


def test_missing_required_key_and_bad_yaml(write_file):
    with pytest.raises(ConfigError, match=r"key 'feeds': missing"):
        load_source(write_file("a.yaml", "name: a\ntimezone: UTC\n"))
    with pytest.raises(ConfigError, match=r"b.yaml: cannot read source file"):
        load_source(write_file("b.yaml", "name: [unclosed\n"))


def test_duplicate_names_in_a_list(tmp_path, write_file):
    write_file("list/a.yaml", "name: same\ntimezone: UTC\nfeeds: [http://127.0.0.1:9/a]\n")
    write_file("list/b.yaml", "name: same\ntimezone: UTC\nfeeds: [http://127.0.0.1:9/b]\n")
    with pytest.raises(ConfigError, match=r"b.yaml: key 'name': 'same' is already used by .*a.yaml"):
        load_sources(tmp_path / "list")


def test_sample_source_list_loads():
    names = [s.name for s in load_sources(DEFAULT_SOURCES_DIR)]
    assert names == ["harbor-times", "meridian-report", "nordic-dispatch", "prairie-courier", "tehran-wire",
                     "wadi-post"]


def test_online_source_list_loads():
    from news_etl import INCLUDE_DIR

    sources = load_sources(INCLUDE_DIR / "sources" / "online")
    assert len(sources) >= 5
    assert all(s.feed_urls(date(2024, 3, 1))[0].startswith("https://") for s in sources)


# (the source's code pattern, the code as found, the code stored)
STORY_CODES = [
    (r"\d{7}", "1119717", "1119717"),
    (r"\d{7}", "Story Code : 1119717", "1119717"),
    (r"\d{7}", " No. 1119717 ", "1119717"),
    (r"\d{7}", "\u06f1\u06f1\u06f1\u06f9\u06f7\u06f1\u06f7", "1119717"),  # Persian digits
    (r"\d{7}", "11197", "11197"),  # not the source's shape: kept as found, for the checks to flag
    (r"[A-Z]{2}-\d+", " AB-17 ", "AB-17"),
    (r"[A-Z]{2}-\d+", "AB-\u0661\u0667", "AB-17"),  # Arabic-Indic digits
    (r"\d+", "   ", None),
    (r"\d+", None, None),
]


@pytest.mark.parametrize("pattern, raw, stored", STORY_CODES)
def test_story_codes_are_normalized_to_the_sources_shape(pattern, raw, stored):
    assert StoryCodes(pattern=re.compile(pattern)).normalize(raw) == stored


@pytest.mark.parametrize("url, code", [
    ("https://x.example/news/1119717/storm-hits", "1119717"),
    ("https://x.example/news/storm-hits", None),
    (None, None),
])
def test_story_code_in_url(url, code):
    codes = StoryCodes(pattern=re.compile(r"\d{7}"), url=re.compile(r"/news/(\d+)/"))
    assert codes.in_url(url) == code
    assert StoryCodes(pattern=re.compile(r"\d{7}")).in_url(url) is None  # a source whose URLs carry none


@pytest.mark.parametrize("rule, hostile", [
    ("story_code: {xpath: '//div[@class=\"code\"]', regex: '(a|aa)+$'}", "a" * 40 + "!"),
    ("title: {xpath: //h1, regex: '(\\w|\\w\\w)+$'}", "word" * 10 + "!"),
])
def test_a_rule_regex_that_backtracks_without_end_is_that_pages_error(write_file, monkeypatch, rule, hostile):
    """(a|aa)+$ passes any load-time check and backtracks exponentially: each application has a time
    limit, and running out of it is the page's error (PageError naming page, file and key)."""
    from news_etl import sources
    from news_etl.articles import parse_article
    from news_etl.errors import PageError

    monkeypatch.setattr(sources, "RULE_REGEX_TIMEOUT", 0.2)
    field = rule.split(":")[0]
    text = VALID.replace({"story_code": "  story_code: {xpath: '//div[@class=\"code\"]', regex: 'Code\\s*:\\s*(\\d+)'}",
                          "title": "  title: //h1"}[field], f"  {rule}")
    path = write_file("star.yaml", text)
    source = load_source(path)
    page = (f'<html><body><h1>{hostile}</h1><div class="code">{hostile}</div>'
            f'<div class="body"><p>Body</p></div></body></html>').encode()
    with pytest.raises(PageError) as err:
        parse_article(page, url="http://127.0.0.1:9/news/1/", source=source)
    assert str(err.value).startswith(f"http://127.0.0.1:9/news/1/: {path}: key 'rules.{field}.regex': regex ")
    assert "took longer than 0.2 s" in str(err.value)
