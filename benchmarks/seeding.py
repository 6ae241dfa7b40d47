"""How long ``crawler seed -f FILE`` takes for 100,000 URLs, end to end.

Starts its own redis-server on a free loopback port, writes a seed file of
distinct URLs (with tracking parameters to strip), runs the real command
several times against an emptied Redis, and prints each time and the median.

    .venv/bin/python benchmarks/seeding.py [--urls 100000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-seed-"))
    port = _free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                               "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                              stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        seeds = workdir / "seeds.txt"
        seeds.write_text("".join(f"https://site{i % 500}.example.com/news/{i}.html?utm_source=feed\n"
                                 for i in range(args.urls)))
        times = []
        for run in range(args.runs):
            client.flushall()
            start = time.perf_counter()
            result = subprocess.run([sys.executable, "-m", "crawler", "--redis-url", url, "seed",
                                     "-f", str(seeds)], capture_output=True, text=True, check=True)
            times.append(time.perf_counter() - start)
            report = json.loads(result.stdout)
            assert report == {"accepted": args.urls, "duplicates": 0, "rejected": 0}, report
            print(f"run {run + 1}: {times[-1]:.2f} s  ({args.urls / times[-1]:,.0f} URLs/s)")
        print(f"median: {statistics.median(times):.2f} s for {args.urls:,} URLs "
              f"({args.urls / statistics.median(times):,.0f} URLs/s), "
              f"Redis queue length {client.zcard('crawler:{news}:queue'):,}")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
