"""A small crawl in CC-NEWS's layout, for the backfill's tests, faults and benchmark: WARC files
written with warcio as Common Crawl writes them (WARC/1.0, one gzip member per record, request
and response records, the HTTP headers as fetched) and the month's warc.paths.gz, served from
127.0.0.1 by a server that can cut a file's connection halfway, once."""

from __future__ import annotations

import gzip
import io
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass(frozen=True)
class CrawledPage:
    url: str
    fetched_at: datetime
    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200


def crawl_warc(pages: list[CrawledPage], gzip_members: bool = True) -> bytes:
    """One crawl WARC file of `pages`, in order."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip_members, warc_version="1.0")
    writer.write_record(writer.create_warcinfo_record("CC-NEWS-test.warc.gz", {"software": "tests"}))
    for page in pages:
        date = page.fetched_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        http = StatusAndHeaders(f"{page.status} OK", [("Content-Type", page.content_type),
                                                      ("Content-Length", str(len(page.body)))], protocol="HTTP/1.1")
        response = writer.create_warc_record(page.url, "response", payload=io.BytesIO(page.body),
                                             length=len(page.body), http_headers=http,
                                             warc_headers_dict={"WARC-Date": date})
        request = writer.create_warc_record(page.url, "request", http_headers=StatusAndHeaders(
            "GET / HTTP/1.1", [("User-Agent", "CCBot/2.0")], is_http_request=True),
            warc_headers_dict={"WARC-Date": date})
        writer.write_request_response_pair(request, response)
    return out.getvalue()


def file_name(written: datetime, number: int) -> str:
    return f"CC-NEWS-{written:%Y%m%d%H%M%S}-{number:05d}.warc.gz"


def paths_file(paths: list[str]) -> bytes:
    return gzip.compress("".join(f"{p}\n" for p in paths).encode(), mtime=0)


@dataclass
class CrawlServer:
    """`files[path] = bytes`; `cut_once[path] = n`: the first GET of `path` sends its full
    Content-Length but only the first n bytes, then closes the connection."""

    files: dict[str, bytes] = field(default_factory=dict)
    cut_once: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def __post_init__(self):
        crawl = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                crawl.requests.append(self.path)
                body = crawl.files.get(self.path)
                if body is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                cut = crawl.cut_once.pop(self.path, None)
                self.wfile.write(body if cut is None else body[:cut])
                if cut is not None:
                    self.wfile.flush()
                    self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish_month(self, year: int, month: int, warcs: dict[str, bytes]) -> list[str]:
        """Serve `warcs` (file name -> bytes) as the month's crawl; returns their paths."""
        folder = f"crawl-data/CC-NEWS/{year:04d}/{month:02d}"
        paths = [f"{folder}/{name}" for name in warcs]
        for path, body in zip(paths, warcs.values()):
            self.files[f"/{path}"] = body
        self.files[f"/{folder}/warc.paths.gz"] = paths_file(paths)
        return paths

    def close(self):
        self.server.shutdown()
        self.server.server_close()
