"""The ``crawler`` command and the operator tools behind it (seed, status, top, crawl)."""

from crawler.cli.main import main

__all__ = ["main"]
