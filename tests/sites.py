"""A tiny HTTP server for tests: serves fixed responses from a dict, on 127.0.0.1, in a thread."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict = field(default_factory=dict)


class StaticSite:
    """`site.pages[path] = Page(...)`; `site.url(path)`; `site.requests` lists the paths asked for."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keep_alive: bool = False):
        self.pages: dict[str, Page] = {}
        self.requests: list[str] = []
        self.request_times: list[tuple[str, float]] = []  # (path, time.monotonic() on arrival)
        self.request_headers: list[dict[str, str]] = []  # the headers of every GET, in order
        self.clients: list[tuple[str, int]] = []  # the client address (so the connection) of every GET
        self.posted: list[tuple[str, bytes]] = []  # (path, body) of every POST
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                site.requests.append(self.path)
                site.request_times.append((self.path, time.monotonic()))
                site.request_headers.append(dict(self.headers))
                site.clients.append(self.client_address)
                page = site.pages.get(self.path)
                if page is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                etag = page.headers.get("ETag")
                if etag and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(page.status)
                self.send_header("Content-Type", page.content_type)
                self.send_header("Content-Length", str(len(page.body)))
                for k, v in page.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(page.body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                site.posted.append((self.path, self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        if keep_alive:  # HTTP/1.1: connections stay open between requests
            Handler.protocol_version = "HTTP/1.1"
        self.server = ThreadingHTTPServer((host, port), Handler)
        self.base = f"http://{host}:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return self.base + path

    def close(self):
        self.server.shutdown()
        self.server.server_close()
