"""The text rules of an article, each written once: spaces, words, boilerplate, bylines, repeats.

Pure functions on strings, used by extraction (:mod:`crawler.article.extract`,
:mod:`crawler.article.bodies`, :mod:`crawler.article.metadata`), normalization
(:mod:`crawler.article.normalize`) and the item pipelines, so that a line one
stage takes for page furniture, a word one stage counts, a name one stage reads
from a byline, is the same at every other stage.

- Spaces: :func:`fold_spaces`, :func:`normalize_text`, :func:`clean_text`,
  :func:`text_key`.
- Words: :func:`count_words` (CJK-aware, see there), :func:`has_words`, and :func:`tokens_of`,
  the units texts are compared by.
- Boilerplate: :data:`BOILERPLATE_PATTERNS`, :func:`is_boilerplate`.
- Bylines: :func:`split_authors` reads the names of bylines, :func:`is_byline`
  recognises a line that is nothing but one, :func:`is_author_bio` the author's
  bio closing an article.
- Repeats: :func:`is_prose_repeat`, :func:`drop_repeats`.
"""

from __future__ import annotations

import html
import re
import unicodedata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "BOILERPLATE_MAX_WORDS",
    "BOILERPLATE_PATTERNS",
    "clean_text",
    "count_words",
    "drop_repeats",
    "fold_spaces",
    "has_words",
    "is_author_bio",
    "is_boilerplate",
    "is_byline",
    "is_prose_repeat",
    "normalize_text",
    "split_authors",
    "text_key",
    "tokens_of",
]

# --- Spaces ---------------------------------------------------------------------


def fold_spaces(text: str) -> str:
    """``text`` with every run of whitespace (``\\s``: NBSP, thin and
    ideographic spaces, tabs, newlines; and zero-width space and BOM, which
    ``\\s`` does not match) folded to one space, and trimmed. Nothing else changes.

    Written with :meth:`str.split`, which splits on the same whitespace as
    ``\\s`` (a test checks every character) several times faster than a
    regular expression: this runs on every line of every page."""
    if "\u200b" in text or "\ufeff" in text:
        text = text.replace("\u200b", " ").replace("\ufeff", " ")
    return " ".join(text.split())


def normalize_text(value: str | None) -> str:
    """``value`` with HTML entities decoded, in Unicode NFC, every run of
    whitespace (newlines, tabs, no-break and zero-width spaces included) folded
    to one space, and trimmed. ``None`` gives ``""``."""
    if not value:
        return ""
    return fold_spaces(unicodedata.normalize("NFC", html.unescape(value)))


def clean_text(value: Any) -> str | None:
    """:func:`normalize_text` of a string ``value`` (JSON-LD and meta tags often
    hold "&#8217;"); ``None`` when it is empty or ``value`` is not a string."""
    if not isinstance(value, str):
        return None
    return normalize_text(value) or None


def text_key(text: str | None) -> str:
    """What two texts are compared by: spaces folded (:func:`fold_spaces`) and
    case folded, so "The  Council" and "the council" are the same text."""
    return fold_spaces(text or "").casefold()


# --- Words ----------------------------------------------------------------------

# Scripts written without spaces between words: Han ideographs (with the
# iteration marks 々〆〇) and kana, halfwidth kana included.
_CJK = (
    "\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
    "\uff66-\uff9f\U0001b000-\U0001b16f\U00020000-\U0003134f"
)
# A run of word characters other than CJK in which an apostrophe between
# letters does not split ("don't", "o'clock"), else a CJK word character alone
# (the lookahead leaves out the kana block's punctuation, "・" and "゠"); the
# two never match at one place, and most words are not CJK, so they come first.
_WORD_RE = re.compile(rf"[^\W{_CJK}]+(?:['\u2019][^\W{_CJK}]+)*|(?=\w)[{_CJK}]")
# The same on ASCII text, where \w is [A-Za-z0-9_] and there is no CJK: a third faster.
_ASCII_WORD_RE = re.compile(r"\w+(?:'\w+)*", re.ASCII)
_TOKEN_RE = re.compile(rf"(?=\w)[{_CJK}]|[^\W{_CJK}]+")


