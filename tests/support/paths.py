"""Where the repository and the benchmark pages are."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (the folder holding ``crawler/`` and ``tests/``)."""

FUNDUS = ROOT.parent / "shared" / "benchmarks" / "fundus"
"""The fundus benchmark pages (read-only, shared), beside the repository. Tests that read
them skip, naming this folder, when it is absent."""
