"""Fingerprints of article text: pure functions, no I/O.

Three fingerprints decide whether an article is new (:mod:`crawler.store.dedupe`
holds the store that compares them):

* its canonical URL (:func:`crawler.base.urls.canonical_url_for`);
* :func:`content_hash` of its body, blind to case, whitespace and punctuation;
* its :func:`minhash` signature, for near-duplicates (the same story with a
  word changed, a sentence cut, a paragraph added).

Near-duplicates are pairs whose sets of word 3-shingles (:func:`shingles`) have
a high Jaccard similarity, as estimated by MinHash: the share of the
:data:`NUM_PERM` signature values two articles have in common
(:func:`estimated_jaccard`). What the store keeps of a signature is small:

* :func:`minhash_bands`: for locality-sensitive hashing, the first
  ``BANDS * ROWS`` values cut into :data:`BANDS` bands of :data:`ROWS` values,
  each band hashed to 4 bytes (a 32-bit band key);
* :func:`bbit_signature`: the low :data:`BITS` bits of every value (a b-bit
  MinHash, 64 bytes), from which :func:`bbit_jaccard` estimates the Jaccard
  similarity, corrected for the ``2**-BITS`` chance that two unequal values
  agree in their low bits.

(The SimHash this replaced found only 11 of the 120 same-story pairs of the
test corpus; see ``tests/unit/article/test_fingerprints.py``. The band shape,
the b-bit width and the default threshold were chosen by measurement:
``benchmarks/dedupe_quality.py``.)

:func:`simhash` is still computed for every article (it is a field of the
stored schema) but no longer decides anything.
"""

from __future__ import annotations

import hashlib
import re
import struct
from functools import lru_cache
from collections import Counter
from operator import eq
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "BANDS",
    "BITS",
    "NUM_PERM",
    "PERMUTATIONS",
    "ROWS",
    "bbit_jaccard",
    "bbit_signature",
    "content_hash",
    "estimated_jaccard",
    "hamming",
    "minhash",
    "minhash_bands",
    "minhash_hex",
    "shingles",
    "simhash",
    "simhash_hex",
]

#: How many 32-bit values a MinHash signature has.
NUM_PERM = 128
#: How many LSH bands a signature is indexed under, of :data:`ROWS` values each
#: (the first ``BANDS * ROWS`` values of the signature). Two articles with an
#: estimated Jaccard similarity ``s`` share a band with probability about
#: ``1 - (1 - s**ROWS)**BANDS``: 0.97 at 0.6, 0.995 at 0.7.
BANDS = 8
ROWS = 2
#: Bits kept of each signature value by :func:`bbit_signature`.
BITS = 4

_TOKEN_RE = re.compile(r"\w+")
_SHINGLE = 3
_MERSENNE = (1 << 61) - 1
_MASK32 = 0xFFFFFFFF
_SIGNATURE = struct.Struct(f">{NUM_PERM}I")


@lru_cache(maxsize=4)
def _tokens(body: str) -> tuple[str, ...]:
    """The lowercased ``\\w+`` tokens of ``body``. Cached for the last few
    bodies: :func:`content_hash` and :func:`simhash` of one body, and the
    dedupe pipeline's :func:`shingles`, read the same tokens."""
    return tuple(_TOKEN_RE.findall(body.lower()))


def content_hash(body: str) -> str:
    """The SHA-1 hex digest of ``body`` lowercased, with every run of non-word
    characters folded to one space (so whitespace, punctuation and case do not
    matter). Equal for bodies that differ only in those."""
    return hashlib.sha1(" ".join(_tokens(body)).encode("utf-8")).hexdigest()


# --- MinHash --------------------------------------------------------------------


def _permutation(index: int) -> tuple[int, int]:
    # The seed names the module these functions were first defined in: it is
    # part of every stored signature, so it stays as it is.
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


