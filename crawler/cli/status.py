"""``crawler status``: the state of a crawl, for people (rich) or scripts (JSON)."""

from __future__ import annotations

import json
import sys
import time
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from crawler.base.counters import DUPLICATE_FIELDS, ERROR_FIELDS, OTHER_FIELDS, REFUSAL_FIELDS, Field

if TYPE_CHECKING:
    from crawler.frontier.core import FrontierCounts
    from crawler.frontier.hubstats import HubCounts
    from crawler.store.delivery import DeliveryStatus
    from crawler.store.freshness import Freshness

__all__ = ["duration", "render_status", "status_dict"]


def delivery_dict(delivery: DeliveryStatus) -> dict:
    """The article stream and each consumer group of ``crawler deliver`` (``--json`` key ``delivery``):
    ``in_stream`` articles still in the stream, ``undelivered`` the largest backlog of a group
    (every article in the stream while there is no group), and per group its ``backlog``,
    ``oldest_age_seconds`` (of its oldest unacknowledged article), ``pending``, ``consumers``
    and ``delivered``."""
    return {
        "in_stream": delivery.length,
        "undelivered": delivery.undelivered,
        "groups": {name: {"backlog": group.backlog,
                          "oldest_age_seconds": round(group.oldest_age_seconds, 3),
                          "pending": group.pending, "consumers": group.consumers,
                          "delivered": group.delivered}
                   for name, group in sorted(delivery.groups.items())},
    }


def status_dict(counts: FrontierCounts, delivery: DeliveryStatus | None = None,
                hubs: HubCounts | None = None, freshness: Freshness | None = None) -> dict:
    """The status as plain data (the ``--json`` output).

    ``errors`` holds the crawl-wide counters of :data:`~crawler.base.counters.ERROR_FIELDS`
    (failed requests: what ``crawler top`` and ``crawler crawl`` count as errors too),
    ``refusals`` those of ``REFUSAL_FIELDS`` and ``other`` those of ``OTHER_FIELDS``.
    ``paused`` is null while the workers lease, else why they do not
    (``{"reason": "backlog" | "memory", "since": unix seconds, "detail": "..."}``).
    ``hubs``: the pages revisited on a schedule (:meth:`HubCounts.as_dict`: ``by_kind``,
    ``active``, ``retired``, ``due_now``, ``overdue``, ``queued``, ``next_due_in``);
    ``freshness``: :meth:`Freshness.as_dict` (age of the newest article, median delay
    from publication to capture over the newest 200).
    """
    stats = counts.stats
    duplicates = {name: stats.get(name, 0) for name in DUPLICATE_FIELDS}
    return {
        "queued": counts.queued,
        "in_flight": counts.in_flight,
        "seen": counts.seen,
        "seen_capacity": counts.seen_capacity or None,
        "articles_stored": counts.articles,
        "duplicates_dropped": sum(duplicates.values()),
        "duplicates": duplicates,
        "invalid_dropped": stats.get(Field.ARTICLES_INVALID, 0),
        "dead_letters": counts.dead_letters,
        "workers_alive": counts.workers_alive,
        "pages": stats.get(Field.PAGES, 0),
        "errors": {name: stats.get(name, 0) for name in ERROR_FIELDS},
        "refusals": {name: stats.get(name, 0) for name in REFUSAL_FIELDS},
        "other": {name: stats.get(name, 0) for name in OTHER_FIELDS},
        "top_hosts": [{"host": host, "queued": n} for host, n in counts.top_hosts],
        **({"delivery": delivery_dict(delivery)} if delivery is not None else {}),
        **({"hubs": hubs.as_dict()} if hubs is not None else {}),
        **({"freshness": freshness.as_dict()} if freshness is not None else {}),
        "paused": {"reason": counts.paused, "since": counts.paused_since,
                   "detail": counts.paused_detail} if counts.paused else None,
    }


def duration(seconds: float, *, days: bool = False, tenths: bool = False) -> str:
    """``seconds`` for a person: "42 s" ("42.3 s" with ``tenths``, for a heartbeat's
    age), "5 min", "3.5 h", and with ``days`` "2.1 d" from 48 h on."""
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.1f} s" if tenths else f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if days and seconds >= 172800:
        return f"{seconds / 86400:.1f} d"
    return f"{seconds / 3600:.1f} h"


