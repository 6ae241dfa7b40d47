"""The ``crawler`` command: thin wrappers that parse arguments and call one function each."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path

__all__ = ["main"]

_DEFAULT_SPIDER = "news"


class _Parser(argparse.ArgumentParser):
    """argparse, but a user mistake is one line on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="crawler", description="Distributed news crawler on a shared Redis frontier.")
    parser.add_argument("--redis-url", default=None,
                        help="Redis to use (default: $REDIS_URL, else redis://127.0.0.1:6379/0)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("seed", help="queue seed URLs")
    p.add_argument("urls", nargs="*", metavar="URL")
    p.add_argument("-f", "--file", help="read seeds from FILE, one per line ('-' for stdin)")
    p.add_argument("--spider", default=_DEFAULT_SPIDER)
    p.add_argument("--strict", action="store_true", help="queue nothing if any line is invalid")
    p.add_argument("--recrawl", action="store_true", help="queue URLs already queued or crawled")

    p = sub.add_parser("worker", help="run one worker process")
    p.add_argument("--spider", default=_DEFAULT_SPIDER)
    p.add_argument("--metrics-port", type=int, default=None,
                   help="serve Prometheus metrics on this port (0: a free one)")
    p.add_argument("--until-idle", type=float, default=None, metavar="SECONDS",
                   help="exit once the whole frontier has been idle this long")
    p.add_argument("--warc", default=None, metavar="DIR",
                   help="write every response as WARC into DIR (the WARC_DIR setting)")
    p.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="override a setting")

    p = sub.add_parser("status", help="show the state of the crawl")
    p.add_argument("--spider", default=_DEFAULT_SPIDER)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("sources", help="list the hubs (pages revisited on a schedule); add or remove one")
    _spider_and_json(p, argparse.SUPPRESS)
    actions = p.add_subparsers(dest="action", parser_class=_Parser, metavar="{add,remove}")
    a = actions.add_parser("add", help="register a hub (a retired one is re-activated)")
    a.add_argument("url", metavar="URL")
    a.add_argument("--kind", default=None, metavar="KIND",
                   help="home, front, feed, sitemap or news-sitemap (default: guessed from the URL)")
    _spider_and_json(a, argparse.SUPPRESS)
    a = actions.add_parser("remove", help="forget a hub")
    a.add_argument("url", metavar="URL")
    _spider_and_json(a, argparse.SUPPRESS)
    p.set_defaults(spider=_DEFAULT_SPIDER, json=False)

    p = sub.add_parser("dead-letters", help="list the requests set aside; queue them again or drop them")
    p.add_argument("--spider", default=_DEFAULT_SPIDER)
    p.add_argument("--json", action="store_true", help="one JSON object instead of lines")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--requeue", action="store_true",
                        help="queue every dead letter again, attempts reset")
    action.add_argument("--drop", action="store_true", help="delete every dead letter")

    p = sub.add_parser("export", help="write the articles still in the stream as JSON Lines (a one-shot "
                                      "dump: those crawler deliver delivered and trimmed are not in it)")
    p.add_argument("--spider", default=_DEFAULT_SPIDER)
    p.add_argument("-o", "--output", default="-", help="output file (default: stdout)")

    p = sub.add_parser("deliver", help="deliver stored articles to a sink (files, PostgreSQL), "
                                       "as a consumer group of the article stream")
    p.add_argument("sink", nargs="?", default=None, metavar="SINK",
                   help="file:///dir/ (gzip JSON Lines), postgresql://... or - (stdout); "
                        "default: $DATABASE_URL")
    p.add_argument("--group", default=None, metavar="NAME",
                   help="consumer group (default: derived from the sink: file-<hash>, "
                        "postgresql-<db>-<hash>, stdout)")
    p.add_argument("--batch", type=int, default=None, metavar="N",
                   help="articles read and written at once (default: DELIVER_BATCH, 1000)")
    p.add_argument("--until-idle", type=float, default=None, metavar="SECONDS",
                   help="exit once no article arrived for this long (default: run until SIGTERM)")
    p.add_argument("--spider", default=_DEFAULT_SPIDER)
    p.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="override a setting (DELIVER_FILE_MAX_BYTES...)")

    p = sub.add_parser("crawl", help="seed, crawl until idle and export, in one command")
    p.add_argument("urls", nargs="+", metavar="URL")
    p.add_argument("-o", "--output", default="articles.jsonl")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--max-pages", type=int, default=None)
    p.add_argument("--spider", default=_DEFAULT_SPIDER)
    p.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="override a setting of the workers")

    p = sub.add_parser("extract", help="extract articles from saved HTML files")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--url", default=None, help="the URL the pages were fetched from")

    p = sub.add_parser("reextract", help="extract articles again from WARC files, fetching nothing")
    p.add_argument("paths", nargs="+", metavar="WARC", help="WARC files, or folders of them")
    p.add_argument("-o", "--output", default="-", help="JSON Lines output file (default: stdout)")
    p.add_argument("--store", action="store_true",
                   help="also send the articles through the pipelines into the crawl's store (dedupe included)")
    p.add_argument("--spider", default=_DEFAULT_SPIDER, help="the crawl to store into (with --store)")
    p.add_argument("-s", dest="settings", action="append", default=[], metavar="NAME=VALUE",
                   help="override a setting (EXTRACT_MIN_WORDS, DEDUPE_*, ...)")

    p = sub.add_parser("demo", help="crawl the bundled demo news site")
    p.add_argument("-o", "--output", default="articles.jsonl")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--live", action="store_true",
                   help="the live site: a new story every --publish-every seconds; crawl until Ctrl-C")
    p.add_argument("--serve-only", action="store_true",
                   help="only serve the site (print its URL on stdout) until Ctrl-C or SIGTERM")
    p.add_argument("--publish-every", type=float, default=5.0, metavar="SECONDS",
                   help="seconds between two new stories of the live site (default: 5, at least 1)")
    p.add_argument("--seed", type=int, default=0, help="the live site's order of stories (default: 0)")
    p.add_argument("--port", type=int, default=0, help="the site's port on 127.0.0.1 (default: a free one)")

    p = sub.add_parser("top", help="live view of the crawl from Redis, refreshed every second")
    p.add_argument("--spider", default=_DEFAULT_SPIDER)
    p.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                   help="seconds between frames (default: 1)")
    p.add_argument("--once", action="store_true", help="print one frame and exit (for scripts)")
    return parser


