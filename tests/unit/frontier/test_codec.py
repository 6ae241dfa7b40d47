"""crawler.frontier.codec: requests as JSON, never pickle, and refused when JSON cannot hold them."""

from __future__ import annotations

import json
import pickle

import pytest
from scrapy import Request

from crawler.frontier.codec import (
    CorruptRequest, UnserializableRequest, decode_request, encode_request, seed_payload,
)
from tests.support.spiders import CallbackSpider


def test_codec_round_trip_keeps_everything():
    spider = CallbackSpider()
    request = Request("https://example.com/a?x=1", method="POST", body=b"\x00\xffbody",
                      headers={"X-Test": "v"}, meta={"depth": 2, "tags": ["a"]}, priority=7,
                      callback=spider.parse, errback=spider.on_error, cb_kwargs={"k": 1},
                      cookies={"c": "1"}, dont_filter=True, flags=["f"])
    again = decode_request(encode_request(request, spider), spider)
    assert (again.url, again.method, again.body, again.priority, again.meta, again.cb_kwargs,
            again.dont_filter, again.flags, again.cookies) == (
        request.url, "POST", b"\x00\xffbody", 7, {"depth": 2, "tags": ["a"]}, {"k": 1}, True, ["f"], {"c": "1"})
    assert again.callback == spider.parse and again.errback == spider.on_error
    assert again.headers.getlist("X-Test") == [b"v"]


def test_codec_refuses_what_json_cannot_hold():
    with pytest.raises(UnserializableRequest, match="JSON-serializable"):
        encode_request(Request("https://example.com/", meta={"obj": object()}))
    with pytest.raises(UnserializableRequest, match="spider methods"):
        encode_request(Request("https://example.com/", callback=lambda r: None), CallbackSpider())


@pytest.mark.parametrize("raw", [
    b"not json", pickle.dumps({"url": "https://example.com/"}), json.dumps([1, 2]),
    json.dumps({"v": 1, "url": "https://example.com/"}),
    json.dumps({"v": 1, "url": "https://e.com/", "method": "GET", "priority": 0, "headers": {},
                "body": "", "meta": {}, "cb_kwargs": {}, "_class": "os.system"}),
])
def test_codec_rejects_corrupt_and_pickled_data(raw):
    with pytest.raises(CorruptRequest):
        decode_request(raw)


def test_seed_payload_matches_a_queued_request():
    url = "https://example.com/a?b=1"
    assert seed_payload(url, meta={"m": 1}, priority=3) == encode_request(
        Request(url, meta={"m": 1}, priority=3))
