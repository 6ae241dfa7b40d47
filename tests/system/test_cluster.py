"""The whole crawl on a real three-node Redis Cluster started by the test."""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import redis

from crawler.demo import expected_articles, serve
from tests.support.redis import start_redis_server
from tests.support.workers import cli, export, start_worker, wait


def _cluster_port(taken: list[int]) -> int:
    """A free port whose cluster bus port (+10000) is free and valid too."""
    rnd = random.Random()
    while True:
        port = rnd.randrange(20000, 50000)
        if port in taken:
            continue
        try:
            for candidate in (port, port + 10000):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", candidate))
        except OSError:
            continue
        return port


@pytest.fixture(scope="module")
def cluster_url():
    workdir = tempfile.mkdtemp(prefix="crawler-test-cluster-")
    ports: list[int] = []
    for _ in range(3):
        ports.append(_cluster_port(ports))
    procs = [start_redis_server(port, workdir, "--cluster-enabled", "yes", "--cluster-config-file",
                                f"{workdir}/nodes-{port}.conf", "--appendonly", "no")
             for port in ports]
    try:
        subprocess.run(["redis-cli", "--cluster", "create", *(f"127.0.0.1:{p}" for p in ports),
                        "--cluster-replicas", "0", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        for _ in range(200):
            info = redis.Redis(port=ports[0], decode_responses=True).cluster("info")
            if info.get("cluster_state") == "ok":
                break
            time.sleep(0.05)
        else:
            pytest.fail("the test cluster did not become ready")
        yield f"redis://127.0.0.1:{ports[1]}/0"
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


def test_crawl_on_a_redis_cluster(cluster_url):
    with serve() as site:
        seeded = cli(cluster_url, "seed", site.base_url + "/")
        assert seeded.returncode == 0, seeded.stderr
        workers = [start_worker(cluster_url, "--until-idle", "3") for _ in range(2)]
        logs = []
        for worker in workers:
            code, out = wait(worker)
            assert code == 0, out[-3000:]
            logs.append(out)
        expected = sorted(a["url"] for a in expected_articles(site.base_url))
    status = cli(cluster_url, "status", "--json").stdout
    assert sorted(a["url"] for a in export(cluster_url)) == expected, (status, logs[0][-4000:])
