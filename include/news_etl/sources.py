"""Sources are data: one YAML file per publisher, loaded and checked here.

A source file names the publisher, its time zone, its feeds and, optionally, per-source parsing
rules. Everything is validated at load time, so a typo fails when the DAG is parsed, with a message
that names the file, the key and the problem, instead of silently producing empty articles later.

Feed URLs may use `${NEWS_VAR}` / `${NEWS_VAR:-default}` (environment variables named NEWS_*
only: a source file must not be able to copy a credential from the environment into a URL) and `{date:%Y/%m/%d}` (the day being
collected): real sites publish per-day archive feeds and sitemaps, which is how a past day is found.

Rule regexes (rules.*.regex, story_codes.*) come from files anyone may edit and run on pages anyone
may write, so each application has a time limit (RULE_REGEX_TIMEOUT, through the `regex` package):
a pattern that backtracks catastrophically on one page makes that page's error, not a hung task.
No load-time check can tell every such pattern ((a|aa)+$ and (\w+\s?)+$ look harmless); a limit can.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import regex
import yaml
from lxml import etree

from news_etl import INCLUDE_DIR
from news_etl.errors import ConfigError, PageError
from news_etl.settings import lookup
from news_etl.yamlfiles import load_yaml

DEFAULT_SOURCES_DIR = INCLUDE_DIR / "sources" / "sample"

_ENV_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_DATE_FIELD = re.compile(r"\{date(?::([^}]*))?\}")
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_FORMAT_DIRECTIVE = re.compile(r"%(.)")
_INTERPOLATED_PREFIX = "NEWS_"
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")  # whitespace, controls, backslashes: no URL has them
_HOST = re.compile(r"[\w-]+(?:\.[\w-]+)*\.?")  # dot-separated labels (IDN letters too), no empty label
_STRPTIME_DIRECTIVES = {f"%{d}" for d in "aAwdbBmyYHIpMSfzZjUWcxXGuV%"}

# Seconds one rule regex may run on one text. Rules written for pages take microseconds; the limit
# only stops patterns that backtrack without end (the regex package checks it while matching).
RULE_REGEX_TIMEOUT = 1.0


class RuleRegexTimeout(PageError):
    """A source's rule regex ran out of time on one text: that page's error (named file and key)."""


@dataclass(frozen=True)
class RuleRegex:
    """A regex from a source file, applied with a time limit. Reads like a compiled re.Pattern."""

    compiled: regex.Pattern
    where: str  # "<file>: key 'rules.title.regex'"

    @property
    def pattern(self) -> str:
        return self.compiled.pattern

    @property
    def groups(self) -> int:
        return self.compiled.groups

    def search(self, text: str):
        return self._run(self.compiled.search, text)

    def fullmatch(self, text: str):
        return self._run(self.compiled.fullmatch, text)

    def _run(self, method, text: str):
        try:
            return method(text, timeout=RULE_REGEX_TIMEOUT)
        except TimeoutError:
            raise RuleRegexTimeout(f"{self.where}: regex '{self.pattern}' took longer than "
                                   f"{RULE_REGEX_TIMEOUT:g} s on a text of {len(text)} characters") from None


@dataclass(frozen=True)
class FieldRule:
    """Where one field lives on a page: an XPath, optionally a regex (group 1 or the whole match)
    applied to the text found, and for dates a strptime format."""

    xpath: etree.XPath
    regex: RuleRegex | None = None
    format: str | None = None


@dataclass(frozen=True)
class PageRules:
    title: FieldRule | None = None
    published: FieldRule | None = None
    updated: FieldRule | None = None
    story_code: FieldRule | None = None
    authors: FieldRule | None = None
    section: FieldRule | None = None
    body: FieldRule | None = None
    drop: tuple[etree.XPath, ...] = ()


@dataclass(frozen=True)
class StoryCodes:
    """How a source numbers its stories: the code's shape and where the URL carries it."""

    pattern: RuleRegex
    url: RuleRegex | None = None

    def normalize(self, raw: str | None) -> str | None:
        """The code as the source writes it, stripped, with ASCII digits; where the source's codes
        are numeric, only its digits ("No. 1119717" -> "1119717", "۱۱۱۹۷۱۷" -> "1119717")."""
        if raw is None:
            return None
        code = "".join(str(int(c)) if c.isdecimal() else c for c in " ".join(raw.split()))
        if code and not self.pattern.fullmatch(code):
            digits = "".join(c for c in code if c.isdecimal())
            if digits and self.pattern.fullmatch(digits):
                return digits
        return code or None

    def in_url(self, url: str | None) -> str | None:
        """The code the URL carries (normalized), or None when the source's URLs carry none."""
        if self.url is None or not url:
            return None
        match = self.url.search(url)
        return self.normalize(match.group(1)) if match else None


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    timezone: ZoneInfo
    feeds: tuple[str, ...]
    path: Path
    language: str | None = None
    story_codes: StoryCodes | None = None
    rules: PageRules = field(default_factory=PageRules)
    crawl_delay: float = 1.0

    def feed_urls(self, day: date) -> list[str]:
        """The feed URLs to fetch when collecting `day`: templates are filled in, duplicates dropped."""
        urls = [_DATE_FIELD.sub(lambda m: day.strftime(m.group(1) or "%Y-%m-%d"), f) for f in self.feeds]
        return list(dict.fromkeys(urls))


