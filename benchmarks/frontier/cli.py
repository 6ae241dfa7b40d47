"""The command line of the frontier benchmark: ``python -m benchmarks.frontier``."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import redis

import benchmarks.frontier as package
from benchmarks.frontier import LABELS, OURS, OURS2, PLAIN, STOCK
from benchmarks.frontier.crawls import Bench, Run, RunFailed
from benchmarks.frontier.memory import measure_memory
from benchmarks.frontier.report import build_rows, command_line, print_report
from benchmarks.frontier.site import Nginx, NginxMissing, RedisServer, ensure_nginx, generate_site

__all__ = ["main"]


@dataclass
class _Measured:
    runs: dict[str, list[Run]] = field(default_factory=lambda: {mode: [] for mode in (PLAIN, OURS, STOCK, OURS2)})
    memory: dict = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    load: list[float] = field(default_factory=list)  # 1-minute load average before and after


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks.frontier", description=package.__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="pages in the site (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the four configurations (default 3)")
    parser.add_argument("--fingerprints", type=int, default=1_000_000, help="for the memory figures")
    parser.add_argument("--fresh", type=int, default=100_000, help="unseen fingerprints for the false-positive rate")
    parser.add_argument("--quick", action="store_true",
                        help="500 pages, 1 round, 100,000 fingerprints, 20,000 fresh ones")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--timeout", type=float, help="seconds allowed per crawl (default 30 + pages/20)")
    parser.add_argument("--profile", type=Path, metavar="DIR",
                        help="after the rounds, crawl once more per configuration under cProfile into DIR")
    parser.add_argument("--no-install", action="store_true", help="fail instead of apt-get installing nginx")
    args = parser.parse_args(argv)
    if args.quick:
        args.pages, args.rounds, args.fingerprints, args.fresh = 500, 1, 100_000, 20_000
    if args.pages < 10 or args.rounds < 1 or args.fingerprints < 1000 or args.fresh < 1000:
        parser.error("--pages >= 10, --rounds >= 1, --fingerprints >= 1000 and --fresh >= 1000")
    args.timeout = args.timeout or 30 + args.pages / 20
    return args


def _measure(args: argparse.Namespace, nginx_binary: str, say) -> _Measured:
    """Start the servers, crawl in alternating rounds, then measure the seen filters."""
    measured = _Measured()
    workdir = Path(tempfile.mkdtemp(prefix="bench-frontier-"))
    try:
        start_path = generate_site(workdir / "site", args.pages)
        with Nginx(nginx_binary, workdir / "site", workdir / "nginx", probe=start_path) as nginx, \
                RedisServer(workdir / "redis") as server:
            bench = Bench(nginx, server, workdir, nginx.base_url + start_path, args.pages, args.timeout)
            measured.load.append(os.getloadavg()[0])
            say(f"Site: {args.pages:,} pages at {bench.start_url} ({nginx.version()}, 2 workers); "
                f"redis-server {bench.client.info('server')['redis_version']} on port {server.port}; "
                f"{os.cpu_count()} CPU cores, load average {measured.load[0]:.2f}; {args.rounds} round(s)")
            for round_number in range(1, args.rounds + 1):
                for mode in (PLAIN, OURS, STOCK, OURS2):
                    try:
                        run = bench.crawl(mode, f"r{round_number}-{mode}")
                    except RunFailed as exc:
                        measured.failures.append(str(exc))
                        say(f"round {round_number}: FAILED {exc}")
                        continue
                    measured.runs[mode].append(run)
                    say(f"round {round_number}: {LABELS[mode]}: {run.pages:,} pages in {run.seconds:.2f} s "
                        f"= {run.pages_per_s:,.0f} pages/s, {1000 * run.cpu_seconds / run.pages:.2f} CPU ms/page")
            say(f"Memory: {args.fingerprints:,} fingerprints per seen filter...")
            measured.memory = measure_memory(server.url, args.fingerprints, args.fresh)
            measured.load.append(os.getloadavg()[0])
            if args.profile:
                args.profile.mkdir(parents=True, exist_ok=True)
                for mode in (PLAIN, OURS, STOCK):
                    path = args.profile / f"{mode}.pstats"
                    bench.crawl(mode, f"profile-{mode}", profile=path)
                    say(f"profile of one {LABELS[mode]} crawl: {path}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return measured


def _notes(args: argparse.Namespace, measured: _Measured, cores: int) -> list[str]:
    notes = [
        "Pages/s: response_received_count / (finish_time - start_time) of each worker's own stats; "
        "2 workers: total pages / (last finish - first start). Configurations alternate "
        f"(plain, ours, stock, ours x2) for {args.rounds} round(s); 'Runs' lists each round.",
        "Redis schedulers close once the whole frontier is idle, checked on every spider_idle "
        "(WorkerHeartbeat's rule without its 1 s ticks, which alone would add 1-2 s per crawl).",
        f"Two workers share {cores} CPU cores with nginx (2 workers) and redis-server: the CPU table "
        "shows how busy the machine was; scaling beyond what the idle cores allow is not measurable here. "
        f"1-minute load average {measured.load[0]:.2f} before the crawls, {measured.load[-1]:.2f} after the "
        "memory figures (other processes on the machine count too).",
        "CPU ms per page: CPU time of the Scrapy process from spider_opened to spider_closed, per page; "
        "less disturbed by other load than pages/s (each single-worker crawl keeps about one core busy).",
        "Memory: INFO used_memory growth per fingerprint after a warm-up, measured with no other client "
        "connected (the writer's buffers do not count); it includes what else the writes leave in Redis, "
        "such as SLOWLOG entries (about 2 KB each, up to 128) of calls slower than 10 ms ('slowlog': "
        "how many). 'Keys alone': MEMORY USAGE summed over the filter's keys; "
        "'its bits': the Bloom filter's size in bits / 8.",
        "Round trips: sends on the worker's redis-py connections, counted by a hook (a pipeline is one, "
        "so is the SCRIPT EXISTS redis-py sends before a pipeline holding scripts); commands sent: "
        "commands packed by the hook; Redis commands run: INFO commandstats delta, including the "
        "commands run inside Lua scripts. The idle-close check's own traffic is excluded.",
    ]
    if measured.failures:
        notes.insert(0, f"FAILED runs ({len(measured.failures)}): " + " || ".join(measured.failures))
    return notes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every crawl finished, 1 when one did not, 2 when it could not start."""
    argv = sys.argv[1:] if argv is None else argv
    args = _arguments(argv)
    from rich.console import Console

    console = Console(file=sys.stdout)
    if not console.is_terminal:
        console = Console(file=sys.stdout, width=150)

    def say(text: str) -> None:
        console.print(text, highlight=False, markup=False, soft_wrap=True)

    try:
        measured = _measure(args, ensure_nginx(install=not args.no_install), say)
    except (NginxMissing, RuntimeError, OSError, redis.RedisError) as exc:
        print(f"benchmarks.frontier: {exc}", file=sys.stderr)
        return 2
    cores = os.cpu_count() or 1
    rows = build_rows(measured.runs, measured.memory, args.fingerprints, cores)
    print_report(console, rows, measured.runs, command_line(argv), _notes(args, measured, cores))
    if args.json:
        args.json.write_text(json.dumps({
            "command": command_line(argv), "pages": args.pages, "rounds": args.rounds,
            "fingerprints": args.fingerprints, "cores": cores, "load_average": measured.load,
            "time": datetime.now().isoformat(timespec="seconds"),
            "rows": [{k: v for k, v in r.items() if k != "text"} for r in rows],
            "runs": {mode: [{"pages": r.pages, "seconds": r.seconds, "pages_per_s": r.pages_per_s,
                             "cpu_seconds": r.cpu_seconds, "round_trips": r.round_trips, "commands": r.commands,
                             "redis_commands": r.redis_commands, "cpu": r.cpu} for r in rs]
                     for mode, rs in measured.runs.items()},
            "memory": measured.memory, "failures": measured.failures,
        }, indent=2))
    return 1 if measured.failures else 0
