"""A stand-in for Scrapy's engine, holding only what the scheduler reads of it."""

from __future__ import annotations

from types import SimpleNamespace


def stand_in_engine(in_progress: set | None = None):
    """What the scheduler reads of Scrapy's engine: its slot's in-progress set (and nextcall)."""
    slot = SimpleNamespace(inprogress=set() if in_progress is None else in_progress,
                           nextcall=SimpleNamespace(schedule=lambda: None))
    return SimpleNamespace(_slot=slot)
