"""host_header: the Host header the WARC archive records for a request's URL."""

from __future__ import annotations

from crawler.base.urls import host_header


def test_host_header_is_the_host_and_port_a_client_sends():
    assert host_header("http://127.0.0.1:8000/a?b=1") == "127.0.0.1:8000"
    assert host_header("https://user:secret@Example.com:443/x") == "Example.com"
    assert host_header("http://a.example:80/") == "a.example"
    assert host_header("https://a.example:80/") == "a.example:80"
    assert host_header("http://[::1]:8080/") == "[::1]:8080"
    assert host_header("http://a.example:bad/") == ""
