"""The local site the frontier benchmark crawls, and the servers it runs on.

:func:`generate_site` writes a deterministic static site of small linked pages;
:class:`Nginx` serves a folder with its own configuration on a free loopback
port; :class:`RedisServer` is a private redis-server on another. Both are
stopped (by their own process id) when their ``with`` block ends. Nothing here
listens on anything but 127.0.0.1.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import redis

__all__ = ["Nginx", "NginxMissing", "RedisServer", "ensure_nginx", "free_port", "generate_site",
           "page_links", "page_path", "proc_cpu_seconds"]

# Links per page: up to 5 children in a 5-ary tree (so every page is reachable
# from page 0 within log5(N) clicks), the rest chosen at random among all pages
# (so most links lead to pages already seen, as on a real site).
LINKS_PER_PAGE = 10
_TREE_CHILDREN = 5
_FILLER = ("Councillors met on Tuesday to discuss the harbour budget, the new ferry timetable "
           "and the parking plans for the old market square.")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def page_path(number: int) -> str:
    return f"/p/{number}.html"


def page_links(number: int, pages: int, links: int = LINKS_PER_PAGE) -> list[int]:
    """The pages that page ``number`` links to: deterministic, distinct, never itself."""
    targets = [child for child in range(_TREE_CHILDREN * number + 1, _TREE_CHILDREN * number + 1 + _TREE_CHILDREN)
               if child < pages]
    rng = random.Random(number)
    wanted = min(links, pages - 1)
    while len(targets) < wanted:
        other = rng.randrange(pages)
        if other != number and other not in targets:
            targets.append(other)
    return targets


def generate_site(root: Path, pages: int) -> str:
    """Write ``pages`` linked HTML pages under ``root``; returns the start page's path.

    Every page is reachable from the start page (``/p/0.html``), links to about
    ten others with root-relative hrefs, and weighs under 1 KB.
    """
    if pages < 2:
        raise ValueError("the site needs at least 2 pages")
    folder = root / "p"
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(pages):
        items = "".join(f'<li><a href="{page_path(target)}">Page {target}</a></li>'
                        for target in page_links(number, pages))
        (folder / f"{number}.html").write_text(
            f'<!doctype html><html><head><meta charset="utf-8"><title>Page {number}</title></head>'
            f"<body><h1>Page {number}</h1><p>{_FILLER}</p><ul>{items}</ul></body></html>\n")
    return page_path(0)


class NginxMissing(RuntimeError):
    """nginx is not installed and could not be installed; the message says what to do."""


def ensure_nginx(*, install: bool) -> str:
    """The nginx binary; with ``install``, apt-get installs the Debian package when it is missing."""
    found = shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None)
    if found:
        return found
    hint = "install the Debian package: apt-get install nginx"
    if not install:
        raise NginxMissing(f"nginx is not installed ({hint})")
    apt = shutil.which("apt-get")
    sudo = [] if os.geteuid() == 0 else ([shutil.which("sudo")] if shutil.which("sudo") else None)
    if apt is None or sudo is None:
        raise NginxMissing(f"nginx is not installed and cannot be installed here ({hint})")
    print("nginx is not installed: installing the Debian package nginx with apt-get", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([*sudo, apt, "update", "-qq"],
                    [*sudo, apt, "install", "-y", "-qq", "--no-install-recommends", "nginx"]):
        try:
            subprocess.run(command, env=env, check=True, timeout=600,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            detail = (getattr(exc, "stderr", b"") or b"").decode(errors="replace").strip().splitlines()
            raise NginxMissing(f"could not install nginx ({' '.join(command[-3:])}: "
                               f"{detail[-1] if detail else exc})") from None
    return ensure_nginx(install=False)


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (0.0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _wait_until(check, timeout: float, what: str, proc: subprocess.Popen, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (OSError, redis.RedisError):
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            detail = log.read_text(errors="replace").strip()[-500:] if log and log.exists() else ""
            raise RuntimeError(f"{what} did not start{': ' + detail if detail else ''}")
        time.sleep(0.05)


class Nginx:
    """nginx serving ``root`` on a free 127.0.0.1 port, configured and run from ``workdir``.

    Two worker processes, no access log, keep-alive for the whole crawl; the
    pid file, logs and temporary folders live in ``workdir``. Runs in the
    foreground (``daemon off``) so that stopping it is stopping one process.
    """

    def __init__(self, binary: str, root: Path, workdir: Path, probe: str = "/") -> None:
        self.binary = binary
        self.root = root
        self.workdir = workdir
        self.probe = probe
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _config(self) -> str:
        w = self.workdir
        user = "user root;\n" if os.geteuid() == 0 else ""
        temp = "".join(f"  {name}_temp_path {w}/{name}_temp;\n"
                       for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        return f"""{user}worker_processes 2;
daemon off;
pid {w}/nginx.pid;
error_log {w}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
{temp}  types {{ text/html html; }}
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=20000 inactive=60s;
  server {{
    listen 127.0.0.1:{self.port};
    root {self.root};
  }}
}}
"""

    def __enter__(self) -> Nginx:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        config = self.workdir / "nginx.conf"
        config.write_text(self._config())
        log = self.workdir / "error.log"
        self.proc = subprocess.Popen([self.binary, "-p", str(self.workdir), "-e", str(log), "-c", str(config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def answers() -> bool:
            with urllib.request.urlopen(self.base_url + self.probe, timeout=2) as response:
                return response.status == 200

        try:
            _wait_until(answers, 10, "nginx", self.proc, log)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def cpu_seconds(self) -> float:
        """CPU seconds of the master and its worker processes so far."""
        if self.proc is None:
            return 0.0
        return sum(proc_cpu_seconds(pid) for pid in (self.proc.pid, *_children(self.proc.pid)))

    def version(self) -> str:
        result = subprocess.run([self.binary, "-v"], capture_output=True, text=True, timeout=10)
        return (result.stderr or result.stdout).strip().removeprefix("nginx version: ")

    def __exit__(self, *exc_info: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: nginx's fast shutdown, workers included
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class RedisServer:
    """A private redis-server on a free 127.0.0.1 port (never 6379), nothing saved to disk."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def __enter__(self) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        log = self.workdir / "redis.log"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url)
        try:
            _wait_until(client.ping, 10, "redis-server", self.proc, log)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        finally:
            client.close()
        return self

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.proc.pid) if self.proc is not None else 0.0

    def __exit__(self, *exc_info: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
