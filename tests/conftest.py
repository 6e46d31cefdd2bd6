"""Repository-wide test settings and a real PostgreSQL server for the session.

``postgres_server`` starts a throw-away server (initdb + pg_ctl, as the
``postgres`` OS user when we run as root) bound to 127.0.0.1 on a free port,
with trust auth and durability off (test data need not survive a power cut),
and yields ``postgresql://postgres@127.0.0.1:PORT/tunebook_test``.
``postgres_url`` empties that database for each test.

Without the server binaries the PostgreSQL tests are skipped, unless
``TUNEBOOK_REQUIRE_POSTGRES=1`` (CI), which makes them fail.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import Iterator

import pytest

_DATABASE = "tunebook_test"


def _pg_bindir() -> Path | None:
    """The folder holding initdb and pg_ctl: from PATH, else the newest Debian install."""
    found = shutil.which("initdb")
    candidates = [Path(found).resolve().parent, Path(found).parent] if found else []
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    candidates += [Path(p) for p in versions]
    for folder in candidates:
        if (folder / "initdb").exists() and (folder / "pg_ctl").exists():
            return folder
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("TUNEBOOK_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"TUNEBOOK_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _Server:
    """One PostgreSQL cluster in a temporary folder."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="tunebook-pg-", dir="/tmp"))
        self.data, self.sockets, self.log = self.base / "data", self.base / "sockets", self.base / "server.log"
        self.sockets.mkdir()
        self.port, self.running = 0, False
        if self.as_root:  # initdb refuses root: the cluster belongs to the postgres user
            user = pwd.getpwnam("postgres")
            self.base.chmod(0o755)
            for path in (self.base, self.sockets):
                os.chown(path, user.pw_uid, user.pw_gid)

    def _run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}{log}")

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
                  "--locale=C", "--no-sync")  # fmt: skip
        for attempt in range(3):  # another process may grab the free port first
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.sockets} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
            )
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                          "-o", options, "start")  # fmt: skip
                self.running = True
                return
            except RuntimeError:
                if attempt == 2:
                    raise

    def restart(self) -> None:
        """``pg_ctl restart`` (fast mode): every session is cut, the server is back when it returns."""
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "-t", "60", "restart")

    def stop(self) -> None:
        try:
            if self.running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def admin(self, sql: str, database: str = "postgres") -> None:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(sql)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[_Server]:
    """A running server with a ``tunebook_test`` database."""
    bindir = _pg_bindir()
    if bindir is None:
        _unavailable("PostgreSQL server binaries (initdb, pg_ctl) not found")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("running as root and there is no 'postgres' user to run initdb as")
    server = _Server(bindir)
    try:
        server.start()
        server.admin(f"CREATE DATABASE {_DATABASE}")
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: _Server) -> str:
    """``postgresql://postgres@127.0.0.1:PORT/tunebook_test``, emptied for this test.

    Emptying (drop and recreate the ``public`` schema, after ending any session
    a previous test left behind) is ~10x faster than a new database per test.
    """
    postgres_server.admin(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{_DATABASE}' AND pid <> pg_backend_pid()"
    )
    postgres_server.admin("DROP SCHEMA public CASCADE; CREATE SCHEMA public", database=_DATABASE)
    return postgres_server.url(_DATABASE)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A plain ``pytest`` stays fast: ``slow`` tests run only when ``-m`` selects tests.

    ``make test`` runs ``-m "not slow"`` and then ``-m slow``, so CI runs both.
    """
    if config.option.markexpr:
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow (make test does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
