"""A distributed news crawl service: Scrapy workers sharing one Redis frontier."""

__version__ = "0.1.0"
