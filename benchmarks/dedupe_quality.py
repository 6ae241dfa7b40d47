"""Near-duplicate quality of the store's decision, and of the alternatives it was chosen from.

On the test corpus (``tests/support/corpus.py``: 20 short news stories and three edits of
each, 120 same-story pairs and 3,040 different-story pairs) prints precision, recall and
the variants found per edit for:

* the store's method: 8 LSH bands of 2 MinHash values (32-bit band keys), a 4-bit MinHash
  estimate of the Jaccard similarity of word 3-shingles, at several thresholds;
* the method it replaced: 32 bands of 4 values, the full 128 x 32-bit signature, at 0.8;
* b-bit widths of 1, 2, 8 and 32 bits at the default threshold;
* datasketch's MinHash + MinHashLSH (128 permutations, its own band shape for the
  threshold), when datasketch is installed (``pip install datasketch``).

Then, on 1,500 synthetic pairs of 150-700 words with a known Jaccard similarity, how
often the store's decision calls a pair a near-duplicate, by similarity (the S-curve).

    .venv/bin/python benchmarks/dedupe_quality.py
"""

from __future__ import annotations

import hashlib
import itertools
import random
import struct
from collections import defaultdict

from crawler.article.fingerprints import (
    BANDS,
    NUM_PERM,
    ROWS,
    bbit_jaccard,
    bbit_signature,
    minhash,
    minhash_bands,
    shingles,
)
from crawler.store.dedupe import NEAR_THRESHOLD
from tests.support.corpus import CORPUS, EDITS


def _texts() -> list[tuple[int, str, str]]:
    texts = []
    for story, body in enumerate(CORPUS):
        texts.append((story, "original", body))
        texts += [(story, edit, func(body)) for edit, func in EDITS.items()]
    return texts


def _bands(signature, bands: int, rows: int) -> list[bytes]:
    return [hashlib.blake2b(struct.pack(f">{rows}I", *signature[i * rows:(i + 1) * rows]),
                            digest_size=4).digest() for i in range(bands)]


def _estimate(a, b, bits: int) -> float:
    mask, chance = (1 << bits) - 1, 2.0 ** -bits
    share = sum((x & mask) == (y & mask) for x, y in zip(a, b)) / len(a)
    return max((share - chance) / (1 - chance), 0.0) if bits < 32 else share


def _figures(decide) -> tuple[int, int, dict[str, int]]:
    """(true positives, false positives, variants found per edit) of ``decide(a, b)``."""
    signatures = [(story, kind, minhash(body)) for story, kind, body in _texts()]
    tp = fp = 0
    per_edit = dict.fromkeys(EDITS, 0)
    for (s1, k1, m1), (s2, k2, m2) in itertools.combinations(signatures, 2):
        near = decide(m1, m2)
        if s1 == s2:
            tp += near
            if k1 == "original":
                per_edit[k2] += near
        else:
            fp += near
    return tp, fp, per_edit


def _row(label: str, tp: int, fp: int, per_edit: dict[str, int], memory: str) -> None:
    precision = tp / (tp + fp) if tp + fp else 1.0
    edits = " ".join(f"{per_edit[edit]:>2}/20" for edit in EDITS)
    print(f"{label:<44} {precision:>9.2f} {tp / 120:>6.2f}   {edits}   {memory}")


def _lsh(bands: int, rows: int, bits: int, threshold: float):
    def decide(a, b):
        shared = any(x == y for x, y in zip(_bands(a, bands, rows), _bands(b, bands, rows)))
        return shared and _estimate(a, b, bits) >= threshold
    return decide


def corpus_table() -> None:
    print(f"{'method':<44} {'precision':>9} {'recall':>6}   word  sent. app.   stored per article")
    for threshold in (0.6, NEAR_THRESHOLD, 0.7, 0.8, 0.9):
        def store(a, b, t=threshold):
            shared = any(x == y for x, y in zip(minhash_bands(a), minhash_bands(b)))
            return shared and bbit_jaccard(bbit_signature(a), bbit_signature(b)) >= t
        mark = " (default)" if threshold == NEAR_THRESHOLD else ""
        _row(f"{BANDS}x{ROWS} bands, 4-bit, >= {threshold}{mark}", *_figures(store),
             f"{BANDS} band entries + {NUM_PERM // 2} B")
    _row("32x4 bands, 32-bit, >= 0.8 (before)", *_figures(_lsh(32, 4, 32, 0.8)), "32 band sets + 1 KB")
    for bits in (1, 2, 8, 32):
        _row(f"8x2 bands, {bits}-bit, >= {NEAR_THRESHOLD}", *_figures(_lsh(8, 2, bits, NEAR_THRESHOLD)),
             f"8 band entries + {NUM_PERM * bits // 8} B")
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        print("datasketch: not installed (pip install datasketch) - skipped")
        return
    texts = _texts()
    hashes = []
    for _, _, body in texts:
        m = MinHash(num_perm=NUM_PERM, seed=1)
        for shingle in shingles(body):
            m.update(shingle.encode("utf-8"))
        hashes.append(m)
    for threshold in (NEAR_THRESHOLD, 0.8):
        lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        candidates = set()
        for i, m in enumerate(hashes):
            for j in lsh.query(m):
                candidates.add((j, i))
            lsh.insert(i, m)
        tp = fp = 0
        per_edit = dict.fromkeys(EDITS, 0)
        for (i, (s1, k1, _)), (j, (s2, k2, _)) in itertools.combinations(enumerate(texts), 2):
            near = (i, j) in candidates and hashes[i].jaccard(hashes[j]) >= threshold
            if s1 == s2:
                tp += near
                per_edit[k2] += near and k1 == "original"
            else:
                fp += near
        _row(f"datasketch {lsh.b}x{lsh.r} bands, 32-bit, >= {threshold}", tp, fp, per_edit,
             f"{lsh.b} band entries + 1 KB")


def s_curve(pairs: int = 1500) -> None:
    rng = random.Random(7)
    vocabulary = [f"w{i}" for i in range(5000)]
    found: dict[float, list[int]] = defaultdict(lambda: [0, 0])
    for _ in range(pairs):
        words = rng.choices(vocabulary, k=rng.choice([150, 300, 700]))
        other = list(words)
        for i in rng.sample(range(len(words)), int(rng.uniform(0, 0.25) * len(words))):
            other[i] = rng.choice(vocabulary)
        a, b = " ".join(words), " ".join(other)
        sa, sb = shingles(a), shingles(b)
        jaccard = round(len(sa & sb) / len(sa | sb) * 20) / 20
        ma, mb = minhash(a), minhash(b)
        near = (any(x == y for x, y in zip(minhash_bands(ma), minhash_bands(mb)))
                and bbit_jaccard(bbit_signature(ma), bbit_signature(mb)) >= NEAR_THRESHOLD)
        found[jaccard][0] += near
        found[jaccard][1] += 1
    print(f"\nshare of synthetic pairs called near-duplicates at the default ({NEAR_THRESHOLD}), "
          f"by true Jaccard similarity:")
    print("  ".join(f"{j:.2f}: {n / total:.2f}" for j, (n, total) in sorted(found.items()) if 0.4 <= j <= 0.9))


if __name__ == "__main__":
    corpus_table()
    s_curve()
