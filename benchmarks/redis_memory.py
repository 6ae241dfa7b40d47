"""Redis memory per stored and delivered article, and memory over a long crawl.

Starts its own redis-server on a free loopback port and pushes synthetic articles
through the real store path (``ArticleStore.store``: the STORE Lua script, the day's
dedupe hash with its expiry) while a consumer group delivers them the way ``crawler
deliver`` does (XREADGROUP, XACK, XTRIM MINID of what every group acknowledged).

``at-rest`` (default): N articles, then everything delivered and trimmed; prints
``used_memory`` per article (INFO), and what the dedupe hash and the stream take
(MEMORY USAGE).

    .venv/bin/python benchmarks/redis_memory.py [--articles 100000] [--words 700]

``flat``: N articles through a Redis capped at ``--maxmemory`` (noeviction) with
delivery running in a thread and the workers' real backpressure
(:class:`crawler.frontier.backpressure.Backpressure`, default settings) deciding when
to store; time is compressed, one simulated day every ``--day-seconds`` real seconds
(the store's clock and its EXPIREAT map simulated days onto real seconds), so that the
dedupe window (``--window`` days) passes and day hashes expire by themselves. Prints
``used_memory`` over the simulated days, the time spent paused, and checks that every
article was delivered once.

    .venv/bin/python benchmarks/redis_memory.py flat [--articles 500000] [--per-day 2500]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import redis

from crawler.article.fingerprints import content_hash
from crawler.base.keys import Keys
from crawler.frontier.backpressure import Backpressure
from crawler.frontier.config import FrontierConfig
from crawler.store.dedupe import ArticleStore

KEYS = Keys("news")
GROUP = "bench"
DAY = 86_400
# Simulated time starts on this day (UTC midnight).
EPOCH = 1_700_006_400


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _articles(count: int, words: int, seed: int = 7):
    """Distinct synthetic articles of ``words`` words (a 20,000-word vocabulary), with the
    fields of a normalized article that a 700-word story has."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(20_000)]
    for i in range(count):
        body = " ".join(rng.choices(vocabulary, k=words))
        url = f"https://site{i % 500}.example.com/news/2024/05/{i:07d}-a-story-about-something.html"
        yield {"url": url, "canonical_url": url, "title": f"Story number {i} about something",
               "description": "A synthetic article for the memory benchmark.", "section": "news",
               "site_name": f"Site {i % 500}", "language": "en", "domain": f"site{i % 500}.example.com",
               "authors": ["Jane Doe"], "published": "2024-05-06T07:08:09+00:00", "modified": None,
               "body": body, "related": [], "word_count": words, "content_hash": content_hash(body),
               "simhash": f"{i:016x}", "crawled_at": "2024-05-06T07:08:09+00:00", "spider": "news"}


