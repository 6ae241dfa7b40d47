"""crawler.article.fingerprints: content hash, MinHash, SimHash, and how well they find near-duplicates.

The near-duplicate measurement at the end runs on the corpus of
``tests/support/corpus.py``: twenty fictional news stories written for these
tests, and three edited variants of each (one word changed, one sentence
removed, two sentences appended). ``tests/redis/store/test_dedupe.py`` repeats
it through the Redis store.
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.store.dedupe import NEAR_THRESHOLD
from crawler.article.fingerprints import (
    BANDS,
    NUM_PERM,
    PERMUTATIONS,
    ROWS,
    bbit_jaccard,
    bbit_signature,
    content_hash,
    estimated_jaccard,
    hamming,
    minhash,
    minhash_bands,
    minhash_hex,
    shingles,
    simhash,
    simhash_hex,
)
from tests.support.corpus import (
    CORPUS,
    EDITS,
    MEASURED,
    SENTENCE_END,
    one_sentence_removed,
    one_word_changed,
    two_sentences_appended,
)


def reference_minhash(body: str) -> tuple[int, ...]:
    """minhash() as its docstring defines it, one value at a time."""
    hashes = [
        int.from_bytes(hashlib.blake2b(s.encode("utf-8"), digest_size=8).digest(), "big")
        for s in shingles(body)
    ]
    if not hashes:
        return (2**32 - 1,) * NUM_PERM
    p = 2**61 - 1
    return tuple(min(((a * h + b) % p) % 2**32 for h in hashes) for a, b in PERMUTATIONS)


# --- fingerprints -------------------------------------------------------------


def test_content_hash_ignores_case_whitespace_and_punctuation():
    a = content_hash("Hello, World!\n\nIt's  a test.")
    assert a == content_hash("hello world -- it s a test")
    assert a != content_hash("hello world it is a test")
    assert re.fullmatch(r"[0-9a-f]{40}", a)


def test_simhash_is_stable_and_64_bit():
    value = simhash(CORPUS[0])
    assert value == simhash(CORPUS[0])
    assert 0 <= value < 2**64
    assert simhash_hex(value) == f"{value:016x}"
    assert len(simhash_hex(1)) == 16
    assert simhash("") == 0
    # Same tokens, different case and punctuation: same hash.
    assert simhash("The cat sat. On the mat!") == simhash("the cat sat on the MAT")


def _simhash_by_definition(body: str) -> int:
    """SimHash as its docstring defines it, one bit and one feature at a time."""
    tokens = re.findall(r"\w+", body.lower())
    if len(tokens) >= 3:
        features = [" ".join(tokens[i:i + 3]) for i in range(len(tokens) - 2)]
    else:
        features = tokens
    hashes = [int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "big") for f in features]
    return sum(1 << bit for bit in range(64) if 2 * sum(h >> bit & 1 for h in hashes) > len(hashes))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["the", "cat", "Sat", "on", "mat", "é", "Ünïcode", "1", "a.b", "\n"]), max_size=40))
def test_simhash_is_its_definition(words):
    body = " ".join(words)
    assert simhash(body) == _simhash_by_definition(body)


def test_simhash_is_its_definition_on_the_corpus():
    for body in CORPUS[:5]:
        assert simhash(body) == _simhash_by_definition(body)


def test_hamming():
    assert hamming(0, 0) == 0
    assert hamming(0, 2**64 - 1) == 64
    assert hamming(0b1011, 0b0001) == 2


def test_simhash_of_different_articles_differ_by_more_than_3_bits():
    hashes = [simhash(body) for body in CORPUS]
    distances = [hamming(a, b) for a, b in itertools.combinations(hashes, 2)]
    assert len(distances) == 190
    assert min(distances) > 3


def test_simhash_is_fast():
    body = " ".join(CORPUS * 4)  # ~3,800 words
    words = len(re.findall(r"\w+", body))
    start = time.perf_counter()
    for _ in range(5):
        simhash(body)
    per_thousand_words = (time.perf_counter() - start) / 5 / words * 1000
    assert per_thousand_words < 0.025  # measured ~4 ms; generous for slow CI


def test_shingles():
    assert shingles("The cat sat. On the MAT!") == {
        "the cat sat", "cat sat on", "sat on the", "on the mat",
    }
    assert shingles("a b a b a") == {"a b a", "b a b"}
    assert shingles("Hello, world") == {"hello", "world"}
    assert shingles(" -- ") == set()


def test_permutations_are_fixed():
    """Stored signatures are only comparable with ones made by the same
    functions: these values must never change silently."""
    p = 2**61 - 1
    assert len(PERMUTATIONS) == NUM_PERM == 128
    assert BANDS * ROWS <= NUM_PERM
    assert PERMUTATIONS[0] == (279394745696650160, 867129380986451774)
    assert all(1 <= a < p and 0 <= b < p for a, b in PERMUTATIONS)
    assert len({a for a, _ in PERMUTATIONS}) == NUM_PERM
    assert hashlib.sha1(minhash_hex(minhash(CORPUS[0])).encode()).hexdigest() == (
        "563635886131e0ce6bc35fc1c8cfc87dae0b976b"
    )


@pytest.mark.parametrize(
    "body",
    [
        "",
        "one",
        "one two",
        "one two three",
        "the the the the the the",
        "Ünïcödé — text “quoted” 東京 and more text",
        CORPUS[0],
        one_sentence_removed(CORPUS[1]),
        # 1,400 distinct shingles: several chunks of lanes, the last one partial.
        " ".join(f"w{i % 700} x{i % 2}" for i in range(1400)),
    ],
)
def test_minhash_is_what_its_docstring_says(body):
    signature = minhash(body)
    assert signature == reference_minhash(body)
    assert len(signature) == NUM_PERM
    assert all(0 <= value < 2**32 for value in signature)


def test_minhash_of_a_body_without_words():
    assert minhash("") == minhash("!?") == (2**32 - 1,) * NUM_PERM


def test_minhash_ignores_case_punctuation_and_order_of_repeats():
    assert minhash("The cat sat. On the mat!") == minhash("the cat sat on the MAT")
    assert minhash("a b c a b c") == minhash("a b c a b c a b c")


def test_minhash_hex_and_bands():
    signature = minhash(CORPUS[2])
    text = minhash_hex(signature)
    assert re.fullmatch(r"[0-9a-f]{1024}", text)
    assert [int(text[i : i + 8], 16) for i in range(0, 1024, 8)] == list(signature)
    bands = minhash_bands(signature)
    # 32-bit band keys of the first BANDS runs of ROWS values.
    assert bands == [
        hashlib.blake2b(bytes.fromhex(text[8 * ROWS * i : 8 * ROWS * (i + 1)]), digest_size=4).digest()
        for i in range(BANDS)
    ]
    assert len(bands) == BANDS == 8 and all(len(band) == 4 for band in bands)


def test_bbit_signature_keeps_the_low_4_bits_of_each_value():
    signature = minhash(CORPUS[2])
    packed = bbit_signature(signature)
    assert len(packed) == NUM_PERM // 2 == 64
    assert [v for byte in packed for v in (byte >> 4, byte & 0xF)] == [v & 0xF for v in signature]
    assert bbit_signature(range(1, 5)) == bytes([0x12, 0x34])


def test_bbit_jaccard():
    a = bbit_signature(minhash(CORPUS[0]))
    assert bbit_jaccard(a, a) == 1.0
    # Every 4-bit value differs: below chance, so 0.
    assert bbit_jaccard(bytes([0x00] * 4), bytes([0x11] * 4)) == 0.0
    # Half of them equal: (1/2 - 1/16) / (15/16) = 7/15.
    assert bbit_jaccard(bytes([0x00] * 4), bytes([0x01] * 4)) == pytest.approx(7 / 15)
    # Unrelated stories: about 1/16 of the 4-bit values agree by chance.
    assert bbit_jaccard(a, bbit_signature(minhash(CORPUS[1]))) < 0.1
    with pytest.raises(ValueError, match="b-bit signatures of 2 and 3 bytes"):
        bbit_jaccard(b"ab", b"abc")


def test_estimated_jaccard():
    a = minhash(CORPUS[0])
    assert estimated_jaccard(a, a) == 1.0
    assert estimated_jaccard(a, minhash(CORPUS[1])) == 0.0
    assert estimated_jaccard((1, 2, 3, 4), (1, 2, 0, 4)) == 0.75
    with pytest.raises(ValueError, match="signatures of 2 and 3 values"):
        estimated_jaccard((1, 2), (1, 2, 3))


def test_minhash_is_fast():
    body = " ".join(re.findall(r"\w+", " ".join(CORPUS * 7))[:1000])
    minhash(body)
    start = time.perf_counter()
    for _ in range(10):
        minhash(body)
    per_thousand_words = (time.perf_counter() - start) / 10
    assert per_thousand_words < 0.030  # measured ~6 ms (45 ms for a plain loop); generous for CI


# --- near-duplicate precision and recall --------------------------------------


def near_duplicate_figures(threshold: float = NEAR_THRESHOLD) -> dict:
    """Precision and recall of the store's decision on CORPUS: "shares an LSH
    band and has a b-bit estimated Jaccard similarity >= threshold".

    Texts: the 20 originals and their 3 edited variants (80). Positive pairs:
    two texts of the same story (6 per story, 120); every other pair (3,040)
    is negative. Also, per kind of edit, how many of the 20 variants are
    near-duplicates of their original, and the estimates (from the full
    128-value signatures) of both kinds of pairs.
    """
    texts = []
    for story, body in enumerate(CORPUS):
        texts.append((story, "original", body))
        for edit, func in EDITS.items():
            texts.append((story, edit, func(body)))
    fingerprints = [(story, kind, minhash(body)) for story, kind, body in texts]
    tp = fp = fn = tn = 0
    per_edit = dict.fromkeys(EDITS, 0)
    same_story, other_story = [], []
    for (s1, k1, m1), (s2, k2, m2) in itertools.combinations(fingerprints, 2):
        estimate = estimated_jaccard(m1, m2)
        shares_band = any(map(operator.eq, minhash_bands(m1), minhash_bands(m2)))
        predicted = shares_band and bbit_jaccard(bbit_signature(m1), bbit_signature(m2)) >= threshold
        if s1 == s2:
            tp, fn = tp + predicted, fn + (not predicted)
            same_story.append(estimate)
            if k1 == "original":
                per_edit[k2] += predicted
        else:
            fp, tn = fp + predicted, tn + (not predicted)
            other_story.append(estimate)
    return {
        "tp": tp, "fp": fp, "fn": fn, "tn": tn,
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / (tp + fn),
        "per_edit": per_edit,
        "same_story": sorted(same_story),
        "other_story": sorted(other_story),
    }


def test_corpus_edits_are_what_they_claim():
    for body in CORPUS:
        words = re.findall(r"\w+", body)
        assert 110 <= len(words) <= 190  # news briefs: the hard case for SimHash
        changed_words = re.findall(r"\w+", one_word_changed(body))
        assert len(changed_words) == len(words)
        assert sum(a != b for a, b in zip(words, changed_words)) == 1
        removed = one_sentence_removed(body)
        assert 5 <= len(words) - len(re.findall(r"\w+", removed)) <= 45
        sentences = sum(len(SENTENCE_END.split(p)) for p in body.split("\n\n"))
        assert sum(len(SENTENCE_END.split(p)) for p in removed.split("\n\n")) == sentences - 1
        assert two_sentences_appended(body).startswith(body)


@pytest.mark.parametrize("threshold", sorted(MEASURED))
def test_near_duplicate_precision_and_recall(threshold):
    figures = near_duplicate_figures(threshold)
    # Exact, deterministic figures (BLAKE2b and PERMUTATIONS are fixed): a
    # change to the features, the hash functions or the banding shows up here.
    counts, per_edit = MEASURED[threshold]
    assert (figures["tp"], figures["fp"], figures["fn"], figures["tn"]) == counts
    assert figures["per_edit"] == per_edit
    assert figures["precision"] == 1.0
    assert figures["recall"] == counts[0] / 120


def test_near_duplicate_estimates():
    figures = near_duplicate_figures()
    same, other = figures["same_story"], figures["other_story"]
    assert (len(same), len(other)) == (120, 3040)
    # Same story: from 76/128 (sentence removed vs. sentences appended) to 125/128.
    assert (same[0], same[60], same[-1]) == (76 / 128, 106 / 128, 125 / 128)
    # Different stories: mostly nothing in common, never more than 15/128.
    assert (other.count(0.0), other[-1]) == (2721, 15 / 128)
