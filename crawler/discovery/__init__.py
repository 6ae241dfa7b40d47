"""Finding and reading a site's hubs, without Redis: feeds, sitemaps, fronts, home pages.

``feeds`` (RSS, Atom, JSON Feed), ``sitemaps`` (sitemaps, indexes, Google News sitemaps),
``pages`` (feed autodiscovery, pagination, section fronts, entry freshness); ``dates`` and
``links`` hold the one rule each for an entry's date and an entry's URL.
"""
