"""Author names: read from JSON-LD ``author`` values and cleaned from raw bylines.

:func:`jsonld_names` reads a JSON-LD ``author`` (or ``creator``) value of any
shape (a string, a Person or Organization, a list of them, an ``@id``
reference to a node elsewhere on the page, a nested ``author``);
:func:`clean_names` turns raw strings (meta values, byline texts, JSON-LD
names) into names: roles, prefixes ("By", "Von", "Par"), e-mail addresses,
URLs and dates removed, split on commas and on "and" in the page's likely
languages, deduplicated. :func:`is_publisher` tells a name that only repeats
the site's or publisher's own name.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from crawler.article.text import clean_text, split_authors

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = ["clean_names", "folded", "is_publisher", "jsonld_names", "looks_like_person"]

# How deep an author value may nest (a Person whose "author" is a list of Persons...).
_MAX_DEPTH = 4
_MAX_NAMES = 20
_EMAIL_RE = re.compile(r"\(?\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b\)?")
_HANDLE_RE = re.compile(r"(?<!\w)@\w+")
# A role or label before the names: "By", "Von", "Par", "Autor:", "Text:",
# "Written by", "Reported by"... (the by-word of a few languages).
_PREFIX_RE = re.compile(
    r"^(?:(?:written|reported|posted|compiled|edited|words|text|story|photos?)\s+by|by|von|par|por|door|av|af"
    r"|autor(?:in|a)?|author|autore|auteur|text|texto|reporter|redaktion)\b\s*[:\-\u2013\u2014]?\s*",
    re.IGNORECASE,
)
# "and" between two names, in the languages the benchmarks hold; the one-letter
# ones only between names of two words or more ("Ana Lima e Rui Costa").
_AND_RE = re.compile(r"\s+(?:and|und|og|och|et|en|ve|ja|és|dan|и)\s+", re.IGNORECASE)
_SHORT_AND_RE = re.compile(r"\s+(?:y|e|i|a)\s+")
# Words that are the name of a link, not of a person ("Sarah Lazare Twitter").
_SOCIAL_RE = re.compile(r"\s*\b(?:twitter|facebook|instagram|linkedin|e-?mail|x\.com|bluesky|mastodon)\b.*$",
                        re.IGNORECASE)
_UPPER_WORD_RE = re.compile(r"^[^\W\d_]")
# Han, kana and hangul: scripts that write a name without spaces.
_SPACELESS_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def jsonld_names(value: Any, nodes_by_id: Mapping[str, dict] | None = None,
                 _depth: int = 0) -> list[str]:
    """The names in a JSON-LD ``author``/``creator`` ``value``, in order, as written.

    A string is a name (unless it is a URL); a dict gives its ``name`` (the first
    of a list), else ``givenName`` + ``familyName``, else, when it is only an
    ``@id`` reference, the name of the node ``nodes_by_id`` holds under that
    id, else the names of its own ``author``; a list gives its members' names.
    Never raises; at most :data:`_MAX_NAMES` names.
    """
    names: list[str] = []
    if _depth > _MAX_DEPTH:
        return names
    if isinstance(value, list):
        for item in value[:_MAX_NAMES]:
            names += jsonld_names(item, nodes_by_id, _depth + 1)
        return names[:_MAX_NAMES]
    if isinstance(value, str):
        text = clean_text(value)
        return [text] if text and not _is_url(text) else []
    if not isinstance(value, dict):
        return names
    name = value.get("name")
    name = next((n for n in name if isinstance(n, str) and n.strip()), None) if isinstance(name, list) else name
    if isinstance(name, str) and clean_text(name) and not _is_url(name):
        return [clean_text(name)]  # type: ignore[list-item]
    given, family = (clean_text(value.get(k)) if isinstance(value.get(k), str) else None
                     for k in ("givenName", "familyName"))
    if given or family:
        return [" ".join(part for part in (given, family) if part)]
    ref = value.get("@id")
    if isinstance(ref, str) and nodes_by_id and ref in nodes_by_id and nodes_by_id[ref] is not value:
        return jsonld_names({k: v for k, v in nodes_by_id[ref].items() if k != "@id"}, nodes_by_id, _depth + 1)
    if "author" in value:
        return jsonld_names(value["author"], nodes_by_id, _depth + 1)
    return names


def clean_names(raws: Iterable[str]) -> list[str]:
    """The author names in the raw strings ``raws``, in order, each once.

    From each string: e-mail addresses, social handles and what follows a
    social-network word are removed; a role prefix ("By", "Von", "Par",
    "Autor:") is stripped; :func:`crawler.article.text.split_authors` cuts
    where the names end (a date, a time, a bullet) and splits on commas,
    semicolons, "|", "&" and "and" and drops bare job titles; a name is split
    again on "and" in other languages ("und", "og", "et"..., the one-letter
    "y", "e", "i", "a" only between names of two words or more). Names are
    unique by :func:`folded`; URLs, and strings without a letter, are none.
    """
    names: list[str] = []
    seen: set[str] = set()
    for raw in raws:
        if not isinstance(raw, str):
            continue
        text = _EMAIL_RE.sub(" ", raw)
        text = _HANDLE_RE.sub(" ", text)
        text = clean_text(text) or ""
        text = _PREFIX_RE.sub("", text)
        for part in split_authors(text):
            for name in _split_and(part):
                name = _SOCIAL_RE.sub("", _PREFIX_RE.sub("", name)).strip(" ,;:|-\u2013\u2014")
                key = folded(name)
                if not key or key.isdigit() or _is_url(name) or key in seen:
                    continue
                seen.add(key)
                names.append(name)
    return names[:_MAX_NAMES]


def folded(name: str | None) -> str:
    """``name`` casefolded with everything but letters and digits removed ("" for None)."""
    return re.sub(r"[\W_]+", "", name.casefold()) if name else ""


def is_publisher(name: str, publishers: Iterable[str | None]) -> bool:
    """Whether ``name`` is one of ``publishers`` (the site name, the publisher,
    the domain's first label...), letters and digits compared, a leading "the"
    or trailing top-level domain ignored."""
    key = _publisher_key(name)
    return bool(key) and any(key == _publisher_key(p) for p in publishers if p)


def looks_like_person(name: str) -> bool:
    """Whether ``name`` is written as a person's name: two to five words, the
    first and last capitalised, no digit ("Jane Doe", "Ana de la Cruz"), or
    two to five characters of a script written without spaces ("松岡大地")."""
    words = name.split()
    if len(words) == 1:
        return 2 <= len(name) <= 5 and all(_SPACELESS_RE.match(c) for c in name)
    return (2 <= len(words) <= 5 and not any(c.isdigit() for c in name)
            and all(w[0].isupper() for w in (words[0], words[-1])) and not name.isupper())


def _publisher_key(name: str) -> str:
    text = re.sub(r"\.(?:com|co|org|net|de|fr|es|it|nl|no|se|dk|lt|uk|jp|ch|at|pl|tr|in)\b.*$", "", name.casefold())
    key = folded(text)
    return key[3:] if key.startswith("the") and len(key) > 6 else key


def _split_and(name: str) -> list[str]:
    parts = _AND_RE.split(name)
    if len(parts) > 1 and all(_looks_named(p, 1) for p in parts):
        return [p for part in parts for p in _split_short_and(part)]
    return _split_short_and(name)


def _split_short_and(name: str) -> list[str]:
    parts = _SHORT_AND_RE.split(name)
    return parts if len(parts) > 1 and all(_looks_named(p, 2) for p in parts) else [name]


def _looks_named(text: str, min_words: int) -> bool:
    words = text.split()
    return len(words) >= min_words and all(_UPPER_WORD_RE.match(w) and w[0].isupper() for w in (words[0], words[-1]))


def _is_url(text: str) -> bool:
    lowered = text.strip().lower()
    return "://" in lowered or lowered.startswith("www.") or bool(re.fullmatch(r"[\w.-]+\.(?:com|org|net)/\S*", lowered))
