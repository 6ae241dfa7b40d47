"""Benchmarks of the crawler, run as scripts (``python -m benchmarks.extraction``)."""