def sources_dir() -> Path:
    return Path(lookup("NEWS_ETL_SOURCES") or DEFAULT_SOURCES_DIR)


def load_sources(directory: Path | str | None = None) -> list[Source]:
    """Every `*.yaml` source in `directory` (default: $NEWS_ETL_SOURCES or the sample list), by
    name. The first bad file is a ConfigError (load_sources_leaving_out_broken keeps the others)."""
    sources, broken = load_sources_leaving_out_broken(directory)
    if broken:
        raise ConfigError(next(iter(broken.values())))
    return sources


def load_sources_leaving_out_broken(directory: Path | str | None = None) -> tuple[list[Source], dict[str, str]]:
    """Every source of `directory` that loads, and for each file that does not, its error (which
    names the file and the key), by the file's stem: one bad file leaves out its own source only.
    A missing or empty directory is still a ConfigError: then no source can run."""
    directory = Path(directory) if directory else sources_dir()
    if not directory.is_dir():
        raise ConfigError(f"{directory}: sources directory not found (set NEWS_ETL_SOURCES)")
    paths = sorted(directory.glob("*.yaml"))
    if not paths:
        raise ConfigError(f"{directory}: no *.yaml source files")
    sources: list[Source] = []
    broken: dict[str, str] = {}
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            source = load_source(path)
        except ConfigError as exc:
            broken[path.stem] = str(exc)
            continue
        if source.name in seen:
            broken[path.stem] = f"{path}: key 'name': '{source.name}' is already used by {seen[source.name]}"
            continue
        seen[source.name] = path
        sources.append(source)
    return sources, broken


def load_source(path: Path | str) -> Source:
    path = Path(path)
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"), lambda node: _refuse_duplicate_keys(path, node, ""))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read source file: {exc}") from exc
    return _Reader(path).source(raw)


def _refuse_duplicate_keys(path: Path, node: yaml.Node, key: str) -> None:
    """YAML keeps the last of two equal keys without a word: a second `feeds:` would silently
    replace the first. Each mapping's keys are compared before anything is constructed."""
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            where = f"{key}.{name}" if key else name
            line = key_node.start_mark.line + 1
            if name in seen:
                raise ConfigError(f"{path}: key '{where}': duplicate key (line {line}; first on line {seen[name]})")
            seen[name] = line
            _refuse_duplicate_keys(path, value_node, where)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicate_keys(path, item, f"{key}[{i}]")


