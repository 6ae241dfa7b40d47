"""``crawler`` CLI and worker processes, as a user or an operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

CLI = [sys.executable, "-m", "crawler"]
WORKER_SETTINGS = ["-s", "DOWNLOAD_MAXSIZE=1048576", "-s", "FRONTIER_HOST_DELAY=0", "-s", "FRONTIER_HEARTBEAT_SECONDS=0.5",
                   "-s", "FRONTIER_LEASE_SECONDS=5", "-s", "RETRY_TIMES=1", "-s", "LOG_LEVEL=INFO",
                   # Two seconds of CPU per worker start (the date parser's tables): the
                   # suite starts dozens on two cores, and none reads a page that needs them.
                   "-s", "EXTRACT_WARM_UP=false"]


def cli(redis_url: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + ["--redis-url", redis_url, *args], capture_output=True, text=True,
                          timeout=120, env=env)


def start_worker(redis_url: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    # The log goes to a file: a full pipe would block the worker mid-crawl.
    log = tempfile.TemporaryFile(mode="w+")
    # Workers would all bind the default metrics port 9410: give each a free one.
    metrics = [] if "--metrics-port" in args else ["--metrics-port", "0"]
    proc = subprocess.Popen(CLI + ["--redis-url", redis_url, "worker", *WORKER_SETTINGS, *metrics, *args],
                            stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
    proc.log = log
    return proc


def wait(proc: subprocess.Popen, timeout: float = 240) -> tuple[int, str]:
    proc.wait(timeout=timeout)
    proc.log.seek(0)
    return proc.returncode, proc.log.read()


def export(redis_url: str) -> list[dict]:
    result = cli(redis_url, "export")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]
