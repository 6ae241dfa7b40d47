"""Shared fixtures: a real redis-server on a free port for the whole session."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

os.environ.setdefault("CRAWLER_ALLOW_PRIVATE_NETWORKS", "1")

ROOT = Path(__file__).resolve().parent.parent
# The fundus benchmark pages (read-only, shared): beside the repository, or where
# the workplace keeps them for a clone made elsewhere.
FUNDUS = next((path for path in (ROOT.parent / "shared" / "benchmarks" / "fundus",
                                 Path("/work/shared/benchmarks/fundus")) if path.is_dir()),
              ROOT.parent / "shared" / "benchmarks" / "fundus")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_redis_server(port: int, workdir: str, *extra: str) -> subprocess.Popen:
    """A redis-server on 127.0.0.1:``port`` with ``extra`` options, once it answers PING."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run `make test`, which installs it")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", workdir, *extra],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                pytest.fail("redis-server did not start")
            time.sleep(0.05)
        finally:
            client.close()


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
