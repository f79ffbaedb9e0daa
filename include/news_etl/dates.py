"""Date parsing for feeds and article pages: turn the date strings publishers write into aware datetimes.

A date keeps the offset its text states ("+03:30" stays +03:30, it is not converted to UTC), so the
publisher's local day survives; a date written without an offset takes the source's time zone.

Recognised, in this order:

1. ``formats``: strptime formats the caller passes (a source's own date layout). English month and
   day names (``%B %b %A %a``) and AM/PM (``%p``) are read the same under any process locale.
2. ISO 8601 / RFC 3339: ``2024-03-01T23:49:00+03:30``, ``...Z``, ``+0330``, ``+03``, fractional
   seconds (any number of digits; nanoseconds are cut to microseconds), a space instead of ``T``,
   missing seconds, date only ``2024-03-01``, ``2024/03/01``, the basic form ``20240301T234900Z``, and
   a zone name after the time (``2024-03-01 20:19 UTC``).
3. RFC 822 / 1123 / 2822 as in RSS: ``Fri, 01 Mar 2024 20:19:00 GMT`` with or without the weekday,
   2-digit years (< 50 is 20xx), single-digit days, missing seconds, full or odd month names
   (``March``, ``Sept``), any letter case, extra spaces, ``-`` between the date parts, numeric zones
   (``+0330``, ``-05:00``), named zones (see ``_ZONE_OFFSETS``), ``GMT+0330`` and a trailing comment
   such as ``(UTC)``.
4. Month-first English forms: ``March 1, 2024 20:19 GMT``, ``Mar 1 2024``, and the asctime /
   JavaScript layout ``Fri Mar 01 2024 20:19:00 GMT+0000`` / ``Fri Mar  1 20:19:00 2024``.

Zone abbreviations that mean different places (IST, AST, BST is read as British Summer Time) are
listed only when one meaning dominates news feeds; an unknown abbreviation is an error, not a guess.
Single-letter military zones other than Z are not recognised.

The module is pure: no clock, no locale, no state; regexes are compiled once at import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from news_etl.datenames import MONTH_NUMBERS, WEEKDAY_NAMES, is_weekday, month_number
from news_etl.errors import ConfigError, DateParseError

__all__ = ["parse_date", "find_date", "find_dates", "to_utc", "isoformat", "resolve_zone", "FLOATING", "offset_stated",
           "in_zone"]

_ENGLISH_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

# Offsets in minutes. Ambiguous abbreviations (IST: India/Israel/Ireland, AST: Arabia/Atlantic) are
# left out on purpose: a wrong guess silently shifts a story into another day.
_ZONE_OFFSETS = {
    "Z": 0, "UT": 0, "UTC": 0, "GMT": 0, "WET": 0,
    "EST": -5 * 60, "EDT": -4 * 60, "CST": -6 * 60, "CDT": -5 * 60,
    "MST": -7 * 60, "MDT": -6 * 60, "PST": -8 * 60, "PDT": -7 * 60,
    "AKST": -9 * 60, "AKDT": -8 * 60, "HST": -10 * 60,
    "BST": 60, "WEST": 60, "CET": 60, "CEST": 120, "MET": 60, "MEST": 120,
    "EET": 120, "EEST": 180, "MSK": 180, "TRT": 180,
    "IRST": 210, "IRDT": 270, "GST": 240, "PKT": 300, "NPT": 345,
    "ICT": 420, "WIB": 420, "HKT": 480, "SGT": 480, "AWST": 480, "PHT": 480,
    "JST": 540, "KST": 540, "ACST": 570, "ACDT": 630, "AEST": 600, "AEDT": 660,
    "NZST": 720, "NZDT": 780,
}

# The zone of a wall time whose text stated no offset, where no source zone is known (the generic
# CLI path): pass it as ``tz`` and such dates come back in it instead of being refused. It behaves as
# UTC in arithmetic; isoformat() writes it without an offset and in_zone() gives it a real zone.
FLOATING = timezone(timedelta(0), "offset not stated")


def offset_stated(dt: datetime) -> bool:
    """Whether the date's text stated its offset (False for a FLOATING wall time)."""
    return dt.tzinfo is not FLOATING


