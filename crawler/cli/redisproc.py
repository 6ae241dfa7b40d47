"""A private redis-server for one-command crawls (``crawler crawl`` without ``REDIS_URL``)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import redis

__all__ = ["PrivateRedis"]


class PrivateRedis:
    """A real redis-server on a unix socket in a temporary folder, stopped on exit.

    It listens on no TCP port and keeps nothing on disk: the crawl's results
    are exported before it stops. Raises RuntimeError with the reason when
    redis-server is missing or does not start.
    """

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def __enter__(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server), "
                               "or set REDIS_URL to a running Redis")
        self.dir = Path(tempfile.mkdtemp(prefix="crawler-redis-"))
        socket_path = self.dir / "redis.sock"
        self.proc = subprocess.Popen(
            [binary, "--port", "0", "--unixsocket", str(socket_path), "--unixsocketperm", "700",
             "--save", "", "--appendonly", "no", "--dir", str(self.dir),
             "--logfile", str(self.dir / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            # Out of the terminal's process group: a Ctrl-C must not stop it before
            # the crawl's articles are exported from it.
            start_new_session=True,
        )
        self.url = f"unix://{socket_path}?db=0"
        client = redis.Redis.from_url(self.url)
        deadline = time.monotonic() + 10
        try:
            while True:
                try:
                    client.ping()
                    return self
                except (redis.ConnectionError, FileNotFoundError):
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        self.__exit__(None, None, None)
                        raise RuntimeError("the private redis-server did not start") from None
                    time.sleep(0.05)
        finally:
            client.close()

    def __exit__(self, *exc_info: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
