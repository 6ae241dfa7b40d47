"""``crawler dead-letters``: list the requests set aside, queue them again, or drop them."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, TextIO

from crawler.frontier.deadletters import read_dead_letters

if TYPE_CHECKING:
    from crawler.frontier.core import Frontier
    from crawler.frontier.deadletters import DeadLetter

__all__ = ["run_dead_letters"]


def _printable(text: str) -> str:
    """``text`` with control characters escaped: URLs and reasons come from the web."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _line(letter: DeadLetter) -> str:
    attempts = "?" if letter.attempts is None else str(letter.attempts)
    url = letter.url if letter.url is not None else f"(no URL) {letter.request[:200]}"
    return f"{attempts:>8}  {_printable(letter.reason)[:60]:<24}  {_printable(url)}"


def run_dead_letters(frontier: Frontier, *, as_json: bool = False, action: str | None = None,
                     out: TextIO | None = None) -> dict[str, object]:
    """Show every dead letter (newest first), then ``action`` them all: ``"requeue"`` or ``"drop"``.

    Text: one line per dead letter (attempts, reason, URL), then a line of counts;
    ``as_json``: one JSON object, ``{"count", "letters": [{reason, attempts,
    url, request}...]}`` plus the counts of the action. Returns that object.
    """
    out = out or sys.stdout
    letters = read_dead_letters(frontier)
    result: dict[str, object] = {"count": len(letters), "letters": [d.as_dict() for d in letters]}
    if action == "requeue":
        requeued, already, kept = frontier.requeue_dead_letters()
        result.update(requeued=requeued, already_queued=already, kept=kept)
    elif action == "drop":
        result.update(dropped=frontier.drop_dead_letters())
    if as_json:
        print(json.dumps(result), file=out)
        return result
    if letters:
        print(f"{'attempts':>8}  {'reason':<24}  url", file=out)
        for letter in letters:
            print(_line(letter), file=out)
    summary = f"{len(letters)} dead letters"
    if action == "requeue":
        summary += (f"; {result['requeued']} queued again (attempts reset), {result['already_queued']} "
                    f"were queued or in flight already, {result['kept']} kept (not a request)")
    elif action == "drop":
        summary += f"; {result['dropped']} dropped"
    print(summary, file=out)
    return result
