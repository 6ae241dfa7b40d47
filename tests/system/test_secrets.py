"""Secrets never reach the terminal or the log: a REDIS_URL's password is masked everywhere."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from crawler.base.urls import redact_url

SECRET = "s3cret-Pa55"


@pytest.mark.parametrize(("url", "shown"), [
    (f"redis://:{SECRET}@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
    (f"redis://crawler:{SECRET}@127.0.0.1:notaport/0", "redis://crawler:***@127.0.0.1:notaport/0"),
    (f"rediss://u:{SECRET}@h:6380/0?password={SECRET}", "rediss://u:***@h:6380/0?password=***"),
    (f"unix:///run/redis.sock?password={SECRET}&db=1", "unix:///run/redis.sock?password=***&db=1"),
    (f"redis://:{SECRET}:{SECRET}@h/0", "redis://:***@h/0"),
    ("redis://user@h:6379/0", "redis://user@h:6379/0"),
])
def test_redact_url_masks_passwords(url, shown):
    assert redact_url(url) == shown


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
