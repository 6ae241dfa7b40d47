"""A worker process whose metrics port is taken stops with one clear error."""

from __future__ import annotations

import socket
import subprocess
import sys

CLI = [sys.executable, "-m", "crawler"]


def test_a_worker_whose_port_is_taken_stops_with_one_clear_error(redis_url):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            CLI + ["--redis-url", redis_url, "worker", "--metrics-port", str(port),
                   "-s", "METRICS_HOST=127.0.0.1", "--until-idle", "30"],
            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if "] ERROR: " in line]
    assert len(errors) == 2, result.stderr[-3000:]
    assert f"Cannot serve metrics on 127.0.0.1:{port}: Address already in use" in errors[0]
    assert "Worker stopped: metrics_port_unavailable" in errors[1]