class Delivery:
    """One consumer group: read, acknowledge, trim. ``deliver()`` drains the stream once."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self.delivered = 0
        self.last: set[str] = set()
        self.ids: set[str] = set()
        client.xgroup_create(KEYS.articles, GROUP, id="0", mkstream=True)

    def deliver(self, batch: int = 1000, keep_ids: bool = False) -> int:
        total = 0
        while True:
            entries = self.client.xreadgroup(GROUP, "c1", {KEYS.articles: ">"}, count=batch)
            found = entries[0][1] if entries else []
            if not found:
                return total
            ids = [entry_id for entry_id, _ in found]
            for _, fields in found:
                json.loads(fields[b"article"])  # what a sink would write
            if keep_ids:
                before = len(self.ids)
                self.ids.update(ids)
                assert len(self.ids) == before + len(ids), "an entry was delivered twice"
            self.client.xack(KEYS.articles, GROUP, *ids)
            ms, seq = ids[-1].decode().split("-")
            self.client.xtrim(KEYS.articles, minid=f"{ms}-{int(seq) + 1}")
            total += len(ids)
            self.delivered += len(ids)


def _server(workdir: Path, *extra: str) -> tuple[subprocess.Popen, redis.Redis, str]:
    port = _free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", str(workdir), *extra],
                            stdout=subprocess.DEVNULL)
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            time.sleep(0.05)
    return proc, client, f"redis://127.0.0.1:{port}/0"


def at_rest(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-"))
    proc, client, _ = _server(workdir)
    try:
        store = ArticleStore(client, KEYS)
        delivery = Delivery(client)
        warm_up = next(_articles(1, args.words, seed=99))
        store.store(dict(warm_up, canonical_url="https://warm.example/up"))  # loads the script
        delivery.deliver()
        before = client.info("memory")["used_memory"]
        start = time.perf_counter()
        for n, article in enumerate(_articles(args.articles, args.words), 1):
            assert store.store(article) == "stored"
            if n % 5000 == 0:
                delivery.deliver()
                print(f"  {n:,} stored, {time.perf_counter() - start:.0f} s", flush=True)
        delivery.deliver()
        after = client.info("memory")["used_memory"]
        per = (after - before) / args.articles
        dedupe = sum(client.memory_usage(key, samples=0) or 0
                     for key in client.scan_iter(KEYS._key("dedupe:*")))
        stream = client.memory_usage(KEYS.articles, samples=0)
        print(f"{args.articles:,} articles of {args.words} words stored and delivered in "
              f"{time.perf_counter() - start:.0f} s")
        print(f"used_memory at rest: {after - before:,} bytes more = {per:,.0f} bytes "
              f"({per / 1024:.2f} KiB) per article")
        print(f"  dedupe hashes (MEMORY USAGE): {dedupe / args.articles:,.0f} bytes per article; "
              f"trimmed stream: {stream:,} bytes; XLEN {client.xlen(KEYS.articles)}")
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


class _CompressedStore(ArticleStore):
    """The real store, on a clock where one day lasts ``day_seconds`` real seconds: its day
    keys follow the simulated date, and each expires (EXPIREAT, in real seconds) when the
    simulated window after its day has passed."""

    def __init__(self, *args, t0: float, day_seconds: float, **kwargs) -> None:
        self.t0, self.day_seconds = t0, day_seconds
        super().__init__(*args, clock=self.simulated, **kwargs)

    def simulated(self) -> float:
        return EPOCH + (time.time() - self.t0) / self.day_seconds * DAY

    def expires_at(self, now: float | None = None) -> int:
        simulated = super().expires_at(now)
        return int(self.t0 + (simulated - EPOCH) / DAY * self.day_seconds) + 1


def flat(args: argparse.Namespace) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-memory-flat-"))
    proc, client, _ = _server(workdir, "--maxmemory", args.maxmemory, "--maxmemory-policy", "noeviction")
    try:
        t0 = time.time()
        store = _CompressedStore(client, KEYS, window_days=args.window, t0=t0, day_seconds=args.day_seconds)
        backpressure = Backpressure.from_config(client, KEYS, FrontierConfig())
        delivery = Delivery(redis.Redis(port=client.connection_pool.connection_kwargs["port"]))
        stop = threading.Event()

        def deliver_forever() -> None:
            while not stop.is_set():
                if not delivery.deliver(keep_ids=True):
                    time.sleep(0.05)

        thread = threading.Thread(target=deliver_forever, daemon=True)
        thread.start()
        paused_total = longest = 0.0
        rows = []
        stored = 0
        maxmemory = client.info("memory")["maxmemory"]
        print(f"{'day':>5} {'stored':>9} {'used_memory':>12} {'of max':>7} {'backlog':>8} {'paused s':>9}")
        for n, article in enumerate(_articles(args.articles, args.words), 1):
            # Pace: article n belongs to simulated day n // per_day.
            ahead = t0 + (n - 1) / args.per_day * args.day_seconds - time.time()
            if ahead > 0:
                time.sleep(ahead)
            if backpressure.paused():
                began = time.monotonic()
                while backpressure.paused():
                    time.sleep(0.05)
                pause = time.monotonic() - began
                paused_total += pause
                longest = max(longest, pause)
            assert store.store(article) == "stored"
            stored += 1
            if n % (args.per_day * 10) == 0:
                used = client.info("memory")["used_memory"]
                row = (n // args.per_day, n, used, used / maxmemory, client.xlen(KEYS.articles), paused_total)
                rows.append(row)
                print(f"{row[0]:>5} {row[1]:>9,} {row[2] / 2**20:>9.1f} MiB {row[3]:>7.0%} {row[4]:>8,} "
                      f"{row[5]:>9.1f}", flush=True)
        while client.xlen(KEYS.articles):
            time.sleep(0.1)
        stop.set()
        thread.join(30)
        print(f"{stored:,} stored, {len(delivery.ids):,} delivered (each once), "
              f"stream left: {client.xlen(KEYS.articles)}; paused {paused_total:.1f} s in all, "
              f"longest pause {longest:.1f} s; peak used_memory {max(r[2] for r in rows) / 2**20:.1f} MiB "
              f"of {maxmemory / 2**20:.0f} MiB; wall time {time.time() - t0:.0f} s")
        assert len(delivery.ids) == stored
    finally:
        proc.terminate()
        proc.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", nargs="?", choices=["at-rest", "flat"], default="at-rest")
    parser.add_argument("--articles", type=int)
    parser.add_argument("--words", type=int, help="words per body (default 700; flat: 150)")
    parser.add_argument("--maxmemory", default="256mb")
    parser.add_argument("--window", type=int, default=30, help="DEDUPE_WINDOW_DAYS")
    parser.add_argument("--per-day", type=int, default=2500, help="articles per simulated day")
    parser.add_argument("--day-seconds", type=float, default=5.0, help="real seconds per simulated day")
    args = parser.parse_args(argv)
    if args.mode == "at-rest":
        args.articles = args.articles or 100_000
        args.words = args.words or 700
        at_rest(args)
    else:
        args.articles = args.articles or 500_000
        args.words = args.words or 150
        flat(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
