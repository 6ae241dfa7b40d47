"""WARC files alone: names, rotation, the records of an exchange, a failed write, a file cut short."""

from __future__ import annotations

import errno
import gzip
import random
import resource
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from crawler.store.warc import (
    OPEN_SUFFIX,
    ArchiveError,
    Exchange,
    WarcFiles,
    archive_paths,
    file_name,
    read_responses,
)

WORKER = "news-7f:4242:a1b2c3"
BODY = b"<html><body>" + b"<p>The harbour budget, line %d.</p>" * 60 + b"</body></html>"


class _Clock:
    """A clock that moves one second per reading (names and dates are then predictable)."""

    def __init__(self, start: float = 1_767_225_600.0) -> None:  # 2026-01-01T00:00:00Z
        self.now = start

    def __call__(self) -> float:
        self.now += 1
        return self.now


def _exchange(n: int, body: bytes = BODY, **kwargs) -> Exchange:
    fields = {"request_headers": [("User-Agent", "news-crawler/0.1")], "ip_address": "127.0.0.1", **kwargs}
    return Exchange(url=f"http://127.0.0.1:8000/news/{n}.html?page=1", status=200,
                    response_headers=[("Content-Type", "text/html; charset=utf-8"),
                                      ("Content-Length", str(len(body)))],
                    body=body, **fields)


def _records(path: Path) -> list:
    """(type, offset, WARC headers, HTTP headers, block) of every record, digests checked."""
    out = []
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream, check_digests=True)
        for record in records:
            block = record.content_stream().read()
            assert record.digest_checker.passed is not False, record.digest_checker.problems
            out.append((record.rec_type, records.get_record_offset(), record.rec_headers,
                        record.http_headers, block))
    return out


def test_file_names_say_crawl_worker_utc_time_and_serial():
    assert file_name("news", WORKER, 1_767_225_600.25, 3) == (
        "news-news_7f_4242_a1b2c3-20260101T000000250000Z-00003.warc.gz")
    assert file_name("a b/c", "h:1:x", 0, 0) == "a_b_c-h_1_x-19700101T000000000000Z-00000.warc.gz"


def test_an_exchange_is_a_response_then_its_request_each_with_digests(tmp_path):
    files = WarcFiles(tmp_path, "news", WORKER, info={"isPartOf": "news"}, clock=_Clock())
    path, offset = files.write(_exchange(1, request_headers=[
        ("User-Agent", "ua"), ("Proxy-Authorization", "Basic c2VjcmV0"), ("Accept-Encoding", "gzip")],
    ))
    assert files.current == tmp_path / (path.name + OPEN_SUFFIX) and not path.exists()
    assert files.close() == path and path.exists() and files.current is None
    info, response, request = _records(path)
    assert info[0] == "warcinfo" and info[2].get_header("WARC-Filename") == path.name
    assert b"isPartOf: news" in info[4]
    assert response[0] == "response" and response[1] == offset
    headers = response[2]
    assert headers.protocol == "WARC/1.1"
    assert headers.get_header("WARC-Target-URI") == "http://127.0.0.1:8000/news/1.html?page=1"
    assert headers.get_header("WARC-IP-Address") == "127.0.0.1"
    assert headers.get_header("WARC-Date") == "2026-01-01T00:00:01Z"
    assert headers.get_header("WARC-Payload-Digest").startswith("sha1:")
    assert headers.get_header("WARC-Warcinfo-ID") == info[2].get_header("WARC-Record-ID")
    assert response[3].statusline == "200 OK" and response[4] == BODY
    assert request[0] == "request"
    assert request[2].get_header("WARC-Concurrent-To") == headers.get_header("WARC-Record-ID")
    assert request[2].get_header("WARC-Date") == headers.get_header("WARC-Date")
    assert request[3].to_str().splitlines()[0] == "GET /news/1.html?page=1 HTTP/1.1"
    assert request[3].headers == [("User-Agent", "ua"), ("Accept-Encoding", "gzip")]  # no proxy secret
    # Every record is a gzip member of its own.
    data = path.read_bytes()
    assert data.count(b"\x1f\x8b\x08") >= 3 and gzip.decompress(data).startswith(b"WARC/1.1\r\n")


def test_the_body_is_kept_as_received_and_a_chunked_header_is_renamed(tmp_path):
    encoded = gzip.compress(BODY)
    files = WarcFiles(tmp_path, "news", WORKER)
    files.write(Exchange("http://127.0.0.1/a", 200, [("Content-Encoding", "gzip"),
                                                      ("Transfer-Encoding", "chunked")], encoded))
    [response] = list(read_responses(files.close()))
    assert response.body == encoded  # still content-encoded, as received
    assert response.headers == [("Content-Encoding", "gzip"), ("X-Archive-Orig-Transfer-Encoding", "chunked")]


