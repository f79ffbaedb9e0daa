"""Watched terms are data: the terms and entities whose mentions the load counts, from one YAML file.

    terms:
      - name: North Korea           # how reports name it
        kind: place                 # person, organization, place or topic (default: topic)
        aliases: [DPRK, Pyongyang]  # other spellings that count as a mention of it

The name always counts as a mention too. Matching is case-insensitive, on whole words. The file is
include/watch_terms.yaml unless NEWS_ETL_WATCH_TERMS names another. Everything is checked when the
file is read: an error names the file, the key and the problem.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from news_etl import INCLUDE_DIR
from news_etl.errors import ConfigError
from news_etl.settings import lookup
from news_etl.yamlfiles import load_yaml

DEFAULT_WATCH_TERMS = INCLUDE_DIR / "watch_terms.yaml"
KINDS = ("person", "organization", "place", "topic")


@dataclass(frozen=True)
class WatchTerm:
    name: str
    kind: str
    aliases: tuple[str, ...]  # every spelling that counts, the name first

    def as_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "aliases": list(self.aliases)}


def watch_terms_file() -> Path:
    return Path(lookup("NEWS_ETL_WATCH_TERMS") or DEFAULT_WATCH_TERMS)


def load_watch_terms(path: Path | str | None = None) -> list[WatchTerm]:
    """The terms of `path` (default: watch_terms_file()), in file order."""
    path = Path(path) if path else watch_terms_file()
    try:
        raw = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read watched-terms file: {exc}") from exc
    return _Reader(path).terms(raw)


class _Reader:
    """Turns one parsed YAML document into WatchTerms, naming file and key in every error."""

    TERM_KEYS = {"name", "kind", "aliases"}

    def __init__(self, path: Path):
        self.path = path

    def fail(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"{self.path}: key '{key}': {problem}")

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "expected a non-empty string")
        return " ".join(value.split())

    def terms(self, raw: Any) -> list[WatchTerm]:
        if not isinstance(raw, dict) or set(raw) != {"terms"}:
            raise self.fail("terms", "expected a mapping with the single key 'terms'")
        if not isinstance(raw["terms"], list):
            raise self.fail("terms", "expected a list of terms")
        terms: list[WatchTerm] = []
        owner: dict[str, str] = {}  # spelling (case-folded) -> the term it belongs to
        for i, item in enumerate(raw["terms"]):
            term = self.term(item, f"terms[{i}]")
            for j, spelling in enumerate(term.aliases):
                other = owner.setdefault(spelling.casefold(), term.name)
                if other != term.name:
                    key = f"terms[{i}].name" if j == 0 else f"terms[{i}].aliases"
                    raise self.fail(key, f"'{spelling}' already belongs to the term '{other}'")
            terms.append(term)
        return terms

    def term(self, item: Any, key: str) -> WatchTerm:
        if not isinstance(item, dict):
            raise self.fail(key, f"expected a mapping with name, kind and aliases, got {type(item).__name__}")
        for k in item:
            if k not in self.TERM_KEYS:
                raise self.fail(f"{key}.{k}", f"unknown key (expected one of: {', '.join(sorted(self.TERM_KEYS))})")
        if "name" not in item:
            raise self.fail(f"{key}.name", "missing (required)")
        name = self.text(item["name"], f"{key}.name")
        kind = item.get("kind", "topic")
        if kind not in KINDS:
            raise self.fail(f"{key}.kind", f"'{kind}' is not one of: {', '.join(KINDS)}")
        aliases = item.get("aliases", [])
        if not isinstance(aliases, list):
            raise self.fail(f"{key}.aliases", "expected a list of strings")
        spellings: dict[str, str] = {name.casefold(): name}  # the first of each case-folded spelling
        for j, alias in enumerate(aliases):
            alias = self.text(alias, f"{key}.aliases[{j}]")
            spellings.setdefault(alias.casefold(), alias)
        return WatchTerm(name=name, kind=kind, aliases=tuple(spellings.values()))
