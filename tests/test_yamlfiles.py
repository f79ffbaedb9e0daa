"""YAML files read by libyaml give what PyYAML's pure-Python loader gives: the same data for the
same documents, and the same errors (ConfigError with file and key, or the YAML error) for bad ones."""

import math

import pytest
import yaml

from news_etl import yamlfiles
from news_etl.errors import ConfigError
from news_etl.sources import DEFAULT_SOURCES_DIR, load_source
from news_etl.suites import DEFAULT_SUITES_DIR, load_suite
from news_etl.terms import DEFAULT_WATCH_TERMS, load_watch_terms

# Documents where the two parsers could part: types YAML 1.1 resolves, anchors and merges, flow
# styles, odd whitespace, and broken ones (each must fail with the pure-Python loader's message).
DOCUMENTS = [
    "",
    "# only a comment\n",
    "a: 1\nb: 1.5\nc: .nan\nd: .inf\ne: yes\nf: off\ng: ~\nh: 2024-03-01\ni: 2024-03-01 10:00:00+03:30\n",
    "j: 0x1f\nk: 017\nl: 1_000\nm: '017'\nn: !!str 5\no: !!binary aGVsbG8=\n",
    "base: &b {x: 1, y: [1, 2]}\nother:\n  <<: *b\n  y: 3\nlist: [*b, *b]\n",
    "text: |\n  two\n  lines\nfolded: >-\n  one\n  line\nquoted: \"tab\\there \\u00e9\"\n",
    "\ufeffname: bom\nutf8: تهران — Zürich\n",
    "flow: {a: [1, {b: c}], 'd e': \"f\"}\nempty: {}\nnone: []\n",
    "key with spaces: v\n? complex key\n: value\n",
    "a: 1\na: 2\n",                      # equal keys (sources refuse them; plain YAML keeps the last)
    "a: 'unclosed\n",
    "a:\n  b: 1\n c: 2\n",
    "a: [1, 2\n",
    "a: 1\n\tb: 2\n",
    "a: \x07\n",
    "? [a, b]\n: 1\n",                  # an unhashable key: a constructor error
    "a: !!python/object:os.system x\n",  # a tag the safe loader refuses
    "a: *missing\n",
    "a: 1\n---\nb: 2\n",                 # two documents where one is expected
    "- a\nb: c\n",
    "a: b: c\n",
]


def outcome(text: str, loader: type):
    try:
        return "data", yamlfiles.load_yaml(text, loader=loader)
    except yaml.YAMLError as exc:
        return "error", type(exc).__name__, str(exc)


def same(a, b) -> bool:
    """Equal, NaN equal to NaN (a .nan value is never == itself)."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


def test_libyaml_is_what_reads_the_files():
    assert yamlfiles.FAST_LOADER is yaml.CSafeLoader  # PyYAML built with libyaml, as the lock file pins it


@pytest.mark.parametrize("text", DOCUMENTS)
def test_both_loaders_give_the_same_data_and_errors(text):
    assert same(outcome(text, yaml.CSafeLoader), outcome(text, yaml.SafeLoader))


def test_broken_documents_fail_with_the_pure_python_message():
    """libyaml words its errors differently ("did not find expected key"): the message raised is
    the pure-Python loader's, the one the files' users have always been shown."""
    text = "a:\n  b: 1\n c: 2\n"
    with pytest.raises(yaml.YAMLError) as libyaml_error:
        yaml.load(text, Loader=yaml.CSafeLoader)
    with pytest.raises(yaml.YAMLError) as pure_error:
        yaml.load(text, Loader=yaml.SafeLoader)
    assert str(libyaml_error.value) != str(pure_error.value)  # else this test proves nothing
    assert outcome(text, yaml.CSafeLoader) == ("error", type(pure_error.value).__name__, str(pure_error.value))


SOURCE = (DEFAULT_SOURCES_DIR / "tehran-wire.yaml").read_text(encoding="utf-8")
BAD_SOURCES = [
    SOURCE.replace("timezone:", "timezone: Asia/Tehran\ntimezone:", 1),  # duplicate key: line numbers
    SOURCE.replace("feeds:", "feeds:\n  - ftp://127.0.0.1:9/x", 1),
    SOURCE + "rules: [\n",
    SOURCE.replace("name:", "name: [", 1),
    SOURCE.replace("title:", "\ttitle:", 1),
    "",
]


def load_source_with(loader: type, path):
    yamlfiles_loader, yamlfiles.FAST_LOADER = yamlfiles.FAST_LOADER, loader
    try:
        source = load_source(path)
        return "source", source.name, source.title, source.timezone.key, source.feeds, source.crawl_delay
    except ConfigError as exc:
        return "error", str(exc)
    finally:
        yamlfiles.FAST_LOADER = yamlfiles_loader


@pytest.mark.parametrize("text", [SOURCE, *BAD_SOURCES])
def test_source_files_load_and_fail_alike_both_ways(text, write_file):
    path = write_file("tehran-wire.yaml", text)
    fast, pure = load_source_with(yaml.CSafeLoader, path), load_source_with(yaml.SafeLoader, path)
    assert fast == pure
    assert fast[0] == ("source" if text == SOURCE else "error")


def test_every_shipped_file_reads_the_same_both_ways():
    files = [*DEFAULT_SOURCES_DIR.glob("*.yaml"), *DEFAULT_SUITES_DIR.rglob("*.yaml"), DEFAULT_WATCH_TERMS]
    assert len(files) >= 9
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert same(yamlfiles.load_yaml(text, loader=yaml.CSafeLoader),
                    yamlfiles.load_yaml(text, loader=yaml.SafeLoader)), path
    assert load_suite("harbor-times").checks and load_watch_terms()
