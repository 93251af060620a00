"""``serve(app)``: the app's web endpoint on a background thread (stdlib ``http.server``).

Endpoints (all ``GET``):

- ``/``: the status page (topology diagram, tasks, stores, restoration; refreshes itself);
- ``/api/status``: :func:`strom.runtime.status.snapshot` as JSON (503 while not running);
- ``/api/topology``: the topology as Mermaid text (``?format=svg|text`` for the SVG drawing
  or Kafka Streams' text description);
- ``/metrics``: Prometheus text format;
- ``/api/stores/<store>/<key>`` and ``/api/stores/<store>``: interactive queries (see
  :mod:`strom.web.queries`).

It binds ``127.0.0.1`` unless told otherwise: the endpoint has no authentication.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from strom.core.errors import ConfigError, StromError
from strom.runtime import status
from strom.topology.draw import to_mermaid
from strom.web import metrics
from strom.web.client import FORWARDED_HEADER
from strom.web.page import render_page
from strom.web.queries import query_key, query_range, to_json
from strom.web.svg import to_svg

log = logging.getLogger("strom.web")

#: How often the server samples throughput and latency (also without page or scraper).
SAMPLE_INTERVAL_S = 1.0


def parse_bind(text: str, default_host: str = "127.0.0.1") -> tuple[str, int]:
    """``PORT``, ``HOST:PORT`` or ``[IPv6]:PORT`` -> ``(host, port)``.

    >>> parse_bind("8080"), parse_bind("0.0.0.0:9000"), parse_bind("[::1]:7070")
    (('127.0.0.1', 8080), ('0.0.0.0', 9000), ('::1', 7070))
    """
    host, sep, port = text.rpartition(":")
    if not sep:
        host, port = default_host, text
    host = host.strip("[]") or default_host
    try:
        number = int(port)
    except ValueError:
        raise ConfigError(f"expected [HOST:]PORT, got {text!r}") from None
    if not 0 <= number <= 65535:
        raise ConfigError(f"port {number} is out of range (0-65535)")
    return host, number


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, family: int) -> None:
        self.address_family = family
        super().__init__(address, handler)


class WebServer:
    """The running endpoint: ``url``, ``address`` (``host:port``, what to set as the app's
    ``application.server``), ``close()``; also a context manager."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        handler = type("Handler", (_Handler,), {"web": self})
        try:
            self._httpd = _Server((host, port), handler, family)
        except OSError as e:
            raise StromError(f"cannot serve the web endpoint on {host}:{port}: {e}") from e
        self.host = host
        self.port: int = self._httpd.server_address[1]
        self._topology: tuple[str, str, str] | None = None
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.2},
                name=f"strom-web-{self.port}",
                daemon=True,
            ),
            threading.Thread(
                target=self._sample, name=f"strom-web-sampler-{self.port}", daemon=True
            ),
        ]
        for t in self._threads:
            t.start()

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        host = "[::1]" if host == "::" else f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}"

    @property
    def address(self) -> str:
        """``host:port`` other instances reach this one at (the hostname when bound to all
        interfaces)."""
        host = self.host
        if host in ("", "0.0.0.0", "::"):
            host = socket.gethostname()
        elif ":" in host:
            host = f"[{host}]"
        return f"{host}:{self.port}"

    def close(self) -> None:
        self._stop.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        for t in self._threads:
            t.join(5)

    def __enter__(self) -> WebServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"WebServer({self.url})"

    # ---- what the handler serves ----------------------------------------------------------
    def worker(self) -> Any:
        worker = self.app._running
        return worker if worker is not None and worker.started else None

    def topology(self) -> tuple[str, str, str]:
        """(svg, mermaid, text) of the app's topology, drawn once."""
        if self._topology is None:
            description = self.app.topology.describe()
            self._topology = (to_svg(description), to_mermaid(description), str(description))
        return self._topology

    def _sample(self) -> None:
        """Attach the status counters to each new worker at once (so that its first commits
        are timed), and sample throughput and latency every :data:`SAMPLE_INTERVAL_S`."""
        seen, last = None, 0.0
        while not self._stop.wait(0.05):
            worker = self.app._running
            now = time.monotonic()
            if worker is None or (worker is seen and now - last < SAMPLE_INTERVAL_S):
                continue
            seen, last = worker, now
            try:
                status.sample(worker)
            except Exception as e:  # a moment's race with the worker thread
                log.debug("sampling failed: %s", e)


def serve(app: Any, host: str = "127.0.0.1", port: int = 0) -> WebServer:
    """Serve ``app``'s page, status, metrics and store queries on a background thread.

    ``port=0`` picks a free port (read it from ``.port``). To let other instances forward
    queries here, set the app's ``application.server`` to ``server.address`` before
    ``app.start()``.
    """
    return WebServer(app, host, port)


class _Handler(BaseHTTPRequestHandler):
    web: WebServer
    server_version = "strom"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, to_json(obj), "application/json")

    def do_HEAD(self) -> None:
        self.do_GET()

    def do_GET(self) -> None:
        try:
            self._route()
        except Exception as e:  # answer, and keep serving
            log.exception("web: %s failed", self.path)
            self._json(500, {"error": f"{type(e).__name__}: {e}"})

    def _route(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/")[1:]]
        params = dict(urllib.parse.parse_qsl(url.query))
        web = self.web
        if parts in ([""], ["index.html"]):
            svg, mermaid, _ = web.topology()
            page = render_page(web.app.application_id, svg, mermaid)
            self._send(200, page.encode(), "text/html; charset=utf-8")
        elif parts == ["api", "status"]:
            worker = web.worker()
            if worker is None:
                self._json(503, {"error": "not running", "application_id": web.app.application_id})
            else:
                self._json(200, status.snapshot(worker))
        elif parts == ["api", "topology"]:
            svg, mermaid, text = web.topology()
            fmt = params.get("format", "mermaid")
            if fmt == "svg":
                self._send(200, svg.encode(), "image/svg+xml")
            elif fmt in ("text", "mermaid"):
                body = text if fmt == "text" else mermaid
                self._send(200, body.encode(), "text/plain; charset=utf-8")
            else:
                self._json(400, {"error": f"?format= is mermaid, svg or text, not {fmt!r}"})
        elif parts == ["metrics"]:
            worker = web.worker()
            snap = status.snapshot(worker) if worker is not None else None
            text = metrics.render(snap, web.app.application_id)
            self._send(200, text.encode(), metrics.CONTENT_TYPE)
        elif len(parts) in (3, 4) and parts[:2] == ["api", "stores"] and parts[2]:
            forwarded = self.headers.get(FORWARDED_HEADER)
            if len(parts) == 4:
                code, body = query_key(web.app, parts[2], parts[3], params, forwarded)
            else:
                code, body = query_range(web.app, parts[2], params, forwarded)
            self._json(code, body)
        elif parts == ["favicon.ico"]:
            self._send(204, b"", "image/x-icon")
        else:
            self._json(
                404,
                {
                    "error": f"no such endpoint: {url.path}",
                    "endpoints": [
                        "/",
                        "/api/status",
                        "/api/topology",
                        "/metrics",
                        "/api/stores/<store>",
                        "/api/stores/<store>/<key>",
                    ],
                },
            )
