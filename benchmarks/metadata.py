"""Metadata benchmark: titles, authors and publication dates on real pages (issue 14).

Scores, per benchmark folder (``html/*.html.gz`` and ``ground_truth.json``, read by
:func:`benchmarks.extraction.load_pages`) and side by side in one run:

- ``crawler extract``: what the service stores, :func:`crawler.article.extract.extract_article`
  then :func:`crawler.article.normalize.normalize_article` (a page it answers "not an
  article" for has no title, authors or date);
- ``trafilatura``: trafilatura's metadata step (``trafilatura.metadata.extract_metadata``
  with the options ``bare_extraction(..., with_metadata=True)`` gives it); its authors are
  one string, split on "; " as trafilatura joins them;
- ``htmldate fast`` and ``htmldate extensive``: ``htmldate.find_date`` with
  ``original_date=True`` and ``extensive_search`` off or on (dates only).

Comparison rules are :func:`benchmarks.extraction.field_matches`' (titles exact after
whitespace normalization, authors as sorted lists, dates on the day they name, in the
zone they name), over the pages whose ground truth has the field. Seconds per page:
the median and mean CPU time of the metadata step alone on an already parsed tree
(ours: :func:`crawler.article.metadata.read_declared`, ``find_title``, ``find_authors``,
``published_date``, ``modified_date``), in this one process.

Two looser checks for truth that is not in that form: ``readability-testpages`` gives a
``byline`` string, not authors; "byline" counts the pages with one where every
predicted name occurs in it (case and spaces folded; none predicted never counts).
``--silver`` also scores ``articles-2026-silver``'s LLM-made ``llm_title``,
``llm_author`` (split on ", " and " and ") and ``llm_date``, reported apart as silver.

Hold-out: the folders named by ``--tuned`` (default: fundus-fixtures and
articles-2026-silver) are the ones the metadata rules were developed on; every other
folder is held out (not looked at while writing rules) and printed first::

    .venv/bin/python -m benchmarks.metadata [FOLDER...] [--tuned NAME ...] [--silver]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lxml.html
from htmldate import find_date
from trafilatura.metadata import extract_metadata
from trafilatura.settings import Extractor

from benchmarks.extraction import DEFAULT_FOLDER, Page, field_matches, load_pages
from crawler.article.extract import decode_html, extract_article
from crawler.article.metadata import find_authors, find_title, modified_date, published_date, read_declared, site_name
from crawler.article.normalize import normalize_article
from crawler.article.related import strip_related_blocks
from crawler.base.urls import display_domain

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["FOLDERS", "METHODS", "main"]

logger = logging.getLogger(__name__)

#: The shared benchmark folders, in the order they are reported when none is named.
FOLDERS = tuple(DEFAULT_FOLDER.parent / name for name in
                ("fundus-fixtures", "readability-testpages", "articles-2026-silver", "fundus"))
FIELDS = ("title", "authors", "date")
_SILVER = "articles-2026-silver"
# What the service is given for a page whose truth has no URL (never fetched).
_NO_URL = "http://127.0.0.1/"
_SILVER_AUTHOR_SPLIT_RE = re.compile(r",\s+|\s+and\s+")


@dataclass
class _Case:
    page: Page
    truth: dict[str, Any]
    byline: str | None = None


@dataclass
class _Result:
    fields: list[dict[str, Any]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    rejected: int = 0


def _tree(page: Page) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(decode_html(page.html))


# --- The methods: (found fields, CPU seconds of the metadata step) ----------------


def _ours(page: Page) -> tuple[dict[str, Any], float, bool]:
    url = page.url or _NO_URL
    article = extract_article(page.html, url)
    tree = _tree(page)
    strip_related_blocks(tree)  # extract_article reads authors and dates after this
    began = time.thread_time()
    declared = read_declared(tree)
    h1 = tree.find(".//h1")
    find_title(declared, h1.text_content() if h1 is not None else None, tree.findtext(".//title"),
               site_name(declared), display_domain(url))
    find_authors(tree, declared)
    published_date(tree, declared, url)
    modified_date(tree, declared)
    seconds = time.thread_time() - began
    if article is None:
        return {}, seconds, True
    stored = normalize_article(article, spider="benchmark")
    return {"title": stored["title"], "authors": stored["authors"], "date": stored["published"]}, seconds, False


_TRAFILATURA_OPTIONS = Extractor(with_metadata=True)


def _trafilatura(page: Page) -> tuple[dict[str, Any], float, bool]:
    tree = _tree(page)
    began = time.thread_time()
    document = extract_metadata(tree, page.url or None, _TRAFILATURA_OPTIONS.date_params,
                                _TRAFILATURA_OPTIONS.fast, _TRAFILATURA_OPTIONS.author_blacklist)
    seconds = time.thread_time() - began
    authors = [a.strip() for a in (document.author or "").split(";") if a.strip()]
    return {"title": document.title, "authors": authors, "date": document.date}, seconds, False


def _htmldate(extensive: bool) -> Callable[[Page], tuple[dict[str, Any], float, bool]]:
    def run(page: Page) -> tuple[dict[str, Any], float, bool]:
        tree = _tree(page)
        began = time.thread_time()
        try:
            date = find_date(tree, extensive_search=extensive, original_date=True, url=page.url or None)
        except Exception:  # noqa: BLE001 - a failed guess is no date
            date = None
        return {"date": date}, time.thread_time() - began, False
    return run


#: (row name, method, the fields it gives), in table order.
METHODS: list[tuple[str, Callable[[Page], tuple[dict[str, Any], float, bool]], tuple[str, ...]]] = [
    ("crawler extract", _ours, FIELDS),
    ("trafilatura", _trafilatura, FIELDS),
    ("htmldate fast", _htmldate(False), ("date",)),
    ("htmldate extensive", _htmldate(True), ("date",)),
]


# --- Truth -----------------------------------------------------------------------


def _cases(folder: Path, *, silver: bool) -> list[_Case]:
    pages = load_pages(folder)
    raw = json.loads((folder / "ground_truth.json").read_text(encoding="utf-8"))
    cases = []
    for page in pages:
        entry = raw[page.name]
        truth = dict(page.fields)
        if silver and folder.name == _SILVER:
            found = {"title": entry.get("llm_title"), "date": entry.get("llm_date"),
                     "authors": _SILVER_AUTHOR_SPLIT_RE.split(entry["llm_author"]) if entry.get("llm_author") else None}
            truth = {name: value for name, value in found.items() if value}
        byline = entry.get("byline")
        cases.append(_Case(page, truth, byline if isinstance(byline, str) and byline.strip() else None))
    return cases


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def _in_byline(authors: Any, byline: str) -> bool:
    names = [a for a in authors if isinstance(a, str) and a.strip()] if isinstance(authors, list) else []
    return bool(names) and all(_fold(name) in _fold(byline) for name in names)


# --- The run ---------------------------------------------------------------------


def _run(method: Callable[[Page], tuple[dict[str, Any], float, bool]], cases: Sequence[_Case]) -> _Result:
    result = _Result()
    for case in cases:
        try:
            found, seconds, rejected = method(case.page)
        except Exception:  # noqa: BLE001 - a crash scores as no prediction
            logger.warning("method failed on %s", case.page.name, exc_info=True)
            found, seconds, rejected = {}, 0.0, False
        result.fields.append(found)
        result.seconds.append(seconds)
        result.rejected += rejected
    return result


def _cell(hits: int, judged: int) -> str:
    return f"{hits / judged:.3f} ({hits}/{judged})" if judged else "n/a"


def _report(folder: Path, cases: Sequence[_Case], runs: dict[str, _Result], role: str) -> None:
    fields = [name for name in FIELDS if any(name in case.truth for case in cases)]
    with_byline = [i for i, case in enumerate(cases) if case.byline]
    silver = " (SILVER truth: LLM-made)" if folder.name == _SILVER and fields else ""
    print(f"\n{folder.name}: {len(cases)} pages, {role}{silver}")
    if not fields and not with_byline:
        print("  no title, author or date truth: not scored")
        return
    header = ["method", *fields, *(["byline"] if with_byline else []), "ms/page median", "ms/page mean"]
    rows = [header]
    for name, _, gives in METHODS:
        run = runs[name]
        cells = [name]
        for f in fields:
            judged = [i for i, case in enumerate(cases) if f in case.truth]
            if f not in gives:
                cells.append("—")
                continue
            hits = sum(f in run.fields[i] and field_matches(f, run.fields[i][f], cases[i].truth[f]) for i in judged)
            cells.append(_cell(hits, len(judged)))
        if with_byline:
            hits = sum(_in_byline(run.fields[i].get("authors"), cases[i].byline) for i in with_byline)
            cells.append(_cell(hits, len(with_byline)) if "authors" in gives else "—")
        cells += [f"{1000 * statistics.median(run.seconds):.1f}", f"{1000 * statistics.mean(run.seconds):.1f}"]
        rows.append(cells)
    widths = [max(len(row[k]) for row in rows) for k in range(len(header))]
    for row in rows:
        print("  " + "  ".join(cell.ljust(w) if k == 0 else cell.rjust(w) for k, (cell, w) in enumerate(zip(row, widths))))
    print(f"  crawler extract answered 'not an article' on {runs['crawler extract'].rejected} of {len(cases)} pages")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print one table per folder; 2 (one line on stderr) for an unusable folder."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.metadata", description=__doc__.split("\n")[0])
    parser.add_argument("folders", nargs="*", type=Path, default=list(FOLDERS),
                        help="benchmark folders (default: the shared ones)")
    parser.add_argument("--tuned", nargs="*", default=["fundus-fixtures", _SILVER],
                        help="names of the folders the rules were tuned on (default: %(default)s)")
    parser.add_argument("--silver", action="store_true",
                        help=f"score {_SILVER}'s LLM-made llm_title/llm_author/llm_date as (silver) truth")
    parser.add_argument("--dump", type=Path, help="write each page's truth and predictions to this JSON-lines file")
    args = parser.parse_args(argv)
    loaded = []
    for folder in args.folders:
        try:
            loaded.append((folder, _cases(folder, silver=args.silver)))
        except (OSError, ValueError, KeyError) as exc:
            print(f"benchmarks.metadata: cannot read the pages in {folder}: {exc}", file=sys.stderr)
            return 2
    # Held-out folders first.
    loaded.sort(key=lambda item: item[0].name in args.tuned)
    print(f"Tuned on: {', '.join(args.tuned) or 'nothing'}; every other folder is held out. "
          "Accuracy: share of the pages with that truth matched (benchmarks.extraction.field_matches); "
          "ms/page: CPU time of the metadata step alone.")
    for folder, cases in loaded:
        scored = any(case.truth or case.byline for case in cases)
        runs = {name: _run(method, cases) for name, method, _ in METHODS} if scored else {}
        _report(folder, cases, runs, "tuned on" if folder.name in args.tuned else "held out")
        if args.dump and runs:
            with args.dump.open("a", encoding="utf-8") as out:
                for i, case in enumerate(cases):
                    out.write(json.dumps({"folder": folder.name, "page": case.page.name, "url": case.page.url,
                                          "truth": case.truth, "byline": case.byline,
                                          **{name: run.fields[i] for name, run in runs.items()}},
                                         ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
    logging.getLogger("htmldate").setLevel(logging.CRITICAL)
    sys.exit(main())
