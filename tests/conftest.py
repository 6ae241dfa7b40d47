"""Shared fixtures: a real redis-server on a free port for the whole session, started only
when a test asks for it; and each test marked with the kind its folder names.

``tests/unit/`` needs no redis-server, no process and no server; ``tests/redis/`` needs the
session's redis-server, in-process; ``tests/system/`` runs processes (workers, the CLI,
Prometheus, nginx, redis-servers of its own) or a local HTTP site.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
import redis

from tests.support.redis import free_port, start_redis_server

os.environ.setdefault("CRAWLER_ALLOW_PRIVATE_NETWORKS", "1")

TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "redis", "system")
"""The folders of tests/, each also a marker (pyproject.toml): ``pytest -m unit``."""


def pytest_collection_modifyitems(config, items):
    for item in items:
        if TESTS in item.path.parents:
            folder = item.path.relative_to(TESTS).parts[0]
            if folder in KINDS:
                item.add_marker(folder)


@pytest.fixture(scope="session")
def redis_server():
    """A private redis-server (never the default port), stopped after the session."""
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="crawler-test-redis-")
    proc = start_redis_server(port, workdir, "--appendonly", "no")
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture
def redis_url(redis_server):
    """The session's Redis, emptied before each test."""
    redis.Redis.from_url(redis_server).flushall()
    return redis_server


@pytest.fixture
def r(redis_url):
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()
