"""Spiders of the news crawl service (``SPIDER_MODULES = ["spiders"]``)."""