def in_zone(dt: datetime | None, tz: tzinfo | None) -> datetime | None:
    """A FLOATING wall time placed in ``tz`` (the source's zone; zoneinfo picks the offset in force
    at that wall time); any other date, or no ``tz``, unchanged."""
    if dt is None or tz is None or dt.tzinfo is not FLOATING:
        return dt
    return dt.replace(tzinfo=tz)


_TIME = (r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:[.,](?P<fraction>\d+))?)?"
         r"(?:\s*(?P<ampm>[ap])\.?m\b\.?)?")
_NAME = r"[^\W\d_]{3,12}"  # a month name in any script: "Mar", "März", "марта"
_WEEKDAY = r"[^\W\d_]{2,13}(?:-[^\W\d_]+)?"  # "Fri", "Mo", "Segunda-feira"
# A zone is a numeric offset, a name, or a name followed by an offset ("GMT+0330", "UTC+3").
_ZONE = r"(?P<zone>[+-]\d{1,2}(?::?\d{2})?|[a-z]{1,5}(?:[+-]\d{1,2}(?::?\d{2})?)?)"

_ISO = re.compile(
    r"(?P<year>\d{4})[-/](?P<month>\d{1,2})[-/](?P<day>\d{1,2})"
    rf"(?:(?:t|\s+){_TIME}\s*{_ZONE}?)?",
    re.IGNORECASE,
)
_ISO_BASIC = re.compile(
    r"(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})"
    r"(?:t(?P<hour>\d{2})(?P<minute>\d{2})(?P<second>\d{2})?(?:[.,](?P<fraction>\d+))?"
    r"(?P<zone>z|[+-]\d{2}(?::?\d{2})?)?)?",
    re.IGNORECASE,
)
_RFC822 = re.compile(
    rf"(?:(?P<weekday>{_WEEKDAY})\.?,?\s*)?"
    rf"(?P<day>\d{{1,2}})(?:st|nd|rd|th)?[\s-]+(?P<month_name>{_NAME})\.?,?[\s-]+(?P<year>\d{{4}}|\d{{2}}),?"
    rf"(?:\s+(?:at\s+)?{_TIME}(?:\s*{_ZONE})?(?:\s+[a-z]{{1,5}})?)?",
    re.IGNORECASE,
)
_MONTH_FIRST = re.compile(
    rf"(?:(?P<weekday>{_WEEKDAY})\.?,?\s+)?"
    rf"(?P<month_name>{_NAME})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?(?:\s+(?P<year>\d{{4}}))?,?"
    rf"(?:\s+(?:at\s+)?{_TIME}(?:\s*{_ZONE})?)?(?:\s+(?P<late_year>\d{{4}}))?",
    re.IGNORECASE,
)
_RFC822_CANONICAL = re.compile(
    r"(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) "
    r"([+-]\d{4}|GMT|UTC|UT|Z)"
)
_CANONICAL_MONTHS = {name.title(): number for number, name in enumerate(_ENGLISH_MONTHS, start=1)}
# Every quarter-hour offset in use, built once, so the fast path allocates no tzinfo per date.
_COMMON_OFFSETS = {
    **{name: timezone.utc for name in ("GMT", "UTC", "UT", "Z")},
    **{
        f"{sign}{minutes // 60:02d}{minutes % 60:02d}":
            timezone(timedelta(minutes=minutes if sign == "+" else -minutes))
        for sign in "+-"
        for minutes in range(0, 14 * 60 + 1, 15)
    },
}
_NUMERIC_OFFSET = re.compile(r"([+-])(\d{1,2}):?(\d{2})?")
_TRAILING_COMMENT = re.compile(r"\s*\(([^()]*)\)\s*$")

_MONTH_WORD = re.compile(
    r"\b(" + "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True)) + r")\b\.?", re.IGNORECASE)
