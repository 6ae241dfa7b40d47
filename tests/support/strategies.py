"""Hypothesis strategies shared by the property tests: generated URLs, good and bad."""

from __future__ import annotations

from hypothesis import strategies as st

__all__ = ["hosts", "paths", "queries", "schemes", "urls"]

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
