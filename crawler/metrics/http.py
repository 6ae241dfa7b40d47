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
    """wsgiref's server, one thread per connection, with a deadline per request and a cap.

    Each connection has ``read_timeout`` seconds from its accept to the end of its
    request's headers, however slowly the bytes come (a timeout per read would let
    a client sending one byte a second hold its thread for ever). With
    ``max_connections`` open, a new one makes room by closing the oldest
    connection still sending its request, so probes and scrapes, which send theirs
    at once, keep being answered while slow clients are cut off.
    """

    daemon_threads = True
    # The listen backlog: a burst of connections waits to be accepted instead of
    # having its SYNs dropped (socketserver's default, 5, costs a client 1 s each).
    request_queue_size = 128
    read_timeout = 5.0
    max_connections = 32

    def server_activate(self) -> None:
        super().server_activate()
        self._lock = threading.Lock()
        # Open connections (socket -> deadline of its request, None once it has been read).
        self._open: dict[socket.socket, float | None] = {}

    def process_request(self, request: socket.socket, client_address: object) -> None:
        with self._lock:
            if len(self._open) >= self.max_connections and not self._evict_oldest():
                # Every connection is being answered: refuse this one, it can retry.
                self.shutdown_request(request)
                return
            self._open[request] = time.monotonic() + self.read_timeout
        super().process_request(request, client_address)

    def _evict_oldest(self) -> bool:
        """Close the connection whose request has been arriving the longest (lock held)."""
        reading = [(deadline, sock) for sock, deadline in self._open.items() if deadline is not None]
        if not reading:
            return False
        _, sock = min(reading, key=lambda item: item[0])
        self._cut(sock)
        return True

    def _cut(self, sock: socket.socket) -> None:
        # shutdown() wakes the handler thread blocked reading it; that thread closes it.
        self._open.pop(sock, None)
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def request_read(self, sock: socket.socket) -> None:
        """The handler has the whole request: the connection is no longer slow, whatever follows."""
        with self._lock:
            if sock in self._open:
                self._open[sock] = None

    def service_actions(self) -> None:
        """Called by serve_forever between polls: cut requests past their deadline."""
        now = time.monotonic()
        with self._lock:
            for sock in [sock for sock, deadline in self._open.items()
                         if deadline is not None and deadline <= now]:
                self._cut(sock)

    def shutdown_request(self, request: socket.socket) -> None:
        with self._lock:
            self._open.pop(request, None)
        super().shutdown_request(request)


class _Handler(WSGIRequestHandler):
    # A timeout per read too, so that a handler whose socket was never cut still ends.
    timeout = _Server.read_timeout

    def setup(self) -> None:
        self.timeout = self.server.read_timeout
        super().setup()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:
            self.server.request_read(self.connection)
        return parsed

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:
            pass  # a connection cut for being slow, or reset by its client

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base signature
        """Scrapes every few seconds are not worth a log line."""


class MetricsServer:
    """Serves a WSGI app on ``host:port`` from a daemon thread (port 0: a free one).

    ``read_timeout``: seconds a client has to send its whole request;
    ``max_connections``: connections open at once (each one a thread) before the
    slowest request still arriving is cut off to make room.
    """

    def __init__(self, app: Callable, host: str, port: int, *, read_timeout: float = 5.0,
                 max_connections: int = 32) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.read_timeout = read_timeout
        self.max_connections = max_connections
        self._httpd: WSGIServer | None = None

    def start(self) -> int:
        """Bind and serve; returns the port. Raises OSError when it cannot bind."""
        attrs = {"read_timeout": self.read_timeout, "max_connections": self.max_connections}
        if ":" in self.host:
            attrs["address_family"] = socket.AF_INET6
        server_class = type("_Server", (_Server,), attrs)
        self._httpd = make_server(self.host, self.port, self.app, server_class=server_class,
                                  handler_class=_Handler)
        self.port = self._httpd.server_port
        # A short poll interval: service_actions() cuts slow requests between polls.
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.2},
                         name="metrics-http", daemon=True).start()
        return self.port

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
