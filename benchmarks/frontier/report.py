"""The benchmark's table: one row per figure, with its goal and whether it is met."""

from __future__ import annotations

import math
import os
import shlex
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from benchmarks.frontier import LABELS, OURS, OURS2, PLAIN, STOCK
from benchmarks.frontier.memory import BLOOM_ERROR_RATE

if TYPE_CHECKING:
    from benchmarks.frontier.crawls import Run

__all__ = ["build_rows", "command_line", "print_report"]


def _num(value: float, digits: int = 2) -> str:
    return f"{value:,.{digits}f}"


def build_rows(runs: dict[str, list[Run]], memory: dict, count: int, cores: int) -> list[dict]:
    """One row per figure: label, value (text), runs (text), goal, met (True/False/None)."""
    rows: list[dict] = []

    def row(label, value, text, detail="", goal="—", met=None):
        rows.append({"figure": label, "value": value, "text": text, "runs": detail, "goal": goal, "met": met})

    med = {mode: statistics.median(r.pages_per_s for r in rs) for mode, rs in runs.items() if rs}
    for mode in (PLAIN, OURS, STOCK, OURS2):
        if mode in med:
            row(f"pages/s, {LABELS[mode]}", med[mode], _num(med[mode], 0),
                " / ".join(_num(r.pages_per_s, 0) for r in runs[mode]))

    def ratio(label, top, bottom, goal=None):
        if top in med and bottom in med:
            value = med[top] / med[bottom]
            per_round = " / ".join(_num(a.pages_per_s / b.pages_per_s) for a, b in zip(runs[top], runs[bottom]))
            row(label, value, _num(value), per_round,
                f">= {goal}" if goal else "—", None if goal is None else value >= goal)

    ratio("ours 1 worker / plain Scrapy", OURS, PLAIN, 0.95)
    ratio("stock scrapy-redis / plain Scrapy", STOCK, PLAIN)
    ratio(f"ours 2 workers / ours 1 worker ({cores} cores)", OURS2, OURS, 1.7)

    # CPU per page of the Scrapy process: what the pages/s would be on an otherwise idle core.
    cpu = {mode: statistics.median(1000 * r.cpu_seconds / r.pages for r in rs)
           for mode, rs in runs.items() if rs and mode != OURS2}
    for mode in (PLAIN, OURS, STOCK):
        if mode in cpu:
            row(f"CPU ms per page, {LABELS[mode]}", cpu[mode], _num(cpu[mode]),
                " / ".join(_num(1000 * r.cpu_seconds / r.pages) for r in runs[mode]))
    if PLAIN in cpu and OURS in cpu:
        value = cpu[PLAIN] / cpu[OURS]
        row("pages per CPU second, ours / plain Scrapy", value, _num(value),
            " / ".join(_num(p.cpu_seconds / o.cpu_seconds) for p, o in zip(runs[PLAIN], runs[OURS])))

    if memory:
        bloom = memory["bloom"]
        for name, label, goal, met in (
            ("set", "exact set (FRONTIER_SEEN=set)", "—", None),
            ("bloom", f"Bloom filter ({count:,} at {BLOOM_ERROR_RATE:.1%})", "<= 2",
             bloom["bytes_per_url"] <= 2),
            ("stock", "stock scrapy-redis set", "—", None),
        ):
            value = memory[name]["bytes_per_url"]
            row(f"Redis bytes per seen URL, {label}", value, _num(value),
                f"keys alone {_num(memory[name]['key_bytes_per_url'])}; "
                f"slowlog {memory[name]['slowlog_entries']}", goal, met)
            if name == "bloom":
                value = bloom["key_bytes_per_url"]
                row("Redis bytes per seen URL, Bloom keys (MEMORY USAGE)", value, _num(value),
                    f"its bits alone {_num(bloom['ideal_bytes_per_url'])}", "<= 2", value <= 2)
        rate, fresh = bloom["false_positive_rate"], bloom["fresh"]
        limit = BLOOM_ERROR_RATE + 3 * math.sqrt(BLOOM_ERROR_RATE * (1 - BLOOM_ERROR_RATE) / fresh)
        row(f"Bloom false-positive rate ({fresh:,} fresh)", rate, f"{rate:.3%}",
            f"{bloom['false_positives']:,} hits; {bloom['false_negatives']} misses of "
            f"{bloom['checked_added']:,} added", f"{BLOOM_ERROR_RATE:.1%} (+3 sd: {limit:.3%})", rate <= limit)

    for what, attr in (("round trips", "round_trips"), ("commands sent", "commands"),
                       ("Redis commands run", "redis_commands")):
        for mode, name in ((OURS, "ours"), (STOCK, "stock scrapy-redis")):
            if runs.get(mode):
                values = [getattr(r, attr) / r.pages for r in runs[mode]]
                value = statistics.median(values)
                goal, met = "—", None
                if mode == OURS and attr == "round_trips":
                    goal, met = "<= 1.5 (docstring: about 1)", value <= 1.5
                row(f"{what} per page, {name}", value, _num(value),
                    " / ".join(_num(v) for v in values), goal, met)
    return rows


def print_report(console, rows, runs, command: str, notes: list[str]) -> None:
    from rich.table import Table

    table = Table(title="Frontier benchmark", title_justify="left")
    for name, justify in (("Figure", "left"), ("Median", "right"), ("Runs / detail", "left"),
                          ("Goal", "left"), ("Met", "left")):
        table.add_column(name, justify=justify, no_wrap=name in {"Figure", "Median", "Met"})
    for r in rows:
        met = "—" if r["met"] is None else ("met" if r["met"] else "NOT met")
        table.add_row(r["figure"], r["text"], r["runs"], r["goal"], met)
    console.print(table)
    cpu = Table(title="CPU cores busy during the crawls (median)", title_justify="left")
    for name in ("Configuration", "scrapy", "redis-server", "nginx", "total"):
        cpu.add_column(name, justify="left" if name == "Configuration" else "right")
    for mode, rs in runs.items():
        if rs:
            parts = {part: statistics.median(r.cpu[part] for r in rs) for part in ("scrapy", "redis", "nginx")}
            cpu.add_row(LABELS[mode], *(_num(v) for v in parts.values()), _num(sum(parts.values())))
    console.print(cpu)
    for line in notes:
        console.print(line, highlight=False, markup=False, soft_wrap=True)
    console.print(f"Command: {command}", highlight=False, markup=False, soft_wrap=True)


def command_line(argv: list[str]) -> str:
    python = sys.executable
    if python.startswith(str(Path.cwd()) + os.sep):
        python = os.path.relpath(python)
    return shlex.join([python, "-m", "benchmarks.frontier", *argv])
