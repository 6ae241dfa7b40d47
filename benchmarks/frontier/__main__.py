"""``python -m benchmarks.frontier``: see :mod:`benchmarks.frontier`."""

from benchmarks.frontier.cli import main

raise SystemExit(main())
