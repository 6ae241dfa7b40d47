"""crawler.base.urls.redact_url: a REDIS_URL's password masked, in every spelling of it."""

from __future__ import annotations

import pytest

from crawler.base.urls import redact_url

SECRET = "s3cret-Pa55"


@pytest.mark.parametrize(("url", "shown"), [
    (f"redis://:{SECRET}@127.0.0.1:1/0", "redis://:***@127.0.0.1:1/0"),
    (f"redis://crawler:{SECRET}@127.0.0.1:notaport/0", "redis://crawler:***@127.0.0.1:notaport/0"),
    (f"rediss://u:{SECRET}@h:6380/0?password={SECRET}", "rediss://u:***@h:6380/0?password=***"),
    (f"unix:///run/redis.sock?password={SECRET}&db=1", "unix:///run/redis.sock?password=***&db=1"),
    (f"redis://:{SECRET}:{SECRET}@h/0", "redis://:***@h/0"),
    ("redis://user@h:6379/0", "redis://user@h:6379/0"),
])
def test_redact_url_masks_passwords(url, shown):
    assert redact_url(url) == shown
