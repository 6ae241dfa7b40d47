"""Secrets never reach the terminal or the log: the CLI masks a REDIS_URL's password."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SECRET = "s3cret-Pa55"


@pytest.mark.parametrize("command", [["status"], ["worker", "--until-idle", "1"], ["seed", "http://a.example/"]])
@pytest.mark.parametrize("url", [
    f"redis://crawler:{SECRET}@127.0.0.1:notaport/0",  # invalid: redis-py refuses to parse it
    f"redis://crawler:{SECRET}@127.0.0.1:1/0",  # valid, nothing listens
])
def test_commands_never_print_the_redis_password(command, url):
    env = {**os.environ, "REDIS_URL": url}
    result = subprocess.run([sys.executable, "-m", "crawler", *command], env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 2, result.stderr[-2000:]
    assert SECRET not in result.stdout + result.stderr
    assert "crawler:***@127.0.0.1" in result.stderr