def render_status(counts: FrontierCounts, *, as_json: bool = False, file=None,
                  delivery: DeliveryStatus | None = None, hubs: HubCounts | None = None,
                  freshness: Freshness | None = None) -> None:
    data = status_dict(counts, delivery, hubs, freshness)
    if as_json:
        print(json.dumps(data), file=file or sys.stdout)
        return
    console = Console(file=file or sys.stdout)
    table = Table(show_header=False, box=None)
    capacity = data["seen_capacity"]
    paused = data["paused"]
    if paused:
        since = "" if paused["since"] is None else f" for {duration(time.time() - paused['since'])}"
        table.add_row("[bold red]paused[/]", f"[bold red]{escape(paused['reason'])}{since}[/]: "
                      f"{escape(paused['detail'])}; workers lease no new requests until it drains")
    for label, key in (("queued", "queued"), ("in flight", "in_flight"), ("seen", "seen"),
                       ("pages fetched", "pages"), ("articles stored", "articles_stored"),
                       ("duplicates dropped", "duplicates_dropped"),
                       ("invalid dropped", "invalid_dropped"), ("dead letters", "dead_letters"),
                       ("live workers", "workers_alive")):
        value = str(data[key])
        if key == "seen" and capacity:
            value += f" of {capacity:,} (Bloom filter)"
            if data["seen"] > 0.9 * capacity:
                value += " [bold red]over 90%: past its capacity, URLs are lost as false positives[/]"
        table.add_row(label, value)
    for group in ("errors", "refusals", "other"):
        for name, value in data[group].items():
            if value:
                table.add_row(name.replace("_", " "), str(value))
    if "hubs" in data:
        _hub_rows(table, data["hubs"])
    if "freshness" in data:
        _freshness_rows(table, data["freshness"])
    console.print(table)
    if "delivery" in data:
        _render_delivery(console, data["delivery"])
    if data["top_hosts"]:
        hosts = Table("host", "queued", title="largest backlog")
        for row in data["top_hosts"]:
            hosts.add_row(row["host"], str(row["queued"]))
        console.print(hosts)


def _render_delivery(console: Console, delivery: dict) -> None:
    if not delivery["groups"]:
        console.print(f"articles in the stream: {delivery['in_stream']} (no crawler deliver has run: "
                      f"nothing is delivered or trimmed; crawler export reads them)")
        return
    groups = Table("group", "backlog", "oldest undelivered", "delivered", "consumers",
                   title=f"delivery ({delivery['in_stream']} articles in the stream)")
    for name, group in delivery["groups"].items():
        age = group["oldest_age_seconds"]
        groups.add_row(name, str(group["backlog"]), f"{age:.0f} s ago" if group["backlog"] else "-",
                       str(group["delivered"]), str(group["consumers"]))
    console.print(groups)


def _hub_rows(table: Table, hubs: dict) -> None:
    kinds = ", ".join(f"{n} {kind}" for kind, n in hubs["by_kind"].items() if n) or "none"
    table.add_row("hubs", f"{hubs['active']} ({kinds})" + (f", {hubs['retired']} retired" if hubs["retired"] else ""))
    if not hubs["active"]:
        return
    due = f"{hubs['due_now']} ({hubs['queued']} queued)"
    if hubs["overdue"]:
        due += f", [bold red]{hubs['overdue']} overdue[/]: too few workers for the schedule"
    table.add_row("hubs due now", due)
    if hubs["next_due_in"] is not None:
        table.add_row("next hub due in", duration(hubs["next_due_in"]))


def _freshness_rows(table: Table, fresh: dict) -> None:
    age = fresh["newest_article_age_seconds"]
    table.add_row("newest article", "none stored" if age is None else f"{duration(age)} ago")
    delay = fresh["median_capture_delay_seconds"]
    if delay is not None:
        table.add_row("capture delay", f"median {duration(delay)} from publication "
                      f"({fresh['capture_delays_sampled']} of the last {fresh['articles_sampled']} articles "
                      f"name their time)")
