"""crawler.article.text: the text rules every stage shares (spaces, words, boilerplate, bylines, repeats)."""

from __future__ import annotations

import re

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from crawler.article.text import (
    BOILERPLATE_PATTERNS,
    clean_text,
    count_words,
    drop_repeats,
    fold_spaces,
    has_words,
    is_author_bio,
    is_boilerplate,
    is_byline,
    is_prose_repeat,
    normalize_text,
    split_authors,
    text_key,
    tokens_of,
)

# --- Spaces -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("&lt;b&gt; &quot;quoted&quot; &#8212; &eacute;t&eacute;", '<b> "quoted" — été'),
        ("  spaced \t out\n\nlines  ", "spaced out lines"),
        ("no\u00a0break\u2009thin\u200bzero", "no break thin zero"),
        ("&nbsp;&nbsp;lead", "lead"),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_text(raw, expected):
    assert normalize_text(raw) == expected


def test_normalize_text_composes_to_nfc():
    decomposed = "Cafe\u0301 Zu\u0308rich"
    result = normalize_text(decomposed)
    assert result == "Caf\u00e9 Z\u00fcrich"
    assert unicodedata.is_normalized("NFC", result)
    assert len(result) == len(decomposed) - 2


def test_fold_spaces_folds_what_the_whitespace_class_matches():
    # The definition: runs of \\s, zero-width space and BOM to one space, trimmed.
    # Checked for every character between two letters, and runs of them.
    space = re.compile(r"[\s\u200b\ufeff]+")
    folded = [c for c in map(chr, range(0x110000)) if not 0xD800 <= ord(c) < 0xE000 and space.fullmatch(c)]
    assert "\u00a0" in folded and "\u3000" in folded and "\u200b" in folded
    for code in range(0x110000):
        if 0xD800 <= code < 0xE000:
            continue
        text = f"a{chr(code)}b{chr(code)}{chr(code)}"
        assert fold_spaces(text) == space.sub(" ", text).strip(), hex(code)
    assert fold_spaces("".join(folded)) == ""


def test_fold_spaces_changes_nothing_but_spaces():
    assert fold_spaces(" a\u3000b\u200b\tc &amp; Cafe\u0301 ") == "a b c &amp; Cafe\u0301"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("  Rock &#8217;n&#8217; Roll\n", "Rock \u2019n\u2019 Roll"), (" \u200b ", None), ("", None), (None, None),
     (42, None), (["a"], None)],
)
def test_clean_text(value, expected):
    assert clean_text(value) == expected


def test_text_key_folds_spaces_and_case():
    assert text_key("  The\u00a0 COUNCIL\nmet. ") == "the council met."
    assert text_key("Straße") == text_key("STRASSE") == "strasse"
    assert text_key(None) == ""


# --- Words --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "U.N." is two runs of letters: abbreviations are not special-cased; "don't" is one word.
        ("Don't stop — it's 3 o'clock, U.N. says.", 8),
        ("The council\u2019s 412-page budget passed.", 6),
        ("It's 3 o'clock, U.N. says.", 6),  # all ASCII
        ("北京是中国的首都。", 8),  # Chinese: one word per ideograph, punctuation none
        ("東京は日本の首都です。", 10),  # Japanese: kanji and kana one each
        ("コーヒー・ブレイク", 8),  # katakana, the long-vowel mark too; the middle dot is punctuation
        ("서울은 한국의 수도이다.", 3),  # Korean is written with spaces: a run of Hangul is one word
        ("iPhone 15在中国发售，售价5999元。", 11),  # mixed: iPhone, 15, 5999 and eight ideographs
        ("Tokyo（東京）is big", 5),
        ("", 0),
        ("— … 。！", 0),
    ],
)
def test_count_words(text, expected):
    assert count_words(text) == expected


@given(st.text())
@example("— … 。！")
@example("。東")
def test_has_words_is_a_count_above_zero(text):
    assert has_words(text) == (count_words(text) > 0)


@given(st.text(st.characters(max_codepoint=127)))
@example("Don't stop, it's 3 o'clock: U.N. says_so.")
def test_count_words_reads_ascii_text_as_any_other(text):
    # An ASCII text takes a shorter expression; one word of another script
    # after it sends the whole text down the general one.
    assert count_words(f"{text} \u00e9t\u00e9") == count_words(text) + 1


def test_tokens_of_splits_at_apostrophes_and_cjk_characters():
    assert tokens_of("don't stop 中国") == ["don", "t", "stop", "中", "国"]
    assert tokens_of("서울은 한국의") == ["서울은", "한국의"]


