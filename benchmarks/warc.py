"""WARC benchmark (issue 13): what archiving every response costs a crawl, and re-extraction speed.

In one run, on the frontier benchmark's generated site (nginx) and a private
redis-server, both on 127.0.0.1 (:mod:`benchmarks.frontier.site`):

1. One worker of ``crawler.frontier.Scheduler`` with the frontier
   benchmark's trivial link-following spider crawls the whole site without
   and with ``WARC_DIR`` (``crawler.worker.warc.WarcWriterMiddleware``),
   alternately (A B A B ...), each crawl in a fresh process from an empty
   Redis. Pages/s is ``response_received_count / (finish - start)`` of the
   worker's own stats; the archive's cost is 1 - (with / without), per round
   and of the medians; rounds alternate which configuration goes first. The spider does no extraction, so this is the archive's
   largest share of a worker's time: the news spider spends milliseconds per
   page extracting.
2. ``crawler reextract`` over the last round's WARC files: response records
   read per second (its own timing, without the process start-up), and the
   archive's size.
3. Where the fundus pages are (``../shared/benchmarks/fundus``: 80 real news
   pages, 394 KB of HTML on average): CPU time per page of writing each one
   as a response record (sent uncompressed, and sent gzip-encoded as most
   news sites do), beside the CPU time of extracting its article, in this
   process: the archive's share of a worker's time on real pages.

    .venv/bin/python -m benchmarks.warc [--pages 5000] [--rounds 3] [--quick] [--json FILE]

``--quick`` (500 pages, 1 round) is what the test runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import redis

from benchmarks.frontier import OURS
from benchmarks.frontier.crawls import ROOT, Bench, RunFailed
from benchmarks.frontier.site import Nginx, NginxMissing, RedisServer, ensure_nginx, generate_site
from tests.support.paths import FUNDUS

__all__ = ["main"]

GOAL = 0.10  # the archive may cost at most 10% of the pages/s
WITHOUT, WITH = "without WARC_DIR", "with WARC_DIR"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="benchmarks.warc", description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000, help="pages in the site (default 5000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the two configurations (default 3)")
    parser.add_argument("--quick", action="store_true", help="500 pages, 1 round")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--no-install", action="store_true", help="fail instead of apt-get installing nginx")
    args = parser.parse_args(argv)
    if args.quick:
        args.pages, args.rounds = 500, 1
    if args.pages < 10 or args.rounds < 1:
        parser.error("--pages >= 10 and --rounds >= 1")
    args.timeout = 30 + args.pages / 20
    return args


def _warc_settings(directory: Path) -> dict:
    return {"WARC_DIR": str(directory),
            "DOWNLOADER_MIDDLEWARES": {"crawler.worker.warc.WarcWriterMiddleware": 950}}


def _reextract(directory: Path) -> dict:
    result = subprocess.run([sys.executable, "-m", "crawler", "reextract", str(directory), "-o", os.devnull],
                            cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        raise RuntimeError(f"crawler reextract failed: {result.stderr.strip()[-500:]}")
    return json.loads(result.stderr.strip().splitlines()[-1])


def real_pages(folder: Path = FUNDUS) -> dict | None:
    """CPU ms per page of archiving and of extracting the fundus pages (None: not there)."""
    import gzip
    import time

    from benchmarks.extraction import load_pages
    from crawler.article.extract import extract_article
    from crawler.store.warc import Exchange, WarcFiles

    if not (folder / "ground_truth.json").is_file():
        return None
    pages = load_pages(folder)
    headers = [("Content-Type", "text/html; charset=utf-8")]
    exchanges = {
        "plain": [Exchange(p.url, 200, headers, p.html) for p in pages],
        "gzip": [Exchange(p.url, 200, [*headers, ("Content-Encoding", "gzip")], gzip.compress(p.html, 6))
                 for p in pages],
    }
    figures = {"pages": len(pages), "html_bytes": sum(len(p.html) for p in pages) / len(pages)}
    with tempfile.TemporaryDirectory(prefix="bench-warc-real-") as directory:
        for kind, batch in exchanges.items():
            files = WarcFiles(directory, "bench", f"real-{kind}")
            began = time.process_time()
            for exchange in batch:
                files.write(exchange)
            figures[f"archive_{kind}_ms"] = 1000 * (time.process_time() - began) / len(batch)
            figures[f"archive_{kind}_bytes"] = files.bytes_written / len(batch)
            files.close()
    began = time.process_time()
    for page in pages:
        extract_article(page.html, page.url)
    figures["extract_ms"] = 1000 * (time.process_time() - began) / len(pages)
    return figures


def measure(args: argparse.Namespace, nginx_binary: str, say) -> dict:
    """Crawl the site in alternate rounds without and with the archive, then re-extract."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-warc-"))
    runs: dict[str, list] = {WITHOUT: [], WITH: []}
    failures: list[str] = []
    archive: dict = {}
    try:
        start_path = generate_site(workdir / "site", args.pages)
        with Nginx(nginx_binary, workdir / "site", workdir / "nginx", probe=start_path) as nginx, \
                RedisServer(workdir / "redis") as server:
            bench = Bench(nginx, server, workdir, nginx.base_url + start_path, args.pages, args.timeout)
            load = os.getloadavg()[0]
            say(f"Site: {args.pages:,} pages at {bench.start_url} ({nginx.version()}); one worker of "
                f"crawler.frontier.Scheduler; {os.cpu_count()} CPU cores, load average {load:.2f}; "
                f"{args.rounds} round(s)")
            warc = workdir / "warc"
            for number in range(1, args.rounds + 1):
                # A B, B A, A B, ...: a machine that speeds up or slows down during the run
                # favours neither configuration.
                for label in (WITHOUT, WITH) if number % 2 else (WITH, WITHOUT):
                    settings = None
                    if label == WITH:
                        shutil.rmtree(warc, ignore_errors=True)
                        warc.mkdir()
                        settings = _warc_settings(warc)
                    try:
                        run = bench.crawl(OURS, f"r{number}-{'warc' if settings else 'plain'}", settings=settings)
                    except RunFailed as exc:
                        failures.append(str(exc))
                        say(f"round {number}: FAILED {exc}")
                        continue
                    runs[label].append(run)
                    say(f"round {number}: {label}: {run.pages:,} pages in {run.seconds:.2f} s = "
                        f"{run.pages_per_s:,.0f} pages/s, {1000 * run.cpu_seconds / run.pages:.2f} CPU ms/page")
            if runs[WITH]:
                files = sorted(warc.iterdir())
                archive = {"files": len(files), "bytes": sum(f.stat().st_size for f in files)}
                archive["reextract"] = _reextract(warc)
                say(f"reextract: {archive['reextract']['responses']:,} responses in "
                    f"{archive['reextract']['seconds']:.2f} s = {archive['reextract']['pages_per_s']:,.0f} pages/s")
            load_after = os.getloadavg()[0]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    real = real_pages()
    if real:
        say(f"real pages: archived in {real['archive_plain_ms']:.2f} CPU ms/page (sent uncompressed), "
            f"{real['archive_gzip_ms']:.2f} (sent gzip); extracted in {real['extract_ms']:.1f}")
    return {"runs": runs, "failures": failures, "archive": archive, "load": [load, load_after], "real": real}


