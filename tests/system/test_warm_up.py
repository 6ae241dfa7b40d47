"""crawler.article.dates.warm_up, in a fresh interpreter: it loads what the first page
needing dateparser would otherwise wait for."""

from __future__ import annotations

import subprocess
import sys


def test_warm_up_loads_every_locale_of_the_date_parser_of_last_resort():
    # Nothing of dateparser's ~200 locales is loaded before warm_up; they all are after.
    script = (
        "from dateparser.languages.loader import default_loader as loader\n"
        "from crawler.article.dates import warm_up\n"
        "before = len(loader._loaded_locales)\n"
        "warm_up()\n"
        "print(before, len(loader._loaded_locales))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120)
    before, after = map(int, done.stdout.split())
    assert before == 0 and after > 100
