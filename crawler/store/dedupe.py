"""The atomic Redis article store: each article stored once, across workers.

An article is a duplicate when a stored one has its canonical URL
(``Keys.dedupe_url``), its :func:`~crawler.article.fingerprints.content_hash`
(``Keys.dedupe_content``), or a :func:`~crawler.article.fingerprints.minhash`
signature close enough to make it a near-duplicate (see
:mod:`crawler.article.fingerprints`).

Near-duplicates are pairs whose sets of word 3-shingles have a Jaccard
similarity of at least ``threshold`` (``DEDUPE_NEAR_THRESHOLD``, 0.8), as
estimated by MinHash. Candidates are found with locality-sensitive hashing:
every stored article is indexed under each of its
:data:`~crawler.article.fingerprints.BANDS` band digests (``Keys.minhash_band``), and a
new article is only compared with the articles sharing at least one band. For
a threshold above ``1 - BANDS / NUM_PERM`` (0.75) that is exhaustive, not
probabilistic: an estimate that high leaves fewer unequal values than there are
bands, so at least one band is equal.

:meth:`ArticleStore.store` runs every check and every write in one Lua script
(``crawler/base/lua/store.lua``), so two workers storing the same story at the same moment store it once.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from crawler.article.fingerprints import NUM_PERM, minhash, minhash_bands, minhash_hex
from crawler.base import lua

if TYPE_CHECKING:
    from collections.abc import Sequence

    import redis

    from crawler.base.keys import Keys

__all__ = [
    "MAX_CANDIDATES",
    "NEAR_THRESHOLD",
    "ArticleStore",
]


#: The default smallest estimated Jaccard similarity of a near-duplicate.
NEAR_THRESHOLD = 0.8
#: The default most stored articles one :meth:`ArticleStore.store` compares with.
MAX_CANDIDATES = 200

_HEX64_RE = re.compile(r"[0-9a-f]{16}")

# --- The store ------------------------------------------------------------------



def _min_equal(threshold: float) -> int:
    """The fewest equal values whose share of
    :data:`~crawler.article.fingerprints.NUM_PERM` is ``>= threshold``."""
    return next(k for k in range(NUM_PERM + 1) if k / NUM_PERM >= threshold)


class ArticleStore:
    """Stores normalized articles in a crawl's Redis stream, once each.

    ``threshold`` (in ``(0, 1]``) is the smallest estimated Jaccard similarity
    (:func:`~crawler.article.fingerprints.estimated_jaccard`) of a near-duplicate;
    above 0.75 every stored article that close is found (see the module
    docstring), at or below it some may be missed. ``max_candidates`` bounds the work of one
    :meth:`store`: at most that many stored articles are compared (the ones
    sharing the most bands), and a band set larger than that is sampled; each
    call that leaves candidates out counts in the stats hash field
    ``near_duplicate_candidates_capped``. With ``check_duplicates=False``
    every article is stored, but still indexed, so that turning the checks
    back on later sees it.

    Raises :class:`ValueError` for a ``threshold`` outside ``(0, 1]`` or a
    ``max_candidates`` below 1.
    """

    def __init__(
        self,
        client: redis.Redis,
        keys: Keys,
        *,
        threshold: float = NEAR_THRESHOLD,
        check_duplicates: bool = True,
        max_candidates: int = MAX_CANDIDATES,
    ) -> None:
        if not 0 < threshold <= 1:  # also rejects NaN
            raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
        if max_candidates < 1:
            raise ValueError(f"max_candidates must be at least 1, got {max_candidates!r}")
        self.client = client
        self.keys = keys
        self.threshold = threshold
        self.check_duplicates = check_duplicates
        self.max_candidates = max_candidates
        self._min_equal = _min_equal(threshold)
        self._script = lua.register(client, "STORE", keys)

    def band_keys(self, signature: Sequence[int]) -> list[str]:
        """The :data:`~crawler.article.fingerprints.BANDS` band sets
        (``Keys.minhash_band``) indexing ``signature``."""
        return [
            self.keys.minhash_band(band, digest)
            for band, digest in enumerate(minhash_bands(signature))
        ]

    def store(self, article: dict[str, Any]) -> str:
        """Store ``article`` unless it duplicates a stored one; return the outcome.

        ``article`` is a normalized article (see :func:`crawler.article.normalize.normalize_article`):
        it needs ``canonical_url``, ``content_hash``, ``simhash`` (16 hex
        digits) and ``body`` (a str, whose :func:`~crawler.article.fingerprints.minhash`
        is computed here), and must be JSON-serializable. Returns one of
        :data:`~crawler.base.counters.STORE_OUTCOMES`, checked
        in that order: ``"duplicate_url"``, ``"duplicate_content"``,
        ``"near_duplicate"``, else ``"stored"`` (appended to ``Keys.articles``
        as field ``article``, and indexed: ``Keys.dedupe_url``,
        ``Keys.dedupe_content``, its signature in ``Keys.minhash_signatures``
        and its content hash in each of :meth:`band_keys`). Every outcome is
        counted in ``Keys.stats`` (``articles_stored``, ``duplicate_url``...),
        as are stored signatures found missing or malformed
        (``near_duplicate_candidates_invalid``).

        Raises :class:`ValueError` for an article missing those fields,
        :class:`TypeError` for one that is not JSON-serializable, and
        :class:`redis.RedisError` when Redis fails (nothing is then stored).
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
        outcome = self._script(
            [canonical_url, digest, minhash_hex(signature), self._min_equal,
             "1" if self.check_duplicates else "0", payload, self.max_candidates],
            rest=self.band_keys(signature),
        )
        if isinstance(outcome, bytes):
            outcome = outcome.decode("ascii")
        return outcome
