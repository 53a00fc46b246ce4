"""A real, temporary PostgreSQL for the tests: ``postgres`` (the server) and ``store_location``.

One cluster per test session (per xdist worker): Debian's ``initdb`` and ``pg_ctl`` in a temporary
folder, listening on a unix socket only, run as ``nobody`` when the tests run as root (PostgreSQL
refuses to run as root). Each test gets a database of its own. Without PostgreSQL on the machine the
tests that need it are skipped, and say why, except under CI (``CI=true``), where they fail.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path
    port: int

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI needs PostgreSQL for these tests, but {reason} (scripts/test.sh installs it)")
    pytest.skip(f"PostgreSQL: {reason}; install Debian's postgresql to run these tests")


def _as_unprivileged(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "nobody", "--", *command]


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    initdbs = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not initdbs:
        _unavailable("no /usr/lib/postgresql/*/bin/initdb on this machine")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install -e '.[test]')")
    bin_dir = Path(initdbs[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="newsmirror-pg-"))
    if os.geteuid() == 0:
        nobody = pwd.getpwnam("nobody")
        os.chown(base, nobody.pw_uid, nobody.pw_gid)
    data = base / "data"
    port = 5432
    subprocess.run(
        _as_unprivileged(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    # A unix socket in the cluster's own folder, no TCP: nothing else on the machine can collide with it.
    options = f"-k {base} -p {port} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
    options += " -c full_page_writes=off -c max_connections=200"
    subprocess.run(
        _as_unprivileged(
            [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start"]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield PostgresServer(base, port)
    finally:
        subprocess.run(
            _as_unprivileged([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A new, empty database of the session's cluster."""
    return postgres.create_database(f"test_{os.getpid()}_{next(_databases)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's store lives: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "store.db"
    return request.getfixturevalue("postgres_url")
