"""Delivery throughput of ``crawler deliver``, end to end from the article stream.

Starts its own redis-server (loopback, a free port) and its own PostgreSQL
(Debian's ``initdb``/``pg_ctl``, a unix socket in a temporary folder, the
server's default durability: fsync and synchronous commit on), fills the
article stream with ``--articles`` normalized articles of about ``--words``
words (paragraphs of the demo site's articles, so the text compresses like
prose), and times :class:`crawler.store.delivery.Deliverer` (the code of
``crawler deliver``) from its start until every article is acknowledged, in
the sink and trimmed from the stream. Each run delivers a fresh stream.

Goals (issue 12): at least 20,000 articles/s to gzip JSON Lines and 5,000
articles/s to PostgreSQL (COPY and upsert).

    .venv/bin/python benchmarks/delivery.py [--articles 100000] [--words 700] [--runs 3]
        [--batch 1000] [--sinks file,postgresql] [--json]
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

from crawler.article.normalize import normalize_article
from crawler.base.keys import Keys
from crawler.demo.content import ARTICLES
from crawler.store.delivery import Deliverer, DeliveryConfig
from crawler.store.postgres import PostgresSink
from crawler.store.sinks import FileSink

KEYS = Keys("news")
_IDLE = 0.2  # --until-idle of the timed runs, taken off their time


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _articles(count: int, words: int) -> list[str]:
    """``count`` distinct article JSONs: the demo site's paragraphs in an order of their own,
    up to about ``words`` words (200 bodies, each article its own URL)."""
    paragraphs = [p for article in ARTICLES for p in article.paragraphs]
    bases = []
    for n in range(min(count, 200)):
        order = paragraphs[:]
        random.Random(n).shuffle(order)  # no paragraph twice: the store drops repeats
        body, size = [], 0
        for paragraph in order * (1 + words // 3000):
            if size >= words:
                break
            body.append(paragraph if paragraph not in body else f"{paragraph} ({len(body)})")
            size += len(paragraph.split())
        bases.append(normalize_article({
            "url": f"https://news.example/story/{n}", "title": f"Story {n}", "authors": "Ann Lee",
            "published": "2024-05-06T07:08:09Z", "body": "\n\n".join(body), "section": "city",
            "related": [{"url": "https://news.example/", "title": "Home"}]}, spider="news"))
    out = []
    for n in range(count):
        article = dict(bases[n % len(bases)])
        article["url"] = article["canonical_url"] = f"https://news.example/story/{n}"
        out.append(json.dumps(article, ensure_ascii=False, separators=(",", ":")))
    return out


def _fill(client: redis.Redis, payloads: list[str]) -> None:
    client.flushall()
    pipe = client.pipeline(transaction=False)
    for i, payload in enumerate(payloads, 1):
        pipe.xadd(KEYS.articles, {"article": payload})
        if i % 1000 == 0:
            pipe.execute()
    pipe.execute()


def _process_cpu(pid: int) -> float:
    """CPU seconds (user and system) of process ``pid`` and its children still running."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(entry) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def _deliver(client: redis.Redis, sink, batch: int, servers: list[int]) -> tuple[float, int, float]:
    """(seconds, articles acknowledged, CPU seconds of deliver, Redis and the sink's server)."""
    deliverer = Deliverer(client, KEYS, sink, group="bench", config=DeliveryConfig(batch=batch),
                          block_seconds=0.05)
    cpu = time.process_time() + sum(_process_cpu(pid) for pid in servers)
    start = time.perf_counter()
    report = deliverer.run(until_idle=_IDLE)
    seconds = time.perf_counter() - start - _IDLE
    cpu = time.process_time() + sum(_process_cpu(pid) for pid in servers) - cpu
    return seconds, report.acknowledged, cpu