def minhash_bands(signature: Sequence[int]) -> list[bytes]:
    """The :data:`BANDS` LSH band keys of ``signature``: for each of the first
    :data:`BANDS` runs of :data:`ROWS` values, the 4-byte BLAKE2b of the values
    as big-endian 32-bit ints."""
    size = 4 * ROWS
    raw = _SIGNATURE.pack(*signature)[: size * BANDS]
    return [hashlib.blake2b(raw[start : start + size], digest_size=4).digest()
            for start in range(0, len(raw), size)]


def bbit_signature(signature: Sequence[int]) -> bytes:
    """The low :data:`BITS` (4) bits of each value of ``signature``, two values a
    byte (the first in the high half): ``NUM_PERM / 2`` bytes."""
    values = [value & 0xF for value in signature]
    return bytes((high << 4) | low for high, low in zip(values[::2], values[1::2]))


def bbit_jaccard(a: bytes, b: bytes) -> float:
    """The Jaccard similarity that two :func:`bbit_signature` values estimate.

    Two 4-bit values are equal when the full values are (probability: the
    similarity ``s``), and by chance one time in 16 otherwise; so the share
    ``e`` of equal 4-bit values is ``s + (1 - s) / 16`` on average, and
    ``(e - 1/16) / (15/16)`` estimates ``s`` (0 when fewer values agree than
    chance would make). Raises :class:`ValueError` when they differ in length.
    """
    if len(a) != len(b):
        raise ValueError(f"b-bit signatures of {len(a)} and {len(b)} bytes")
    if not a:
        return 0.0
    equal = sum(((x ^ y) >> 4 == 0) + ((x ^ y) & 0xF == 0) for x, y in zip(a, b))
    share = equal / (2 * len(a))
    return max((share - 1 / 16) / (15 / 16), 0.0)


def estimated_jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """The share of positions at which the signatures ``a`` and ``b`` are equal.

    Raises :class:`ValueError` when they differ in length."""
    if len(a) != len(b):
        raise ValueError(f"signatures of {len(a)} and {len(b)} values")
    return sum(map(eq, a, b)) / len(a)


# --- SimHash (a field of the stored article; decides nothing) ---------------------

# _BIT[i] maps a byte to its bit i (0 or 1): with it, bytes.translate and
# bytes.count add up one bit position over every digest in C (several times
# faster than adding per-feature Python integers).
_BIT = tuple(bytes((value >> i) & 1 for value in range(256)) for i in range(8))
_DIGEST = 8


def simhash(body: str) -> int:
    """The 64-bit SimHash of ``body`` (an int in ``[0, 2**64)``).

    Features are word 3-shingles of the lowercased ``\\w+`` tokens (the tokens
    themselves when there are fewer than three), weighted by how often they
    occur, each hashed with 8-byte BLAKE2b (stable across processes and
    machines, unlike :func:`hash`) and read as a big-endian integer. A bit of
    the result is set when the shingles having it set outweigh those that do
    not. An empty body hashes to 0.
    """
    tokens = _tokens(body)
    if len(tokens) >= _SHINGLE:
        features = Counter(map(" ".join, zip(tokens, tokens[1:], tokens[2:])))
    else:
        features = Counter(tokens)
    if not features:
        return 0
    # Each digest as many times as its feature's weight, one after the other.
    digests = b"".join(hashlib.blake2b(feature.encode("utf-8"), digest_size=_DIGEST).digest() * weight
                       for feature, weight in features.items())
    total = len(digests) // _DIGEST
    result = 0
    for position in range(_DIGEST):
        column = digests[position::_DIGEST]  # byte ``position`` of every digest
        for bit in range(8):
            if 2 * column.translate(_BIT[bit]).count(1) > total:
                result |= 1 << ((_DIGEST - 1 - position) * 8 + bit)
    return result


def simhash_hex(value: int) -> str:
    """``value`` as 16 lowercase hex digits (the form stored in articles)."""
    return f"{value:016x}"


def hamming(a: int, b: int) -> int:
    """The number of bits in which the 64-bit hashes ``a`` and ``b`` differ."""
    return (a ^ b).bit_count()
