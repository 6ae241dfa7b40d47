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
from tests.support.strategies import urls

BOUNDED = settings(max_examples=int(__import__("os").environ.get("PROPERTY_EXAMPLES", 400)), deadline=timedelta(milliseconds=500),
                   suppress_health_check=[HealthCheck.too_slow])

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
