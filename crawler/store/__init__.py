"""The crawl's article store in Redis: atomic deduplication and the article stream."""
