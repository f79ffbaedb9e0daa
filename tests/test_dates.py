"""Date parsing: every form feeds and pages write, read into an aware datetime with the stated offset."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from news_etl.dates import find_date, find_dates, isoformat, parse_date, to_utc
from news_etl.errors import ConfigError, DateParseError

# (text, tz, formats, expected isoformat)
READABLE_DATES = [
    # caller's strptime formats, English names whatever the locale
    ("Friday 1 March 2024 - 23:49", "Asia/Tehran", ("%A %d %B %Y - %H:%M",), "2024-03-01T23:49:00+03:30"),
    ("Fri 01 Mar 2024 - 23:49", "Asia/Tehran", ("%a %d %b %Y - %H:%M",), "2024-03-01T23:49:00+03:30"),
    ("1 March 2024, 11:49 p.m.", "Asia/Tehran", ("%d %B %Y, %I:%M %p",), "2024-03-01T23:49:00+03:30"),
    ("12 March 2024, 12:05 AM", "UTC", ("%d %B %Y, %I:%M %p",), "2024-03-12T00:05:00+00:00"),
    ("01.03.2024 23:49", "Europe/Oslo", ("%Y", "%d.%m.%Y %H:%M"), "2024-03-01T23:49:00+01:00"),
    ("01.03.2024 23:49 +0330", None, ("%d.%m.%Y %H:%M %z",), "2024-03-01T23:49:00+03:30"),
    # a format that does not match falls through to the built-in forms
    ("2024-03-01T23:49:00+03:30", None, ("%d.%m.%Y",), "2024-03-01T23:49:00+03:30"),
    # ISO 8601 / RFC 3339
    ("2024-03-01T23:49:00+03:30", None, (), "2024-03-01T23:49:00+03:30"),
    ("2024-03-01T20:19:00Z", None, (), "2024-03-01T20:19:00+00:00"),
    ("2024-03-01t20:19:00z", None, (), "2024-03-01T20:19:00+00:00"),
    ("2024-03-01T23:49:00+0330", None, (), "2024-03-01T23:49:00+03:30"),
    ("2024-03-01T15:19:00-05", None, (), "2024-03-01T15:19:00-05:00"),
    ("2024-03-01T20:19:00.250Z", None, (), "2024-03-01T20:19:00.250000+00:00"),
    ("2024-03-01T20:19:00.123456789+00:00", None, (), "2024-03-01T20:19:00.123456+00:00"),
    ("2024-03-01 20:19:00+01:00", None, (), "2024-03-01T20:19:00+01:00"),
    ("2024-03-01 20:19 +01:00", None, (), "2024-03-01T20:19:00+01:00"),
    ("2024-03-01T20:19+01:00", None, (), "2024-03-01T20:19:00+01:00"),
    ("2024-03-01 20:19:00 UTC", None, (), "2024-03-01T20:19:00+00:00"),
    ("2016-12-31T23:59:60Z", None, (), "2016-12-31T23:59:59+00:00"),
    ("20240301T201900Z", None, (), "2024-03-01T20:19:00+00:00"),
    ("2024-03-01", "Asia/Tehran", (), "2024-03-01T00:00:00+03:30"),
    ("2024/03/01 20:19", "Europe/Oslo", (), "2024-03-01T20:19:00+01:00"),
    ("  2024-03-01T23:49:00+03:30 \n", None, (), "2024-03-01T23:49:00+03:30"),
    # RFC 822 / 1123 / 2822 as RSS writes them, and their common variants
    ("Fri, 01 Mar 2024 20:19:00 GMT", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri, 01 Mar 2024 20:19:00 +0330", None, (), "2024-03-01T20:19:00+03:30"),
    ("Fri, 01 Mar 2024 20:19:00 -0500", None, (), "2024-03-01T20:19:00-05:00"),
    ("Fri, 01 Mar 2024 20:19:00 +03:30", None, (), "2024-03-01T20:19:00+03:30"),
    ("01 Mar 2024 20:19:00 +0000", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri, 1 Mar 2024 20:19:00 UT", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri, 01 Mar 24 20:19:00 Z", None, (), "2024-03-01T20:19:00+00:00"),
    ("Mon, 01 Mar 99 20:19:00 GMT", None, (), "1999-03-01T20:19:00+00:00"),
    ("Fri, 01 Mar 2024 20:19 GMT", None, (), "2024-03-01T20:19:00+00:00"),
    ("Sun, 01 Sept 2024 20:19:00 GMT", None, (), "2024-09-01T20:19:00+00:00"),
    ("Friday, 01 March 2024 20:19:00 GMT", None, (), "2024-03-01T20:19:00+00:00"),
    ("FRI, 01 MAR 2024 20:19:00 gmt", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri,  01   Mar 2024   20:19:00   GMT", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri, 01 Mar 2024 20:19:00 +0000 (UTC)", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri, 01 Mar 2024 20:19:00 (UTC)", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri, 01 Mar 2024 20:19:00 +0000 GMT", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri, 01 Mar 2024 20:19:00 GMT+0330", None, (), "2024-03-01T20:19:00+03:30"),
    ("Thurs, 29 Feb 2024 20:19:00 GMT", None, (), "2024-02-29T20:19:00+00:00"),
    ("01-Mar-2024 20:19:00 GMT", None, (), "2024-03-01T20:19:00+00:00"),
    ("Fri, 01 Mar 2024 20:19:00", "Asia/Tehran", (), "2024-03-01T20:19:00+03:30"),
    ("01 Mar 2024", "Europe/Oslo", (), "2024-03-01T00:00:00+01:00"),
    # month and week-day names in other languages, AM/PM
    ("Seg, 24 Set 2018 19:42:40 -0300", None, (), "2018-09-24T19:42:40-03:00"),
    ("Lundi, 04 Mars 2024 20:19:00 GMT", None, (), "2024-03-04T20:19:00+00:00"),
    ("Mo, 04 Mär 2024 08:00:00 +0100", None, (), "2024-03-04T08:00:00+01:00"),
    ("Sat, Dec 16 2023 02:02:33 PM", "America/New_York", (), "2023-12-16T14:02:33-05:00"),
    ("Sat, Dec 16 2023 12:02:33 AM", "UTC", (), "2023-12-16T00:02:33+00:00"),
    ("March 1, 2024 8:19 pm GMT", None, (), "2024-03-01T20:19:00+00:00"),
    ("1 марта 2024", "Europe/Moscow", (), "2024-03-01T00:00:00+03:00"),
    ("1. März 2024 um 23:49", "Europe/Berlin", ("%d. %B %Y um %H:%M",), "2024-03-01T23:49:00+01:00"),
    ("الجمعة 1 مارس 2024 23:49", "Africa/Cairo", (), "2024-03-01T23:49:00+02:00"),
    ("الخميس، 31 أكتوبر 2024 - 23:30", "Africa/Cairo", ("%A، %d %B %Y - %H:%M",), "2024-10-31T23:30:00+03:00"),
    # named zones
    ("Fri, 01 Mar 2024 20:19:00 EST", None, (), "2024-03-01T20:19:00-05:00"),
    ("Mon, 01 Jul 2024 20:19:00 EDT", None, (), "2024-07-01T20:19:00-04:00"),
    ("Fri, 01 Mar 2024 20:19:00 CST", None, (), "2024-03-01T20:19:00-06:00"),
    ("Mon, 01 Jul 2024 20:19:00 CDT", None, (), "2024-07-01T20:19:00-05:00"),
    ("Fri, 01 Mar 2024 20:19:00 MST", None, (), "2024-03-01T20:19:00-07:00"),
    ("Mon, 01 Jul 2024 20:19:00 MDT", None, (), "2024-07-01T20:19:00-06:00"),
    ("Fri, 01 Mar 2024 20:19:00 PST", None, (), "2024-03-01T20:19:00-08:00"),
    ("Mon, 01 Jul 2024 20:19:00 PDT", None, (), "2024-07-01T20:19:00-07:00"),
    ("Fri, 01 Mar 2024 20:19:00 CET", None, (), "2024-03-01T20:19:00+01:00"),
    ("Mon, 01 Jul 2024 20:19:00 CEST", None, (), "2024-07-01T20:19:00+02:00"),
    ("Mon, 01 Jul 2024 20:19:00 BST", None, (), "2024-07-01T20:19:00+01:00"),
    ("Fri, 01 Mar 2024 20:19:00 IRST", None, (), "2024-03-01T20:19:00+03:30"),
    ("Fri, 01 Mar 2024 20:19:00 JST", None, (), "2024-03-01T20:19:00+09:00"),
    ("Fri, 01 Mar 2024 20:19:00 AEST", None, (), "2024-03-01T20:19:00+10:00"),
    ("Fri, 01 Mar 2024 20:19:00 MSK", None, (), "2024-03-01T20:19:00+03:00"),
    # month first: US style, asctime and JavaScript's Date.toString()
    ("March 1, 2024 8:19 GMT", None, (), "2024-03-01T08:19:00+00:00"),
    ("Mar 1 2024", "Europe/Oslo", (), "2024-03-01T00:00:00+01:00"),
    ("Fri Mar  1 20:19:00 2024", "UTC", (), "2024-03-01T20:19:00+00:00"),
    ("Fri Mar 01 2024 20:19:00 GMT+0000 (Coordinated Universal Time)", None, (), "2024-03-01T20:19:00+00:00"),
    # the source's zone follows daylight saving time
    ("2024-01-15 12:00", "Europe/Oslo", (), "2024-01-15T12:00:00+01:00"),
    ("2024-07-01 12:00", "Europe/Oslo", (), "2024-07-01T12:00:00+02:00"),
    ("2024-07-01 12:00", "America/New_York", (), "2024-07-01T12:00:00-04:00"),
    ("2024-07-01 12:00", ZoneInfo("Asia/Tehran"), (), "2024-07-01T12:00:00+03:30"),
    # an offset in the text wins over the source's zone
    ("2024-07-01T12:00:00+03:30", "Europe/Oslo", (), "2024-07-01T12:00:00+03:30"),
    ("Mon, 01 Jul 2024 12:00:00 GMT", "Asia/Tehran", (), "2024-07-01T12:00:00+00:00"),
]


@pytest.mark.parametrize("text, tz, formats, expected", READABLE_DATES)
def test_parse_date_reads_and_keeps_the_stated_offset(text, tz, formats, expected):
    parsed = parse_date(text, tz=tz, formats=formats)
    assert parsed.tzinfo is not None
    assert isoformat(parsed) == expected


def test_numeric_offset_is_a_fixed_offset_not_converted_to_utc():
    parsed = parse_date("2024-03-01T23:49:00+03:30")
    assert parsed.utcoffset() == timedelta(hours=3, minutes=30)
    assert (parsed.hour, parsed.minute) == (23, 49)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_is_no_date(text):
    assert parse_date(text, tz="Europe/Oslo") is None


# (text, tz, formats, words the message must contain)
UNREADABLE_DATES = [
    ("not a date", None, (), ["'not a date'", "ISO 8601", "RFC 822"]),
    ("yesterday", "Europe/Oslo", (), ["'yesterday'", "is not a date"]),
    ("1709324940", "Europe/Oslo", (), ["'1709324940'"]),
    ("12/03/2024", "Europe/Oslo", (), ["'12/03/2024'"]),
    ("Fri, 01 Foo 2024 20:19:00 GMT", None, (), ["Foo"]),
    ("Someday, 01 Mar 2024 20:19:00 GMT", None, (), ["Someday"]),
    ("Fri, 01 Jui 2024 20:19:00 GMT", None, (), ["Jui"]),  # juin or juillet: not guessed
    ("2024-02-30T10:00:00Z", None, (), ["'2024-02-30T10:00:00Z'", "not a valid one"]),
    ("2024-03-01T25:00:00Z", None, (), ["not a valid one"]),
    ("2024-03-01T10:00:00+25:00", None, (), ["+25:00", "out of range"]),
    ("Fri, 01 Mar 2024 20:19:00 IST", "Asia/Kolkata", (), ["'IST'", "ambiguous"]),
    ("2024-03-01T10:00:00", None, (), ["no UTC offset", "tz="]),
    ("Fri, 01 Mar 2024 20:19:00", None, (), ["no UTC offset"]),
    ("Friday 1 March", "Asia/Tehran", ("%A %d %B %Y - %H:%M",), ["'Friday 1 March'", "%A %d %B %Y - %H:%M"]),
]


@pytest.mark.parametrize("text, tz, formats, words", UNREADABLE_DATES)
def test_parse_date_refuses_text_that_is_not_a_date(text, tz, formats, words):
    with pytest.raises(DateParseError) as raised:
        parse_date(text, tz=tz, formats=formats)
    for word in words:
        assert word in str(raised.value)


def test_unknown_time_zone_is_a_config_error_naming_it():
    with pytest.raises(ConfigError, match="Europe/Olso"):
        parse_date("2024-03-01 12:00", tz="Europe/Olso")


def test_to_utc_keeps_the_instant():
    parsed = parse_date("2024-03-01T23:49:00+03:30")
    assert to_utc(parsed) == datetime(2024, 3, 1, 20, 19, tzinfo=timezone.utc)
    assert isoformat(to_utc(parsed)) == "2024-03-01T20:19:00+00:00"


@pytest.mark.parametrize("function", [to_utc, isoformat])
def test_naive_datetimes_are_refused(function):
    with pytest.raises(ValueError, match="naive"):
        function(datetime(2024, 3, 1, 12, 0))


# (text, tz, day_first, expected isoformat or None): dates inside running text, as pages write them
DATES_IN_TEXT = [
    ("Erstellt am: 30.01.2022 18:36 / sk", "Europe/Berlin", True, "2022-01-30T18:36:00+01:00"),
    ("Veröffentlicht am 5. November 2023, 14:09 Uhr", "Europe/Vienna", True, "2023-11-05T14:09:00+01:00"),
    ("Published October 19, 2019 at 5:05 pm EST", "UTC", True, "2019-10-19T17:05:00-05:00"),
    ("sexta-feira, 22 de outubro de 2010 às 20:13", "America/Sao_Paulo", True, "2010-10-22T20:13:00-02:00"),
    ("Friday 1 March 2024 - 23:49", "Asia/Tehran", True, "2024-03-01T23:49:00+03:30"),
    ("الجمعة، 1 مارس 2024 - 23:49 | رقم الخبر: 730406", "Africa/Cairo", True, "2024-03-01T23:49:00+02:00"),
    ("نشر في 7 ابريل 2024", "Asia/Riyadh", True, "2024-04-07T00:00:00+03:00"),  # without hamza
    ("20 janvier 2020", "Europe/Paris", True, "2020-01-20T00:00:00+01:00"),
    ("2.9.2020 klo 12.45", "Europe/Helsinki", True, "2020-09-02T12:45:00+03:00"),
    ("22/11/2020 - 04:30 - Fonte: Agência Brasil", "America/Sao_Paulo", True, "2020-11-22T04:30:00-03:00"),
    ("02/11/2021", "Europe/London", True, "2021-11-02T00:00:00+00:00"),
    ("02/11/2021", "America/New_York", False, "2021-02-11T00:00:00-05:00"),
    ("11/22/2021", "Europe/London", True, "2021-11-22T00:00:00+00:00"),  # no 22nd month: the US order
    ("2020년 3월 4일 오후", "Asia/Seoul", True, "2020-03-04T00:00:00+09:00"),
    ("2020年7月3日", "Asia/Tokyo", True, "2020-07-03T00:00:00+09:00"),
    ("Posted: 2020-03-04 16:52:59", "Asia/Seoul", True, "2020-03-04T16:52:59+09:00"),
    ("2020. 03. 04. 16:52", "Asia/Seoul", True, "2020-03-04T16:52:00+09:00"),
    ("31.02.2024, then 01.03.2024", "UTC", True, "2024-03-01T00:00:00+00:00"),  # an impossible day is skipped
    ("call 0711/12.34.2019 or version 1.2.3", "UTC", True, None),
    ("no date here at all", "UTC", True, None),
    ("30.01.2022 18:36", None, True, None),  # no offset and no zone: cannot be placed in time
]


@pytest.mark.parametrize("text, tz, day_first, expected", DATES_IN_TEXT)
def test_find_date_reads_the_first_date_in_running_text(text, tz, day_first, expected):
    found = find_date(text, tz=tz, day_first=day_first)
    assert (isoformat(found) if found else None) == expected


def test_find_dates_reads_every_date_in_text_order_up_to_a_limit():
    text = "Am 3. Mai 2021 begann es; am 2021-05-01 war es angekündigt, 31.02.2021 ist keiner, 05.05.2021 endet es."
    found = [(start, isoformat(d)) for start, d in find_dates(text, tz="UTC")]
    assert found == [(text.index("3. Mai"), "2021-05-03T00:00:00+00:00"),
                     (text.index("2021-05-01"), "2021-05-01T00:00:00+00:00"),
                     (text.index("05.05.2021"), "2021-05-05T00:00:00+00:00")]
    assert [isoformat(d) for _, d in find_dates(text, tz="UTC", limit=2)] == [d for _, d in found[:2]]


def test_two_digit_years_are_read_only_when_asked():
    # Where a date is expected ("Party, 30.10.23" in a date element); in prose "1.10.23" may be a version.
    assert isoformat(find_date("Von: B. Jahner | 31.10.23", tz="UTC", short_years=True)) == "2023-10-31T00:00:00+00:00"
    assert isoformat(find_date("am 02.12.98 14:05", tz="UTC", short_years=True)) == "1998-12-02T14:05:00+00:00"
    assert find_date("Von: B. Jahner | 31.10.23", tz="UTC") is None
    assert find_date("build 1.10.234 or 31.10.2.3", tz="UTC", short_years=True) is None
    # A four-digit year is still read whole, never as its first two digits.
    assert isoformat(find_date("31.10.2023", tz="UTC", short_years=True)) == "2023-10-31T00:00:00+00:00"


# (page date, feed date, tolerance in hours, disagree?)


@pytest.mark.parametrize("text, iso", [
    ("2024-03-01T23:49:00", "2024-03-01T23:49:00"),
    ("2024-03-01 23:49:00.250", "2024-03-01T23:49:00.250000"),
    ("2024-03-01", "2024-03-01"),
    ("Fri, 01 Mar 2024 23:49:00", "2024-03-01T23:49:00"),
])
def test_floating_keeps_a_wall_time_without_offset_and_never_passes_it_as_utc(text, iso):
    from news_etl.dates import FLOATING, in_zone, offset_stated

    floating = parse_date(text, tz=FLOATING)
    assert (isoformat(floating), offset_stated(floating)) == (iso, False)
    with pytest.raises(ValueError, match="states no offset"):
        to_utc(floating)
    placed = in_zone(floating, ZoneInfo("Asia/Tehran"))
    assert placed.utcoffset().total_seconds() == 3.5 * 3600 and offset_stated(placed)
