"""``crawler deliver``: one consumer of the article stream, writing to a sink until stopped or idle."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

import redis

from crawler.base.connection import connect
from crawler.base.keys import Keys
from crawler.base.urls import redact_url
from crawler.store.delivery import Deliverer, DeliveryConfig
from crawler.store.sinks import SinkError, default_group, open_sink, validate_group

if TYPE_CHECKING:
    from scrapy.settings import Settings

logger = logging.getLogger(__name__)

__all__ = ["resolve_sink", "run_deliver"]

_POSTGRES_WORDS = ("postgresql", "postgres", "postgresql:", "postgres:", "postgresql://", "postgres://")


def resolve_sink(sink: str | None, database_url: str) -> str:
    """The sink URI: ``sink`` as given, or ``DATABASE_URL`` for no sink or a bare
    ``postgresql``. Raises :class:`SinkError` when neither names one."""
    if sink is None or sink in _POSTGRES_WORDS:
        if not database_url:
            raise SinkError("give a sink (file:///dir/, postgresql://..., -) or set DATABASE_URL")
        return database_url
    return sink


def run_deliver(settings: Settings, spider: str, sink: str | None, *, group: str | None = None,
                batch: int | None = None, until_idle: float | None = None) -> int:
    """Deliver the crawl's articles to ``sink`` until SIGTERM/SIGINT or ``until_idle`` seconds
    without an article; print a one-line JSON summary on stderr; return the exit code.

    Raises :class:`SinkError` or ValueError for a bad sink, group or setting, and
    :class:`crawler.base.connection.RedisUnavailable` when Redis does not answer.
    """
    uri = resolve_sink(sink, settings.get("DATABASE_URL") or "")
    group = validate_group(group) if group is not None else default_group(uri)
    config = DeliveryConfig.from_settings(settings, batch=batch)
    client = connect(settings.get("REDIS_URL"), check=True)
    target = open_sink(uri, file_max_bytes=config.file_max_bytes, file_max_seconds=config.file_max_seconds,
                       stale_seconds=config.claim_idle_seconds + config.file_max_seconds)
    deliverer = Deliverer(client, Keys(spider), target, group=group, config=config)
    stop = threading.Event()

    def on_signal(signum, frame):  # noqa: ARG001 - signal handler signature
        logger.info("Received %s: finishing the batch at hand", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    print(f"Delivering the articles of {spider} to {target.description} as group {group}",
          file=sys.stderr, flush=True)
    started = time.monotonic()
    try:
        report = deliverer.run(stop, until_idle=until_idle)
    except redis.RedisError as exc:
        print(f"crawler deliver: error: Redis at {redact_url(settings.get('REDIS_URL'))}: {exc}",
              file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    summary = {"group": group, "consumer": deliverer.consumer, **report.as_dict(),
               "seconds": round(time.monotonic() - started, 3)}
    print(json.dumps(summary), file=sys.stderr)
    return 0 if report.unacknowledged == 0 else 1