def tokens_of(text: str) -> list[str]:
    """The tokens texts are compared by (shingles, trigrams): the words of
    :func:`count_words`, but for an apostrophe, which splits ("don't" is "don"
    and "t"), as in the benchmark's metric. A CJK character is a token of its own."""
    return _TOKEN_RE.findall(text)


def count_words(text: str) -> int:
    """The number of words of ``text``.

    In scripts written without spaces between words each character is a word:
    a Han ideograph (Chinese, Japanese kanji) or a kana counts one, as word
    processors count Chinese and Japanese. Everywhere else a word is a run of
    letters and digits (``\\w``), and an apostrophe between two of them does not
    split it: "Don't stop, U.N." is 4 words ("U" and "N" are two). Korean is
    written with spaces, so a run of Hangul is one word, like a Latin one.
    Punctuation and symbols are no words.
    """
    return len(_words_re(text).findall(text))


def has_words(text: str) -> bool:
    """Whether ``text`` has a word (:func:`count_words` is not 0), read only up to the first one."""
    return _words_re(text).search(text) is not None


def _words_re(text: str) -> re.Pattern[str]:
    return _ASCII_WORD_RE if text.isascii() else _WORD_RE


# --- Boilerplate ----------------------------------------------------------------

#: A line of more words than this is never boilerplate, whatever it starts with.
BOILERPLATE_MAX_WORDS = 30

#: A line matching one of these entirely (case-insensitively, spaces folded)
#: is page furniture, not article text: prompts, overlays, calls to action.
BOILERPLATE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        r"[\u00d7\u2715\u2716x]",  # the close button of an overlay
        r"you will be redirected\b.*",
        r"access exclusive content\b.*",
        r"(?:subscribe|sign up|register|log ?in|sign in)\b.{0,80}",
        r"already (?:a subscriber|have an account)\b.*",
        r"this article (?:is|was) (?:only )?available to .*",
        r"click here\b.*",
        r"want to bookmark\b.*",
        r"join our commenting forum\b.*",
        r"join thought-provoking conversations\b.*",
        r"our standards:.*",
        r"follow us\b.*",
        r"share this (?:article|story|page)"
        r"(?:(?: on| via| with)? (?:facebook|twitter|x|linkedin|whatsapp|email|reddit)(?: ?[,|/]| or| and)?)*"
        r"[.:!]?",
        r"(?:get|download) the .{0,40}app\b.*",
        r"advertisements?:?",
        r"story continues below(?: advertisement)?\.?",
        r"read more:?",
        r"related:?",
        r"we use cookies\b.*",
        r"(?:accept|allow|reject)(?: all)? cookies[.!]?",
        r"(?:manage )?cookie (?:settings|preferences)[.!]?",
    )
)
_BOILERPLATE_RE = re.compile("|".join(f"(?:{p.pattern})" for p in BOILERPLATE_PATTERNS), re.IGNORECASE)
_BULLETS = "-\u2022* "


def is_boilerplate(line: str) -> bool:
    """Whether ``line`` is page furniture rather than article text.

    It is when, spaces folded and a leading bullet ("-", "•", "*") removed, it
    has at most :data:`BOILERPLATE_MAX_WORDS` words and is entirely one of
    :data:`BOILERPLATE_PATTERNS`, in any case. A sentence that only mentions
    such words ("The advertisement was pulled") is not.
    """
    text = fold_spaces(line).lstrip(_BULLETS)
    return _BOILERPLATE_RE.fullmatch(text) is not None and count_words(text) <= BOILERPLATE_MAX_WORDS


# --- Bylines --------------------------------------------------------------------

