"""Reading a frame of ``crawler top`` as text."""

from __future__ import annotations


def frame_lines(text: str) -> list[str]:
    """The lines of a frame, spaces folded, blank lines and rules left out."""
    lines = (" ".join(line.split()) for line in text.splitlines())
    return [line for line in lines if line.strip("─ ")]
