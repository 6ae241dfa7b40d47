"""The network guard refuses every scheme but http and https, and a proxy at a private address."""

from __future__ import annotations

import asyncio

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler import settings as service_settings
from crawler.base.counters import Stat
from crawler.worker.netguard import PrivateNetworkGuard, RefusedAddress, RefusedScheme
from crawler.worker.process import project_settings


def guard(allow_private: bool) -> tuple[PrivateNetworkGuard, object]:
    crawler = get_crawler(settings_dict={"CRAWLER_ALLOW_PRIVATE_NETWORKS": allow_private})
    crawler.stats.open_spider()
    return PrivateNetworkGuard.from_crawler(crawler), crawler.stats


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("url", ["file://127.0.0.1/etc/passwd", "file:///etc/passwd",
                                 "ftp://127.0.0.1/pub/x", "s3://bucket/key", "data:text/html,<p>x</p>",
                                 "FILE://example.com/etc/hosts"])
def test_schemes_other_than_http_are_refused_even_where_private_networks_are_allowed(url, allow_private):
    middleware, stats = guard(allow_private)
    with pytest.raises(RefusedScheme, match="only http and https"):
        asyncio.run(middleware.process_request(Request(url)))
    assert stats.get_value(Stat.NETGUARD_NOT_HTTP) == 1
    assert stats.get_value(Stat.NETGUARD_REFUSED) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/", "https://[::1]/a"])
def test_http_passes_where_private_networks_are_allowed(url):
    middleware, stats = guard(True)
    assert asyncio.run(middleware.process_request(Request(url))) is None
    assert stats.get_value(Stat.NETGUARD_NOT_HTTP) is None


@pytest.mark.parametrize("proxy", ["http://127.0.0.1:3128", "127.0.0.1:3128", "http://user:pw@[::1]:8080",
                                   "http://169.254.169.254"])
def test_a_proxy_in_meta_at_a_private_address_is_refused(proxy):
    middleware, stats = guard(False)
    request = Request("https://93.184.216.34/", meta={"proxy": proxy})
    with pytest.raises(RefusedAddress, match="proxy"):
        asyncio.run(middleware.process_request(request))
    assert stats.get_value(Stat.NETGUARD_REFUSED) == 1


def test_the_service_has_no_download_handler_but_http_and_https():
    settings = project_settings()
    assert settings["TWISTED_REACTOR"] == service_settings.TWISTED_REACTOR  # the service's own
    handlers = settings.getwithbase("DOWNLOAD_HANDLERS")
    assert {scheme for scheme, handler in handlers.items() if handler} == {"http", "https"}
