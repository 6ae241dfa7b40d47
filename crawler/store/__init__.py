"""The crawl's article store in Redis (atomic deduplication, the article stream) and the
WARC files of what the workers fetched."""
