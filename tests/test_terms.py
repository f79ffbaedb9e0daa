"""The watched-terms file: what it may say, and errors that name the file, the key and the problem."""

from __future__ import annotations

import pytest

from news_etl.errors import ConfigError
from news_etl.terms import DEFAULT_WATCH_TERMS, WatchTerm, load_watch_terms, watch_terms_file


def test_terms_with_aliases_and_kinds(write_file):
    path = write_file("terms.yaml", """
terms:
  - name: North Korea
    kind: place
    aliases: [DPRK, Pyongyang, dprk, "  North   Korean "]
  - name: energy prices
""")
    assert load_watch_terms(path) == [
        WatchTerm("North Korea", "place", ("North Korea", "DPRK", "Pyongyang", "North Korean")),
        WatchTerm("energy prices", "topic", ("energy prices",)),
    ]


def test_the_shipped_file_loads_and_is_the_default(monkeypatch):
    monkeypatch.delenv("NEWS_ETL_WATCH_TERMS", raising=False)
    assert watch_terms_file() == DEFAULT_WATCH_TERMS
    terms = {t.name: t for t in load_watch_terms()}
    assert {"DPRK", "Pyongyang"} <= set(terms["North Korea"].aliases)


def test_the_file_can_be_chosen_by_environment(write_file, monkeypatch):
    monkeypatch.setenv("NEWS_ETL_WATCH_TERMS", str(write_file("mine.yaml", "terms: []")))
    assert load_watch_terms() == []


@pytest.mark.parametrize("text, key, problem", [
    ("[]", "terms", "expected a mapping with the single key 'terms'"),
    ("terms: {a: 1}", "terms", "expected a list of terms"),
    ("terms: [Iran]", "terms[0]", "expected a mapping with name, kind and aliases, got str"),
    ("terms: [{kind: place}]", "terms[0].name", "missing (required)"),
    ("terms: [{name: ''}]", "terms[0].name", "expected a non-empty string"),
    ("terms: [{name: Iran, kind: country}]", "terms[0].kind",
     "'country' is not one of: person, organization, place, topic"),
    ("terms: [{name: Iran, alias: [Tehran]}]", "terms[0].alias", "unknown key (expected one of: aliases, kind, name)"),
    ("terms: [{name: Iran, aliases: Tehran}]", "terms[0].aliases", "expected a list of strings"),
    ("terms: [{name: Iran, aliases: [Tehran, 3]}]", "terms[0].aliases[1]", "expected a non-empty string"),
    ("terms: [{name: Iran}, {name: IRAN}]", "terms[1].name", "'IRAN' already belongs to the term 'Iran'"),
    ("terms: [{name: Iran, aliases: [Tehran]}, {name: Capitals, aliases: [tehran]}]", "terms[1].aliases",
     "'tehran' already belongs to the term 'Iran'"),
])
def test_errors_name_file_key_and_problem(write_file, text, key, problem):
    path = write_file("terms.yaml", text)
    with pytest.raises(ConfigError) as error:
        load_watch_terms(path)
    assert str(error.value) == f"{path}: key '{key}': {problem}"


def test_unreadable_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=f"{tmp_path}/missing.yaml: cannot read watched-terms file"):
        load_watch_terms(tmp_path / "missing.yaml")