_BYLINE_PREFIX_RE = re.compile(r"^(?:written\s+)?by(?:\s*:\s*|\s+|$)", re.IGNORECASE)
# Names are separated by these; "and" only as a word (not in "Anderson").
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:[,;|&\u3001\uff0c\uff1b]|\band\b)\s*", re.IGNORECASE)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?"
# Where the names end: a bullet or a spaced dash, a date or a time (what starts
# with a digit, a month or a weekday before one), a reading time, a label.
_BYLINE_END_RE = re.compile(
    r"\s*[\u2022\u00b7]|\s+[\u2013\u2014-]\s+"
    rf"|(?<!\w)(?:{_WEEKDAY},?\s+)?(?:{_MONTH}\s+)?\d"
    r"|\b(?:(?:last\s+)?updated|published|posted|modified)\b",
    re.IGNORECASE,
)
# What may follow the names of a line that is only a byline: dates, times,
# zones, labels, reading times.
_TAIL_RE = re.compile(
    rf"(?:[\s\d,.:/|\u2022\u00b7\u2013\u2014-]|\b(?:{_MONTH}|{_WEEKDAY}|(?:last\s+)?updated|published|posted"
    r"|modified|on|at|[ap]\.?m\.?|gmt|utc|z|[ecmp][sd]t|[ecmp]t|bst|ist|cet|cest|eet|eest"
    r"|mins?|minutes?|hours?|ago|read)\b)*",
    re.IGNORECASE,
)
_NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv"})
_JOB_NOUNS = (r"(?:writer|reporter|editor|correspondent|journalist|contributor|columnist|producer"
              r"|author|intern|analyst)")
# A bare job title ("Staff Writer") is not a name. Agencies ("Reuters", "AP")
# are: they are the author of agency copy.
_ROLE_RE = re.compile(
    r"staff|(?:(?:staff|senior|chief|contributing|freelance|special|associate|assistant|deputy|managing"
    r"|executive|political|foreign|national|international|investigative|business|economics|finance"
    r"|technology|tech|science|health|education|environment|climate|legal|sports?|culture|arts|news"
    r"|digital|data)\s+)*"
    rf"{_JOB_NOUNS}s?",
    re.IGNORECASE,
)
# A byline line writes a name as capitalised words, a lowercase particle inside.
_NAME_WORD_RE = re.compile(r"[^\W\d_][\w.'\u2019\-]*")
_PARTICLES = frozenset("van von der den de da di du del della la le bin ibn al el".split())
_MAX_NAME_WORDS = 5
_MAX_AUTHOR_LENGTH = 60
_MAX_BYLINE_LENGTH = 150


def _is_name(text: str) -> bool:
    """Whether ``text`` is written as a name: one to five words, each capitalised
    but for a particle ("van", "de") between two capitalised ones."""
    tokens = text.split()
    return (0 < len(tokens) <= _MAX_NAME_WORDS and tokens[0][0].isupper() and tokens[-1][0].isupper()
            and all(_NAME_WORD_RE.fullmatch(t) and (t[0].isupper() or t in _PARTICLES) for t in tokens))


def _looks_like_url(text: str) -> bool:
    lowered = text.lower()
    return "://" in lowered or lowered.startswith("www.")


def _byline_parts(byline: str) -> tuple[list[str], str]:
    """(the parts of ``byline`` before where its names end, the rest), a leading "By" stripped.

    Parts are what the separators leave, a "Jr."-style suffix joined to the part
    before it; empty parts are dropped.
    """
    prefix = _BYLINE_PREFIX_RE.match(byline)
    text = byline[prefix.end():] if prefix else byline
    end = _BYLINE_END_RE.search(text)
    names, rest = (text[:end.start()], text[end.start():]) if end else (text, "")
    parts: list[str] = []
    for part in _AUTHOR_SPLIT_RE.split(names):
        part = _BYLINE_PREFIX_RE.sub("", part).strip(" :-\u2013\u2014")
        if part.lower().rstrip(".") in _NAME_SUFFIXES and parts:
            parts[-1] = f"{parts[-1]} {part}"
        elif part:
            parts.append(part)
    return parts, rest


