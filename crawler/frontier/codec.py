"""Requests as JSON, never pickle.

A request in Redis is one JSON object: url, method, headers, body, cookies,
meta, priority, callback and errback by name, cb_kwargs, flags and the host it
belongs to. Anything that JSON cannot represent faithfully is refused when the
request is queued (:class:`UnserializableRequest`), so that what a worker reads
back is always plain data: it is parsed and validated, never executed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.utils.request import request_from_dict

from crawler.base.urls import url_host

if TYPE_CHECKING:
    from scrapy import Spider

__all__ = [
    "CorruptRequest", "UnserializableRequest", "decode_request", "encode_request",
    "seed_payload",
]

_FORMAT = 1
# Request subclasses that may be rebuilt from their "_class" field. Any other
# class name found in Redis is refused rather than imported.
_ALLOWED_CLASSES = frozenset({
    "scrapy.http.request.Request",
    "scrapy.http.request.form.FormRequest",
    "scrapy.http.request.json_request.JsonRequest",
})


class UnserializableRequest(ValueError):
    """The request carries something JSON cannot hold (a callable, an object in meta...)."""


class CorruptRequest(ValueError):
    """What was read from Redis is not a request this service wrote."""


def _bytes_to_str(value: bytes | str) -> str:
    # latin-1 maps every byte to one code point, so the round trip is exact.
    return value.decode("latin-1") if isinstance(value, bytes) else value


def encode_request(request: Request, spider: Spider | None = None) -> str:
    """Return ``request`` as a compact JSON string.

    Raises :class:`UnserializableRequest` naming the offending part when the
    callback is not a method of ``spider`` or when meta, cb_kwargs or cookies are
    not JSON-serializable.
    """
    try:
        data = request.to_dict(spider=spider)
    except ValueError as exc:
        raise UnserializableRequest(f"{request.url}: callback/errback must be spider methods ({exc})") from None
    if data.get("_class") and data["_class"] not in _ALLOWED_CLASSES:
        raise UnserializableRequest(f"{request.url}: request class {data['_class']} cannot be queued")
    payload = {
        "v": _FORMAT,
        "url": data["url"],
        "host": url_host(data["url"]),
        "method": data["method"],
        "priority": int(data["priority"]),
        "callback": data["callback"],
        "errback": data["errback"],
        "headers": {
            _bytes_to_str(k): [_bytes_to_str(v) for v in values]
            for k, values in data["headers"].items()
        },
        "body": _bytes_to_str(data["body"]),
        "cookies": data["cookies"],
        "meta": data["meta"],
        "cb_kwargs": data["cb_kwargs"],
        "encoding": data["encoding"],
        "dont_filter": bool(data["dont_filter"]),
        "flags": list(data["flags"]),
    }
    if data.get("_class"):
        payload["_class"] = data["_class"]
    return _dumps(payload, request.url)


def seed_payload(url: str, *, meta: dict | None = None, priority: int = 0,
                 callback: str | None = None, errback: str | None = None,
                 headers: dict[str, str] | None = None, dont_filter: bool = False) -> str:
    """The JSON of a plain GET request for ``url``, without building a Request.

    The same payload :func:`encode_request` gives ``Request(url, meta=meta,
    priority=priority, ...)`` (callback and errback the names of spider methods,
    ``headers`` one latin-1 value per name) for a URL that needs no escaping; it
    exists because seeding 100,000 URLs must take seconds, and hubs
    (:func:`crawler.frontier.hubs.hub_payload`) are requests written without a
    spider. Raises UnserializableRequest.
    """
    return _dumps({
        "v": _FORMAT, "url": url, "host": url_host(url), "method": "GET",
        "priority": priority, "callback": callback, "errback": errback,
        "headers": {name: [value] for name, value in (headers or {}).items()}, "body": "",
        "cookies": {}, "meta": meta or {}, "cb_kwargs": {}, "encoding": "utf-8",
        "dont_filter": dont_filter, "flags": [],
    }, url)


def _dumps(payload: dict[str, Any], url: str) -> str:
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise UnserializableRequest(
            f"{url}: meta, cb_kwargs and cookies must be JSON-serializable ({exc})"
        ) from None


def decode_request(raw: str | bytes, spider: Spider | None = None) -> Request:
    """Rebuild a request from :func:`encode_request` output.

    Raises :class:`CorruptRequest` for anything else: invalid JSON, a pickle, a
    missing or mistyped field, an unknown request class or callback.
    """
    try:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8")
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise CorruptRequest(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("v") != _FORMAT:
        raise CorruptRequest("not a request written by this service")
    for name, kind in (("url", str), ("method", str), ("priority", int), ("headers", dict),
                       ("body", str), ("meta", dict), ("cb_kwargs", dict)):
        if not isinstance(data.get(name), kind):
            raise CorruptRequest(f"field {name!r} missing or not {kind.__name__}")
    cls_name = data.get("_class")
    if cls_name is not None and cls_name not in _ALLOWED_CLASSES:
        raise CorruptRequest(f"request class {cls_name!r} is not allowed")
    fields = {
        "url": data["url"],
        "method": data["method"],
        "priority": data["priority"],
        "callback": data.get("callback"),
        "errback": data.get("errback"),
        "headers": {k: [v.encode("latin-1") for v in vs] for k, vs in data["headers"].items()},
        "body": data["body"].encode("latin-1"),
        "cookies": data.get("cookies") or {},
        "meta": data["meta"],
        "cb_kwargs": data["cb_kwargs"],
        "encoding": data.get("encoding") or "utf-8",
        "dont_filter": bool(data.get("dont_filter")),
        "flags": data.get("flags") or [],
    }
    if cls_name:
        fields["_class"] = cls_name
    try:
        return request_from_dict(fields, spider=spider)
    except (ValueError, TypeError, AttributeError) as exc:
        raise CorruptRequest(f"cannot rebuild request: {exc}") from None