def test_files_rotate_before_they_pass_max_bytes_each_with_its_warcinfo(tmp_path):
    one = len(gzip.compress(BODY)) + 1200  # about one exchange
    files = WarcFiles(tmp_path, "news", WORKER, max_bytes=3 * one, clock=_Clock())
    written = [files.write(_exchange(n)) for n in range(10)]
    noise = random.Random(10).randbytes(4 * one)  # does not compress: larger than max_bytes alone
    big = files.write(_exchange(10, body=noise))
    after = files.write(_exchange(11))
    last = files.close()
    paths = sorted(tmp_path.iterdir())
    assert paths == files.closed_files == sorted({path for path, _ in written} | {big[0], last})
    assert not [p for p in paths if p.name.endswith(OPEN_SUFFIX)]
    assert [p.name[-13:-8] for p in paths] == [f"{n:05d}" for n in range(len(paths))]
    urls = []
    for path in paths:
        records = _records(path)
        assert records[0][0] == "warcinfo" and records[0][1] == 0
        assert [r[0] for r in records[1:]] == ["response", "request"] * ((len(records) - 1) // 2)
        exchanges = (len(records) - 1) // 2
        assert path.stat().st_size <= 3 * one or exchanges == 1, (path, exchanges)
        urls += [r[2].get_header("WARC-Target-URI") for r in records if r[0] == "response"]
    assert urls == [_exchange(n).url for n in range(12)]  # archive order is write order
    assert len(paths) >= 4 and big[0] not in {path for path, _ in written}
    assert [(r.path, r.offset) for p in paths for r in read_responses(p)]  == [*written, big, after]
    assert after[0] == last


def test_a_write_the_system_refuses_is_cut_off_and_the_file_closed(tmp_path):
    files = WarcFiles(tmp_path, "news", WORKER)
    first, _ = files.write(_exchange(1))
    size = files.current.stat().st_size
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    # The kernel refuses writes past this size (EFBIG, as ENOSPC would be for a full disk);
    # the body is larger than what is left, so part of the records gets written first.
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 500, hard))
    try:
        with pytest.raises(OSError) as refused:
            files.write(_exchange(2, body=BODY * 20))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert refused.value.errno == errno.EFBIG
    assert files.current is None and files.closed_files == [first]
    assert first.stat().st_size == size  # the partial records were cut off
    assert [r.url for r in read_responses(first)] == [_exchange(1).url]
    second, offset = files.write(_exchange(3))  # a new file once writes work again
    assert second != first and [r.offset for r in read_responses(files.close())] == [offset]


def test_a_file_cut_anywhere_gives_its_complete_responses_then_an_error(tmp_path):
    files = WarcFiles(tmp_path, "news", WORKER)
    offsets = [files.write(_exchange(n))[1] for n in range(3)]
    path = files.close()
    data = path.read_bytes()
    with open(path, "rb") as stream:
        records = ArchiveIterator(stream)
        ends = {}
        for record in records:
            record.raw_stream.read()
            ends[records.get_record_offset()] = records.get_record_offset() + records.get_record_length()
    cut_file = tmp_path / "cut.warc.gz.open"
    for cut in range(0, len(data) + 1, 7):
        cut_file.write_bytes(data[:cut])
        got = []
        try:
            for response in read_responses(cut_file):
                got.append(response.offset)
        except ArchiveError as exc:
            assert str(cut_file) in str(exc)
        complete = [offset for offset in offsets if ends[offset] <= cut]
        # Every response whose record is complete, in order; one more only when nothing of its
        # block is missing, just the end of its gzip member.
        assert got == offsets[:len(got)] and got[:len(complete)] == complete, cut
        assert all(cut >= ends[offset] - 32 for offset in got[len(complete):]), cut


def test_archive_paths_expand_folders_to_their_warc_files_in_name_order(tmp_path):
    for name in ("b.warc.gz", "a.warc.gz.open", "c.txt", "a.warc.gz"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "sub.warc.gz").mkdir()
    assert archive_paths([tmp_path, "x.warc.gz"]) == [
        tmp_path / "a.warc.gz", tmp_path / "a.warc.gz.open", tmp_path / "b.warc.gz", Path("x.warc.gz")]


def test_a_file_that_is_not_warc_is_an_archive_error(tmp_path):
    path = tmp_path / "notes.warc.gz"
    path.write_bytes(b"hello, this is not WARC\n")
    with pytest.raises(ArchiveError, match="notes.warc.gz: unreadable from offset 0"):
        list(read_responses(path))
