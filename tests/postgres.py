"""A real, temporary PostgreSQL for the tests: ``postgres`` (the server) and ``store_location``.

One cluster per test session (per xdist worker): Debian's ``initdb`` and ``pg_ctl`` in a temporary
folder, listening on a unix socket only, run as ``nobody`` when the tests run as root (PostgreSQL
refuses to run as root). Each test gets a database of its own, copied from a template: an empty one
(``postgres_url``) or one holding the store's schema, made once per session (``store_location``), so
a test pays for a file copy, not for the migrations. Every user but ``PASSWORD_USER`` is trusted;
that one must give its password, for the tests of a wrong one. Without PostgreSQL on the machine the
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

# A role that logs in with a password (the cluster trusts every other user on its socket).
PASSWORD_USER = "newsmirror"
PASSWORD = "right-password"
# The database with the store's schema that ``store_location`` copies.
_STORE_TEMPLATE = "store_template"


@dataclass(frozen=True)
class PostgresServer:
    socket_dir: Path
    port: int

    def url(self, database: str = "postgres", *, user: str = "postgres", password: str = "") -> str:
        login = f"{user}:{password}" if password else user
        return f"postgresql://{login}@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str, *, template: str = "template1") -> str:
        """A new database copied from ``template``; its URL. FILE_COPY copies the template's files,
        which without fsync is several times quicker than the default's page by page copy."""
        self.admin(
            f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'
        )
        return self.url(name)

    def give_database(self, name: str, owner: str) -> None:
        """Make ``owner`` the owner of the database ``name`` (``createdb --owner``, after the fact)."""
        self.admin(f'ALTER DATABASE "{name}" OWNER TO "{owner}"')

    def drop_connections(self, name: str) -> int:
        """End every session on the database ``name``, as a server restart does; how many there were."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as admin:
            rows = admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchall()
        return len(rows)

    def admin(self, *statements: str) -> None:
        """Run statements as the cluster's superuser, each on its own (CREATE DATABASE cannot be in a transaction)."""
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as admin:
            for statement in statements:
                admin.execute(statement)


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
    hba = data / "pg_hba.conf"
    hba.write_text(f"local all {PASSWORD_USER} scram-sha-256\n" + hba.read_text())
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
        server = PostgresServer(base, port)
        _prepare(server)
        yield server
    finally:
        subprocess.run(
            _as_unprivileged([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def _prepare(server: PostgresServer) -> None:
    """The password user, and the template holding the store's schema, made by the store itself."""
    from newsmirror.store import Store

    server.admin(f"CREATE ROLE {PASSWORD_USER} LOGIN PASSWORD '{PASSWORD}'")
    Store(server.create_database(_STORE_TEMPLATE)).close()


_databases = itertools.count()


def _database_name() -> str:
    return f"test_{os.getpid()}_{next(_databases)}"


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """A new, empty database of the session's cluster (the store makes its schema on first open)."""
    return postgres.create_database(_database_name())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's store lives: a SQLite file, then a PostgreSQL database with the store's schema."""
    if request.param == "sqlite":
        return tmp_path / "store.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.create_database(_database_name(), template=_STORE_TEMPLATE)
