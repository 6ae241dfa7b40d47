"""Tests of benchmarks.extraction: the body metric on hand-made texts, the
publisher split, field matching, and the script's run on a few pages."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.extraction import (
    aggregate,
    bootstrap_sd,
    field_matches,
    main,
    page_score,
    shingles,
    split_publishers,
    tokens,
)
from crawler.article.extract import extract_article
from crawler.article.normalize import normalize_article
from tests.support.paths import FUNDUS


# --- The metric -----------------------------------------------------------------


def test_tokens_are_unicode_words_with_case_kept():
    assert tokens("Ünïcode wörds, 3.5 \u2014 ok_go Дом") == ["Ünïcode", "wörds", "3", "5", "ok_go", "Дом"]
    assert tokens(None) == []


def test_shingles_are_a_multiset_of_four_token_windows():
    assert shingles("a b c d e") == Counter({("a", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1})
    assert shingles("a b c d a b c d") == Counter({
        ("a", "b", "c", "d"): 2, ("b", "c", "d", "a"): 1, ("c", "d", "a", "b"): 1, ("d", "a", "b", "c"): 1,
    })
    assert shingles("a b c") == Counter()  # fewer than 4 tokens: no shingle


@pytest.mark.parametrize(("predicted", "truth", "expected"), [
    # No prediction: recall 0; precision 1 only when the truth is empty too.
    (None, "a b c d e", (0.0, 0.0)),
    ("", "a b c d e", (0.0, 0.0)),
    ("", "", (1.0, 0.0)),
    (None, None, (1.0, 0.0)),
    ("one two three", "", (1.0, 0.0)),  # under 4 tokens: no predicted shingle
    # A prediction for an empty truth: nothing in it is right.
    ("a b c d", "", (0.0, 0.0)),
    ("a b c d", "a b c d", (1.0, 1.0)),
    ("A b c d", "a b c d", (0.0, 0.0)),  # case is kept
    ("a b, c. d!", "a b c d", (1.0, 1.0)),  # punctuation is not a token
    # Duplicates count as often as they occur, on both sides.
    ("a b c d", "a b c d a b c d", (1.0, 1 / 5)),
    ("a b c d x a b c d", "a b c d", (1 / 6, 1.0)),
    ("a b c d a b c d", "a b c d x a b c d", (2 / 5, 2 / 6)),
])
def test_page_score(predicted, truth, expected):
    assert page_score(predicted, truth) == pytest.approx(expected, abs=1e-12)


def test_aggregate_is_the_harmonic_mean_of_the_averages():
    # Averages 0.75 and 0.625: F1 = 2 * 0.75 * 0.625 / 1.375 = 15/22, not the mean of per-page F1s.
    assert aggregate([(1.0, 0.25), (0.5, 1.0)]) == pytest.approx((0.75, 0.625, 15 / 22), abs=1e-12)
    assert aggregate([(0.0, 0.0)]) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="no pages"):
        aggregate([])


def test_bootstrap_sd_is_seeded_and_zero_for_identical_pages():
    assert bootstrap_sd([(0.5, 0.25)] * 7, resamples=100, seed=1) == (0.0, 0.0, 0.0)
    scores = [(1.0, 1.0), (0.0, 0.0), (0.5, 0.9), (0.9, 0.4)]
    first = bootstrap_sd(scores, resamples=1000, seed=6)
    assert first == bootstrap_sd(scores, resamples=1000, seed=6)
    assert first != bootstrap_sd(scores, resamples=1000, seed=7)
    # The precision of a resample is a mean of 4 values in [0, 1]: sd well inside (0, 0.5).
    assert all(0.05 < sd < 0.5 for sd in first)


@pytest.mark.parametrize(("name", "predicted", "truth", "expected"), [
    ("title", "A  Headline\nHere ", "A Headline Here", True),
    ("title", "a headline here", "A Headline Here", False),
    ("title", None, "A Headline Here", False),
    ("authors", ["Jane Doe", "John  Roe"], ["John Roe", "Jane Doe"], True),
    ("authors", ["Jane Doe"], "Jane Doe", True),
    ("authors", ["Jane Doe"], ["Jane Doe", "John Roe"], False),
    ("date", "2024-02-27T23:30:00-05:00", "2024-02-27", True),
    ("date", "2024-02-27T23:30:00-05:00", "February 27, 2024", True),
    ("date", "2024-02-27T10:00:00+00:00", "2024-02-28", False),
    ("date", None, None, False),
])
def test_field_matches(name, predicted, truth, expected):
    assert field_matches(name, predicted, truth) is expected


def test_split_publishers_sorts_case_insensitively_and_alternates():
    assert split_publishers(["iNews", "cnbc", "APNews", "Fox", "cnbc"]) == (["APNews", "Fox"], ["cnbc", "iNews"])


@pytest.mark.skipif(not (FUNDUS / "ground_truth.json").is_file(),
                    reason=f"fundus benchmark pages not present under {FUNDUS}")
def test_the_fundus_split_is_the_documented_one():
    truth = json.loads((FUNDUS / "ground_truth.json").read_text())
    tuned, held = split_publishers(name.rsplit("_", 1)[0] for name in truth)
    assert tuned == ["APNews", "FoxNews", "iNews", "OccupyDemocrats", "TheGatewayPundit",
                     "TheIndependent", "TheNation", "TheTelegraph"]
    assert held == ["CNBC", "FreeBeacon", "LATimes", "Reuters", "TheGuardian", "TheIntercept",
                    "TheNewYorker", "WashingtonTimes"]


# --- The script -----------------------------------------------------------------


def _folder(path: Path, pages: dict[str, tuple[bytes, dict]]) -> Path:
    (path / "html").mkdir(parents=True)
    for name, (html, _) in pages.items():
        (path / "html" / name).write_bytes(gzip.compress(html))
    (path / "ground_truth.json").write_text(json.dumps({name: truth for name, (_, truth) in pages.items()}))
    return path


def _row(output: str, subset: str, extractor: str) -> str:
    """The table row of ``extractor`` in the section of ``subset`` (e.g. "all (3)")."""
    rows = [line for line in output.splitlines() if line.startswith("│")]
    start = next(i for i, line in enumerate(rows) if _cells(line)[0] == subset)
    return next(line for line in rows[start:] if _cells(line)[1] == extractor)


def _held_out_rows(output: str) -> list[list[str]]:
    """The cells of the rows of the first table (the held-out one)."""
    lines = output.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("└"))
    return [_cells(line) for line in lines[:end] if line.startswith("│")]


def _cells(line: str, bar: str = "│") -> list[str]:
    return [cell.strip() for cell in line.split(bar)[1:-1]]


@pytest.mark.skipif(not (FUNDUS / "ground_truth.json").is_file(),
                    reason=f"fundus benchmark pages not present under {FUNDUS}")
def test_main_on_three_fundus_pages(tmp_path, capsys):
    truth = json.loads((FUNDUS / "ground_truth.json").read_text())
    tuned, held = split_publishers(name.rsplit("_", 1)[0] for name in truth)
    names = [f"{tuned[0]}_0.html.gz", f"{held[0]}_0.html.gz", f"{tuned[1]}_0.html.gz"]
    html = {name: gzip.decompress((FUNDUS / "html" / name).read_bytes()) for name in names}
    folder = _folder(tmp_path / "three", {name: (html[name], truth[name]) for name in names})
    # The figure the table must show for crawler extract on all three pages.
    scores = []
    for name in sorted(names):
        stored = normalize_article(extract_article(html[name], truth[name]["url"]), spider="extract")
        scores.append(page_score(stored["body"], "\n\n".join(truth[name]["body"])))
    precision, recall, f1 = aggregate(scores)

    assert main([str(folder), "--resamples", "200"]) == 0
    out = capsys.readouterr().out
    cells = _cells(_row(out, "all (3)", "crawler extract"))
    assert cells[:2] == ["all (3)", "crawler extract"]
    assert [cell.split(" ± ")[0] for cell in cells[2:5]] == [f"{f1:.4f}", f"{precision:.4f}", f"{recall:.4f}"]
    assert cells[5] == "0"  # no page answered "not an article"
    assert len(cells) == 8  # no title/author/date columns without their truth
    for subset in ("tuned (2)", "held-back (1)", "all (3)"):
        for extractor in ("crawler extract", "trafilatura", "trafilatura favor_precision",
                          "trafilatura favor_recall", "readability-lxml"):
            assert _row(out, subset, extractor)
    # The held-out table comes first: one fold (this folder), the project's F1 on it, and the margin.
    held_out = _held_out_rows(out)
    assert [cells[:3] for cells in held_out] == [["three", "3", f"{f1:.4f}"], ["mean over folds", "", ""]]
    trafilatura = [float(cell) for cell in held_out[0][3:6]]
    assert held_out[0][-2] == f"{f1 - max(trafilatura):+.4f}" == held_out[1][-2]
    assert out.index("Held out, leave one dataset out") < out.index("Body extraction on three")
    assert "Title / author / date accuracy: n/a (no ground truth)." in out
    assert f"  held back: {held[0]}" in out
    assert "no page answered \"not an article\": 0 (three 0) (met)" in out
    assert "Honesty note:" in out
    assert "sd over 200 bootstrap resamples of the pages, seed 0." in out
    # The speed goal, beside plain trafilatura's speed (the extractors ran in turn on each page).
    speed = re.search(r">= 20 pages/s on one core: ([\d.]+) wall \((?:NOT )?met\); [\d.]+ by CPU time; "
                      r"plain trafilatura ([\d.]+) wall: ([\d.]+) of its speed; "
                      r"median page [\d.]+ ms against [\d.]+ ms", out)
    assert speed, out
    ours, theirs, ratio = map(float, speed.groups())
    assert ratio == pytest.approx(ours / theirs, rel=0.03, abs=0.01)  # the printed figures are rounded
    assert "the extractors in turn on each page" in out


ARTICLE = """<html lang="en"><head><title>{title} | The Alpha Times</title>
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "{title}",
"datePublished": "2024-02-27T09:30:00-05:00", "author": {{"@type": "Person", "name": "Jane Doe"}}}}</script>
</head><body><article><h1>{title}</h1>{paragraphs}</article></body></html>"""
SENTENCE = ("The council voted on the new budget for the harbour district after a long debate "
            "about ferries, bridges and the price of parking near the old market square. ")


def test_main_scores_titles_authors_and_dates_where_the_truth_has_them(tmp_path, capsys):
    paragraphs = [f"Paragraph {n}. " + SENTENCE * 2 for n in range(6)]
    page = ARTICLE.format(title="Budget passes", paragraphs="".join(f"<p>{p}</p>" for p in paragraphs))
    truth = {"url": "https://alpha.test/a.html", "body": paragraphs, "title": "Budget passes",
             "authors": ["Jane Doe"], "publishing_date": "2024-02-27"}
    wrong = {**truth, "url": "https://beta.test/b.html", "title": "Budget fails", "date": "2024-03-01"}
    wrong.pop("publishing_date")
    folder = _folder(tmp_path / "made", {"Alpha_0.html.gz": (page.encode(), truth),
                                         "Beta_0.html.gz": (page.encode(), wrong)})

    assert main([str(folder), "--resamples", "50"]) == 0
    out = capsys.readouterr().out
    header = next(line for line in out.splitlines() if "Extractor" in line)
    assert _cells(header, "┃")[-3:] == ["Title", "Authors", "Date"]
    assert _cells(_row(out, "tuned (1)", "crawler extract"))[-3:] == ["1.000 (1/1)"] * 3
    assert _cells(_row(out, "held-back (1)", "crawler extract"))[-3:] == [
        "0.000 (0/1)", "1.000 (1/1)", "0.000 (0/1)"]
    assert _cells(_row(out, "all (2)", "crawler extract"))[-3:] == ["0.500 (1/2)", "1.000 (2/2)", "0.500 (1/2)"]
    assert _cells(_row(out, "all (2)", "trafilatura"))[-3:] == ["—"] * 3


def test_main_on_a_missing_folder_says_so_in_one_line(tmp_path, capsys):
    assert main([str(tmp_path / "absent")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"benchmarks.extraction: cannot read the pages in {tmp_path / 'absent'}")


def test_the_instruction_count_needs_valgrind(monkeypatch, capsys):
    import benchmarks.extraction_instructions as instructions

    monkeypatch.setattr(instructions.shutil, "which", lambda name: None)
    assert instructions.main([]) == 2
    assert "valgrind is not installed" in capsys.readouterr().err
