"""Real database servers for the integration tests, started once per test session (per xdist worker).

``postgres_url`` and ``mariadb_url`` start Debian's PostgreSQL and MariaDB on loopback (see
``servers.py``) and give a SQLAlchemy URL whose database is empty at the start of each test.
A missing server binary fails the tests that need it (``.ci/run`` installs the servers): they never skip.
SQLite and DuckDB run embedded: ``sqlite_url`` / ``duckdb_url`` are files in the test's tmp_path.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import servers  # noqa: E402


def _server(start) -> Iterator[servers.Server]:
    server = start()  # ServerUnavailable (binaries not installed) fails the tests
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[servers.Server]:
    yield from _server(servers.start_postgres)


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[servers.Server]:
    yield from _server(servers.start_mariadb)


def _drop_everything(url: str) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                for (schema,) in conn.execute(sa.text(
                        "SELECT nspname FROM pg_namespace WHERE (nspowner = current_user::regrole "
                        "OR nspname = 'public') AND nspname NOT LIKE 'pg_%'")).fetchall():
                    conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
                conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS public"))
            else:
                conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=0"))
                for (name,) in conn.execute(sa.text(
                        "SELECT schema_name FROM information_schema.schemata WHERE schema_name NOT IN "
                        "('mysql', 'information_schema', 'performance_schema', 'sys')")).fetchall():
                    conn.execute(sa.text(f"DROP DATABASE `{name}`"))
                conn.execute(sa.text(f"CREATE DATABASE `{servers.DATABASE}` CHARACTER SET utf8mb4"))
                conn.execute(sa.text("SET FOREIGN_KEY_CHECKS=1"))
    finally:
        engine.dispose()


@pytest.fixture
def postgres_url(postgres_server: servers.Server) -> Iterator[str]:
    """URL of the PostgreSQL test database, emptied before the test (schemas other than public dropped)."""
    _drop_everything(postgres_server.url)
    yield postgres_server.url


@pytest.fixture
def mariadb_url(mariadb_server: servers.Server) -> Iterator[str]:
    """URL of the MariaDB test database, emptied before the test (other databases dropped)."""
    _drop_everything(mariadb_server.url)
    yield mariadb_server.url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'db.sqlite'}"


@pytest.fixture
def duckdb_url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path / 'db.duckdb'}"


@pytest.fixture(params=["sqlite", "duckdb", "postgresql", "mariadb"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each backend in turn: the same test runs against SQLite, DuckDB, PostgreSQL and MariaDB."""
    return request.getfixturevalue({"sqlite": "sqlite_url", "duckdb": "duckdb_url",
                                    "postgresql": "postgres_url", "mariadb": "mariadb_url"}[request.param])
