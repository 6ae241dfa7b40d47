"""What every layer shares, without Scrapy: the Redis connection, key names,
URL rules, counter names and the Lua scripts."""
