"""Finding and reading a site's hubs, without Redis: feeds, sitemaps, fronts, home pages."""
