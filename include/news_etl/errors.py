"""Typed errors a user can act on: each names the thing (source, file, URL, field) and what was expected."""


class NewsEtlError(Exception):
    """Base class for every error this package raises on purpose."""


class ConfigError(NewsEtlError):
    """A source file or setting is invalid. The message names the file, the key and the problem."""


class FeedError(NewsEtlError):
    """A feed could not be parsed. The message names the feed (URL or path) and why."""


class PageError(NewsEtlError):
    """An article page could not be parsed. The message names the page and the field."""


class FetchError(NewsEtlError):
    """An HTTP fetch failed after its retries. The message names the URL and the reason."""


class DateParseError(NewsEtlError):
    """A date string could not be read with the formats given."""
