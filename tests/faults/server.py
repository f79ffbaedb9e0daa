"""A hostile web server for the fault matrix: one path per fault, on 127.0.0.1 only.

It writes raw bytes to the socket, so it can misbehave in ways a well-behaved HTTP library will
not: reset connections, stop mid-body, drip a byte at a time, never answer, stream a gigabyte,
send a gzip bomb. A second socket that listens but never accepts gives connect timeouts.
"""

from __future__ import annotations

import gzip
import socket
import socketserver
import struct
import threading
import time
from collections import Counter

GOOD_BODY = " ".join(["A sentence of a real article that carries on long enough to count as news."] * 4)
# 1 MiB of zeros, gzip-compressed once; gzip members may be concatenated, so 1,024 copies of this
# small member decompress to 1 GiB.
_GZIP_MEMBER = gzip.compress(b"\0" * (1 << 20), compresslevel=9)


def article_page(title: str, code: str, body: str = GOOD_BODY, charset: str | None = "utf-8") -> bytes:
    meta = f'<meta charset="{charset}">' if charset else ""
    html = (f"<html><head>{meta}<title>{title}</title></head><body><h1>{title}</h1>"
            f'<div class="date">1 March 2024 10:{code[-2:]}</div><div class="code">Code: {code}</div>'
            f'<div class="body"><p>{body}</p></div></body></html>')
    return html.encode(charset or "utf-8")


def rss(base: str, items: list[str], extra_items: str = "", doctype: str = "") -> bytes:
    xml = "".join(f"<item><title>Story {path}</title><link>{base}{path}</link></item>" for path in items)
    return (f'<?xml version="1.0" encoding="utf-8"?>{doctype}<rss version="2.0"><channel><title>t</title>'
            f"{xml}{extra_items}</channel></rss>").encode()


class FaultServer:
    """`server.base`: the URL to prefix paths with; `server.hits[path]`: how often it was asked."""

    def __init__(self, good_pages: dict[str, bytes]):
        self.good_pages = good_pages
        self.feeds: dict[str, tuple[bytes, str | None]] = {}  # path -> (body, content type or default)
        self.hits: Counter[str] = Counter()
        self.handlers: dict = {}  # fault name -> respond(sock, path), from the fault modules
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 65536:
                    data = self.request.recv(4096)
                    if not data:
                        return
                    request += data
                path = request.split(b" ", 2)[1].decode()
                outer.hits[path] = outer.hits[path] + 1
                try:
                    outer.respond(self.request, path)
                except OSError:
                    pass  # the client gave up: that is the point of several faults

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

        # Listens, never accepts: once its backlog is full, connects hang until they time out.
        self.black_hole = socket.socket()
        self.black_hole.bind(("127.0.0.1", 0))
        self.black_hole.listen(0)
        self.black_hole_url = f"http://127.0.0.1:{self.black_hole.getsockname()[1]}/feed.xml"
        self._fillers = []
        for _ in range(4):
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(self.black_hole.getsockname())
            self._fillers.append(filler)

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        for s in [self.black_hole, *self._fillers]:
            s.close()

    # --- responses --------------------------------------------------------------------------

    def respond(self, sock: socket.socket, path: str) -> None:
        if path in self.feeds:
            body, content_type = self.feeds[path]
            return _send(sock, 200, body, content_type or "application/rss+xml; charset=utf-8")
        if path in self.good_pages:
            return _send(sock, 200, self.good_pages[path], "text/html; charset=utf-8")
        name = path.strip("/").split("/")[-1].split(".")[0]
        fault = self.handlers.get(name) or getattr(self, f"fault_{name.replace('-', '_')}", None)
        if fault is None:
            return _send(sock, 404, b"not found", "text/plain")
        fault(sock, path)

    def fault_http_500(self, sock, path):
        _send(sock, 500, b"boom", "text/plain", {"Retry-After": "1"})

    def fault_http_503(self, sock, path):
        _send(sock, 503, b"busy", "text/plain", {"Retry-After": "1"})

    def fault_http_429(self, sock, path):
        _send(sock, 429, b"slow down", "text/plain", {"Retry-After": "1"})

    def fault_read_timeout(self, sock, path):
        time.sleep(5)

    def fault_slow_drip(self, sock, path):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
        for _ in range(200):
            sock.sendall(b"<")
            time.sleep(0.1)

    def fault_header_drip(self, sock, path):
        # Each header byte comes within any read timeout; only a deadline on the whole ends it.
        sock.sendall(b"HTTP/1.1 200 OK\r\n")
        for _ in range(600):
            sock.sendall(b"X")
            time.sleep(0.1)

    def fault_retry_after_15(self, sock, path):
        _send(sock, 503, b"busy", "text/plain", {"Retry-After": "15"})

    def fault_connection_reset(self, sock, path):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # linger 0: the kernel answers with RST

    def fault_truncated_body(self, sock, path):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5000\r\n"
                     b"Connection: close\r\n\r\n" + article_page("Cut", "1099999")[:200])

    def fault_redirect_loop(self, sock, path):
        _send(sock, 302, b"", "text/plain", {"Location": path})

    def fault_redirect_private(self, sock, path):
        _send(sock, 302, b"", "text/plain", {"Location": "http://10.0.0.1/internal/admin"})

    def fault_redirect_loopback(self, sock, path):
        _send(sock, 302, b"", "text/plain", {"Location": "http://127.0.0.2:9/secret"})

    def fault_huge_body(self, sock, path):
        sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n")
        block = b"<p>" + b"x" * 65533
        for _ in range((1 << 30) // len(block)):  # 1 GiB, streamed
            sock.sendall(block)

    def fault_gzip_bomb(self, sock, path):
        body = _GZIP_MEMBER * 1024
        _send(sock, 200, body, "text/html", {"Content-Encoding": "gzip"})


def _send(sock: socket.socket, status: int, body: bytes, content_type: str, headers: dict | None = None) -> None:
    lines = [f"HTTP/1.1 {status} X", f"Content-Type: {content_type}", f"Content-Length: {len(body)}",
             "Connection: close"] + [f"{k}: {v}" for k, v in (headers or {}).items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
