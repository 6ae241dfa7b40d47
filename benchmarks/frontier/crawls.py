"""Runs the crawl workers of one configuration and collects their figures."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import redis

from benchmarks.frontier import LABELS, OURS, OURS2, PLAIN, SPIDER
from benchmarks.frontier.worker import frontier_defaults
from crawler.frontier.core import Frontier

if TYPE_CHECKING:
    from benchmarks.frontier.site import Nginx, RedisServer

__all__ = ["Bench", "Run", "RunFailed"]

ROOT = Path(__file__).resolve().parents[2]
# Commands of the benchmark itself in INFO commandstats, not the workers'.
_OWN_COMMANDS = {"cmdstat_info", "cmdstat_config|resetstat"}


class RunFailed(RuntimeError):
    """A crawl did not finish, or did not crawl every page."""


@dataclass
class Run:
    """One crawl of the whole site by one configuration (one or two worker processes)."""

    mode: str
    pages: int
    seconds: float
    round_trips: int = 0
    commands: int = 0
    redis_commands: int = 0
    cpu: dict[str, float] = field(default_factory=dict)  # cores busy: scrapy, redis, nginx
    cpu_seconds: float = 0.0  # of the Scrapy process(es), from spider_opened to spider_closed

    @property
    def pages_per_s(self) -> float:
        return self.pages / self.seconds


@dataclass
class Bench:
    """The servers and folders one benchmark run shares."""

    nginx: Nginx
    redis: RedisServer
    workdir: Path
    start_url: str
    pages: int
    timeout: float
    client: redis.Redis = field(init=False)

    def __post_init__(self) -> None:
        self.client = redis.Redis.from_url(self.redis.url, decode_responses=True)

    def seed(self) -> None:
        from scrapy.settings import Settings

        from crawler.frontier.seeding import seed

        settings = Settings({"REDIS_URL": self.redis.url, **frontier_defaults()})
        report = seed(Frontier.from_settings(settings, SPIDER, check=True), [self.start_url])
        assert report.accepted == 1, report

    def crawl(self, mode: str, tag: str, profile: Path | None = None, settings: dict | None = None) -> Run:
        """Crawl the whole site with ``mode`` (and ``settings`` on top of its own) from an empty
        Redis; raises RunFailed."""
        workers = 2 if mode == OURS2 else 1
        worker_mode = OURS if mode == OURS2 else mode
        self.client.flushall()
        if worker_mode == OURS:
            self.seed()
        self.client.config_resetstat()
        redis_cpu, nginx_cpu = self.redis.cpu_seconds(), self.nginx.cpu_seconds()
        procs, results, logs = [], [], []
        for n in range(workers):
            config = {"mode": worker_mode, "redis_url": self.redis.url, "start_url": self.start_url,
                      "result": str(self.workdir / f"{tag}-{n}.json"),
                      "profile": str(profile) if profile else None, "settings": settings or {}}
            results.append(Path(config["result"]))
            logs.append(self.workdir / f"{tag}-{n}.log")
            with logs[-1].open("w") as log:
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "benchmarks.frontier.worker", json.dumps(config)],
                    cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True))
        deadline = time.monotonic() + self.timeout
        try:
            for proc in procs:  # each says "ready" once it has imported everything
                if _readline(proc, deadline) != "ready":
                    raise RunFailed(f"{LABELS[mode]}: a worker did not start: {_tail(logs[procs.index(proc)])}")
        except BaseException:
            _stop(procs)
            raise
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _stop(procs)
                raise RunFailed(f"{LABELS[mode]}: no end after {self.timeout:.0f} s (log: {logs[0]})") from None
        for proc, path, log in zip(procs, results, logs):
            if proc.returncode or not path.exists():
                raise RunFailed(f"{LABELS[mode]}: a worker exited with {proc.returncode}: {_tail(log)}")
        outs = [json.loads(path.read_text()) for path in results]
        pages = sum(out["pages"] for out in outs)
        seconds = max(out["finish"] for out in outs) - min(out["start"] for out in outs)
        if pages != self.pages or any(out["finish_reason"] != "finished" or out["errors"] for out in outs):
            raise RunFailed(f"{LABELS[mode]}: crawled {pages} of {self.pages} pages, finish reasons "
                            f"{[out['finish_reason'] for out in outs]}, errors {[out['errors'] for out in outs]} "
                            f"(log: {logs[0]})")
        run = Run(mode, pages, seconds,
                  round_trips=sum(out["round_trips"] for out in outs),
                  commands=sum(out["commands"] for out in outs))
        run.cpu_seconds = sum(out["cpu_seconds"] for out in outs)
        run.cpu = {"scrapy": run.cpu_seconds / seconds,
                   "redis": (self.redis.cpu_seconds() - redis_cpu) / seconds,
                   "nginx": (self.nginx.cpu_seconds() - nginx_cpu) / seconds}
        if worker_mode != PLAIN:
            stats = self.client.info("commandstats")
            run.redis_commands = (sum(v["calls"] for k, v in stats.items() if k not in _OWN_COMMANDS)
                                  - sum(out["benchmark_commands"] for out in outs))
        return run


def _readline(proc: subprocess.Popen, deadline: float) -> str:
    """The next line ``proc`` prints, or "" when it prints none before ``deadline``."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        if not selector.select(max(0.0, deadline - time.monotonic())):
            return ""
    return proc.stdout.readline().strip()


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


def _tail(log: Path, lines: int = 5) -> str:
    text = log.read_text(errors="replace").strip().splitlines() if log.exists() else []
    return " | ".join(text[-lines:]) or "(empty log)"
