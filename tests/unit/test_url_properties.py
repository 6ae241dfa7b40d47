"""Properties of URL canonicalization and hosts, over generated URLs (hypothesis).

For any text: :func:`canonical_url_for`, :func:`url_host` and :func:`fingerprint_url`
never raise and answer within a bounded time; canonicalization is idempotent, and a
canonical URL keeps its host.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crawler.base.urls import canonical_url_for, fingerprint_url, is_http_url, url_host

BOUNDED = settings(max_examples=int(__import__("os").environ.get("PROPERTY_EXAMPLES", 400)), deadline=timedelta(milliseconds=500),
                   suppress_health_check=[HealthCheck.too_slow])

_LABEL_CHARS = st.sampled_from(list("abcxyz019-_ÜüßéЖж日本\u200b\u00ad\u0301ＡＢ．。") + ["%41", "%", "xn--"])
labels = st.lists(_LABEL_CHARS, min_size=1, max_size=8).map("".join)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(lambda ip: f"[{ip}]"),
    st.sampled_from(["", ".", "..", "[", "[::1", "a..b", "EXAMPLE.COM.", "localhost"]),
)
_PATH_CHARS = st.sampled_from(list("aZ09-._~/!$&'()*+,;=:@ ?#[]\\\"<>^`{|}") + ["%2F", "%20", "%zz", "%", "é",
                                                                               "\u200b", "\x00", "\x7f", "..", "."])
paths = st.lists(_PATH_CHARS, max_size=12).map("".join)
_PARAM_NAMES = st.sampled_from(["a", "B", "utm_source", "UTM_Medium", "fbclid", "ref", "q", "é", "a b",
                                "%75tm_x", "", "x+y"])
_PARAM_VALUES = st.sampled_from(["", "1", "a b", "é", "%E9", "%e9", "%", "+", "a=b", "x%2By", "\x00"])
queries = st.lists(st.tuples(_PARAM_NAMES, _PARAM_VALUES), max_size=5).map(
    lambda pairs: "&".join(f"{name}={value}" for name, value in pairs))
schemes = st.sampled_from(["http", "https", "HTTP", "HtTpS", "ftp", "file", "data", "javascript", ""])


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(schemes)
    userinfo = draw(st.sampled_from(["", "user@", "user:pw@", "@", ":@"]))
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":0", ":65536", ":x", ":"]))
    path = draw(paths)
    query = draw(queries)
    fragment = draw(st.sampled_from(["", "#", "#top", "#a b"]))
    url = f"{scheme}://{userinfo}{draw(hosts)}{port}{'/' if path and not path.startswith('/') else ''}{path}"
    return url + (f"?{query}" if query else "") + fragment


any_url = st.one_of(urls(), st.text(max_size=200))


@BOUNDED
@given(any_url)
@example("http://EXAMPLE.com:80/a/./b/../c?b=2&a=1&utm_source=x#frag")
@example("http://bücher.example/Straße")
@example("http://[::1]:8080/")
@example("http://a\uff0e")  # a fullwidth dot: IDNA makes it a trailing dot, which goes too
def test_canonicalization_never_raises_and_is_idempotent(url):
    canonical = canonical_url_for(url)
    assert isinstance(canonical, str)
    assert canonical_url_for(canonical) == canonical
    assert fingerprint_url(url) == fingerprint_url(canonical)


@BOUNDED
@given(any_url)
def test_hosts_never_raise_and_canonical_urls_keep_them(url):
    host = url_host(url)
    assert host == host.lower().rstrip(".")
    if is_http_url(url) and host:
        assert url_host(canonical_url_for(url)) == host


@BOUNDED
@given(st.text(max_size=50))
def test_is_http_url_is_the_scheme_and_nothing_else(text):
    assert is_http_url("http://" + text) and is_http_url("HTTPS://" + text)
    assert not is_http_url("file://" + text) and not is_http_url("https" + text.replace(":", ""))