def _spider_and_json(parser: argparse.ArgumentParser, default) -> None:
    parser.add_argument("--spider", default=default)
    parser.add_argument("--json", action="store_true", default=default, help="JSON instead of text")


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    if args.command != "worker":  # a worker's logging is Scrapy's (LOG_LEVEL)
        logging.basicConfig(level=os.environ.get("CRAWLER_LOG_LEVEL", "WARNING"),
                            format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # charset_normalizer logs every guess at a level below DEBUG.
    logging.getLogger("charset_normalizer").setLevel(logging.WARNING)
    redis_url = args.redis_url or os.environ.get("REDIS_URL")
    from crawler.base.connection import RedisUnavailable
    from crawler.worker.process import UsageError

    try:
        return _COMMANDS[args.command](args, redis_url)
    except (RedisUnavailable, UsageError) as exc:
        print(f"crawler {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        return 130  # Ctrl-C where nothing is lost by stopping (crawler crawl handles its own)


def _frontier(redis_url: str | None, spider: str, *, writes: bool = False):
    """The crawl's frontier, with the seen filter the crawl uses (recorded only by a command that ``writes``)."""
    from crawler.frontier.core import Frontier
    from crawler.worker.process import UsageError, project_settings

    try:
        return Frontier.from_settings(project_settings(redis_url), spider, check=True, follow_crawl=True,
                                      record_seen=writes)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _seed(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.frontier.seeding import read_seed_lines, seed
    from crawler.worker.process import UsageError

    if not args.urls and not args.file:
        raise UsageError("give URLs or -f FILE (- for stdin)")
    # Bytes, decoded line by line: a line that is not UTF-8 is that line's error.
    lines: list[str | bytes] = [os.fsencode(url) for url in args.urls]
    if args.file:
        try:
            if args.file == "-" and sys.stdin is None:
                raise UsageError("-f -: there is no standard input")
            source = sys.stdin.buffer if args.file == "-" else open(args.file, "rb")
        except OSError as exc:
            raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
        with source:
            lines.extend(read_seed_lines(source))
    report = seed(_frontier(redis_url, args.spider, writes=True), lines, strict=args.strict, recrawl=args.recrawl)
    for number, reason, value in report.rejected:
        print(f"line {number}: {reason}: {value}", file=sys.stderr)
    print(json.dumps(report.as_dict()))
    return 1 if report.rejected else 0


def _worker(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.worker.process import UsageError, project_settings, run_worker

    if args.until_idle is not None and args.until_idle <= 0:
        raise UsageError("--until-idle must be a positive number of seconds")
    settings = project_settings(redis_url, args.settings)
    if args.until_idle is not None:
        settings.set("FRONTIER_UNTIL_IDLE", args.until_idle, priority="cmdline")
    if args.metrics_port is not None:
        if not 0 <= args.metrics_port <= 65535:
            raise UsageError("--metrics-port must be between 0 and 65535")
        settings.set("METRICS_PORT", args.metrics_port, priority="cmdline")
    if args.warc is not None:
        if not args.warc.strip():
            raise UsageError("--warc needs a folder")
        settings.set("WARC_DIR", args.warc, priority="cmdline")
    return run_worker(settings, args.spider)


def _status(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.cli.status import render_status
    from crawler.frontier.hubs import HubRegistry
    from crawler.store.delivery import delivery_status
    from crawler.store.freshness import freshness

    frontier = _frontier(redis_url, args.spider)
    counts = frontier.counts()
    render_status(counts, as_json=args.json, delivery=delivery_status(frontier.client, frontier.keys),
                  hubs=HubRegistry.for_frontier(frontier).counts(),
                  freshness=freshness(frontier.client, frontier.keys))
    return 0


def _sources(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.cli.sources import SourceError, add_source, list_sources, remove_source
    from crawler.frontier.seeding import printable
    from crawler.worker.process import UsageError

    if args.action is None:
        list_sources(_frontier(redis_url, args.spider), as_json=args.json)
        return 0
    frontier = _frontier(redis_url, args.spider, writes=True)
    try:
        if args.action == "add":
            url, kind, added = add_source(frontier, args.url, args.kind)
            result = {"url": url, "kind": kind, "added": added}
            text = f"{'added' if added else 'already a hub, unchanged:'} {kind} {printable(url)}"
        else:
            url, removed = remove_source(frontier, args.url)
            result = {"url": url, "removed": removed}
            text = f"removed {printable(url)}" if removed else f"not a hub: {printable(url)}"
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(result) if args.json else text)
    return 1 if result.get("removed") is False else 0


def _dead_letters(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.cli.deadletters import run_dead_letters

    action = "requeue" if args.requeue else "drop" if args.drop else None
    run_dead_letters(_frontier(redis_url, args.spider), as_json=args.json, action=action)
    return 0


def _export(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.base.counters import Field
    from crawler.store.export import export_articles
    from crawler.worker.process import UsageError

    frontier = _frontier(redis_url, args.spider)
    if args.output == "-":
        count = export_articles(frontier.client, frontier.keys, sys.stdout)
        sys.stdout.flush()
    else:
        try:
            with open(args.output, "w", encoding="utf-8") as out:
                count = export_articles(frontier.client, frontier.keys, out)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    trimmed = int(frontier.client.hget(frontier.keys.stats, Field.ARTICLES_TRIMMED) or 0)
    print(f"{count} articles written to {'stdout' if args.output == '-' else args.output}: those still "
          f"in the stream, a one-shot dump ({trimmed} delivered by crawler deliver and trimmed "
          f"are not in it)", file=sys.stderr)
    return 0


def _deliver(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.cli.deliver import run_deliver
    from crawler.worker.process import UsageError, project_settings

    if args.until_idle is not None and not args.until_idle > 0:
        raise UsageError("--until-idle must be a positive number of seconds")
    try:
        return run_deliver(project_settings(redis_url, args.settings), args.spider, args.sink,
                           group=args.group, batch=args.batch, until_idle=args.until_idle)
    except ValueError as exc:  # SinkError too: a bad sink, group or setting
        raise UsageError(str(exc)) from None


def _crawl(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.cli.crawl import run_crawl
    from crawler.worker.process import UsageError
    from crawler.frontier.seeding import SeedError, parse_seed_line, printable

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if args.max_pages is not None and args.max_pages < 1:
        raise UsageError("--max-pages must be at least 1")
    for url in args.urls:
        try:
            parse_seed_line(url)
        except SeedError as exc:
            raise UsageError(f"{printable(url, 200)}: {printable(str(exc))}") from None
    try:
        result = run_crawl(args.urls, output=Path(args.output), workers=args.workers,
                           max_pages=args.max_pages, redis_url=redis_url, spider=args.spider,
                           overrides=args.settings)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(result))
    return _crawl_exit_code(result)


def _crawl_exit_code(result: dict) -> int:
    """0: done; 1: a worker failed; 128 + the signal's number (130 for Ctrl-C, 143 for
    SIGTERM): interrupted, with the articles stored so far exported."""
    if result["interrupted"]:
        print(f"{result['exported']} articles stored so far written to {result['output']}",
              file=sys.stderr)
        return 128 + int(getattr(signal, result["interrupted"]))
    return 0 if not any(result["worker_exit_codes"]) else 1


def _extract(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.article.extract import extract_article
    from crawler.article.normalize import normalize_article

    for path in args.paths:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            print(json.dumps({"source": path, "error": exc.strerror}))
            continue
        if path.endswith(".gz"):
            import gzip

            data = gzip.decompress(data)
        url = args.url or Path(path).resolve().as_uri()
        article = extract_article(data, url)
        if article is None:
            print(json.dumps({"source": path, "error": "not an article"}))
            continue
        print(json.dumps({"source": path, **normalize_article(article, spider="extract")},
                         ensure_ascii=False))
    return 0


def _reextract(args: argparse.Namespace, redis_url: str | None) -> int:
    import redis

    from crawler.cli.reextract import reextract
    from crawler.worker.process import UsageError, project_settings

    settings = project_settings(redis_url, args.settings)

    def error(message: str) -> None:
        print(f"crawler reextract: {message}", file=sys.stderr)

    try:
        out = sys.stdout if args.output == "-" else open(args.output, "w", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {args.output}: {exc.strerror}") from None
    try:
        report = reextract(args.paths, out, settings, spider=args.spider, store=args.store, on_error=error)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except redis.RedisError as exc:
        raise UsageError(f"Redis failed, articles after this point are not stored: {exc}") from None
    finally:
        if out is not sys.stdout:
            out.close()
    print(json.dumps(report.as_dict()), file=sys.stderr)
    return 1 if report.unreadable else 0


def _demo(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.cli.crawl import run_crawl
    from crawler.demo import serve

    from crawler.worker.process import UsageError

    if args.live and not args.publish_every >= 1:
        raise UsageError("--publish-every must be at least 1 second")
    if not 0 <= args.port <= 65535:
        raise UsageError("--port must be between 0 and 65535")
    live = {"live": True, "publish_every": args.publish_every, "seed": args.seed} if args.live else {}
    if args.serve_only:
        return _serve_demo(args.port, live)
    os.environ["CRAWLER_ALLOW_PRIVATE_NETWORKS"] = "1"
    # One small site on loopback: a short politeness delay keeps the demo quick.
    overrides = ["FRONTIER_HOST_DELAY=0.05"]
    if args.live:  # revisit its hubs about as often as it publishes
        overrides += [f"FRONTIER_REVISIT_MIN={args.publish_every:g}",
                      f"FRONTIER_REVISIT_MAX={max(60.0, 20 * args.publish_every):g}"]
    with serve(port=args.port, **live) as site:
        print(f"Demo news site at {site.base_url}/" + (" (live: Ctrl-C stops the crawl)" if live else ""),
              file=sys.stderr)
        result = run_crawl([site.base_url + "/"], output=Path(args.output), workers=args.workers,
                           redis_url=redis_url, overrides=overrides,
                           until_idle=None if args.live else 2.0)
    print(json.dumps(result))
    if not result["interrupted"]:
        print(f"{result['exported']} articles written to {Path(args.output).resolve()}", file=sys.stderr)
    return _crawl_exit_code(result)


def _serve_demo(port: int, live: dict) -> int:
    """Serve the demo site until SIGINT or SIGTERM; its base URL goes to stdout."""
    from crawler.demo import serve

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    with serve(port=port, **live) as site:
        print(site.base_url + "/", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _top(args: argparse.Namespace, redis_url: str | None) -> int:
    from crawler.cli.top import run_top
    from crawler.frontier.config import FrontierConfig
    from crawler.worker.process import UsageError, project_settings

    if not args.interval > 0:
        raise UsageError("--interval must be a positive number of seconds")
    worker_timeout = FrontierConfig.from_settings(project_settings(redis_url)).worker_timeout
    return run_top(_frontier(redis_url, args.spider), interval=args.interval, once=args.once,
                   worker_timeout=worker_timeout)


_COMMANDS = {
    "seed": _seed, "worker": _worker, "status": _status, "dead-letters": _dead_letters, "export": _export,
    "crawl": _crawl, "extract": _extract, "reextract": _reextract, "demo": _demo, "top": _top,
    "deliver": _deliver, "sources": _sources,
}
