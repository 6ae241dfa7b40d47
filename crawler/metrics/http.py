"""The worker's HTTP endpoint: ``/metrics`` and ``/healthz``, on a daemon thread.

prometheus_client's ``start_http_server`` serves one registry on every path
and cannot add routes, so this is the same thing made by hand: a WSGI app
served by wsgiref on a thread, ``/metrics`` answered by prometheus_client's
own WSGI app (Prometheus text, or OpenMetrics when the ``Accept`` header asks
for it, gzip when accepted) and ``/healthz`` by :class:`HealthCheck`.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import make_wsgi_app

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from prometheus_client import CollectorRegistry

__all__ = ["HealthCheck", "MetricsServer", "make_app"]


class HealthCheck:
    """Is the worker well? Its reactor turning, and Redis answering.

    :meth:`beat` is called on the reactor thread (a ``LoopingCall``);
    :meth:`check` runs on the HTTP threads and calls it unhealthy when the last
    beat is older than ``stall_seconds`` or ``ping`` (a Redis PING) raises. The
    ping is made at most once per ``ping_cache_seconds``, so probes cannot
    flood Redis.
    """

    def __init__(self, ping: Callable[[], object], *, stall_seconds: float,
                 ping_cache_seconds: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.ping = ping
        self.stall_seconds = stall_seconds
        self.ping_cache_seconds = ping_cache_seconds
        self.clock = clock
        self._beat_at: float | None = None
        self._lock = threading.Lock()
        self._redis_ok = False
        self._pinged_at = float("-inf")

    def beat(self) -> None:
        self._beat_at = self.clock()

    def _redis(self) -> bool:
        with self._lock:
            now = self.clock()
            if now - self._pinged_at >= self.ping_cache_seconds:
                try:
                    self.ping()
                    self._redis_ok = True
                except Exception:  # noqa: BLE001 - any failure means not connected
                    self._redis_ok = False
                self._pinged_at = now
            return self._redis_ok

    def check(self) -> tuple[bool, dict[str, object]]:
        """``(healthy, details)``; details are the JSON body of ``/healthz``."""
        lag = None if self._beat_at is None else self.clock() - self._beat_at
        reactor_ok = lag is not None and lag <= self.stall_seconds
        redis_ok = self._redis()
        healthy = reactor_ok and redis_ok
        return healthy, {
            "status": "ok" if healthy else "unhealthy",
            "redis": redis_ok,
            "reactor": reactor_ok,
            "reactor_lag_seconds": None if lag is None else round(lag, 3),
        }


def make_app(registry: CollectorRegistry, health: HealthCheck) -> Callable:
    """The WSGI app: ``/metrics`` from ``registry``, ``/healthz`` from ``health``, else 404."""
    metrics = make_wsgi_app(registry)

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        if path == "/metrics":
            return metrics(environ, start_response)
        if path == "/healthz":
            healthy, details = health.check()
            status = "200 OK" if healthy else "503 Service Unavailable"
            body = json.dumps(details).encode() + b"\n"
        else:
            status, body = "404 Not Found", b"Not found: try /metrics or /healthz\n"
        start_response(status, [("Content-Type", "application/json" if path == "/healthz"
                                 else "text/plain; charset=utf-8"),
                                ("Content-Length", str(len(body))), ("Cache-Control", "no-store")])
        return [body]

    return app


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base signature
        """Scrapes every few seconds are not worth a log line."""


class MetricsServer:
    """Serves a WSGI app on ``host:port`` from a daemon thread (port 0: a free one)."""

    def __init__(self, app: Callable, host: str, port: int) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._httpd: WSGIServer | None = None

    def start(self) -> int:
        """Bind and serve; returns the port. Raises OSError when it cannot bind."""
        server_class = _Server
        if ":" in self.host:
            server_class = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
        self._httpd = make_server(self.host, self.port, self.app, server_class=server_class,
                                  handler_class=_QuietHandler)
        self.port = self._httpd.server_port
        threading.Thread(target=self._httpd.serve_forever, name="metrics-http", daemon=True).start()
        return self.port

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
