"""The one-command crawl (``crawler crawl``) and the demo (``crawler demo``)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from crawler.store.export import export_articles
from crawler.base.counters import DUPLICATE_FIELDS, ERROR_FIELDS, Field
from crawler.frontier.core import Frontier, FrontierCounts
from crawler.base.keys import Keys
from crawler.worker.process import project_settings
from crawler.cli.redisproc import PrivateRedis
from crawler.frontier.seeding import seed

logger = logging.getLogger(__name__)

__all__ = ["CrawlResult", "run_crawl"]

_POLL_SECONDS = 0.25


class CrawlResult(dict):
    """Summary of a crawl: pages, articles, duplicates, errors, output path, worker exit codes."""


def _summary(counts: FrontierCounts) -> dict[str, int]:
    stats = counts.stats
    return {
        "pages": stats.get(Field.PAGES, 0),
        "articles": counts.articles,
        "duplicates": sum(stats.get(name, 0) for name in DUPLICATE_FIELDS),
        "errors": sum(stats.get(name, 0) for name in ERROR_FIELDS),
    }


def run_crawl(urls: list[str], *, output: Path, workers: int = 2, max_pages: int | None = None,
              redis_url: str | None = None, spider: str = "news", until_idle: float = 2.0,
              console: Console | None = None, extra_env: dict[str, str] | None = None,
              overrides: list[str] | None = None) -> CrawlResult:
    """Seed ``urls``, run ``workers`` worker processes until the frontier is idle, export.

    Without ``redis_url`` a private redis-server is started and stopped. Shows a
    progress bar when ``console`` is a terminal. ``overrides`` (``NAME=VALUE``)
    apply to the workers and to this process. Raises ValueError when no URL is valid.
    """
    console = console or Console(stderr=True)
    with contextlib.ExitStack() as stack:
        if not redis_url:
            redis_url = stack.enter_context(PrivateRedis()).url
        frontier = Frontier.from_settings(project_settings(redis_url, overrides), spider, check=True)
        client = frontier.client
        report = seed(frontier, urls)
        for number, reason, value in report.rejected:
            console.print(f"url {number}: {reason}: {value}", markup=False, highlight=False)
        if not report.accepted and not report.duplicates:
            raise ValueError("no valid URL to crawl")
        if max_pages is not None:
            client.set(frontier.keys.budget, max_pages)
            client.set(frontier.keys.leased_total, 0)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crawler-logs-")))
        env = {**os.environ, **(extra_env or {}), "REDIS_URL": redis_url}
        procs = []
        for number in range(workers):
            log = stack.enter_context(open(log_dir / f"worker-{number}.log", "wb"))
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "crawler", "worker", "--spider", spider,
                 "--until-idle", str(until_idle), "--metrics-port", "0",
                 *(arg for item in overrides or [] for arg in ("-s", item))],
                env=env, stdout=log, stderr=subprocess.STDOUT,
            ))
        try:
            counts = _watch(frontier, procs, console)
        except KeyboardInterrupt:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait()
            raise
        codes = [proc.returncode for proc in procs]
        for number, code in enumerate(codes):
            if code:
                tail = (log_dir / f"worker-{number}.log").read_text(errors="replace").splitlines()[-15:]
                console.print(f"worker {number} exited with {code}; last log lines:", markup=False)
                console.print("\n".join(tail), markup=False, highlight=False)
        output.parent.mkdir(parents=True, exist_ok=True)
        with open(output, "w", encoding="utf-8") as out:
            exported = export_articles(client, Keys(spider), out)
        if max_pages is not None:
            client.delete(frontier.keys.budget, frontier.keys.leased_total)
        return CrawlResult(**_summary(counts), exported=exported, output=str(output),
                           worker_exit_codes=codes)


def _watch(frontier: Frontier, procs: list[subprocess.Popen], console: Console) -> FrontierCounts:
    """Wait for the workers, showing pages, articles, duplicates and errors as they grow."""
    columns = (TextColumn("[bold]crawling"), BarColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[line]}"))
    with Progress(*columns, console=console, disable=not console.is_terminal,
                  transient=False) as progress:
        task = progress.add_task("crawl", total=None, line="")
        while True:
            counts = frontier.counts()
            s = _summary(counts)
            progress.update(task, completed=s["pages"], line=(
                f"pages {s['pages']}  articles {s['articles']}  duplicates {s['duplicates']}  "
                f"errors {s['errors']}  queued {counts.queued}  in flight {counts.in_flight}"))
            if all(proc.poll() is not None for proc in procs):
                return frontier.counts()
            time.sleep(_POLL_SECONDS)
