"""Content fingerprints of articles and the atomic Redis article store.

Three fingerprints decide whether an article is new:

* its canonical URL (``Keys.dedupe_url``);
* :func:`content_hash` of its body, blind to case, whitespace and punctuation
  (``Keys.dedupe_content``);
* its :func:`minhash` signature, for near-duplicates (the same story with a
  word changed, a sentence cut, a paragraph added).

Near-duplicates are pairs whose sets of word 3-shingles have a Jaccard
similarity of at least ``threshold`` (``DEDUPE_NEAR_THRESHOLD``, 0.8), as
estimated by MinHash: the share of the :data:`NUM_PERM` signature values two
articles have in common. Candidates are found with locality-sensitive hashing:
the signature is cut into :data:`BANDS` bands of :data:`ROWS` values, every
stored article is indexed under each band (``Keys.minhash_band``), and a new
article is only compared with the articles sharing at least one band. For a
threshold above ``1 - BANDS / NUM_PERM`` (0.75) that is exhaustive, not
probabilistic: an estimate that high leaves fewer unequal values than there are
bands, so at least one band is equal. (The SimHash this replaces found only 11
of the 120 same-story pairs of the test corpus; see ``tests/test_dedupe.py``.)

:func:`simhash` is still computed for every article (it is a field of the
stored schema) but no longer decides anything.

:meth:`ArticleStore.store` runs every check and every write in one Lua script,
so two workers storing the same story at the same moment store it once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import struct
from collections import Counter
from operator import eq, getitem
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    import redis

    from crawler.keys import Keys

__all__ = [
    "BANDS",
    "MAX_CANDIDATES",
    "NEAR_THRESHOLD",
    "NUM_PERM",
    "OUTCOMES",
    "PERMUTATIONS",
    "ROWS",
    "ArticleStore",
    "content_hash",
    "estimated_jaccard",
    "hamming",
    "iter_articles",
    "minhash",
    "minhash_bands",
    "minhash_hex",
    "shingles",
    "simhash",
    "simhash_hex",
]

logger = logging.getLogger(__name__)

#: What :meth:`ArticleStore.store` may return.
OUTCOMES = ("stored", "duplicate_url", "duplicate_content", "near_duplicate")
#: How many 32-bit values a MinHash signature has.
NUM_PERM = 128
#: How many LSH bands a signature is indexed under, of :data:`ROWS` values each.
BANDS = 32
ROWS = 4
#: The default smallest estimated Jaccard similarity of a near-duplicate.
NEAR_THRESHOLD = 0.8
#: The default most stored articles one :meth:`ArticleStore.store` compares with.
MAX_CANDIDATES = 200

_TOKEN_RE = re.compile(r"\w+")
_SHINGLE = 3
_HEX64_RE = re.compile(r"[0-9a-f]{16}")
_MERSENNE = (1 << 61) - 1
_MASK32 = 0xFFFFFFFF
_SIGNATURE = struct.Struct(f">{NUM_PERM}I")


def _tokens(body: str) -> list[str]:
    return _TOKEN_RE.findall(body.lower())


def content_hash(body: str) -> str:
    """The SHA-1 hex digest of ``body`` lowercased, with every run of non-word
    characters folded to one space (so whitespace, punctuation and case do not
    matter). Equal for bodies that differ only in those."""
    return hashlib.sha1(" ".join(_tokens(body)).encode("utf-8")).hexdigest()


# --- MinHash --------------------------------------------------------------------


def _permutation(index: int) -> tuple[int, int]:
    digest = hashlib.blake2b(b"crawler.dedupe.minhash:%d" % index, digest_size=16).digest()
    a = int.from_bytes(digest[:8], "big") % (_MERSENNE - 1) + 1
    b = int.from_bytes(digest[8:], "big") % _MERSENNE
    return a, b


#: The ``(a, b)`` of the :data:`NUM_PERM` hash functions ``h -> ((a*h + b) mod
#: (2**61 - 1)) mod 2**32``, derived from BLAKE2b of a fixed string, so the same
#: on every worker and every run. Stored signatures are only comparable with
#: signatures made by the same functions: changing these (or the features)
#: means re-indexing every stored article.
PERMUTATIONS: tuple[tuple[int, int], ...] = tuple(_permutation(i) for i in range(NUM_PERM))


def shingles(body: str) -> set[str]:
    """The features of ``body`` that :func:`minhash` summarizes: the set of its
    word 3-shingles (three consecutive lowercased ``\\w+`` tokens joined by one
    space), or of its tokens when it has fewer than three. Empty for a body
    without a word."""
    tokens = _tokens(body)
    if len(tokens) < _SHINGLE:
        return set(tokens)
    return set(map(" ".join, zip(tokens, tokens[1:], tokens[2:])))


def _feature_digests(body: str) -> list[bytes]:
    """The 8-byte BLAKE2b digest of the UTF-8 of each of :func:`shingles`."""
    tokens = [token.encode("utf-8") for token in _tokens(body)]
    if len(tokens) < _SHINGLE:
        features = set(tokens)
    else:
        features = set(map(b" ".join, zip(tokens, tokens[1:], tokens[2:])))
    blake2b = hashlib.blake2b
    return [blake2b(feature, digest_size=8).digest() for feature in features]


# minhash() computes ((a*h + b) mod P) mod 2**32 for ~1,000 shingles x 128
# functions; a Python loop over those 128,000 values takes ~45 ms. Instead the
# shingles' hashes h sit in 128-bit lanes of one big integer, and each function
# is a dozen big-integer operations over all lanes at once (~6 ms for 1,000
# words). Lanes never carry into each other: a*h + b + 1 <= P**2 < 2**122, and
# the bits that a right shift brings in from the next lane land at bit 67 or
# above, out of reach of the additions and masked off in the end.
_LANE = 16  # bytes
_CHUNK = 512  # lanes per big integer: _B1 takes 1 MB, and the ints stay in cache
_ONE_LANE = bytes(_LANE - 1) + b"\x01"
_PAD = bytes(_LANE - 8)
_A = tuple(a for a, _ in PERMUTATIONS)
# b + 1 in every lane of a full chunk: adding 1 makes a*h + b + 1 >= 1, so that
# two Mersenne folds land in [1, P] and subtracting 1 gives exactly (a*h + b) mod P.
_B1 = tuple((b + 1) * int.from_bytes(_ONE_LANE * _CHUNK, "big") for _, b in PERMUTATIONS)
# best[i] before any non-zero lane: minhash() turns it into 2**32 - 1, which is
# also the value of a lane holding 0 ((a*h + b) mod P + 1 == 0 mod 2**32).
_NOTHING = 1 << 32


def _smallest(data: bytes, offset: int, best: int) -> int:
    """The smallest non-zero 4-byte big-endian value at ``offset`` of the
    16-byte lanes of ``data``, if smaller than ``best``; else ``best``.

    Reads one byte per lane (the most significant one, through ``bytes.find``,
    which runs in C), and the whole value only of the few lanes with the
    smallest such byte: ~4 of 1,000, instead of 1,000 Python ints.
    """
    tops = data[offset::_LANE]
    for top in range(256):
        if top << 24 >= best:
            break
        found = False
        lane = tops.find(top)
        while lane >= 0:
            start = lane * _LANE + offset
            value = int.from_bytes(data[start : start + 4], "big")
            if value and value < best:
                best = value
                found = True
            lane = tops.find(top, lane + 1)
        if found:
            break
    return best


def _minhash_chunk(digests: list[bytes], best: list[int]) -> None:
    """Lower ``best[i]`` to the smallest non-zero ``((a*h + b) mod P + 1) mod
    2**32`` of function ``i`` over the hashes ``h`` of ``digests``."""
    lanes = len(digests)
    ones = int.from_bytes(_ONE_LANE * lanes, "big")
    low61 = ones * _MERSENNE
    low32 = ones * _MASK32
    full = lanes == _CHUNK
    b_mask = (1 << (8 * _LANE * lanes)) - 1
    # h, big-endian, reduced to [0, P] (congruent mod P) so that a*h < 2**122.
    hashes = int.from_bytes(_PAD + _PAD.join(digests), "big")
    hashes = (hashes & low61) + (hashes >> 61)
    hashes = (hashes & low61) + ((hashes >> 61) & ones)
    size = _LANE * lanes
    # Four functions share one to_bytes(): the k-th one's values are shifted to
    # bytes 12 - 4k of each lane.
    for first in range(0, NUM_PERM, 4):
        packed = 0
        for k in range(4):
            i = first + k
            x = _A[i] * hashes + (_B1[i] if full else _B1[i] & b_mask)
            x = (x & low61) + (x >> 61)  # in [1, 2**62 - 3]
            # The second fold, (x & low61) + bit 61 of x, is in [1, P]: only its
            # low 32 bits are kept.
            x = (x + ((x >> 61) & ones)) & low32
            packed |= x << (32 * k) if k else x
        data = packed.to_bytes(size, "big")
        for k in range(4):
            best[first + k] = _smallest(data, 12 - 4 * k, best[first + k])


def minhash(body: str) -> tuple[int, ...]:
    """The MinHash signature of ``body``: :data:`NUM_PERM` ints in ``[0, 2**32)``.

    Value ``i`` is the smallest ``((a*h + b) mod (2**61 - 1)) mod 2**32`` over the
    :func:`shingles` of ``body``, where ``(a, b)`` is ``PERMUTATIONS[i]`` and
    ``h`` the shingle's UTF-8 hashed with 8-byte BLAKE2b, read big-endian
    (stable across processes and machines, unlike :func:`hash`). Two bodies
    have equal values at a share of positions that estimates the Jaccard
    similarity of their shingle sets (:func:`estimated_jaccard`). A body
    without a word has every value ``2**32 - 1``.
    """
    digests = _feature_digests(body)
    best = [_NOTHING] * NUM_PERM
    for start in range(0, len(digests), _CHUNK):
        _minhash_chunk(digests[start : start + _CHUNK], best)
    return tuple((value - 1) & _MASK32 for value in best)


def minhash_hex(signature: Sequence[int]) -> str:
    """``signature`` as 8 lowercase hex digits per value (the form stored in Redis)."""
    return _SIGNATURE.pack(*signature).hex()


def minhash_bands(signature: Sequence[int]) -> list[str]:
    """The :data:`BANDS` LSH band digests of ``signature``: for each run of
    :data:`ROWS` values, the 4-byte BLAKE2b (8 hex digits) of the values as
    big-endian 32-bit ints."""
    raw = _SIGNATURE.pack(*signature)
    size = 4 * ROWS
    return [
        hashlib.blake2b(raw[start : start + size], digest_size=4).hexdigest()
        for start in range(0, len(raw), size)
    ]


def estimated_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """The share of positions at which the signatures ``a`` and ``b`` are equal.

    Raises :class:`ValueError` when they differ in length."""
    if len(a) != len(b):
        raise ValueError(f"signatures of {len(a)} and {len(b)} values")
    return sum(map(eq, a, b)) / len(a)


# --- SimHash (a field of the stored article; decides nothing) ---------------------

# Each bit of a 64-bit hash becomes one 32-bit lane of a big integer, so that
# one addition counts, for all 64 bit positions at once, the weight of the
# shingles having that bit set (3x faster than a Python loop over the bits).
# _SPREAD[k][b] is the lanes of byte value b at byte k of the big-endian digest.
_BIT_LANE = 32
_SPREAD = tuple(
    tuple(
        sum(1 << (_BIT_LANE * ((7 - k) * 8 + i)) for i in range(8) if b >> i & 1)
        for b in range(256)
    )
    for k in range(8)
)


def simhash(body: str) -> int:
    """The 64-bit SimHash of ``body`` (an int in ``[0, 2**64)``).

    Features are word 3-shingles of the lowercased ``\\w+`` tokens (the tokens
    themselves when there are fewer than three), weighted by how often they
    occur, each hashed with 8-byte BLAKE2b (stable across processes and
    machines, unlike :func:`hash`). A bit of the result is set when the
    shingles having it set outweigh those that do not. An empty body hashes to 0.
    """
    tokens = _tokens(body)
    if len(tokens) >= _SHINGLE:
        features = Counter(
            " ".join(tokens[i : i + _SHINGLE]) for i in range(len(tokens) - _SHINGLE + 1)
        )
    else:
        features = Counter(tokens)
    if not features:
        return 0
    total = 0
    lanes = 0
    for feature, weight in features.items():
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        lanes += sum(map(getitem, _SPREAD, digest)) * weight
        total += weight
    result = 0
    lane_mask = (1 << _BIT_LANE) - 1
    for bit in range(64):
        ones = (lanes >> (bit * _BIT_LANE)) & lane_mask
        if 2 * ones > total:
            result |= 1 << bit
    return result


def simhash_hex(value: int) -> str:
    """``value`` as 16 lowercase hex digits (the form stored in articles)."""
    return f"{value:016x}"


def hamming(a: int, b: int) -> int:
    """The number of bits in which the 64-bit hashes ``a`` and ``b`` differ."""
    return (a ^ b).bit_count()


# --- The store ------------------------------------------------------------------

_FIRST_BAND_KEY = 6
# KEYS: 1 dedupe_url SET, 2 dedupe_content SET, 3 articles STREAM, 4 stats HASH,
#       5 minhash_signatures HASH, 6.. the BANDS minhash_band SETs of this article.
# ARGV: 1 canonical URL, 2 content hash, 3 MinHash signature (8 hex digits a
#       value), 4 how many values must be equal for a near-duplicate, 5 "1" to
#       check for duplicates / "0" to only store, 6 the article JSON, 7 the most
#       stored articles to compare the signature with.
_STORE_LUA = """
local FIRST_BAND = %d
local stats = KEYS[4]

