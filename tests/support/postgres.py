"""A private PostgreSQL server for the tests: Debian's binaries (``initdb``, ``pg_ctl``), a data
folder and a unix socket in a temporary folder, a free port number, trust authentication.

Never the machine's own cluster: nothing listens on TCP, and the socket lives in the
temporary folder. When the tests run as root, the server runs as the ``postgres`` user
(PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.redis import free_port

USER = "crawler"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                   key=lambda path: int(Path(path).parts[4]) if Path(path).parts[4].isdigit() else 0)
    if found:
        return found[-1]
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `make test`, which installs Debian's postgresql package")
    return path


@dataclass
class PostgresServer:
    workdir: Path
    port: int
    socket_dir: Path
    _as_user: list[str]

    def url(self, database: str = USER) -> str:
        return f"postgresql://{USER}@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        subprocess.run([*self._as_user, _bin("pg_ctl"), "-D", str(self.workdir / "data"), "-m", "immediate",
                        "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.workdir, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb, then pg_ctl start on a unix socket only; fails the test with the log when it cannot."""
    workdir = Path(tempfile.mkdtemp(prefix="crawler-test-pg-"))
    socket_dir = workdir / "socket"
    socket_dir.mkdir()
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(workdir, "postgres")
        shutil.chown(socket_dir, "postgres")
    port = free_port()
    data = workdir / "data"
    init = subprocess.run([*as_user, _bin("initdb"), "-D", str(data), "-U", USER, "--auth=trust",
                           "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
                          capture_output=True, text=True, timeout=120)
    if init.returncode != 0:
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(f"initdb failed: {init.stdout[-2000:]}{init.stderr[-2000:]}")
    options = (f"-p {port} -k {socket_dir} -c listen_addresses='' -c fsync=off "
               f"-c synchronous_commit=off -c full_page_writes=off")
    start = subprocess.run([*as_user, _bin("pg_ctl"), "-D", str(data), "-l", str(workdir / "log"),
                            "-o", options, "-w", "-t", "60", "start"],
                           capture_output=True, text=True, timeout=90)
    if start.returncode != 0:
        log = (workdir / "log").read_text(errors="replace") if (workdir / "log").exists() else ""
        shutil.rmtree(workdir, ignore_errors=True)
        pytest.fail(f"PostgreSQL did not start: {start.stderr[-2000:]} {log[-2000:]}")
    server = PostgresServer(workdir, port, socket_dir, as_user)
    import psycopg

    with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {USER}")
    return server
