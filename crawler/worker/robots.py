"""robots.txt, with every request waiting for it given the parsed rules."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as _ScrapyRobotsTxtMiddleware
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.robotstxt import RobotParser

__all__ = ["RobotsTxtMiddleware"]


class RobotsTxtMiddleware(_ScrapyRobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware without its race (Scrapy 2.19, asyncio reactor).

    While a host's robots.txt is being fetched, Scrapy's middleware makes every
    other request for that host await one shared Deferred through
    ``Deferred.asFuture()``. That consumes the Deferred's result: the first
    waiter gets the parser, every later one gets None, which means "no
    robots.txt", and its request is fetched even when robots.txt forbids it.
    Here each waiter awaits a Deferred of its own, chained to the shared one.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        mine: Deferred = Deferred()

        def relay(result):
            mine.callback(result)
            return result  # the shared Deferred keeps its result for the next waiter

        pending.addBoth(relay)
        return await maybe_deferred_to_future(mine)