_DAY_WORD = re.compile(
    r"\b(" + "|".join(sorted((n for n in WEEKDAY_NAMES if len(n) >= 3), key=len, reverse=True)) + r")\b\.?,?",
    re.IGNORECASE,
)
_AM_PM_WORD = re.compile(r"\b([ap])\.?m\b\.?", re.IGNORECASE)
_NAME_DIRECTIVES = re.compile(r"%[%AaBbhp]")

_BUILT_IN = "ISO 8601, RFC 822/2822 and 'Month day, year' forms"


def parse_date(text: str, *, tz: str | tzinfo | None = None, formats: Sequence[str] = ()) -> datetime | None:
    """An aware datetime for ``text``, or None when the text is empty.

    ``tz`` is the source's time zone, used only when the text states no offset; an offset in the
    text always wins. ``formats`` are strptime formats tried before the built-in forms.
    Raises DateParseError when the text is not a date, or states no offset and no ``tz`` is given.
    """
    if text is None or not text.strip():
        return None
    zone = resolve_zone(tz)
    cleaned = " ".join(text.split())
    parsed = _parse_with_formats(cleaned, formats) or _parse_canonical(cleaned) or _parse_built_in(cleaned)
    if parsed is None:
        tried = f"formats {list(formats)!r}, then {_BUILT_IN}" if formats else _BUILT_IN
        raise DateParseError(f"{_quote(text)} is not a date: tried {tried}")
    if parsed.tzinfo is not None:
        return parsed
    if zone is None:
        raise DateParseError(
            f"{_quote(text)} has no UTC offset and no time zone was given: pass tz= (the source's time zone)"
        )
    # zoneinfo computes the offset for this wall time, so summer dates get the summer offset.
    return parsed.replace(tzinfo=zone)


def resolve_zone(tz: str | tzinfo | None) -> tzinfo | None:
    """The tzinfo for an IANA zone name (or a tzinfo passed through). Raises ConfigError for unknown names."""
    if tz is None or isinstance(tz, tzinfo):
        return tz
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"time zone {tz!r} is not an IANA time zone name: expected e.g. 'Europe/Oslo' or 'Asia/Tehran'"
        ) from exc


def to_utc(dt: datetime) -> datetime:
    """The same instant in UTC. A naive or FLOATING datetime is refused: its instant is unknown."""
    _require_aware(dt)
    if dt.tzinfo is FLOATING:
        raise ValueError(f"{dt!r} states no offset: place it with in_zone(dt, <the source's time zone>)")
    return dt.astimezone(timezone.utc)


def isoformat(dt: datetime) -> str:
    """``2024-03-01T23:49:00+03:30``: seconds always, microseconds only when non-zero. A FLOATING
    wall time has no offset to write: ``2024-03-01T23:49:00``, or ``2024-03-01`` at midnight (a date
    stated as a day only)."""
    _require_aware(dt)
    if dt.tzinfo is FLOATING:
        naive = dt.replace(tzinfo=None)
        if naive.time() == datetime.min.time():
            return naive.date().isoformat()
        return naive.isoformat(timespec="microseconds" if dt.microsecond else "seconds")
    return dt.isoformat(timespec="microseconds" if dt.microsecond else "seconds")


