"""Freshness benchmark (issue 11): how soon a new story is fetched, and at what cost in hub fetches.

In one run, three live demo sites (:func:`crawler.demo.serve` with ``live=True``)
with the same seed and the same schedule (same start instant) on two loopback
ports, each crawled by its own private redis-server and ``--workers`` real
``crawler worker`` processes, at the same time:

* **adaptive**: this service with its default settings apart from
  ``FRONTIER_REVISIT_MIN``/``MAX`` (``--revisit-min``/``--revisit-max``, suited to
  the run's length);
* **poller**: the same service with ``FRONTIER_REVISIT_ADAPTIVE=false``: every hub
  is refetched every ``FRONTIER_REVISIT_MIN`` seconds (a fixed-interval poller);
* **poller-3x**: the same poller every ``3 * FRONTIER_REVISIT_MIN`` seconds: a fixed
  schedule held to the goal's budget, a third of the poller's fetches. With the
  same floor for both, a schedule of a third of the fetches cannot sample a story as
  often as a poller that visits every redundant hub listing it (home page, front,
  feeds, news sitemap) every ``min``; at an equal budget the question is which
  schedule spends it better.

Both are seeded with their site's home page only. The figures come from what each
site recorded (:meth:`crawler.demo.LiveDemoSite.truth`), not from the crawler, so
they hold whatever the crawler does: the delay from a story going live to its
first fetch (median and 95th percentile, over the stories that went live after the
start and at least ``--grace`` seconds before the stop), the stories among those
never fetched (missed), hub fetches answered 200 and 304, and hub fetches per new
story. ::

    .venv/bin/python -m benchmarks.freshness [--minutes 5] [--publish-every 5] [--workers 1]
        [--revisit-min 15] [--revisit-max 300] [--grace 30] [--seed 0] [--json]

Goal (issue 11): the adaptive crawl's median delay at most the poller's, with at
most one third of its hub fetches.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from typing import Any

from crawler.cli.redisproc import PrivateRedis
from crawler.demo import serve

__all__ = ["Figures", "main", "measure", "run"]

_STOP_SECONDS = 60


@dataclass(frozen=True)
class Figures:
    """What one site saw of one crawler (see :func:`measure`)."""

    stories: int  # new stories that went live during the run
    considered: int  # of those, live at least ``grace`` s before the stop
    fetched: int
    missed: int
    median_delay: float | None
    p95_delay: float | None
    hub_fetches_200: int
    hub_fetches_304: int
    hub_fetches_by_kind: dict[str, dict[str, int]]

    @property
    def hub_fetches(self) -> int:
        return self.hub_fetches_200 + self.hub_fetches_304

    @property
    def hub_fetches_per_story(self) -> float | None:
        return self.hub_fetches / self.stories if self.stories else None


def _percentile(values: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def measure(truth: dict[str, Any], *, stop: float, grace: float) -> Figures:
    """The figures of a run from a live site's ``truth`` (taken at ``stop``): the
    stories published after the site started (not its backlog), the delay from
    ``live_at`` to ``first_fetched`` of those live by ``stop - grace``, and every
    hub fetch recorded until ``stop``."""
    new = [s for s in truth["stories"] if not s["backlog"] and s["live_at"] <= stop]
    considered = [s for s in new if s["live_at"] <= stop - grace]
    delays = [s["first_fetched"] - s["live_at"] for s in considered
              if s["first_fetched"] is not None and s["first_fetched"] <= stop]
    fetches = [f for f in truth["hub_fetches"] if f["at"] <= stop]
    by_kind: dict[str, dict[str, int]] = {}
    for fetch in fetches:
        counts = by_kind.setdefault(fetch["kind"], {"200": 0, "304": 0})
        counts[str(fetch["status"])] = counts.get(str(fetch["status"]), 0) + 1
    return Figures(
        stories=len(new), considered=len(considered), fetched=len(delays),
        missed=len(considered) - len(delays),
        median_delay=statistics.median(delays) if delays else None,
        p95_delay=_percentile(delays, 0.95),
        hub_fetches_200=sum(1 for f in fetches if f["status"] == 200),
        hub_fetches_304=sum(1 for f in fetches if f["status"] == 304),
        hub_fetches_by_kind=dict(sorted(by_kind.items())),
    )


def _cli(redis_url: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "crawler", "--redis-url", redis_url, *args],
                          capture_output=True, text=True, timeout=120, env=env, check=True)


def run(*, minutes: float, publish_every: float, workers: int, revisit_min: float,
        revisit_max: float, grace: float, seed: int) -> dict[str, Any]:
    """Run both crawls side by side for ``minutes``; returns the figures of both and
    their ratios (adaptive / poller)."""
    env = {**os.environ, "CRAWLER_ALLOW_PRIVATE_NETWORKS": "1", "METRICS_HOST": "127.0.0.1"}
    common = ["-s", f"FRONTIER_REVISIT_MIN={revisit_min:g}", "-s", f"FRONTIER_REVISIT_MAX={revisit_max:g}"]
    slow = 3 * revisit_min
    sides = {"adaptive": common, "poller": [*common, "-s", "FRONTIER_REVISIT_ADAPTIVE=false"],
             # The fixed-interval poller held to the goal's budget (a third of the fetches).
             "poller-3x": ["-s", f"FRONTIER_REVISIT_MIN={slow:g}",
                           "-s", f"FRONTIER_REVISIT_MAX={max(slow, revisit_max):g}",
                           "-s", "FRONTIER_REVISIT_ADAPTIVE=false"]}
    start = math.ceil(time.time()) + 2.0  # both sites publish at the same instants
    with contextlib.ExitStack() as stack:
        logs = stack.enter_context(tempfile.TemporaryDirectory(prefix="freshness-"))
        sites, procs = {}, []
        for name, settings in sides.items():
            site = stack.enter_context(serve(live=True, publish_every=publish_every, seed=seed, start=start))
            redis_url = stack.enter_context(PrivateRedis()).url
            _cli(redis_url, "seed", site.base_url + "/", env=env)
            sites[name] = site
            for number in range(workers):
                log = stack.enter_context(open(os.path.join(logs, f"{name}-{number}.log"), "wb"))
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "crawler", "--redis-url", redis_url, "worker",
                     "--metrics-port", "0", *settings], env=env, stdout=log, stderr=subprocess.STDOUT))
        try:
            time.sleep(max(0.0, start - time.time()) + minutes * 60)
        finally:
            stop = time.time()
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            for proc in procs:
                try:
                    proc.wait(_STOP_SECONDS)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        figures = {name: measure(site.truth(stop), stop=stop, grace=grace) for name, site in sites.items()}
        exit_codes = [proc.returncode for proc in procs]
    adaptive, poller, slow_poller = figures["adaptive"], figures["poller"], figures["poller-3x"]

    def ratio(a: float | None, b: float | None) -> float | None:
        return None if a is None or not b else round(a / b, 3)

    goal = (adaptive.median_delay is not None and poller.median_delay is not None
            and adaptive.median_delay <= poller.median_delay
            and adaptive.hub_fetches * 3 <= poller.hub_fetches and adaptive.missed <= poller.missed)
    return {
        "settings": {"minutes": minutes, "publish_every": publish_every, "workers": workers,
                     "revisit_min": revisit_min, "revisit_max": revisit_max, "grace": grace,
                     "seed": seed},
        **{name: {**asdict(f), "hub_fetches": f.hub_fetches,
                  "hub_fetches_per_story": f.hub_fetches_per_story} for name, f in figures.items()},
        "ratio": {"median_delay": ratio(adaptive.median_delay, poller.median_delay),
                  "p95_delay": ratio(adaptive.p95_delay, poller.p95_delay),
                  "hub_fetches": ratio(adaptive.hub_fetches, poller.hub_fetches)},
        "ratio_3x": {"median_delay": ratio(adaptive.median_delay, slow_poller.median_delay),
                     "p95_delay": ratio(adaptive.p95_delay, slow_poller.p95_delay),
                     "hub_fetches": ratio(adaptive.hub_fetches, slow_poller.hub_fetches)},
        "goal_met": goal, "worker_exit_codes": exit_codes,
    }


def _fmt(value: float | None, unit: str = "") -> str:
    return "-" if value is None else f"{value:.1f}{unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.freshness", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--publish-every", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument("--workers", type=int, default=1, help="worker processes per crawl")
    parser.add_argument("--revisit-min", type=float, default=15.0)
    parser.add_argument("--revisit-max", type=float, default=300.0)
    parser.add_argument("--grace", type=float, default=30.0,
                        help="stories live less than this before the stop are not counted")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON only")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.publish_every < 1 or args.workers < 1:
        parser.error("--minutes must be positive, --publish-every at least 1, --workers at least 1")
    result = run(minutes=args.minutes, publish_every=args.publish_every, workers=args.workers,
                 revisit_min=args.revisit_min, revisit_max=args.revisit_max, grace=args.grace,
                 seed=args.seed)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"freshness: {args.minutes:g} min, a story every {args.publish_every:g} s, "
          f"{args.workers} worker(s) per crawl, FRONTIER_REVISIT_MIN={args.revisit_min:g} "
          f"MAX={args.revisit_max:g}")
    print(f"{'':10}{'stories':>8}{'counted':>8}{'missed':>7}{'median':>9}{'p95':>9}"
          f"{'hub 200':>9}{'hub 304':>9}{'hub/story':>10}")
    for name in ("adaptive", "poller", "poller-3x"):
        f = result[name]
        print(f"{name:10}{f['stories']:>8}{f['considered']:>8}{f['missed']:>7}"
              f"{_fmt(f['median_delay'], ' s'):>9}{_fmt(f['p95_delay'], ' s'):>9}"
              f"{f['hub_fetches_200']:>9}{f['hub_fetches_304']:>9}{_fmt(f['hub_fetches_per_story']):>10}")
    r = result["ratio"]
    print(f"adaptive / poller: median delay {r['median_delay']}, p95 delay {r['p95_delay']}, "
          f"hub fetches {r['hub_fetches']}")
    r = result["ratio_3x"]
    print(f"adaptive / poller-3x (every {3 * args.revisit_min:g} s): median delay {r['median_delay']}, "
          f"p95 delay {r['p95_delay']}, hub fetches {r['hub_fetches']}")
    print("goal (median delay <= poller's, hub fetches <= 1/3 of poller's, no more missed): "
          + ("met" if result["goal_met"] else "NOT met"))
    if any(result["worker_exit_codes"]):
        print(f"worker exit codes: {result['worker_exit_codes']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
