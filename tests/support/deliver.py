"""``crawler deliver`` processes, as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import tempfile

from tests.support.workers import CLI


def start_deliver(redis_url: str, *args: str, env: dict | None = None) -> subprocess.Popen:
    """``crawler deliver ARGS`` in the background; its stderr goes to ``proc.log``."""
    log = tempfile.TemporaryFile(mode="w+")
    proc = subprocess.Popen(CLI + ["--redis-url", redis_url, "deliver", *args], stdout=subprocess.DEVNULL,
                            stderr=log, text=True, env=env)
    proc.log = log
    return proc


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, dict | None]:
    """Wait for a deliver process: (exit code, its stderr, its JSON summary or None)."""
    proc.wait(timeout=timeout)
    proc.log.seek(0)
    text = proc.log.read()
    summary = None
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            summary = json.loads(line)
            break
    return proc.returncode, text, summary
