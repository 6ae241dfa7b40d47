"""The one-command crawl (``crawler crawl``) and the demo (``crawler demo``)."""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from crawler.store.export import export_articles
from crawler.base.counters import DUPLICATE_FIELDS, ERROR_FIELDS, Field
from crawler.frontier.core import Frontier, FrontierCounts
from crawler.base.keys import Keys
from crawler.worker.process import project_settings
from crawler.cli.redisproc import PrivateRedis
from crawler.frontier.seeding import seed

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

logger = logging.getLogger(__name__)

__all__ = ["CrawlResult", "Interrupted", "check_output", "run_crawl"]

_POLL_SECONDS = 0.25
# How long interrupted workers may drain: a download in flight ends within
# DOWNLOAD_TIMEOUT (30 s), items go through the pipelines, leases are given back.
_STOP_GRACE_SECONDS = 60.0


class CrawlResult(dict):
    """Summary of a crawl: pages, articles, duplicates, errors, output path, worker exit codes,
    and ``interrupted``: the name of the signal that stopped it (``"SIGINT"``), else None."""


class Interrupted(Exception):
    """SIGINT or SIGTERM arrived: the crawl stops, keeping what it stored."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def _signals(handler: Callable[[int, object], None]) -> Iterator[None]:
    """SIGINT and SIGTERM go to ``handler`` inside the block (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


class _Stopper:
    """The SIGINT/SIGTERM handler of a crawl: the first signal raises :class:`Interrupted` while
    ``armed`` (the crawl is running), and is only remembered later (the export runs to its
    end); any further one kills the workers at once."""

    def __init__(self, procs: list[subprocess.Popen]) -> None:
        self.procs = procs
        self.signum: int | None = None
        self.armed = True

    def __call__(self, signum: int, frame: object) -> None:
        if self.signum is None:
            self.signum = signum
            if self.armed:
                raise Interrupted(signum)
            return
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()


def check_output(output: Path) -> None:
    """Raises ValueError (one line: ``cannot write PATH: reason``) when ``output`` cannot be
    written: checked before anything starts, so that no crawl is lost at its end. Creates
    the missing folders of its path; an existing file is left as it is."""
    try:
        if output.parent.exists() and not output.parent.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        output.parent.mkdir(parents=True, exist_ok=True)
        existed = output.exists()
        with open(output, "a", encoding="utf-8"):
            pass
        if not existed:
            output.unlink()
    except OSError as exc:
        raise ValueError(f"cannot write {output}: {exc.strerror or exc}") from None


def _summary(counts: FrontierCounts) -> dict[str, int]:
    stats = counts.stats
    return {
        "pages": stats.get(Field.PAGES, 0),
        "articles": counts.articles,
        "duplicates": sum(stats.get(name, 0) for name in DUPLICATE_FIELDS),
        "errors": sum(stats.get(name, 0) for name in ERROR_FIELDS),
    }


def run_crawl(urls: list[str], *, output: Path, workers: int = 2, max_pages: int | None = None,
              redis_url: str | None = None, spider: str = "news", until_idle: float | None = 2.0,
              console: Console | None = None, extra_env: dict[str, str] | None = None,
              overrides: list[str] | None = None) -> CrawlResult:
    """Seed ``urls``, run ``workers`` worker processes until the frontier is idle, export.
    (``until_idle`` None: the workers run until SIGINT or SIGTERM, as ``crawler demo --live``.)

    Without ``redis_url`` a private redis-server is started and stopped. Shows a
    progress bar when ``console`` is a terminal. ``overrides`` (``NAME=VALUE``)
    apply to the workers and to this process. The workers serve their metrics on
    127.0.0.1 only.

    SIGINT (Ctrl-C) or SIGTERM stops the crawl early: each worker gets one SIGTERM
    and drains (finishes its downloads in flight, gives back the rest), for up to
    ``_STOP_GRACE_SECONDS`` or until a second signal; then whatever was stored is
    exported all the same, and only then is the private Redis stopped. The result
    names the signal (``interrupted``). Raises ValueError when ``output`` cannot
    be written (before anything starts) or when no URL is valid.
    """
    console = console or Console(stderr=True)
    check_output(output)
    with contextlib.ExitStack() as stack:
        if not redis_url:
            redis_url = stack.enter_context(PrivateRedis()).url
        frontier = Frontier.from_settings(project_settings(redis_url, overrides), spider, check=True)
        client = frontier.client
        procs: list[subprocess.Popen] = []
        stopper = _Stopper(procs)
        log_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="crawler-logs-")))
        stack.enter_context(_signals(stopper))
        try:
            report = seed(frontier, urls)
            for number, reason, value in report.rejected:
                console.print(f"url {number}: {reason}: {value}", markup=False, highlight=False)
            if not report.accepted and not report.duplicates:
                raise ValueError("no valid URL to crawl")
            if max_pages is not None:
                client.set(frontier.keys.budget, max_pages)
                client.set(frontier.keys.leased_total, 0)
            env = {**os.environ, **(extra_env or {}), "REDIS_URL": redis_url,
                   # Nobody but this command needs the workers' metrics.
                   "METRICS_HOST": "127.0.0.1"}
            for number in range(workers):
                log = stack.enter_context(open(log_dir / f"worker-{number}.log", "wb"))
                procs.append(subprocess.Popen(
                    [sys.executable, "-m", "crawler", "worker", "--spider", spider,
                     *(("--until-idle", str(until_idle)) if until_idle is not None else ()),
                     "--metrics-port", "0",
                     *(arg for item in overrides or [] for arg in ("-s", item))],
                    env=env, stdout=log, stderr=subprocess.STDOUT,
                    # Out of the terminal's process group: a Ctrl-C reaches this
                    # command alone, which stops each worker once, gracefully.
                    start_new_session=True,
                ))
            _watch(frontier, procs, console)
        except Interrupted as exc:
            console.print(f"{exc}: stopping the workers, then exporting what was stored "
                          f"(again: stop the workers at once)", markup=False, highlight=False,
                          soft_wrap=True)
        finally:
            # From here on a signal never interrupts: the crawl is exported first.
            stopper.armed = False
            _stop(procs)
        codes = [proc.returncode for proc in procs]
        for number, code in enumerate(codes):
            if code and stopper.signum is None:
                tail = (log_dir / f"worker-{number}.log").read_text(errors="replace").splitlines()[-15:]
                console.print(f"worker {number} exited with {code}; last log lines:", markup=False)
                console.print("\n".join(tail), markup=False, highlight=False)
        counts = frontier.counts()
        with open(output, "w", encoding="utf-8") as out:
            exported = export_articles(client, Keys(spider), out)
        if max_pages is not None:
            client.delete(frontier.keys.budget, frontier.keys.leased_total)
        return CrawlResult(**_summary(counts), exported=exported, output=str(output),
                           worker_exit_codes=codes,
                           interrupted=None if stopper.signum is None else signal.Signals(stopper.signum).name)


def _stop(procs: list[subprocess.Popen]) -> None:
    """Stop the workers still running: one SIGTERM each (a graceful drain), SIGKILL after
    ``_STOP_GRACE_SECONDS`` (or at once on a second SIGINT or SIGTERM: see :class:`_Stopper`)."""
    running = [proc for proc in procs if proc.poll() is None]
    for proc in running:
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + _STOP_GRACE_SECONDS
    for proc in running:
        try:
            proc.wait(max(deadline - time.monotonic(), 0))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
