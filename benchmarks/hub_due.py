"""How soon after its due time a worker fetches a hub.

Starts a private redis-server and a tiny HTTP site on 127.0.0.1, one idle
``crawler worker`` (no ``--until-idle``), then registers ``--hubs`` hubs falling due
at staggered times over ``--spread`` seconds (none due at a heartbeat boundary on
purpose), and prints the delay from each hub's due time (Redis' clock) to the
site receiving its request: median, 95th percentile and max, and how many were
fetched once.

    .venv/bin/python -m benchmarks.hub_due [--hubs 20] [--spread 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis

from crawler.base.keys import Keys
from crawler.cli.redisproc import PrivateRedis
from crawler.frontier.hubs import HubRegistry


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hubs", type=int, default=20)
    parser.add_argument("--spread", type=float, default=30.0)
    args = parser.parse_args()

    fetched: dict[str, list[float]] = {}

    class Site(BaseHTTPRequestHandler):
        def do_GET(self):
            fetched.setdefault(self.path, []).append(time.time())
            body = b"<html><body>hub</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    with PrivateRedis() as server:
        site = ThreadingHTTPServer(("127.0.0.1", 0), Site)
        threading.Thread(target=site.serve_forever, daemon=True).start()
        url = server.url
        worker = None
        try:
            client = redis.Redis.from_url(url, decode_responses=True)
            keys = Keys("news")
            client.sadd(keys.hosts, "127.0.0.1")
            log = tempfile.TemporaryFile()
            worker = subprocess.Popen([sys.executable, "-m", "crawler", "--redis-url", url, "worker",
                                       "--metrics-port", "0", "-s", "FRONTIER_HOST_DELAY=0"],
                                      stdout=log, stderr=subprocess.STDOUT,
                                      env={**os.environ, "CRAWLER_ALLOW_PRIVATE_NETWORKS": "1"})
            while not client.zcard(keys.workers):
                time.sleep(0.2)
            time.sleep(3)  # idle: nothing queued
            hubs = HubRegistry(client, keys)
            base = f"http://127.0.0.1:{site.server_port}"
            due = {}
            for n in range(args.hubs):
                delay = 1.0 + args.spread * n / args.hubs + 0.37 * (n % 3)
                now = hubs.now()
                hubs.add(f"{base}/hub{n}.xml", "feed", due=now + delay)
                due[f"/hub{n}.xml"] = now + delay
            time.sleep(args.spread + 5)
            delays = sorted(fetched[path][0] - when for path, when in due.items() if path in fetched)
            once = sum(1 for path in due if len(fetched.get(path, [])) == 1)
            q95 = delays[min(len(delays) - 1, int(0.95 * len(delays)))] if delays else None
            print(json.dumps({
                "hubs": args.hubs, "fetched_once": once, "fetched": len(delays),
                "delay_after_due_seconds": {
                    "median": round(statistics.median(delays), 3) if delays else None,
                    "p95": None if q95 is None else round(q95, 3),
                    "max": round(delays[-1], 3) if delays else None},
            }))
        finally:
            if worker is not None:
                worker.terminate()
                worker.wait(60)
            site.shutdown()


if __name__ == "__main__":
    main()
