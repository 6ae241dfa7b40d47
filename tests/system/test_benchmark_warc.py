"""benchmarks.warc --quick: both configurations crawl the whole site, the archive holds every
page, and crawler reextract reads it back."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchmarks.frontier.site import NginxMissing, ensure_nginx
from tests.support.paths import FUNDUS, ROOT


@pytest.mark.timeout(240)
def test_quick_run_measures_the_archive_and_reextract(tmp_path):
    try:
        ensure_nginx(install=False)
    except NginxMissing as exc:
        pytest.skip(f"{exc}; the benchmark serves its site with nginx")
    out = tmp_path / "results.json"
    result = subprocess.run([sys.executable, "-m", "benchmarks.warc", "--quick", "--no-install", "--json", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=230)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    results = json.loads(out.read_text())
    assert results["failures"] == []
    assert {label: [run["pages"] for run in runs] for label, runs in results["runs"].items()} == {
        "without WARC_DIR": [500], "with WARC_DIR": [500]}
    archive = results["archive"]
    # One response record per page (robots.txt is not obeyed here), read back by crawler reextract.
    assert archive["files"] == 1 and archive["reextract"]["responses"] == 500
    assert archive["reextract"]["unreadable"] == 0 and archive["bytes"] > 500 * 500
    figures = [row["figure"] for row in results["rows"]]
    assert figures[:3] == ["pages/s, without WARC_DIR", "pages/s, with WARC_DIR",
                           "archive's cost in pages/s: 1 - with / without (medians)"]
    assert "crawler reextract, response records per second" in figures
    cost = next(row for row in results["rows"] if row["figure"].startswith("archive's cost in pages/s"))
    assert cost["goal"] in {"<= 10%: met", "<= 10%: NOT met"}
    if (FUNDUS / "ground_truth.json").is_file():
        real = results["real_pages"]
        assert real["pages"] == 80 and 0 < real["archive_gzip_ms"] and 0 < real["extract_ms"]
    assert "Command: " in result.stdout and "-m benchmarks.warc --quick --no-install" in result.stdout
