"""Redis going away mid-crawl: the worker waits, loses nothing, and finishes the crawl."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time

import redis

from crawler.demo import expected_articles, serve
from tests.support.redis import free_port, start_redis_server
from tests.support.workers import cli, export, start_worker, wait


def _start_redis(port: int, workdir: str) -> subprocess.Popen:
    return start_redis_server(port, workdir, "--appendonly", "yes", "--appendfsync", "always")


def test_worker_survives_a_redis_restart(tmp_path):
    workdir = tempfile.mkdtemp(prefix="crawler-test-outage-")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = _start_redis(port, workdir)
    try:
        with serve() as site:
            assert cli(url, "seed", site.base_url + "/").returncode == 0
            worker = start_worker(url, "--until-idle", "3", "-s", "FRONTIER_HOST_DELAY=0.2")
            client = redis.Redis(port=port)
            while client.xlen("crawler:{news}:articles") < 2:
                assert worker.poll() is None
                time.sleep(0.1)
            server.terminate()  # SIGTERM: Redis writes its append-only file and exits
            server.wait(10)
            time.sleep(3)  # the worker runs into the outage
            assert worker.poll() is None
            server = _start_redis(port, workdir)
            code, out = wait(worker)
            assert code == 0, out[-3000:]
            assert "Redis unavailable" in out
            expected = sorted(a["url"] for a in expected_articles(site.base_url))
        assert sorted(a["url"] for a in export(url)) == expected
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
