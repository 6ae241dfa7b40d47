"""The atomic Redis article store: each article stored once, across workers.

An article is a duplicate when one stored within the dedupe window
(``DEDUPE_WINDOW_DAYS``, 30) has its canonical URL (``duplicate_url``), its
:func:`~crawler.article.fingerprints.content_hash` (``duplicate_content``),
or a :func:`~crawler.article.fingerprints.minhash` signature close enough to
make it a near-duplicate (``near_duplicate``; see
:mod:`crawler.article.fingerprints`).

Near-duplicates are pairs whose sets of word 3-shingles have a Jaccard
similarity of at least ``threshold`` (``DEDUPE_NEAR_THRESHOLD``, 0.65), as
estimated from 4-bit MinHash values (:func:`~crawler.article.fingerprints.bbit_jaccard`).
Candidates are found with locality-sensitive hashing: every stored article is
indexed under each of its :data:`~crawler.article.fingerprints.BANDS` 32-bit
band keys, and a new article is only compared with the articles sharing at
least one band (two articles at similarity 0.6 share one with probability
0.97, at 0.7 with 0.995).

The state is one Redis hash per UTC day (``Keys.dedupe_day``) holding, per
article stored that day, about 800 bytes: an 8-byte hash of its canonical URL,
an 8-byte id (a hash of its content hash) with its 64-byte b-bit signature, and
its id under each band key. A day's hash expires by itself
``DEDUPE_WINDOW_DAYS`` days after the day ends, so every article is remembered
for at least that long (at most one day more) and memory is flat for a crawl
that runs forever. The ``crawler:{<spider>}:dedupe:url``, ``dedupe:content``,
``minhash:sig`` and ``minhash:<band>:<digest>`` keys of earlier versions are
no longer read (see the README for deleting them).

:meth:`ArticleStore.store` runs every check and every write in one Lua script
(``crawler/base/lua/store.lua``), so two workers storing the same story at the
same moment store it once.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import datetime, timezone
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from crawler.article.fingerprints import BITS, NUM_PERM, bbit_signature, minhash, minhash_bands
from crawler.base import lua

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import redis

    from crawler.base.keys import Keys

__all__ = [
    "MAX_BAND_IDS",
    "MAX_CANDIDATES",
    "NEAR_THRESHOLD",
    "WINDOW_DAYS",
    "ArticleStore",
    "band_fields",
    "day_of",
]


#: The default smallest estimated Jaccard similarity of a near-duplicate
#: (``DEDUPE_NEAR_THRESHOLD``; chosen by measurement, see ``benchmarks/dedupe_quality.py``).
NEAR_THRESHOLD = 0.65
#: The default most stored articles one :meth:`ArticleStore.store` compares with.
MAX_CANDIDATES = 200
#: The default days an article's dedupe state is kept (``DEDUPE_WINDOW_DAYS``).
WINDOW_DAYS = 30
#: The most article ids one band key of one day keeps (the newest): a band that
#: boilerplate makes crowded costs at most 256 bytes a day.
MAX_BAND_IDS = 32
_DAY = 86_400

_HEX64_RE = re.compile(r"[0-9a-f]{16}")

# --- The store ------------------------------------------------------------------



def _min_equal(threshold: float) -> int:
    """The fewest equal 4-bit values (of :data:`~crawler.article.fingerprints.NUM_PERM`)
    whose :func:`~crawler.article.fingerprints.bbit_jaccard` is ``>= threshold``.

    The estimate of ``k`` equal values is ``(k/N - 1/16) / (15/16)``: it is
    ``>= t`` when ``k >= N * (15 t + 1) / 16``. Exact arithmetic on the
    threshold as written (``0.65``, not its binary float).
    """
    chance = Fraction(1, 2**BITS)
    need = NUM_PERM * (Fraction(repr(threshold)) * (1 - chance) + chance)
    return -(-need.numerator // need.denominator)  # ceil


def _id(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


def band_fields(signature: Sequence[int]) -> list[bytes]:
    """The fields of a day's dedupe hash that index ``signature``: per band, one
    byte (the band number) and its 4-byte key (:func:`~crawler.article.fingerprints.minhash_bands`)."""
    return [bytes([band]) + key for band, key in enumerate(minhash_bands(signature))]


def day_of(unix: float) -> str:
    """The UTC day (``YYYY-MM-DD``) of unix time ``unix``: the day of a dedupe hash."""
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%d")


class ArticleStore:
    """Stores normalized articles in a crawl's Redis stream, once each.

    ``threshold`` (in ``(0, 1]``) is the smallest estimated Jaccard similarity
    (:func:`~crawler.article.fingerprints.bbit_jaccard`) of a near-duplicate.
    ``window_days`` (at least 1) is how many days an article's state is kept
    (the hash of the day it was stored expires ``window_days`` days after that
    day ends); ``clock`` gives the unix time (a test may move it). ``max_candidates`` bounds the work of one
    :meth:`store`: at most that many stored articles are compared (the ones
    sharing the most bands), and a band set larger than that is sampled; each
    call that leaves candidates out counts in the stats hash field
    ``near_duplicate_candidates_capped``. With ``check_duplicates=False``
    every article is stored, but still indexed, so that turning the checks
    back on later sees it.

    Raises :class:`ValueError` for a ``threshold`` outside ``(0, 1]``, a
    ``max_candidates`` below 1 or a ``window_days`` below 1.
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        *,
        threshold: float = NEAR_THRESHOLD,
        check_duplicates: bool = True,
        max_candidates: int = MAX_CANDIDATES,
        window_days: int = WINDOW_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 < threshold <= 1:  # also rejects NaN
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        if max_candidates < 1:
            raise ValueError(f"max_candidates must be at least 1, got {max_candidates!r}")
        if window_days < 1:
            raise ValueError(f"window_days must be at least 1, got {window_days!r}")
        self.client = client
        self.keys = keys
        self.threshold = threshold
        self.check_duplicates = check_duplicates
        self.max_candidates = max_candidates
        self.window_days = window_days
        self.clock = clock
        self._min_equal = _min_equal(threshold)
        self._script = lua.register(client, "STORE", keys)

    def day_keys(self, now: float | None = None) -> list[str]:
        """The dedupe hashes a :meth:`store` at unix time ``now`` (default: the
        clock's) reads: today's first, then the ``window_days`` days before."""
        now = self.clock() if now is None else now
        return [self.keys.dedupe_day(day_of(now - n * _DAY)) for n in range(self.window_days + 1)]

    def expires_at(self, now: float | None = None) -> int:
        """When the dedupe hash of the day of ``now`` expires: ``window_days``
        days after that day ends (unix seconds)."""
        now = self.clock() if now is None else now
        return (int(now) // _DAY + 1 + self.window_days) * _DAY

    def store(self, article: dict[str, Any]) -> str:
        """Store ``article`` unless it duplicates one stored within the window; return the outcome.

        ``article`` is a normalized article (see :func:`crawler.article.normalize.normalize_article`):
        it needs ``canonical_url``, ``content_hash``, ``simhash`` (16 hex
        digits) and ``body`` (a str, whose :func:`~crawler.article.fingerprints.minhash`
        is computed here), and must be JSON-serializable. Returns one of
        :data:`~crawler.base.counters.STORE_OUTCOMES`, checked
        in that order: ``"duplicate_url"``, ``"duplicate_content"``,
        ``"near_duplicate"``, else ``"stored"`` (appended to ``Keys.articles``
        as field ``article``, and indexed in today's ``Keys.dedupe_day``: see
        ``crawler/base/lua/store.lua``). Every outcome is
        counted in ``Keys.stats`` (``articles_stored``, ``duplicate_url``...),
        as are stored signatures found missing or malformed
        (``near_duplicate_candidates_invalid``).

        Raises :class:`ValueError` for an article missing those fields,
        :class:`TypeError` for one that is not JSON-serializable, and
        :class:`redis.RedisError` when Redis fails (nothing is then stored;
        :class:`redis.exceptions.OutOfMemoryError` when Redis is full).
        """
        canonical_url = article.get("canonical_url")
        digest = article.get("content_hash")
        hex_hash = article.get("simhash")
        body = article.get("body")
        if not isinstance(canonical_url, str) or not canonical_url:
            raise ValueError("article has no canonical_url")
        if not isinstance(digest, str) or not digest:
            raise ValueError(f"article {canonical_url} has no content_hash")
        if not isinstance(hex_hash, str) or not _HEX64_RE.fullmatch(hex_hash):
            raise ValueError(f"article {canonical_url} has no 16-hex-digit simhash: {hex_hash!r}")
        if not isinstance(body, str):
            raise ValueError(f"article {canonical_url} has no body")
        payload = json.dumps(article, ensure_ascii=False, separators=(",", ":"))
        signature = minhash(body)
        now = self.clock()
        outcome = self._script(
            [_id(canonical_url), _id(digest), bbit_signature(signature), self._min_equal,
             "1" if self.check_duplicates else "0", payload, self.max_candidates,
             self.expires_at(now), MAX_BAND_IDS, *band_fields(signature)],
            rest=self.day_keys(now),
        )
        if isinstance(outcome, bytes):
            outcome = outcome.decode("ascii")
        return outcome
