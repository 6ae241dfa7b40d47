"""Extraction cost in CPU instructions: a figure this shared machine cannot blur.

Wall and CPU seconds on a shared virtual machine drift by a quarter within minutes,
more than most changes to the extraction are worth. Instruction counts do not:
``valgrind --tool=callgrind`` counts the same total for the same code and input
whatever else the machine is doing. This script runs, under callgrind, a child
Python that reads every ``--every``-th page of each dataset of
:mod:`benchmarks.extraction` and extracts them with one extractor; it runs the same
child once more without the extraction loop, and the difference, over the number
of pages, is the instructions one page costs (start-up, imports and the one-off
:func:`crawler.article.dates.warm_up` are in both runs, so they cancel out)::

    .venv/bin/python -m benchmarks.extraction_instructions [--every N] [--root DIR ...]

It prints, per extractor, millions of instructions per page, and the ratio of
``crawler extract`` to plain trafilatura (``trafilatura.extract``, its default
mode, as in :mod:`benchmarks.extraction`). ``--root`` adds checkouts of other
commits of this project to compare (``git worktree add /tmp/old <commit>``), each
measured with its own code. Needs ``valgrind`` (Debian's package); the child runs
go two at a time and take about 15 minutes for three rows (callgrind runs Python
about 50 times slower).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
_TOTAL_RE = re.compile(r"^(?:summary|totals):\s*(\d+)", re.M)

# The child: load the pages, do the one-off work, extract the first page (lazy
# imports and caches), then, with "run", every page. Prints the page count.
_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from benchmarks.extraction import EXTRACTORS, default_folders, load_pages
try:
    from crawler.article.dates import warm_up
except ImportError:  # a checkout from before it: the same, by hand
    from htmldate.extractors import get_external_parser
    def warm_up():
        get_external_parser().get_date_data("warm up")
warm_up()
extract = dict(EXTRACTORS)[sys.argv[2]]
every = int(sys.argv[3])
pages = [page for folder in default_folders() for page in load_pages(folder)[::every]]
extract(pages[0])
if sys.argv[4] == "run":
    for page in pages:
        extract(page)
print(len(pages))
"""


def _instructions(root: Path, extractor: str, every: int, mode: str, workdir: Path) -> tuple[int, int]:
    """(instructions, pages) of one child run under callgrind."""
    out = workdir / f"callgrind.{abs(hash((str(root), extractor, mode)))}"
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
         sys.executable, "-c", _CHILD, str(root), extractor, str(every), mode],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    found = _TOTAL_RE.search(out.read_text())
    if found is None:
        raise RuntimeError(f"no instruction total in {out}")
    return int(found.group(1)), int(done.stdout.split()[-1])


def _per_page(setup: Future, run: Future) -> float:
    (base, pages), (total, _) = setup.result(), run.result()
    return (total - base) / pages


def main(argv: Sequence[str] | None = None) -> int:
    """Measure and print; 2 when valgrind is missing."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.extraction_instructions",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=int, default=12, help="read every N-th page of each dataset (default: 12)")
    parser.add_argument("--root", type=Path, action="append", default=[],
                        help="another checkout of this project to measure too (repeatable)")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("benchmarks.extraction_instructions: valgrind is not installed (apt-get install valgrind)",
              file=sys.stderr)
        return 2
    rows = [(f"crawler extract ({root})", root.resolve(), "crawler extract") for root in [ROOT, *args.root]]
    rows.append(("trafilatura (plain, default mode)", ROOT, "trafilatura"))
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=2) as pool:
        # Every child run queued at once, two at a time: the machine's two cores.
        futures = {name: [pool.submit(_instructions, root, extractor, args.every, mode, Path(tmp))
                          for mode in ("setup", "run")] for name, root, extractor in rows}
        costs = {name: _per_page(*pair) for name, pair in futures.items()}
    plain = costs[rows[-1][0]]
    print(f"Instructions per page (callgrind; every {args.every}th page of each dataset):")
    for name, cost in costs.items():
        print(f"  {name:60s} {cost / 1e6:8.1f} M   {cost / plain:5.2f}x plain trafilatura")
    return 0


if __name__ == "__main__":
    sys.exit(main())