def split_authors(raw: Iterable[str] | str | None) -> list[str]:
    """The author names in ``raw`` (one byline or a list of them), in order.

    Each byline is normalized (:func:`normalize_text`); a leading "By" or
    "Written by" is stripped; the names end where a date, a time, a reading
    time ("5 min read"), an "Updated"/"Published" label, a bullet or a spaced
    dash starts; they are split on commas, semicolons, "|", "&" and "and"
    (and the ideographic comma); a "Jr."-style suffix stays with its name.
    Bare job titles ("Staff Writer"), URLs, names longer than 60 characters
    and exact repeats are dropped. ``"By Jane Doe and John Roe | March 2"``
    gives ``["Jane Doe", "John Roe"]``.
    """
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    authors: list[str] = []
    for byline in raw:
        if not isinstance(byline, str):
            continue
        byline = normalize_text(byline)
        if _looks_like_url(byline):
            continue
        for name in _byline_parts(byline)[0]:
            if name.lower().rstrip(".") in _NAME_SUFFIXES:  # a byline of its own: ["Jane Doe", "Jr."]
                if authors:
                    authors[-1] = f"{authors[-1]} {name}"
                continue
            if (_ROLE_RE.fullmatch(name) or _looks_like_url(name)
                    or len(name) > _MAX_AUTHOR_LENGTH or name in authors):
                continue
            authors.append(name)
    return authors


def is_byline(line: str) -> bool:
    """Whether ``line`` is nothing but a byline, to be dropped from a body.

    It is when it starts with "By" (or "Written by") and what follows is one
    or more names, each of capitalised words (a lowercase "van", "de"... inside)
    or a job title ("By Staff Reporter"), separated as :func:`split_authors`
    separates them, optionally followed by a date, a time or a label
    ("| Updated March 2, 2024 9:30 AM EST"). "By Tuesday, the council had
    voted." is not one.
    """
    text = fold_spaces(line)
    if len(text) > _MAX_BYLINE_LENGTH or not _BYLINE_PREFIX_RE.match(text):
        return False
    parts, rest = _byline_parts(text)
    return (bool(parts) and _TAIL_RE.fullmatch(rest) is not None
            and all(_is_name(part) or _ROLE_RE.fullmatch(part) for part in parts))


_BIO_RE = re.compile(
    r"^[A-Z][\w.'\u2019\-]+(?: [A-Z][\w.'\u2019\-]+){0,3} (?:is|was) (?:a|an|the) "
    rf"(?:[\w\-,]+ ){{0,8}}{_JOB_NOUNS}\b"
)
_BIO_MAX_WORDS = 150


def is_author_bio(line: str) -> bool:
    """Whether ``line`` is an author's bio, as many articles close: a name of one
    to four capitalised words, "is a"/"was the"..., and within nine words a job
    title ("Jane Doe is a reporter for ..."), in at most 150 words."""
    return count_words(line) <= _BIO_MAX_WORDS and _BIO_RE.match(line) is not None


# --- Repeats --------------------------------------------------------------------

# A repeated paragraph of at least this many words is prose, not a list entry.
_REPEAT_MIN_WORDS = 6
_SENTENCE_END = (".", "!", "?", "\"", "\u201d", "\u2019", "'", "\u3002", "\uff01", "\uff1f", "\u300d", "\u300f")


def is_prose_repeat(text: str) -> bool:
    """Whether ``text``, seen a second time in one body, is a repeat to drop.

    A sentence (it ends with closing punctuation, CJK included) or a line of
    six words or more (:func:`count_words`) is: a pull quote or a caption shown
    twice. A short line without closing punctuation is not: "Raye" or "Dua
    Lipa, Houdini" under one more heading of a list of nominees.
    """
    text = text.rstrip()
    return text.endswith(_SENTENCE_END) or count_words(text) >= _REPEAT_MIN_WORDS


def drop_repeats(paragraphs: Iterable[str]) -> list[str]:
    """``paragraphs`` in order without the repeats to drop: a paragraph whose
    :func:`text_key` is that of an earlier kept one and that reads as prose
    (:func:`is_prose_repeat`). Empty paragraphs are kept; callers drop them."""
    kept: list[str] = []
    seen: set[str] = set()
    for paragraph in paragraphs:
        key = text_key(paragraph)
        if key in seen and is_prose_repeat(key):
            continue
        seen.add(key)
        kept.append(paragraph)
    return kept
