"""The Scrapy components of a worker: item pipelines, heartbeat, network guard,
robots.txt, and the process that runs them."""
