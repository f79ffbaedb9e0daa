"""Quality suites as files: the common suite plus per-source overrides, merged and checked.

include/expectations/common.yaml holds the checks every source goes through;
include/expectations/sources/<source>.yaml may change thresholds and parameters, replace parts of
a check (same id), disable one (`disabled: true`) or add new ones. Mistakes fail with the file,
the key and the problem. Turning checks into Great Expectations objects happens in quality.py.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from news_etl import INCLUDE_DIR
from news_etl.errors import ConfigError
from news_etl.settings import lookup
from news_etl.yamlfiles import load_yaml

DEFAULT_SUITES_DIR = INCLUDE_DIR / "expectations"
ACTIONS = ("quarantine", "block", "record")
CONDITIONS = ("story_codes", "language")
_CHECK_KEYS = {"id", "type", "kwargs", "action", "when", "description", "disabled"}


@dataclass(frozen=True)
class Check:
    id: str
    type: str
    kwargs: dict
    action: str = "quarantine"
    when: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Suite:
    source: str
    max_failed_ratio: float
    parameters: dict[str, Any]
    checks: tuple[Check, ...] = field(default_factory=tuple)
    files: tuple[Path, ...] = ()


def suites_dir() -> Path:
    return Path(lookup("NEWS_ETL_SUITES") or DEFAULT_SUITES_DIR)


def suite_files(source: str, directory: Path | None = None) -> tuple[Path, ...]:
    """The files a source's suite is made of (Suite.files), found without reading them: common.yaml
    and sources/<source>.yaml if there is one. What a run's fingerprint hashes."""
    directory = Path(directory) if directory else suites_dir()
    override_path = directory / "sources" / f"{source}.yaml"
    return (directory / "common.yaml", *((override_path,) if override_path.is_file() else ()))


def load_suite(source: str, directory: Path | None = None) -> Suite:
    """The suite of one source: common.yaml merged with sources/<source>.yaml if there is one."""
    directory = Path(directory) if directory else suites_dir()
    common_path, *overrides = suite_files(source, directory)
    common = _read(common_path)
    thresholds = dict(_mapping(common.get("thresholds", {}), common_path, "thresholds"))
    parameters = dict(_mapping(common.get("parameters", {}), common_path, "parameters"))
    checks: dict[str, dict] = {}
    for i, raw in enumerate(_list(common.get("checks"), common_path, "checks")):
        check = _check_entry(raw, common_path, f"checks[{i}]")
        if check["id"] in checks:
            raise ConfigError(f"{common_path}: key 'checks[{i}].id': '{check['id']}' is used twice")
        checks[check["id"]] = check
    files = [common_path]

    for override_path in overrides:
        override = _read(override_path)
        files.append(override_path)
        thresholds.update(_mapping(override.get("thresholds", {}), override_path, "thresholds"))
        parameters.update(_mapping(override.get("parameters", {}), override_path, "parameters"))
        for i, raw in enumerate(_list(override.get("checks", []), override_path, "checks")):
            entry = _check_entry(raw, override_path, f"checks[{i}]", partial=True)
            if entry.get("disabled"):
                checks.pop(entry["id"], None)
            elif entry["id"] in checks:
                checks[entry["id"]] = {**checks[entry["id"]], **entry}
            elif "type" in entry:
                checks[entry["id"]] = entry
            else:
                raise ConfigError(f"{override_path}: key 'checks[{i}]': '{entry['id']}' is not a common check, "
                                  "so it needs its own type and kwargs")

    unknown = set(thresholds) - {"max_failed_ratio"}
    if unknown:
        raise ConfigError(f"{files[-1]}: key 'thresholds.{sorted(unknown)[0]}': unknown key "
                          "(expected: max_failed_ratio)")
    ratio = thresholds.get("max_failed_ratio", 0.2)
    if not isinstance(ratio, (int, float)) or not 0 <= ratio <= 1:
        raise ConfigError(f"{files[-1]}: key 'thresholds.max_failed_ratio': expected a number from 0 to 1")
    return Suite(
        source=source,
        max_failed_ratio=float(ratio),
        parameters=parameters,
        checks=tuple(Check(**{k: v for k, v in c.items() if k != "disabled"}) for c in checks.values()),
        files=tuple(files),
    )


def _read(path: Path) -> dict:
    try:
        raw = copy.deepcopy(_parse(path.read_text(encoding="utf-8")))  # a copy: the suite's dicts are its own
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read suite file: {exc}") from exc
    return _mapping(raw if raw is not None else {}, path, "")


@functools.lru_cache(maxsize=8)
def _parse(text: str) -> Any:
    """common.yaml is read for every source (a plan reads thousands of suites): parsed once per
    text, which is read each time, so an edited file is parsed again. A copy costs a sixth of a
    parse. A document that does not parse raises each time (errors are not cached)."""
    return load_yaml(text)


def _mapping(value: Any, path: Path, key: str) -> dict:
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: key '{key or '(top level)'}': expected a mapping")
    return value


def _list(value: Any, path: Path, key: str) -> list:
    if not isinstance(value, list):
        raise ConfigError(f"{path}: key '{key}': expected a list of checks")
    return value


def _check_entry(raw: Any, path: Path, key: str, partial: bool = False) -> dict:
    entry = _mapping(raw, path, key)
    for k in entry:
        if k not in _CHECK_KEYS:
            raise ConfigError(f"{path}: key '{key}.{k}': unknown key (expected one of: {', '.join(sorted(_CHECK_KEYS))})")
    required = ("id",) if partial else ("id", "type", "kwargs")
    for k in required:
        if k not in entry:
            raise ConfigError(f"{path}: key '{key}.{k}': missing (required)")
    if not isinstance(entry["id"], str) or not entry["id"]:
        raise ConfigError(f"{path}: key '{key}.id': expected a name")
    if "type" in entry and (not isinstance(entry["type"], str) or not entry["type"].startswith("expect_")):
        raise ConfigError(f"{path}: key '{key}.type': expected a Great Expectations type (expect_...)")
    if "kwargs" in entry:
        _mapping(entry["kwargs"], path, f"{key}.kwargs")
    if entry.get("action", "quarantine") not in ACTIONS:
        raise ConfigError(f"{path}: key '{key}.action': expected one of {', '.join(ACTIONS)}")
    if entry.get("when") is not None and entry["when"] not in CONDITIONS:
        raise ConfigError(f"{path}: key '{key}.when': expected one of {', '.join(CONDITIONS)}")
    return entry