def _require_aware(dt: datetime) -> None:
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{dt!r} is naive: parse it with parse_date(..., tz=<the source's time zone>)")


def _quote(text: str) -> str:
    # Pages sometimes hand over a whole paragraph; the message must stay readable.
    return repr(text if len(text) <= 80 else text[:77] + "...")


# --- dates inside text ------------------------------------------------------------------------

_MONTH_ALTERNATIVES = "|".join(sorted(MONTH_NUMBERS, key=len, reverse=True))
# Each finds a date among other words; named groups say what was found. Numbers must not touch
# other digits, so "2019-10-19" is not read as "19-10-19" and a phone number is no date.
_DATES_IN_TEXT = (
    re.compile(r"(?<![\d/.-])(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?![\d-])"),
    re.compile(r"(?<![\d.])(?P<year>\d{4})([./])\s?(?P<month>\d{1,2})\2\s?(?P<day>\d{1,2})(?![\d/])\.?"),
    re.compile(r"(?<![\d.])(?P<day>\d{1,2})\.\s?(?P<month>\d{1,2})\.\s?(?P<year>\d{4})(?![\d.])"),
    re.compile(r"(?<![\d/.-])(?P<first>\d{1,2})([/-])(?P<second>\d{1,2})\2(?P<year>\d{4})(?![\d/-])"),
    re.compile(r"(?P<year>\d{4})\s*[年년]\s*(?P<month>\d{1,2})\s*[月월]\s*(?P<day>\d{1,2})\s*[日일]?"),
    re.compile(rf"(?<!\d)(?P<day>\d{{1,2}})(?:st|nd|rd|th|er|º|\.)?\s+(?:de\s+)?(?P<month_name>{_MONTH_ALTERNATIVES})"
               r"\.?,?\s+(?:de\s+)?(?P<year>\d{4})(?!\d)", re.IGNORECASE),
    # The lookahead (a word, then a number) rejects most words before the 400 names are tried.
    re.compile(rf"\b(?=[^\W\d_]{{3,12}}\.?\s+\d)(?P<month_name>{_MONTH_ALTERNATIVES})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+"
               r"(?P<year>\d{4})(?!\d)", re.IGNORECASE),
)
# "31.10.23": a two-digit year, read only where the caller expects a date (a date line, an element
# named for the date), since in running text "1.10.23" may as well be a version or a score.
_SHORT_YEAR_DATES = (
    re.compile(r"(?<![\d.])(?P<day>\d{1,2})\.\s?(?P<month>\d{1,2})\.\s?(?P<year>\d{2})(?![\d.])"),
)
# A time right after the date: "18.10.2019, 15:07 Uhr", "October 19, 2019 at 5:05 pm EST", "klo 12.45".
# The space before it is read once (possessive, separator then space): two \s* around an optional
# separator split a long run of spaces every way before failing (quadratic).
_TIME_AFTER_DATE = re.compile(
    r"(?:\s*+(?:(?:,|-|–|\||um|at|à|às|alle|a las)\s*+)?)"
    r"(?:(?P<hour>\d{1,2})[:h]|(?:kl\.?|klo)\s*(?P<nordic_hour>\d{1,2})[.:])"
    r"(?P<minute>\d{2})(?::(?P<second>\d{2}))?(?!\d)"
    r"(?:\s*(?P<ampm>[ap])\.?m\b\.?)?(?:\s*(?:uhr|h)\b)?"
    r"(?:\s*(?P<zone>[+-]\d{2}:?\d{2}|[A-Z]{2,5}\b))?",
    re.IGNORECASE,
)


def find_date(text: str, *, tz: str | tzinfo | None = None, day_first: bool = True,
              short_years: bool = False) -> datetime | None:
    """The first date written inside running text, with the time that follows it if any:
    "Erstellt am: 30.01.2022 18:36 / sk", "Published October 19, 2019 at 5:05 pm",
    "22 de outubro de 2010 às 20:13", "2020년 3월 4일". ``day_first`` decides "02/11/2021" (the
    2nd of November; False for the US order); "22/11/2020" is read either way. The date takes
    the offset written after it, else ``tz``; without either the text has no usable date (None).
    ``short_years`` also reads "31.10.23" (a two-digit year, 2000 + year below 50).
    """
    found = find_dates(text, tz=tz, day_first=day_first, limit=1, short_years=short_years)
    return found[0][1] if found else None


def find_dates(text: str, *, tz: str | tzinfo | None = None, day_first: bool = True,
               limit: int | None = None, short_years: bool = False) -> list[tuple[int, datetime]]:
    """Every date find_date would read in ``text``, as (offset in the text, date) in text order;
    at most ``limit`` of them (the first ones), so a page of numbers costs a bounded time."""
    zone = resolve_zone(tz)
    found = []
    patterns = _DATES_IN_TEXT + _SHORT_YEAR_DATES if short_years else _DATES_IN_TEXT
    for match in sorted((m for p in patterns for m in p.finditer(text)), key=lambda m: m.start()):
        date = _date_in_text(match, text, zone, day_first)
        if date is not None:
            found.append((match.start(), date))
            if limit is not None and len(found) >= limit:
                break
    return found


def _date_in_text(match: re.Match[str], text: str, zone: tzinfo | None, day_first: bool) -> datetime | None:
    fields = match.groupdict()
    if fields.get("first"):
        first, second = int(fields["first"]), int(fields["second"])
        # A number above 12 can only be the day; otherwise the page's convention decides.
        day_is_first = first > 12 or (day_first and second <= 12)
        day, month = (first, second) if day_is_first else (second, first)
    else:
        day = int(fields["day"])
        month = int(fields["month"]) if fields.get("month") else month_number(fields["month_name"])
    time = _TIME_AFTER_DATE.match(text, match.end())
    hour = minute = second = 0
    offset = zone
    if time:
        hour = _hour(time.group("hour") or time.group("nordic_hour"), time.group("ampm"))
        minute = int(time.group("minute"))
        second = int(time.group("second") or 0)
        if time.group("zone"):
            try:
                offset = _zone_offset(time.group("zone"), text)
            except DateParseError:
                offset = zone  # a word after the time ("Uhr", "CET?"): the source's zone
    if offset is None or month is None:
        return None
    try:
        return datetime(_full_year(fields["year"]), month, day, hour, minute, min(second, 59), tzinfo=offset)
    except ValueError:
        return None  # "31.02.2024", "25:00": not a date after all


# --- caller's strptime formats -------------------------------------------------------------------

def _parse_with_formats(text: str, formats: Sequence[str]) -> datetime | None:
    for fmt in formats:
        try:
            return _strptime_english(text, fmt)
        except ValueError:
            continue
    return None


def _strptime_english(text: str, fmt: str) -> datetime:
    """strptime with English month/day names and AM/PM whatever the process locale is.

    strptime reads %B, %a and %p through the C library locale, so a worker that called setlocale()
    would stop reading "March". Names are therefore turned into numbers (or dropped, for week days,
    which strptime does not check anyway) before strptime sees them.
    """
    if not _NAME_DIRECTIVES.search(fmt):
        return datetime.strptime(text, fmt)
    directives = set(re.findall(r"%.", fmt))
    afternoon = False
    if "%B" in directives or "%b" in directives or "%h" in directives:
        text = _MONTH_WORD.sub(lambda m: f"{month_number(m.group(1)):02d}", text)
        fmt = re.sub(r"(?<!%)((?:%%)*)%[Bbh]\.?", r"\1%m", fmt)
    if "%A" in directives or "%a" in directives:
        text = _DAY_WORD.sub("", text)
        fmt = re.sub(r"(?<!%)((?:%%)*)%[Aa]\.?", r"\1", fmt)
    if "%p" in directives:
        marker = _AM_PM_WORD.search(text)
        if marker is None:
            raise ValueError("no AM/PM marker")
        afternoon = marker.group(1).lower() == "p"
        text = text[: marker.start()] + text[marker.end():]
        fmt = re.sub(r"(?<!%)((?:%%)*)%p", r"\1", fmt)
    # Removing a word can leave doubled or edge spaces on one side only; strptime wants them equal.
    parsed = datetime.strptime(" ".join(text.split()), " ".join(fmt.split()))
    if afternoon and parsed.hour < 12:
        parsed += timedelta(hours=12)
    return parsed


# --- built-in forms ------------------------------------------------------------------------------

def _parse_canonical(text: str) -> datetime | None:
    """Fast path for what most feeds write: ISO 8601 (C-implemented fromisoformat) and RSS's exact
    'Fri, 01 Mar 2024 20:19:00 +0330'. Anything else falls through to the forgiving patterns."""
    if text[:4].isdigit():
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    match = _RFC822_CANONICAL.fullmatch(text)
    month = _CANONICAL_MONTHS.get(match.group(2)) if match else None
    if month is None:
        return None
    day, _, year, hour, minute, second, zone = match.groups()
    offset = _COMMON_OFFSETS.get(zone) or _zone_offset(zone, text)
    try:
        return datetime(int(year), month, int(day), int(hour), int(minute), int(second), tzinfo=offset)
    except ValueError:
        return None


def _parse_built_in(text: str) -> datetime | None:
    if text[:1].isdigit():
        match = _ISO.fullmatch(text) or _ISO_BASIC.fullmatch(text)
        if match:
            return _from_match(match, text)
    text, comment = _split_comment(text)
    for pattern in (_RFC822, _MONTH_FIRST):
        match = pattern.fullmatch(text)
        if match and _names_are_known(match):
            return _from_match(match, text, comment)
    return None


def _split_comment(text: str) -> tuple[str, str | None]:
    """'... +0000 (UTC)' -> ('... +0000', 'UTC'): RFC 2822 allows a comment after the zone."""
    match = _TRAILING_COMMENT.search(text)
    if match is None:
        return text, None
    # Only a zone name counts; "(Coordinated Universal Time)" is decoration after a real offset.
    zone = match.group(1).strip()
    return text[: match.start()], zone if zone.upper() in _ZONE_OFFSETS else None


def _names_are_known(match: re.Match[str]) -> bool:
    if month_number(match.group("month_name")) is None:
        return False
    weekday = match.group("weekday")
    return weekday is None or is_weekday(weekday)


def _from_match(match: re.Match[str], text: str, comment: str | None = None) -> datetime | None:
    fields = match.groupdict()
    year = _full_year(fields.get("year") or fields.get("late_year"))
    if year is None:
        return None
    month = int(fields["month"]) if fields.get("month") else month_number(fields["month_name"])
    zone_text = fields.get("zone") or (comment if fields.get("hour") else None)
    offset = _zone_offset(zone_text, text) if zone_text else None
    try:
        return datetime(
            year, month, int(fields["day"]),
            _hour(fields.get("hour"), fields.get("ampm")), int(fields.get("minute") or 0),
            # RFC 3339 allows a leap second; datetime does not.
            min(int(fields.get("second") or 0), 59),
            int((fields.get("fraction") or "0")[:6].ljust(6, "0")),
            tzinfo=offset,
        )
    except ValueError as exc:
        raise DateParseError(f"{_quote(text)} looks like a date but is not a valid one: {exc}") from exc


def _hour(hour: str | None, ampm: str | None) -> int:
    """24-hour clock hour; "12:05 AM" is 00:05 and "12:05 PM" is 12:05."""
    value = int(hour or 0)
    if ampm and 1 <= value <= 12:
        value = value % 12 + (12 if ampm.lower() == "p" else 0)
    return value


def _full_year(year: str | None) -> int | None:
    if year is None:
        return None
    if len(year) == 2:
        # RFC 2822 section 4.3: two-digit years below 50 are 20xx.
        return 2000 + int(year) if int(year) < 50 else 1900 + int(year)
    return int(year)


def _zone_offset(zone: str, text: str) -> timezone:
    name, sign_offset = _split_zone(zone)
    minutes = 0
    if name:
        if name.upper() not in _ZONE_OFFSETS:
            raise DateParseError(
                f"{_quote(text)}: time zone {name!r} is unknown or ambiguous: expected a numeric offset "
                f"such as +0330 or a name listed in news_etl.dates._ZONE_OFFSETS (GMT, EST, CET, IRST, ...)"
            )
        minutes = _ZONE_OFFSETS[name.upper()]
    if sign_offset:
        minutes += _numeric_offset(sign_offset, text)
    return timezone.utc if minutes == 0 else timezone(timedelta(minutes=minutes))


def _split_zone(zone: str) -> tuple[str, str]:
    """'GMT+0330' -> ('GMT', '+0330'); '+0330' -> ('', '+0330'); 'EST' -> ('EST', '')."""
    for index, char in enumerate(zone):
        if char in "+-":
            return zone[:index], zone[index:]
    return zone, ""


def _numeric_offset(offset: str, text: str) -> int:
    match = _NUMERIC_OFFSET.fullmatch(offset)
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if hours > 23 or minutes > 59:
        raise DateParseError(f"{_quote(text)}: UTC offset {offset!r} is out of range")
    total = hours * 60 + minutes
    return -total if match.group(1) == "-" else total
