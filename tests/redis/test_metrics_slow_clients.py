"""The worker's /metrics and /healthz endpoint against slow and idle clients (issue 10, item 4).

A client that opens a connection and never finishes its request must not hold a
thread for ever, and many of them must not keep /healthz from answering: the
kubelet and Docker's HEALTHCHECK restart a worker whose probe times out.
"""

from __future__ import annotations

import socket
import threading
import time
import urllib.request

import pytest
from prometheus_client import CollectorRegistry
from scrapy.settings import Settings

from crawler.metrics.exporter import MetricsConfig
from crawler.metrics.http import HealthCheck, MetricsServer, make_app

HELD = 150
READ_TIMEOUT = 2.0


def _server(r, **limits) -> MetricsServer:
    health = HealthCheck(r.ping, stall_seconds=10)
    health.beat()
    server = MetricsServer(make_app(CollectorRegistry(), health), "127.0.0.1", 0, **limits)
    server.start()
    return server


def _hold(port: int, count: int) -> list[socket.socket]:
    """``count`` connections, each having sent half a request line and headers, never the end."""
    held = []
    for _ in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        held.append(sock)
    return held


def _closed_by_server(sock: socket.socket, wait: float) -> bool:
    sock.settimeout(wait)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False


def _healthz(port: int) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        return response.status, time.monotonic() - started


def test_healthz_answers_while_150_half_sent_requests_are_held(r):
    server = _server(r, read_timeout=READ_TIMEOUT, max_connections=32)
    held = []
    try:
        threads_before = threading.active_count()
        held = _hold(server.port, HELD)
        time.sleep(0.3)  # every held connection has been accepted
        status, took = _healthz(server.port)
        assert status == 200 and took < 1.5, (status, took)
        # Connections beyond the cap cost no thread: the oldest unfinished requests make room.
        assert threading.active_count() - threads_before <= 32 + 2
        # Every held connection is closed by the server, at the latest after the read timeout.
        started = time.monotonic()
        still_open = [sock for sock in held if not _closed_by_server(sock, READ_TIMEOUT + 2.0)]
        assert still_open == [], f"{len(still_open)} of {HELD} slow connections still open"
        assert time.monotonic() - started < READ_TIMEOUT + 3.0
        assert _healthz(server.port)[0] == 200
    finally:
        for sock in held:
            sock.close()
        server.stop()


def test_a_client_dripping_bytes_is_cut_off_at_the_read_timeout(r):
    # A byte every half second never trips a per-read timeout; the whole request has a deadline.
    server = _server(r, read_timeout=1.0, max_connections=8)
    try:
        sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        started = time.monotonic()
        closed = False
        for byte in b"GET /metrics HTTP/1.1\r\nHost: x\r\n" * 4:
            try:
                sock.sendall(bytes([byte]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sock.settimeout(0.5)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                pass
        assert closed, "the server kept reading a request that never ended"
        assert time.monotonic() - started < 3.0
        sock.close()
    finally:
        server.stop()


def test_metrics_config_reads_the_limits_and_rejects_bad_ones():
    config = MetricsConfig.from_settings(Settings({"METRICS_READ_TIMEOUT": "3.5",
                                                   "METRICS_MAX_CONNECTIONS": "10"}))
    assert (config.read_timeout, config.max_connections) == (3.5, 10)
    assert (MetricsConfig().read_timeout, MetricsConfig().max_connections) == (5.0, 32)
    assert MetricsConfig().host == "127.0.0.1"
    with pytest.raises(ValueError, match="METRICS_READ_TIMEOUT must be more than 0"):
        MetricsConfig.from_settings(Settings({"METRICS_READ_TIMEOUT": "0"}))
    with pytest.raises(ValueError, match="METRICS_MAX_CONNECTIONS must be at least 2"):
        MetricsConfig.from_settings(Settings({"METRICS_MAX_CONNECTIONS": "1"}))
