"""The Scrapy components of a worker: item pipelines, heartbeat, network guard,
robots.txt, the WARC archive, and the process that runs them."""