class _Postgres:
    """A throwaway PostgreSQL with default durability, as the ``postgres`` user when run as root."""

    def __init__(self) -> None:
        def binary(name: str) -> str:
            found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
            return found[-1] if found else (shutil.which(name) or sys.exit(f"{name} is not installed"))

        self.workdir = Path(tempfile.mkdtemp(prefix="bench-deliver-pg-"))
        self.as_user = []
        if os.geteuid() == 0:
            self.as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.workdir, "postgres")
        self.port = _free_port()
        self.pg_ctl = binary("pg_ctl")
        data = self.workdir / "data"
        subprocess.run([*self.as_user, binary("initdb"), "-D", str(data), "-U", "bench", "--auth=trust",
                        "-E", "UTF8", "--locale=C.UTF-8"], check=True, capture_output=True)
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(data), "-l", str(self.workdir / "log"), "-o",
                        f"-p {self.port} -k {self.workdir} -c listen_addresses=''", "-w", "start"],
                       check=True, capture_output=True)
        self.url = f"postgresql://bench@/postgres?host={self.workdir}&port={self.port}"
        self.pid = int((data / "postmaster.pid").read_text().split()[0])

    def reset(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute("DROP TABLE IF EXISTS articles, crawler_schema")

    def stop(self) -> None:
        subprocess.run([*self.as_user, self.pg_ctl, "-D", str(self.workdir / "data"), "-m", "fast", "-w",
                        "stop"], capture_output=True)
        shutil.rmtree(self.workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--words", type=int, default=700)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--sinks", default="file,postgresql")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args(argv)
    sinks = args.sinks.split(",")
    workdir = Path(tempfile.mkdtemp(prefix="bench-deliver-"))
    port = _free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(workdir)], stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port, decode_responses=True)
    postgres = _Postgres() if "postgresql" in sinks else None
    results: dict[str, dict] = {}
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        payloads = _articles(args.articles, args.words)
        mean_bytes = statistics.fmean(len(p.encode()) for p in payloads[:1000])
        for sink_name in sinks:
            rates, cpus, extra = [], [], {}
            for run in range(args.runs):
                _fill(client, payloads)
                if sink_name == "file":
                    out = workdir / f"files-{run}"
                    sink = FileSink(out, max_bytes=64 << 20, max_seconds=60, stale_seconds=400)
                else:
                    assert postgres is not None
                    postgres.reset()
                    sink = PostgresSink(postgres.url)
                servers = [server.pid] + ([postgres.pid] if sink_name == "postgresql" else [])
                seconds, delivered, cpu = _deliver(client, sink, args.batch, servers)
                cpus.append(cpu / args.articles * 1e6)
                if delivered != args.articles or client.xlen(KEYS.articles) != 0:
                    print(f"{sink_name}: delivered {delivered} of {args.articles}", file=sys.stderr)
                    return 1
                rates.append(args.articles / seconds)
                if sink_name == "file":
                    size = sum(path.stat().st_size for path in out.glob("*.jsonl.gz"))
                    extra = {"files": len(list(out.glob("*.jsonl.gz"))),
                             "compressed_bytes_per_article": round(size / args.articles)}
                    shutil.rmtree(out)
            results[sink_name] = {"articles_per_second": [round(r) for r in rates],
                                  "median": round(statistics.median(rates)),
                                  "cpu_microseconds_per_article": round(statistics.median(cpus)), **extra}
        summary = {"articles": args.articles, "words": args.words, "json_bytes_per_article": round(mean_bytes),
                   "batch": args.batch, "cpus": os.cpu_count(), "load_average": os.getloadavg()[0],
                   "results": results}
        if args.json:
            print(json.dumps(summary))
        else:
            print(f"{args.articles} articles of ~{args.words} words ({summary['json_bytes_per_article']} bytes "
                  f"of JSON each), batch {args.batch}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
            for name, result in results.items():
                runs = ", ".join(f"{r:,}" for r in result["articles_per_second"])
                more = (f"; {result['files']} files, {result['compressed_bytes_per_article']} bytes/article "
                        f"compressed" if name == "file" else "")
                print(f"  {name:<11} median {result['median']:>7,} articles/s  (runs: {runs}){more}; "
                      f"{result['cpu_microseconds_per_article']} µs of CPU per article (deliver, Redis"
                      f"{', PostgreSQL' if name == 'postgresql' else ''})")
    finally:
        client.close()
        server.terminate()
        server.wait(10)
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
