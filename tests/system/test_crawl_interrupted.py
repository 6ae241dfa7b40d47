"""``crawler crawl`` keeps what it crawled (issue 10, items 4 and 10).

Real processes: the ``crawler crawl`` command with its private redis-server and
two workers, against the demo site on 127.0.0.1. It is interrupted mid-crawl as
a terminal does it (SIGINT to the whole foreground process group) and as a
process manager does it (SIGTERM to the command alone); both times the output
holds the articles stored so far. A bad output path is refused before anything
starts. The workers of a local crawl serve their metrics on loopback only.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.demo import expected_articles, serve

CLI = [sys.executable, "-m", "crawler"]


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["CRAWLER_ALLOW_PRIVATE_NETWORKS"] = "1"
    # What a container's environment says: the workers of a local crawl still keep to loopback.
    env["METRICS_HOST"] = "0.0.0.0"
    return env


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _listening(pid: int) -> list[tuple[str, int]]:
    """The TCP addresses process ``pid`` listens on, from /proc (IPv4 and IPv6)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    found = []
    for table, width in (("tcp", 8), ("tcp6", 32)):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                address, port = fields[1].split(":")
                raw = bytes.fromhex(address)
                # /proc prints each 32-bit word in host (little-endian) order.
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                ip = ".".join(str(b) for b in raw) if width == 8 else raw.hex(":", 2)
                found.append((ip, int(port, 16)))
    return found


def _interrupt(tmp_path: Path, signum: int, *, whole_group: bool) -> dict:
    """Run a crawl of the demo site, send ``signum`` once a few articles were fetched."""
    out = tmp_path / "articles.jsonl"
    with serve() as site:
        articles = {urlsplit(a["url"]).path for a in expected_articles(site.base_url)}
        proc = subprocess.Popen(CLI + ["crawl", site.base_url + "/", "-o", str(out), "--workers", "2"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
                                start_new_session=True)
        try:
            deadline = time.monotonic() + 120
            while sum(1 for _, path in list(site.hits) if path in articles) < 3:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the crawl fetched no article in 120 s"
                time.sleep(0.1)
            workers = [pid for pid in _children(proc.pid)
                       if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]
            listening = {pid: _listening(pid) for pid in workers}
            time.sleep(1.0)  # the fetched articles go through the pipelines
            if whole_group:
                os.killpg(proc.pid, signum)  # Ctrl-C in a terminal: the whole foreground group
            else:
                proc.send_signal(signum)
            stdout, stderr = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        expected = {a["url"] for a in expected_articles(site.base_url)}
    return {"code": proc.returncode, "stdout": stdout, "stderr": stderr, "out": out,
            "expected": expected, "workers": workers, "listening": listening}


@pytest.fixture(scope="module")
def ctrl_c(tmp_path_factory):
    return _interrupt(tmp_path_factory.mktemp("ctrl-c"), signal.SIGINT, whole_group=True)


def test_ctrl_c_mid_crawl_exports_the_articles_stored_so_far(ctrl_c):
    assert ctrl_c["code"] == 130, ctrl_c["stderr"][-3000:]
    assert ctrl_c["out"].is_file(), ctrl_c["stderr"][-3000:]
    urls = [json.loads(line)["url"] for line in ctrl_c["out"].read_text().splitlines()]
    assert 0 < len(urls) < len(ctrl_c["expected"]), urls
    assert len(set(urls)) == len(urls) and set(urls) <= ctrl_c["expected"]
    summary = json.loads(ctrl_c["stdout"])
    assert summary["interrupted"] == "SIGINT" and summary["exported"] == len(urls)
    assert f"{len(urls)} articles stored so far written to" in ctrl_c["stderr"]
    # Workers stopped, private Redis gone: nothing left behind.
    assert not any(Path(f"/proc/{pid}").exists() for pid in ctrl_c["workers"])
    assert not list(Path("/tmp").glob("crawler-redis-*/redis.sock"))


def test_workers_of_a_local_crawl_listen_on_loopback_only(ctrl_c):
    assert len(ctrl_c["listening"]) == 2, ctrl_c["listening"]
    for pid, addresses in ctrl_c["listening"].items():
        assert addresses, f"worker {pid} serves no metrics"
        assert {ip for ip, _ in addresses} == {"127.0.0.1"}, addresses


def test_sigterm_mid_crawl_exports_the_articles_stored_so_far(tmp_path):
    run = _interrupt(tmp_path, signal.SIGTERM, whole_group=False)
    assert run["code"] == 143, run["stderr"][-3000:]
    urls = [json.loads(line)["url"] for line in run["out"].read_text().splitlines()]
    assert 0 < len(urls) < len(run["expected"]) and set(urls) <= run["expected"]
    assert json.loads(run["stdout"])["interrupted"] == "SIGTERM"
    assert not any(Path(f"/proc/{pid}").exists() for pid in run["workers"])


@pytest.mark.parametrize("target", ["a-file/articles.jsonl", "."])
def test_an_output_that_cannot_be_written_is_refused_before_crawling(tmp_path, target):
    (tmp_path / "a-file").write_text("not a folder\n")
    output = tmp_path / target
    with serve() as site:
        started = time.monotonic()
        result = subprocess.run(CLI + ["crawl", site.base_url + "/", "-o", str(output)],
                                capture_output=True, text=True, timeout=120, env=_env())
        took = time.monotonic() - started
        hits = list(site.hits)
    assert result.returncode == 2, result.stderr
    reason = "Not a directory" if target != "." else "Is a directory"
    assert result.stderr == f"crawler crawl: error: cannot write {output}: {reason}\n"
    assert result.stdout == "" and hits == [] and took < 20
    assert (tmp_path / "a-file").read_text() == "not a folder\n"
