"""URL normalization: one spelling per article, so the same story is never counted twice.

Feeds decorate links with tracking parameters and fragments; hosts and schemes vary in case; one
path is written raw (/news/1/خبر) or percent-encoded, in either case of hex digits, with dot
segments (/a/./b/../c) or escaped unreserved characters (%7E); a host in Unicode or in punycode.
The project's own filter drops tracking parameters; w3lib's canonicalize_url (what Scrapy uses for
request fingerprints) then gives one spelling of the rest.
"""

from __future__ import annotations

import re
from datetime import date
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Parameters that say who sent the reader, never which page: dropped. utm_* are dropped by prefix.
_TRACKING_PARAMS = {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid", "mc_cid",
                    "mc_eid", "igshid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "cmpid", "ocid", "ncid", "sr_share",
                    "at_medium", "at_campaign", "at_custom1", "ito", "xtor", "wt.mc_id"}
_DEFAULT_PORTS = {"http": 80, "https": 443}
# /2024/03/01/, /2024-03-01-, /20240301/ in a path: the day many sites file a story under.
_PATH_DATE = re.compile(r"/((?:19|20)\d\d)([/-]?)(0[1-9]|1[0-2])\2(0[1-9]|[12]\d|3[01])(?=[/._-]|$)")
# /2018/08/: the month blog engines file a post under (Blogger, WordPress's month permalinks).
_PATH_MONTH = re.compile(r"/((?:19|20)\d\d)/(0[1-9]|1[0-2])/")


def is_http_url(url: str | None) -> bool:
    if not url:
        return False
    parts = urlsplit(url.strip())
    return parts.scheme.lower() in _DEFAULT_PORTS and bool(parts.hostname)


def normalize_url(url: str, base: str | None = None) -> str:
    """Absolute http(s) URL with lower-case scheme and host (IDN hosts in punycode), no default
    port, no fragment and no tracking parameters (utm_*, fbclid, ...); the path percent-encoded as
    UTF-8 with upper-case hex digits, unreserved characters unescaped and dot segments resolved;
    the other query parameters sorted (w3lib's canonical form)."""
    url = url.strip()
    if base:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    netloc = host = f"[{host}]" if ":" in host else host  # an IPv6 literal keeps its brackets
    if parts.port and parts.port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = parts.query and urlencode([
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    ], doseq=True)
    return canonicalize_url(urlunsplit((scheme, netloc, parts.path or "/", query, "")))


def date_in_url(url: str) -> date | None:
    """The day in a URL's path ("/2024/03/01/storm" -> 2024-03-01), or None."""
    match = _PATH_DATE.search(urlsplit(url.strip()).path)
    if match is None:
        return None
    try:
        return date(int(match.group(1)), int(match.group(3)), int(match.group(4)))
    except ValueError:
        return None  # 2023/02/30


def month_in_url(url: str) -> tuple[int, int] | None:
    """The (year, month) a URL's path files its page under ("/2018/08/trip.html" -> (2018, 8)), or None."""
    match = _PATH_MONTH.search(urlsplit(url.strip()).path)
    return (int(match.group(1)), int(match.group(2))) if match else None
