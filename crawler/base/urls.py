"""Canonical URLs, hosts, sites, and request fingerprints made from canonical URLs.

:func:`canonical_url_for` is the form that variants of one URL (tracking
parameters, default ports, fragments, query order) share. Requests are
deduplicated by it (:func:`fingerprint`), so each page is fetched once, by
every worker; stored articles are identified by it (:func:`resolve_canonical`).

This module is the one place that reads a host out of a URL: :func:`url_host`
(the host the frontier queues, throttles and allows by), :func:`host_header`
(the ``Host`` a request sends, for the WARC archive), :func:`site_of` and
:func:`same_site` (the one same-site rule: related links, declared canonicals)
and :func:`display_domain` (an article's ``domain`` field). Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from typing import TYPE_CHECKING, Any
from functools import lru_cache
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

from tld import get_fld
from w3lib.url import canonicalize_url, safe_url_string

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from typing_extensions import Self

__all__ = [
    "HTTP_SCHEMES",
    "TRACKING_PARAMS",
    "TRACKING_PREFIXES",
    "RequestFingerprinter",
    "canonical_url_for",
    "display_domain",
    "fetch_form",
    "host_header",
    "fingerprint",
    "fingerprint_url",
    "is_http_url",
    "redact_url",
    "resolve_canonical",
    "same_site",
    "site_of",
    "url_host",
]

# --- Canonical URLs -------------------------------------------------------------

#: Query parameters that only say how a visitor arrived; dropped from
#: canonical URLs (compared lowercased).
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "gclsrc", "dclid", "gbraid", "wbraid", "msclkid", "yclid",
        "twclid", "ttclid", "igshid", "li_fat_id", "mc_cid", "mc_eid", "_ga", "_gl",
        "_hsenc", "_hsmi", "mkt_tok", "ref", "ref_src", "ref_url", "referrer", "cmpid",
        "icid", "ocid", "smid", "s_cid", "at_medium", "at_campaign", "pk_campaign",
        "pk_kwd", "pk_source", "pk_medium", "pk_content", "mtm_campaign", "mtm_source",
        "mtm_medium", "mtm_content", "mtm_keyword", "mtm_cid", "oly_anon_id",
        "oly_enc_id", "rb_clickid", "vero_id", "wickedid", "__twitter_impression",
    }
)
#: Query parameter prefixes that are tracking too (compared lowercased).
TRACKING_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


_PLAIN_PATH = re.compile(r"[A-Za-z0-9\-._~/]*")
_PLAIN_QUERY_PART = re.compile(r"[A-Za-z0-9\-._~]*")
_PLAIN_HOST = re.compile(r"[a-z0-9\-.:\[\]]+")


def _fast_canonical(scheme: str, netloc: str, path: str, query: str) -> str | None:
    """What ``canonicalize_url`` gives for a URL with nothing to escape, four times faster.

    Returns None when any part needs percent-encoding work (or holds ``+``,
    ``%``, non-ASCII...): the caller then takes the general path. Seeding
    100,000 URLs spends most of its time here.
    """
    if not (_PLAIN_HOST.fullmatch(netloc) and _PLAIN_PATH.fullmatch(path)):
        return None
    segments = path.split("/")
    if "." in segments or ".." in segments:
        return None  # dot segments are resolved by the general path
    pairs = []
    for pair in query.split("&") if query else ():
        name, _, value = pair.partition("=")
        if not (_PLAIN_QUERY_PART.fullmatch(name) and _PLAIN_QUERY_PART.fullmatch(value)):
            return None
        pairs.append((name, value))
    pairs.sort()
    encoded = "&".join(f"{name}={value}" for name, value in pairs)
    return f"{scheme}://{netloc}{path}?{encoded}" if encoded else f"{scheme}://{netloc}{path}"


def canonical_url_for(url: str) -> str:
    """The normalized form of ``url``: the one two URLs of one page share.

    Scheme and host lowercased, default port dropped, fragment dropped,
    tracking parameters (:data:`TRACKING_PARAMS`, :data:`TRACKING_PREFIXES`)
    removed, the remaining query sorted, percent-encoding made uniform
    (``w3lib.url.canonicalize_url``), an empty path made ``/``. The path keeps
    its case and trailing slash (servers may tell them apart). A string that
    cannot be parsed as a URL is returned stripped, unchanged otherwise.
    """
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    if not scheme or not parts.netloc:
        return url
    host = url_host(url)  # IDNA before the trailing dot goes: "a．" (a fullwidth dot) is "a."
    if ":" in host:
        host = f"[{host}]"  # IPv6 literal
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    # Filter the raw "name=value" pairs: decoding and re-encoding whole values
    # would mangle ones that are not UTF-8.
    query = "&".join(
        pair
        for pair in parts.query.split("&")
        if pair and not _is_tracking(unquote_plus(pair.partition("=")[0]))
    )
    path = parts.path or "/"
    fast = _fast_canonical(scheme, netloc, path, query)
    if fast is not None:
        return fast
    cleaned = urlunsplit((scheme, netloc, path, query, ""))
    try:
        return canonicalize_url(cleaned, keep_fragments=False)
    except ValueError:
        return cleaned


# --- Schemes --------------------------------------------------------------------

#: The only schemes this service fetches, anywhere: seeds, followed links, redirects,
#: the network guard. Scrapy also has handlers for file:, ftp:, s3: and data:, which
#: ignore the host (a ``file://<seeded host>/etc/passwd`` link reads a worker-local file).
HTTP_SCHEMES = frozenset({"http", "https"})


def is_http_url(url: str) -> bool:
    """Whether ``url`` is an http or https URL (any case), the only kinds this service
    fetches. Never raises."""
    scheme, sep, _ = url.partition(":")
    return bool(sep) and scheme.lower() in HTTP_SCHEMES


# --- The form a URL is fetched in -----------------------------------------------

# A host name as it is fetched: ASCII labels (IDNA), lower case, maybe a trailing dot.
_HOST_NAME = re.compile(r"(?:[a-z0-9_-]+\.)*[a-z0-9_-]+\.?")
# An http(s) URL that Scrapy fetches exactly as written (a lower-case ASCII host
# name, no port, nothing to escape): most seeds, passed without parsing them.
_PLAIN_URL = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:/[A-Za-z0-9\-._~/]*(?:\?[A-Za-z0-9\-._~=&]+)?)?")


def fetch_form(url: str) -> str:
    """``url`` as Scrapy's ``Request`` writes it, the form that is fetched and keyed
    on: the host in IDNA (lower case, Unicode-normalized, zero-width characters
    dropped: ``http://bücher.example/`` is ``http://xn--bcher-kva.example/``),
    path and query percent-encoded as UTF-8.

    Raises ValueError, with the reason, when ``url`` cannot be parsed, has no host,
    or has a host that is neither a domain name nor an IP address (one IDNA
    refuses, ``%`` escapes, ``<``...).
    """
    if _PLAIN_URL.fullmatch(url):
        return url
    try:
        fetched = safe_url_string(url)
        parts = urlsplit(fetched)
        parts.port  # noqa: B018 - raises ValueError on a bad port
        host = parts.hostname or ""
    except ValueError as exc:  # UnicodeError included
        raise ValueError(f"malformed url ({exc})") from None
    if not host.rstrip("."):
        raise ValueError("url has no host")
    if ":" in host:
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise ValueError("host is not a domain name or an IP address") from None
    elif not _HOST_NAME.fullmatch(host):
        raise ValueError("host is not a domain name or an IP address")
    return fetched


# --- Hosts and sites ------------------------------------------------------------


def url_host(url: str) -> str:
    """The host of ``url`` as the frontier keys it ("" when it has none or
    cannot be parsed).

    Lower case, without userinfo, port or trailing dot; an IPv6 literal
    without its brackets (``"::1"``). A non-ASCII host is given in its IDNA
    form (``"xn--bcher-kva.de"``), as Scrapy writes it in ``Request.url``, so
    a seed and the request built from it share one host. Never raises.
    """
    try:
        host = urlsplit(url).hostname
        if host and not host.isascii():
            host = urlsplit(safe_url_string(url)).hostname
    except ValueError:
        return ""
    return (host or "").lower().rstrip(".")


def host_header(url: str) -> str:
    """The ``Host`` header an HTTP client sends for ``url``: its host, with the port unless
    it is the scheme's default, without userinfo ("" when it cannot be parsed)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    authority = parts.netloc.rpartition("@")[2]
    if port is not None and port == {"http": 80, "https": 443}.get(parts.scheme):
        authority = authority.rpartition(":")[0]
    return authority


def site_of(url: str) -> str | None:
    """The site of ``url``: its registrable domain (``"example.co.uk"`` for
    ``https://www.example.co.uk/a``, by the Public Suffix List, so
    ``a.github.io`` is a site of its own), or its host without a leading
    "www." when it has none (IP addresses, ``localhost``, private names such
    as ``www.loopback.test``). ``None`` when ``url`` has no host."""
    host = url_host(url)
    return _site_of_host(host) if host else None


@lru_cache(maxsize=4096)
def _site_of_host(host: str) -> str:
    return get_fld(host, fix_protocol=True, fail_silently=True) or host.removeprefix("www.")


def same_site(url: str, other: str) -> bool:
    """Whether ``url`` and ``other`` are on one site (:func:`site_of`):
    ``www.example.co.uk`` and ``amp.example.co.uk`` are, ``127.0.0.1`` on two
    ports is, ``127.0.0.1`` and ``localhost`` are not. False when either has
    no host."""
    site = site_of(url)
    return site is not None and site == site_of(other)


def display_domain(url: str) -> str:
    """The ``domain`` of an article at ``url``: :func:`url_host` without a
    leading "www." (``"example.com"`` for ``https://WWW.Example.com:8080/``);
    "" when ``url`` has no host."""
    return url_host(url).removeprefix("www.")


def resolve_canonical(url: str, declared: Any) -> str:
    """The canonical URL of the page at ``url`` that declares ``declared`` as
    its canonical (rel=canonical or og:url, possibly relative; a blank string
    or a non-string means it declares none).

    ``declared`` resolved against ``url`` when that gives an http(s) URL on
    the same site (:func:`same_site`), else ``url``; either way passed through
    :func:`canonical_url_for`.
    """
    if isinstance(declared, str) and declared.strip():
        candidate = urljoin(url, declared.strip())
        if urlsplit(candidate).scheme in _DEFAULT_PORTS and same_site(candidate, url):
            return canonical_url_for(candidate)
    return canonical_url_for(url)


# --- Request fingerprints -------------------------------------------------------


def fingerprint(request: Request) -> str:
    """The hex fingerprint of ``request``: method, canonical URL and body."""
    return _fingerprint(request.method, request.url, request.body)


def fingerprint_url(url: str, method: str = "GET", body: bytes = b"") -> str:
    """The fingerprint a plain GET request for ``url`` gets (used by ``crawler seed``)."""
    return _fingerprint(method, url, body)


def _fingerprint(method: str, url: str, body: bytes) -> str:
    # The JSON of {"body", "method", "url"} with sorted keys, written out by
    # hand: this runs once per link and per seed.
    data = (f'{{"body": "{body.hex()}", "method": {json.dumps(method.upper())}, '
            f'"url": {json.dumps(canonical_url_for(url))}}}')
    return hashlib.sha1(data.encode()).hexdigest()


class RequestFingerprinter:
    """Scrapy's REQUEST_FINGERPRINTER_CLASS, agreeing with the Redis dupefilter."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls()

    def fingerprint(self, request: Request) -> bytes:
        return bytes.fromhex(fingerprint(request))


_SECRET_PARAM_RE = re.compile(r"([?&](?:password|passwd|pass|secret|token|key)=)[^&#]*", re.I)


def redact_url(url: str) -> str:
    """``url`` with its password (``user:***@``) and secret query values (``password=***``)
    masked: the one way a URL that may hold credentials (``REDIS_URL``, ``DATABASE_URL``)
    is printed or logged. Never raises, even for a URL that does not parse."""
    scheme, sep, rest = url.partition("://")
    if sep:
        authority, slash, tail = rest.partition("/")
        userinfo, at, host = authority.rpartition("@")
        if at and ":" in userinfo:
            authority = f"{userinfo.split(':', 1)[0]}:***@{host}"
        url = f"{scheme}://{authority}{slash}{tail}"
    return _SECRET_PARAM_RE.sub(r"\1***", url)
