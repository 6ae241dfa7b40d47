"""What several test modules share: paths, Redis servers, worker processes, the dedupe corpus.

Test modules import from here, never from one another; fixtures live in ``tests/conftest.py``.
"""
