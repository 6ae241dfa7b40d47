"""The scheduler's contract with Scrapy, without Redis: its settings, and reading the engine."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import scrapy
from scrapy import Request
from scrapy.utils.test import get_crawler

from crawler.frontier import FrontierConfig, defaults
from crawler.frontier.scheduler import EngineIncompatible, engine_in_progress
from tests.support.engine import stand_in_engine


class _Spider(scrapy.Spider):
    name = "news"


def test_config_defaults_come_from_the_frontier_not_the_project():
    config = FrontierConfig.from_settings(get_crawler(_Spider, settings_dict={}).settings)
    assert config == FrontierConfig()
    assert (config.redis_url, config.heartbeat_seconds, config.lease_seconds, config.host_delay) == (
        defaults.REDIS_URL, defaults.FRONTIER_HEARTBEAT_SECONDS, defaults.FRONTIER_LEASE_SECONDS,
        defaults.FRONTIER_HOST_DELAY)


@pytest.mark.parametrize(("settings", "message"), [
    ({"FRONTIER_HEARTBEAT_SECONDS": 0}, "FRONTIER_HEARTBEAT_SECONDS must be positive"),
    ({"FRONTIER_LEASE_SECONDS": 3}, "at least twice FRONTIER_HEARTBEAT_SECONDS"),
    ({"FRONTIER_HOST_DELAY": -1}, "FRONTIER_HOST_DELAY must be 0 or more"),
    ({"FRONTIER_SEEN": "cuckoo"}, "FRONTIER_SEEN must be 'set' or 'bloom'"),
    ({"FRONTIER_LEASE_BATCH": "many"}, "FRONTIER_LEASE_BATCH must be a number, got 'many'"),
    ({"FRONTIER_UNTIL_IDLE": -5}, "FRONTIER_UNTIL_IDLE must be 0"),
    ({"REDIS_URL": ""}, "REDIS_URL is empty"),
    ({"FRONTIER_REVISIT_OVERDUE": 0}, "FRONTIER_REVISIT_OVERDUE must be a positive number"),
])
def test_config_rejects_bad_values_naming_the_setting(settings, message):
    with pytest.raises(ValueError, match=message):
        FrontierConfig.from_settings(get_crawler(_Spider, settings_dict=settings).settings)


def test_engine_in_progress_fails_loudly_naming_the_scrapy_version():
    with pytest.raises(EngineIncompatible, match=rf"Scrapy {scrapy.__version__}'s engine has no "
                                                 r"_slot.inprogress"):
        engine_in_progress(SimpleNamespace())
    with pytest.raises(EngineIncompatible):
        engine_in_progress(SimpleNamespace(_slot=SimpleNamespace()))
    in_progress = {Request("https://a.example/")}
    assert engine_in_progress(stand_in_engine(in_progress)) is in_progress
