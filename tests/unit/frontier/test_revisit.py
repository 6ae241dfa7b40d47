"""The interval rule of hubs (crawler/frontier/revisit.py): pure, checked value by value."""

from __future__ import annotations

import random

import pytest
from scrapy.settings import Settings

from crawler.base.counters import HUB_KINDS
from crawler.frontier.config import FrontierConfig
from crawler.frontier.revisit import (
    Visit, failure_delay, initial_interval, jittered, next_interval, plan_visit,
)

CONFIG = FrontierConfig(revisit_min=300.0, revisit_max=86400.0, hub_max_failures=5)
FIXED = FrontierConfig(revisit_min=300.0, revisit_max=86400.0, revisit_adaptive=False)


class _NoJitter(random.Random):
    def uniform(self, a, b):
        return 0.0


NO_JITTER = _NoJitter()


def test_initial_interval_by_kind():
    assert {kind: initial_interval(kind, CONFIG) for kind in HUB_KINDS} == {
        "home": 300.0, "feed": 300.0, "news-sitemap": 300.0, "front": 1200.0, "sitemap": 1200.0}
    # 4 x min is capped by max
    small = FrontierConfig(revisit_min=10.0, revisit_max=25.0)
    assert initial_interval("front", small) == 25.0
    assert {initial_interval(kind, FIXED) for kind in HUB_KINDS} == {300.0}
    with pytest.raises(ValueError, match="not a hub kind: 'blog'"):
        initial_interval("blog", CONFIG)


def test_new_links_halve_the_interval_down_to_min():
    assert next_interval(1200.0, "changed", CONFIG) == 600.0
    assert next_interval(500.0, "changed", CONFIG) == 300.0
    assert next_interval(300.0, "changed", CONFIG) == 300.0


def test_no_new_links_grow_it_by_half_up_to_max():
    assert next_interval(300.0, "unchanged", CONFIG) == 450.0
    assert next_interval(450.0, "not_modified", CONFIG) == 675.0
    assert next_interval(80000.0, "unchanged", CONFIG) == 86400.0


def test_an_error_keeps_the_interval_and_unknown_results_are_refused():
    assert next_interval(1200.0, "error", CONFIG) == 1200.0
    with pytest.raises(ValueError, match="not a hub visit result: 'gone'"):
        next_interval(300.0, "gone", CONFIG)


def test_a_fixed_schedule_stays_at_min():
    for result in ("changed", "unchanged", "not_modified", "error"):
        assert next_interval(5000.0, result, FIXED) == 300.0
    assert plan_visit(300.0, 0, "unchanged", FIXED, NO_JITTER) == Visit(300.0, 0, 300.0, False)


def test_failures_back_off_exponentially_up_to_max():
    assert [failure_delay(300.0, n, CONFIG) for n in (1, 2, 3, 4)] == [600.0, 1200.0, 2400.0, 4800.0]
    assert failure_delay(300.0, 10, CONFIG) == 86400.0
    assert failure_delay(300.0, 10_000, CONFIG) == 86400.0  # no overflow


def test_the_whole_rule_through_a_series_of_visits():
    interval, failures = initial_interval("feed", CONFIG), 0
    plans = []
    for result in ("unchanged", "unchanged", "changed", "error", "error", "not_modified", "error",
                   "error", "error", "error", "error"):
        plan = plan_visit(interval, failures, result, CONFIG, NO_JITTER)
        plans.append(plan)
        interval, failures = plan.interval, plan.failures
    assert plans == [
        Visit(450.0, 0, 450.0, False),
        Visit(675.0, 0, 675.0, False),
        Visit(337.5, 0, 337.5, False),
        Visit(337.5, 1, 675.0, False),
        Visit(337.5, 2, 1350.0, False),
        Visit(506.25, 0, 506.25, False),  # a success resets the failures
        Visit(506.25, 1, 1012.5, False),
        Visit(506.25, 2, 2025.0, False),
        Visit(506.25, 3, 4050.0, False),
        Visit(506.25, 4, 8100.0, False),
        Visit(506.25, 5, None, True),  # FRONTIER_HUB_MAX_FAILURES consecutive failures: retired
    ]


def test_jitter_spreads_delays_by_ten_percent():
    rng = random.Random(7)
    values = [jittered(1000.0, rng) for _ in range(2000)]
    assert 900.0 <= min(values) < 910.0 and 1090.0 < max(values) <= 1100.0


@pytest.mark.parametrize("settings, error", [
    ({"FRONTIER_REVISIT_MIN": 600, "FRONTIER_REVISIT_MAX": 60},
     r"FRONTIER_REVISIT_MAX \(60\) must be at least FRONTIER_REVISIT_MIN \(600\)"),
    ({"FRONTIER_REVISIT_MIN": 0}, "FRONTIER_REVISIT_MIN must be a positive number of seconds"),
    ({"FRONTIER_REVISIT_MIN": "soon"}, "FRONTIER_REVISIT_MIN must be a number, got 'soon'"),
    ({"FRONTIER_REVISIT_ADAPTIVE": "maybe"}, "FRONTIER_REVISIT_ADAPTIVE must be True or False"),
    ({"FRONTIER_MAX_ARTICLE_AGE": -1}, "FRONTIER_MAX_ARTICLE_AGE must be a positive"),
    ({"FRONTIER_HUB_MAX_FAILURES": 0}, "FRONTIER_HUB_MAX_FAILURES must be at least 1"),
    ({"FRONTIER_REVISIT_OVERDUE": 0}, "FRONTIER_REVISIT_OVERDUE must be a positive"),
    ({"FRONTIER_MAX_FRONTS_PER_SITE": -2}, "FRONTIER_MAX_FRONTS_PER_SITE must be 0"),
])
def test_bad_hub_settings_are_named(settings, error):
    with pytest.raises(ValueError, match=error):
        FrontierConfig.from_settings(Settings(settings))


def test_hub_settings_defaults_and_overrides():
    config = FrontierConfig.from_settings(Settings())
    assert (config.revisit_min, config.revisit_max, config.revisit_adaptive, config.max_article_age,
            config.hub_max_failures, config.revisit_overdue, config.max_fronts_per_site) == (
        300.0, 86400.0, True, 172800.0, 5, 300.0, 30)
    config = FrontierConfig.from_settings(Settings({
        "FRONTIER_REVISIT_MIN": "5", "FRONTIER_REVISIT_MAX": "5", "FRONTIER_REVISIT_ADAPTIVE": "False"}))
    assert (config.revisit_min, config.revisit_max, config.revisit_adaptive) == (5.0, 5.0, False)
