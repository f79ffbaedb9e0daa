"""The character encoding of a page: the bytes a server sent in, the text a reader sees out. Pure.

Order, as browsers do it: the charset of the HTTP Content-Type header, a byte-order mark, the
page's own <meta charset> / http-equiv declaration; then, for pages that declare nothing (or
declare something their bytes contradict), UTF-8 when the bytes are valid UTF-8, else detection
(charset-normalizer), which tells windows-1256 Arabic and Persian from cp1251 Cyrillic from
Western text. Latin-1 labels are read as windows-1252, as the WHATWG encoding standard says, and a
Latin-1 label on bytes that are valid UTF-8 is taken for the server default it usually is.
"""

from __future__ import annotations

import codecs
import re

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_:.-]+)", re.I)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_:.-]+)""", re.I)
_LATIN1_LABELS = {"iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "us-ascii", "ascii", "windows-1252",
                  "cp1252", "iso-8859-15"}
_DECLARATION_WINDOW = 8192  # a meta charset must appear early (the HTML standard says 1024 bytes)
_DETECTION_SAMPLE = 65536   # detection reads this much; enough to tell scripts apart
# Legacy encodings web pages are written in (no Mac or DOS code pages, which only confuse detection).
WEB_ENCODINGS = ("cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256", "cp1257", "cp1258",
                 "koi8_r", "koi8_u", "iso8859_2", "iso8859_5", "iso8859_6", "iso8859_7", "iso8859_8",
                 "iso8859_9", "cp874", "gb18030", "big5", "shift_jis", "euc_jp", "euc_kr", "iso2022_jp")


def decode_html(data: bytes, content_type: str | None = None) -> str:
    """The text of an HTML page; never raises (undecodable bytes become U+FFFD)."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data[len(bom):].decode(encoding, errors="replace")
    for label in declared_encodings(data, content_type):
        encoding = _whatwg_name(label)
        if encoding == "cp1252" and not data.isascii() and _is_utf8(data):
            return data.decode("utf-8")
        try:
            return data.decode(encoding)
        except (LookupError, UnicodeDecodeError):
            continue  # an unknown label, or one the bytes contradict: look at the bytes instead
    if _is_utf8(data):
        return data.decode("utf-8")
    return data.decode(detect_encoding(data), errors="replace")


def declared_encodings(data: bytes, content_type: str | None = None) -> list[str]:
    """The labels the HTTP header and the page declare, in that order."""
    labels = []
    if content_type:
        match = _HEADER_CHARSET.search(content_type)
        if match:
            labels.append(match.group(1))
    match = _META_CHARSET.search(data[:_DECLARATION_WINDOW])
    if match:
        labels.append(match.group(1).decode("ascii", errors="ignore"))
    return labels


def detect_encoding(data: bytes) -> str:
    """The most likely encoding of undeclared, non-UTF-8 bytes among those web pages use;
    windows-1252 when unsure, and on a tie with it (the WHATWG default for such pages)."""
    from charset_normalizer import from_bytes

    results = list(from_bytes(data[:_DETECTION_SAMPLE], cp_isolation=list(WEB_ENCODINGS)))
    if not results:
        return "cp1252"
    best = results[0]
    tied = [r.encoding for r in results if (r.chaos, r.coherence) == (best.chaos, best.coherence)]
    return "cp1252" if "cp1252" in tied else best.encoding


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _whatwg_name(label: str) -> str:
    label = label.strip().lower()
    # WHATWG: pages labelled Latin-1 or ASCII are really windows-1252.
    return "cp1252" if label in _LATIN1_LABELS else label
