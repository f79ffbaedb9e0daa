"""What PostgreSQL can store: a staging record's values checked and made storable before COPY.

Python accepts values PostgreSQL refuses: a UTC offset of +20:00, a date whose UTC year is 0 or
10000, a NUL character, a lone surrogate (from `&#xD800;` in a feed or `\\ud800` in JSON-LD), a
link whose port is 99999. One such value would fail the whole COPY, and with it the source's day,
on every retry. Here it is replaced by something storable (the character removed, the date left
out) and named in the record's `unstorable` reason, so the quality gate quarantines that row alone
and the reason keeps the original value.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

TIMESTAMP_FIELDS = ("published_at", "feed_published_at", "updated_at")
URL_FIELDS = ("url", "canonical_url")
MAX_OFFSET = timedelta(hours=15, minutes=59)  # PostgreSQL refuses a larger time-zone displacement
_SURROGATE = re.compile("[\ud800-\udfff]")


def storable_text(text: str) -> tuple[str, str | None]:
    """`text` without what PostgreSQL cannot store, and what was removed (None when nothing)."""
    problems = []
    if "\x00" in text:
        problems.append("a NUL character")
        text = text.replace("\x00", "")
    if _SURROGATE.search(text):
        problems.append("a lone surrogate")
        text = _SURROGATE.sub("\ufffd", text)
    return text, " and ".join(problems) or None


def timestamp_problem(value: str) -> str | None:
    """Why PostgreSQL could not store the ISO date `value` as timestamptz, or None if it can."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return "not an ISO 8601 date"
    offset = moment.utcoffset()
    if offset is None:
        return None  # no offset: staged as text, never cast (the gate's time-zone check stops it)
    if abs(offset) > MAX_OFFSET:
        return f"its UTC offset {_offset(offset)} is beyond ±15:59"
    try:  # PostgreSQL would store year 0 or 10000, but no reader of the warehouse could read it back
        moment.astimezone(timezone.utc)
    except OverflowError:
        return "its UTC year is outside 1-9999"
    return None


def url_problem(url: str) -> str | None:
    try:
        urlsplit(url).port
    except ValueError as exc:  # "Port out of range 0-65535", "Port could not be cast to integer value"
        return str(exc)
    return None


def storable_record(record: dict) -> tuple[dict, list[str]]:
    """The record with every value PostgreSQL can store, and a reason per value that was changed."""
    out, reasons = {}, []
    for key, value in record.items():
        if isinstance(value, str):
            value, removed = storable_text(value)
            if removed:
                reasons.append(f"{key} contained {removed} (removed)")
        elif isinstance(value, (list, tuple)):
            cleaned = []
            for item in value:
                if isinstance(item, str):
                    item, removed = storable_text(item)
                    if removed:
                        reasons.append(f"{key} contained {removed} (removed)")
                cleaned.append(item)
            value = cleaned
        if key in TIMESTAMP_FIELDS and isinstance(value, str):
            problem = timestamp_problem(value)
            if problem:
                reasons.append(f"{key} {value!r}: {problem} (left out)")
                value = None
        if key in URL_FIELDS and isinstance(value, str):
            problem = url_problem(value)
            if problem:
                reasons.append(f"{key} {value!r}: {problem}")
        out[key] = value
    return out, list(dict.fromkeys(reasons))


def _offset(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    minutes = int(abs(offset).total_seconds()) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