class _Reader:
    """Turns one parsed YAML document into a Source, naming file and key in every error."""

    TOP_KEYS = {"name", "title", "timezone", "language", "feeds", "story_codes", "rules", "crawl_delay"}
    RULE_KEYS = {"title", "published", "updated", "story_code", "authors", "section", "body", "drop"}
    FIELD_KEYS = {"xpath", "regex", "format"}

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: key '{key}': {problem}")

    def mapping(self, value: Any, key: str, allowed: set[str]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(key, f"expected a mapping, got {type(value).__name__}")
        for k in value:
            if k not in allowed:
                where = f"{key}.{k}" if key else str(k)
                raise self.fail(where, f"unknown key (expected one of: {', '.join(sorted(allowed))})")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected a non-empty string")
        return value

    def source(self, raw: Any) -> Source:
        raw = self.mapping(raw if raw is not None else {}, "", self.TOP_KEYS)
        for required in ("name", "timezone", "feeds"):
            if required not in raw:
                raise self.fail(required, "missing (required)")
        name = self.text(raw["name"], "name")
        if not _NAME.match(name):
            raise self.fail("name", f"'{name}' must be lower-case letters, digits and dashes")
        tz_name = self.text(raw["timezone"], "timezone")
        try:
            timezone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail("timezone", f"'{tz_name}' is not an IANA time zone (e.g. Asia/Tehran)") from None
        delay = raw.get("crawl_delay", 1.0)
        # YAML reads .nan, .inf and yes/true as numbers and booleans (bool is an int in Python).
        if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not math.isfinite(delay) or delay < 0:
            raise self.fail("crawl_delay", f"expected a finite number of seconds >= 0, got {delay!r}")
        return Source(
            name=name,
            title=self.text(raw.get("title", name), "title"),
            timezone=timezone,
            feeds=self.feeds(raw["feeds"]),
            path=self.path,
            language=self.text(raw["language"], "language") if "language" in raw else None,
            story_codes=self.story_codes(raw["story_codes"]) if "story_codes" in raw else None,
            rules=self.rules(raw.get("rules") or {}),
            crawl_delay=float(delay),
        )

    def feeds(self, value: Any) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("feeds", "expected a non-empty list of feed URLs")
        urls = []
        for i, item in enumerate(value):
            key = f"feeds[{i}]"
            url = self.expand_env(self.text(item, key), key)
            probe = _DATE_FIELD.sub(lambda m: date(2024, 3, 1).strftime(m.group(1) or "%Y-%m-%d"), url)
            self.check_url(url, probe, key)
            if "{" in probe or "}" in probe:
                raise self.fail(key, f"'{url}' has a brace that is not a {{date:FORMAT}} field")
            urls.append(url)
        return tuple(urls)

    def check_url(self, url: str, probe: str, key: str) -> None:
        """An absolute http(s) URL with a host and a port in 1-65535; ``probe`` is it with its date filled in."""
        if _URL_FORBIDDEN.search(probe):
            raise self.fail(key, f"{url!r} is not a URL: it has whitespace, a control character or a backslash")
        try:
            parts = urlsplit(probe)
            port = parts.port  # urllib reads the port only when asked, and raises for a bad one
        except ValueError as exc:
            raise self.fail(key, f"'{url}' is not a URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise self.fail(key, f"'{url}' is not an http(s) URL")
        host = parts.hostname or ""
        if not host or not (":" in host or _HOST.fullmatch(host)):  # an IPv6 literal was checked by urlsplit
            raise self.fail(key, f"'{url}' has no valid host name ('{host}')")
        if port == 0:
            raise self.fail(key, f"'{url}': port 0 is out of range 1-65535")

    def expand_env(self, value: str, key: str) -> str:
        def replace(m: re.Match) -> str:
            var, default = m.group(1), m.group(2)
            if not var.startswith(_INTERPOLATED_PREFIX):
                raise self.fail(key, f"${{{var}}}: only environment variables named {_INTERPOLATED_PREFIX}* "
                                     f"may be used in feed URLs")
            if var in os.environ and os.environ[var]:
                return os.environ[var].rstrip("/")
            if default is not None:
                return default
            raise self.fail(key, f"environment variable {var} is not set and has no default")

        return _ENV_VAR.sub(replace, value)

    def regex(self, value: Any, key: str) -> RuleRegex:
        try:
            pattern = regex.compile(self.text(value, key))
        except regex.error as exc:
            raise self.fail(key, f"invalid regular expression: {exc}") from None
        return RuleRegex(pattern, where=f"{self.path}: key '{key}'")

    def xpath(self, value: Any, key: str) -> etree.XPath:
        try:
            return etree.XPath(self.text(value, key))
        except etree.XPathSyntaxError as exc:
            raise self.fail(key, f"invalid XPath '{value}': {exc}") from None

    def story_codes(self, value: Any) -> StoryCodes:
        value = self.mapping(value, "story_codes", {"pattern", "url"})
        url = self.regex(value["url"], "story_codes.url") if "url" in value else None
        if url is not None and url.groups < 1:
            raise self.fail("story_codes.url", "needs a capturing group around the code")
        return StoryCodes(pattern=self.regex(value.get("pattern", r"\d+"), "story_codes.pattern"), url=url)

    def rules(self, value: Any) -> PageRules:
        value = self.mapping(value, "rules", self.RULE_KEYS)
        drop = value.get("drop", [])
        if not isinstance(drop, list):
            raise self.fail("rules.drop", "expected a list of XPaths")
        fields = {k: self.field_rule(v, f"rules.{k}") for k, v in value.items() if k != "drop"}
        return PageRules(**fields, drop=tuple(self.xpath(x, f"rules.drop[{i}]") for i, x in enumerate(drop)))

    def field_rule(self, value: Any, key: str) -> FieldRule:
        if isinstance(value, str):
            return FieldRule(xpath=self.xpath(value, key))
        value = self.mapping(value, key, self.FIELD_KEYS)
        if "xpath" not in value:
            raise self.fail(f"{key}.xpath", "missing (required)")
        fmt = value.get("format")
        if fmt is not None:
            self.text(fmt, f"{key}.format")
            if key not in ("rules.published", "rules.updated"):
                raise self.fail(f"{key}.format", "only the published and updated rules take a date format")
            unknown = sorted({f"%{d}" for d in _FORMAT_DIRECTIVE.findall(fmt)} - _STRPTIME_DIRECTIVES)
            if unknown:
                raise self.fail(f"{key}.format", f"'{fmt}' uses {', '.join(unknown)}, which strptime does not know "
                                                 f"(e.g. '%A %d %B %Y - %H:%M')")
        return FieldRule(
            xpath=self.xpath(value["xpath"], f"{key}.xpath"),
            regex=self.regex(value["regex"], f"{key}.regex") if "regex" in value else None,
            format=fmt,
        )
