"""A stand-in for the ``news`` spider where only its name and callback names matter."""

from __future__ import annotations

from scrapy import Spider


class CallbackSpider(Spider):
    """Named ``news``, with the ``parse`` and ``on_error`` methods the service's requests name
    (so that request JSON encodes and decodes), doing nothing."""

    name = "news"

    def parse(self, response):
        pass

    def on_error(self, failure):
        pass