# --- Boilerplate --------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "\u00d7", "X", "You will be redirected back to your article in seconds", "Access exclusive content",
        "Subscribe now", "Sign up for our newsletter", "SIGN UP FOR OUR DAILY NEWSLETTER!",
        "Subscribe now for unlimited access to every story and our archive.", "Log in", "Already a subscriber?",
        "Click here to read the full story", "Follow us on Facebook", "Share this article",
        "Share this article on Facebook, Twitter or Email", "Advertisement", "ADVERTISEMENTS:",
        "Story continues below advertisement", "Read more:", "Related", "Get the Daily Loopback app now",
        "We use cookies to give you the best experience. By continuing you agree.", "Accept all cookies",
        "Manage cookie preferences", "This article is only available to subscribers.",
        "  \u2022 Advertisement ", "- Read more",
    ],
)
def test_boilerplate(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize(
    "line",
    [
        "Readers who subscribe now get a discount, the publisher said.",
        "The advertisement was pulled after complaints.",
        "Share this article with care, the campaign urges.",
        "Related reading is at the end.",
        "Xi arrived on Monday.",
        "",
        "click here " + " ".join(["word"] * 29),  # 31 words: too long to be a prompt
    ],
)
def test_not_boilerplate(line):
    assert not is_boilerplate(line)


def test_boilerplate_up_to_thirty_words():
    assert is_boilerplate("click here " + " ".join(["word"] * 28))


def test_boilerplate_patterns_is_a_tuple_of_compiled_regexes():
    assert isinstance(BOILERPLATE_PATTERNS, tuple)
    assert all(hasattr(p, "fullmatch") for p in BOILERPLATE_PATTERNS)


# --- Bylines ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("By Jane Doe and John Roe | March 2", ["Jane Doe", "John Roe"]),
        ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("by: Jane Doe, John Roe & Ann Poe", ["Jane Doe", "John Roe", "Ann Poe"]),
        ("Jane Doe | John Roe", ["Jane Doe", "John Roe"]),
        ("Jane Doe, Staff Writer", ["Jane Doe"]),
        ("By Jane Doe, Staff Writer", ["Jane Doe"]),
        ("By Jane Doe, Senior Political Correspondent", ["Jane Doe"]),
        ("By Jane Doe, Reuters", ["Jane Doe", "Reuters"]),
        ("By Jane Doe \u2022 5 min read", ["Jane Doe"]),
        ("By Jane Doe - Associated Press", ["Jane Doe"]),
        ("Written by Jane Doe, Monday, March 2, 2024", ["Jane Doe"]),
        ("By Jane Doe 2 March 2024", ["Jane Doe"]),
        ("By Jane Doe Updated 9:30 PM EDT, Tue November 14, 2017", ["Jane Doe"]),
        ("By Theresa May", ["Theresa May"]),
        ("Martin Luther King, Jr.", ["Martin Luther King Jr."]),
        (["Martin Luther King", "Jr."], ["Martin Luther King Jr."]),
        ("BY JANE DOE AND ALEXANDRA ANDERSON", ["JANE DOE", "ALEXANDRA ANDERSON"]),
        ("李明、王芳", ["李明", "王芳"]),
        (["By Jane Doe", "Jane Doe", "John Roe"], ["Jane Doe", "John Roe"]),
        (["https://example.com/authors/jane", "www.example.com/jd", "Jane Doe"], ["Jane Doe"]),
        (["A" * 61, "B" * 60], ["B" * 60]),
        (["", "  ", "By", ",", "Staff", "By Staff Reporter"], []),
        ("Jane&nbsp;Doe", ["Jane Doe"]),
        ([None, 3, "Jane Doe"], ["Jane Doe"]),
        (None, []),
    ],
)
def test_split_authors(raw, expected):
    assert split_authors(raw) == expected


@pytest.mark.parametrize(
    ("line", "names"),
    [
        ("By Jane Doe and John Roe", ["Jane Doe", "John Roe"]),
        ("By Jane Doe and John Roe | March 2", ["Jane Doe", "John Roe"]),
        ("BY JANE DOE", ["JANE DOE"]),
        ("By: Jane Doe, Reuters", ["Jane Doe", "Reuters"]),
        ("By Staff Reporter", []),
        ("By Ludwig van Beethoven", ["Ludwig van Beethoven"]),
        ("By Jane Doe | Updated March 2, 2024 9:30 AM EST", ["Jane Doe"]),
        ("Written by Jane Doe \u2022 5 min read", ["Jane Doe"]),
    ],
)
def test_a_byline_line_and_its_names(line, names):
    assert is_byline(line)
    assert split_authors(line) == names


@pytest.mark.parametrize(
    "line",
    [
        "By Tuesday, the council had voted.",
        "By contrast, the mayor said nothing.",
        "By 2030 the city will need more water.",
        "By March 2, the council had voted.",
        "By Christmas, 2024 will be a memory.",
        "By Jane Doe - a reporter who knows the city",
        "Jane Doe and John Roe",  # no "By": a list of names may be article text
        "By Jane Doe, " + ", ".join(["John Roe"] * 20),  # longer than a byline
        "By",
    ],
)
def test_not_a_byline_line(line):
    assert not is_byline(line)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Jane Doe is a reporter for The Daily Loopback covering city hall.", True),
        ("Jane Q. Doe was the senior political correspondent of the paper until 2020.", True),
        ("The mayor is a former reporter.", False),
        ("Jane Doe is a reporter " + " ".join(["word"] * 146), False),  # 151 words: an article, not a bio
    ],
)
def test_author_bio(line, expected):
    assert is_author_bio(line) is expected


# --- Repeats ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A pull quote shown twice in the page", True),  # six words or more
        ("She said no.", True),  # a sentence
        ("\u201cNever again.\u201d", True),
        ("茶园的主人陈大伯", True),  # eight words
        ("陈大伯说。", True),  # a sentence
        ("Raye", False),
        ("Dua Lipa, Houdini", False),
        ("Artist of the Year", False),
    ],
)
def test_is_prose_repeat(text, expected):
    assert is_prose_repeat(text) is expected


def test_drop_repeats_keeps_list_entries_and_drops_prose_shown_twice():
    paragraphs = ["Album of the Year", "Raye", "Artist of the Year", "Raye",
                  "Both lists are long, the organisers said.", "Both  lists are LONG, the organisers said.",
                  "陈大伯说。", "陈大伯说。", ""]
    assert drop_repeats(paragraphs) == [
        "Album of the Year", "Raye", "Artist of the Year", "Raye", "Both lists are long, the organisers said.",
        "陈大伯说。", ""]
