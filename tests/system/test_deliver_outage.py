"""Redis going away while crawler deliver runs: it waits, loses nothing, and finishes."""

from __future__ import annotations

import gzip
import json
import shutil
import tempfile
import time

import redis

from crawler.base.keys import Keys
from tests.support.articles import store_articles, synthetic_article
from tests.support.deliver import finish, start_deliver
from tests.support.redis import free_port, start_redis_server

KEYS = Keys("news")


def test_deliver_survives_a_redis_restart(tmp_path):
    workdir = tempfile.mkdtemp(prefix="crawler-test-deliver-outage-")
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"

    def start():
        return start_redis_server(port, workdir, "--appendonly", "yes", "--appendfsync", "always")

    server = start()
    try:
        client = redis.Redis(port=port, decode_responses=True)
        store_articles(client, KEYS, range(20))
        proc = start_deliver(url, f"file://{tmp_path}/", "--group", "files", "--until-idle", "8",
                             "-s", "DELIVER_FILE_MAX_SECONDS=0.5", "-s", "DELIVER_CLAIM_IDLE_SECONDS=30")
        deadline = time.monotonic() + 30
        while int(client.hget(KEYS.delivered, "files") or 0) < 20:
            assert proc.poll() is None and time.monotonic() < deadline, finish(proc)[1]
            time.sleep(0.05)
        server.terminate()  # SIGTERM: Redis writes its append-only file and exits
        server.wait(10)
        time.sleep(2)  # deliver runs into the outage
        assert proc.poll() is None
        server = start()
        client = redis.Redis(port=port, decode_responses=True)
        store_articles(client, KEYS, range(20, 40))
        code, stderr, summary = finish(proc)
        assert code == 0, stderr
        assert "Redis failed, retrying" in stderr
        assert summary["acknowledged"] == 40
        rows = []
        for path in sorted(tmp_path.glob("*.jsonl.gz")):
            with gzip.open(path, "rt") as lines:
                rows += [json.loads(line)["canonical_url"] for line in lines]
        assert sorted(rows) == sorted(synthetic_article(n)["canonical_url"] for n in range(40))
        assert client.xlen(KEYS.articles) == 0
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)