if ARGV[5] == '1' then
  if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
    redis.call('HINCRBY', stats, 'duplicate_url', 1)
    return 'duplicate_url'
  end
  if redis.call('SISMEMBER', KEYS[2], ARGV[2]) == 1 then
    redis.call('HINCRBY', stats, 'duplicate_content', 1)
    return 'duplicate_content'
  end

  local signature = ARGV[3]
  local min_equal = tonumber(ARGV[4])
  local max_candidates = tonumber(ARGV[7])
  local values = #signature / 8

  -- The stored articles sharing a band, and how many bands each shares: the
  -- more, the more similar, so with too many candidates those are kept.
  local shared, candidates, capped = {}, {}, false
  for k = FIRST_BAND, #KEYS do
    local members
    if redis.call('SCARD', KEYS[k]) > max_candidates then
      -- A crowded band (boilerplate, a flood of near-empty pages): a sample.
      members = redis.call('SRANDMEMBER', KEYS[k], max_candidates)
      capped = true
    else
      members = redis.call('SMEMBERS', KEYS[k])
    end
    for _, id in ipairs(members) do
      local n = shared[id]
      if n then
        shared[id] = n + 1
      else
        shared[id] = 1
        candidates[#candidates + 1] = id
      end
    end
  end
  if #candidates > max_candidates then
    capped = true
  end
  table.sort(candidates, function(a, b)
    if shared[a] ~= shared[b] then
      return shared[a] > shared[b]
    end
    return a < b
  end)

  local mine = {}
  for i = 1, values do
    mine[i] = string.sub(signature, 8 * i - 7, 8 * i)
  end
  local max_unequal = values - min_equal
  local near, invalid = false, 0
  for c = 1, math.min(#candidates, max_candidates) do
    local other = redis.call('HGET', KEYS[5], candidates[c])
    if type(other) ~= 'string' or #other ~= #signature then
      invalid = invalid + 1
    else
      local equal, unequal = 0, 0
      for i = 1, values do
        if string.sub(other, 8 * i - 7, 8 * i) == mine[i] then
          equal = equal + 1
          if equal >= min_equal then
            near = true
            break
          end
        else
          unequal = unequal + 1
          if unequal > max_unequal then
            break
          end
        end
      end
      if near then
        break
      end
    end
  end
  if capped then
    redis.call('HINCRBY', stats, 'near_duplicate_candidates_capped', 1)
  end
  if invalid > 0 then
    redis.call('HINCRBY', stats, 'near_duplicate_candidates_invalid', invalid)
  end
  if near then
    redis.call('HINCRBY', stats, 'near_duplicate', 1)
    return 'near_duplicate'
  end
end

-- A failing command ends a script without undoing the writes before it, so
-- the article is written first: a failure then leaves it unindexed (a later
-- copy may be stored again), never indexed but missing (lost for good). The
-- signature is written before the bands naming it.
redis.call('XADD', KEYS[3], '*', 'article', ARGV[6])
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[2], ARGV[3])
for k = FIRST_BAND, #KEYS do
  redis.call('SADD', KEYS[k], ARGV[2])
end
redis.call('HINCRBY', stats, 'articles_stored', 1)
return 'stored'
""" % _FIRST_BAND_KEY


def _min_equal(threshold: float) -> int:
    """The fewest equal values whose share of :data:`NUM_PERM` is ``>= threshold``."""
    return next(k for k in range(NUM_PERM + 1) if k / NUM_PERM >= threshold)


class ArticleStore:
    """Stores normalized articles in a crawl's Redis stream, once each.

    ``threshold`` (in ``(0, 1]``) is the smallest estimated Jaccard similarity
    (:func:`estimated_jaccard`) of a near-duplicate; above 0.75 every stored
    article that close is found (see the module docstring), at or below it
    some may be missed. ``max_candidates`` bounds the work of one
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
        self._script = client.register_script(_STORE_LUA)

    def band_keys(self, signature: Sequence[int]) -> list[str]:
        """The :data:`BANDS` band sets (``Keys.minhash_band``) indexing ``signature``."""
        return [
            self.keys.minhash_band(band, digest)
            for band, digest in enumerate(minhash_bands(signature))
        ]

    def store(self, article: dict[str, Any]) -> str:
        """Store ``article`` unless it duplicates a stored one; return the outcome.

        ``article`` is a normalized article (see :func:`crawler.normalize.normalize_article`):
        it needs ``canonical_url``, ``content_hash``, ``simhash`` (16 hex
        digits) and ``body`` (a str, whose :func:`minhash` is computed here),
        and must be JSON-serializable. Returns one of :data:`OUTCOMES`, checked
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
            keys=[self.keys.dedupe_url, self.keys.dedupe_content, self.keys.articles,
                  self.keys.stats, self.keys.minhash_signatures, *self.band_keys(signature)],
            args=[canonical_url, digest, minhash_hex(signature), self._min_equal,
                  "1" if self.check_duplicates else "0", payload, self.max_candidates],
        )
        if isinstance(outcome, bytes):
            outcome = outcome.decode("ascii")
        return outcome


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def iter_articles(
    client: redis.Redis,
    keys: Keys,
    batch: int = 500,
    *,
    skipped: list[str] | None = None,
) -> Iterator[dict[str, Any]]:
    """Yield every article of ``keys.articles``, oldest first, as a dict.

    Reads the stream with XRANGE, ``batch`` entries at a time; works with or
    without ``decode_responses``. An entry without an ``article`` field, or
    whose field is not a JSON object, is logged, skipped, and its stream id
    appended to ``skipped`` when a list is given (so callers can count them).
    """
    if batch < 1:
        raise ValueError(f"batch must be at least 1, got {batch!r}")
    start = "-"
    while True:
        entries = client.xrange(keys.articles, min=start, max="+", count=batch)
        for raw_id, fields in entries:
            entry_id = _text(raw_id)
            raw = fields.get("article", fields.get(b"article"))
            try:
                if raw is None:
                    raise ValueError("no 'article' field")
                article = json.loads(raw)
                if not isinstance(article, dict):
                    raise ValueError(f"not a JSON object but {type(article).__name__}")
            except ValueError as exc:  # json.JSONDecodeError and UnicodeDecodeError too
                logger.warning("Skipping stream entry %s of %s: %s", entry_id, keys.articles, exc)
                if skipped is not None:
                    skipped.append(entry_id)
                continue
            yield article
        if len(entries) < batch:
            return
        start = "(" + _text(entries[-1][0])