def _figures(measured: dict, pages: int) -> list[tuple[str, str, str, str]]:
    """(figure, median, per round, goal) rows."""
    runs = measured["runs"]
    rows = []
    if not (runs[WITHOUT] and runs[WITH]):
        return rows
    speed = {label: statistics.median(r.pages_per_s for r in rs) for label, rs in runs.items()}
    cpu = {label: statistics.median(1000 * r.cpu_seconds / r.pages for r in rs) for label, rs in runs.items()}
    for label in (WITHOUT, WITH):
        rows.append((f"pages/s, {label}", f"{speed[label]:,.0f}",
                     " / ".join(f"{r.pages_per_s:,.0f}" for r in runs[label]), ""))
    cost = 1 - speed[WITH] / speed[WITHOUT]
    rounds = [1 - b.pages_per_s / a.pages_per_s for a, b in zip(runs[WITHOUT], runs[WITH])]
    rows.append(("archive's cost in pages/s: 1 - with / without (medians)", f"{cost:.1%}",
                 " / ".join(f"{c:+.1%}" for c in rounds), f"<= {GOAL:.0%}: {'met' if cost <= GOAL else 'NOT met'}"))
    rows.append(("the same, median of the rounds' own ratios", f"{statistics.median(rounds):.1%}", "", ""))
    for label in (WITHOUT, WITH):
        rows.append((f"CPU ms per page, {label}", f"{cpu[label]:.2f}",
                     " / ".join(f"{1000 * r.cpu_seconds / r.pages:.2f}" for r in runs[label]), ""))
    rows.append(("archive's cost in CPU per page: with / without - 1", f"{cpu[WITH] / cpu[WITHOUT] - 1:.1%}",
                 "", ""))
    archive = measured["archive"]
    if archive:
        rows.append(("archive of one crawl: files, MB, bytes per page",
                     f"{archive['files']}, {archive['bytes'] / 1e6:.2f}, {archive['bytes'] / pages:,.0f}", "", ""))
        re = archive["reextract"]
        rows.append(("crawler reextract, response records per second", f"{re['pages_per_s']:,.0f}",
                     f"{re['responses']:,} records in {re['seconds']:.2f} s", ""))
    real = measured.get("real")
    if real:
        label = f"{real['pages']} fundus pages ({real['html_bytes'] / 1000:,.0f} KB HTML)"
        for kind, how in (("plain", "sent uncompressed"), ("gzip", "sent gzip-encoded")):
            share = real[f"archive_{kind}_ms"] / real["extract_ms"]
            rows.append((f"archive CPU ms/page, {label}, {how}", f"{real[f'archive_{kind}_ms']:.2f}",
                         f"{real[f'archive_{kind}_bytes'] / 1000:,.0f} KB/page; {share:.1%} of extraction", ""))
        rows.append((f"extraction CPU ms/page, {label}", f"{real['extract_ms']:.1f}", "", ""))
    return rows


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; 0 when every crawl finished, 1 when one did not, 2 when it could not start."""
    argv = sys.argv[1:] if argv is None else argv
    args = _arguments(argv)

    def say(text: str) -> None:
        print(text, flush=True)

    try:
        measured = measure(args, ensure_nginx(install=not args.no_install), say)
    except (NginxMissing, RuntimeError, OSError, redis.RedisError) as exc:
        print(f"benchmarks.warc: {exc}", file=sys.stderr)
        return 2
    rows = _figures(measured, args.pages)
    width = max((len(row[0]) for row in rows), default=10)
    say("")
    for figure, median, per_round, goal in rows:
        say(f"{figure:<{width}}  {median:>14}  {per_round:<32} {goal}")
    say(f"1-minute load average {measured['load'][0]:.2f} before, {measured['load'][1]:.2f} after "
        f"(other processes on the machine count too).")
    say("Command: " + shlex.join([Path(sys.executable).name, "-m", "benchmarks.warc", *argv]))
    if args.json:
        args.json.write_text(json.dumps({
            "pages": args.pages, "rounds": args.rounds, "failures": measured["failures"],
            "runs": {label: [{"pages": r.pages, "seconds": r.seconds, "pages_per_s": r.pages_per_s,
                              "cpu_seconds": r.cpu_seconds} for r in rs] for label, rs in measured["runs"].items()},
            "archive": measured["archive"], "real_pages": measured.get("real"),
            "rows": [dict(zip(("figure", "median", "runs", "goal"), row)) for row in rows],
        }, indent=2))
    return 1 if measured["failures"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
