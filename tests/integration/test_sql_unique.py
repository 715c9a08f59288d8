"""Declared UNIQUE constraints survive a database round trip: read into ``TableConfig.unique``, kept in the
generated rows (a single column generated unique, a column set without repeated combinations), and created
by SQLTarget so the database enforces them.
"""

from __future__ import annotations

import datetime
import random

import pandas as pd
import pytest
import sqlalchemy as sa

from syntho_hive import Metadata, Synthesizer
from syntho_hive.connectors import SQLSource, SQLTarget
from syntho_hive.core.metadata.column_types import ColumnType


def _dialect(url: str) -> str:
    return sa.make_url(url).get_backend_name().replace("mariadb", "mysql")


def _schema(url: str) -> str | None:
    return None if _dialect(url) == "sqlite" else "synth"


def _unique_constraints(engine: sa.Engine, schema: str, table: str) -> list[list[str]]:
    inspector = sa.inspect(engine)
    return sorted(sorted(entry["column_names"]) for entry in inspector.get_unique_constraints(table, schema=schema))


def _source(url: str, *statements: str) -> sa.Engine:
    """An engine on ``url`` whose schema ``src`` was made by ``statements``."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        for statement in ("CREATE SCHEMA src", *statements):
            conn.exec_driver_sql(statement)
    return engine


def _reflect_fit_and_write(url: str) -> Metadata:
    """Reflect schema ``src``, fit on it and write a sample to schema ``synth``; the metadata read."""
    source = SQLSource(url, schema="src")
    metadata = Metadata.from_source(source)
    synthesizer = Synthesizer(metadata, seed=0)
    synthesizer.fit(source, epochs=1, progress_bar=False, n_jobs=1)
    synthesizer.sample(output=SQLTarget(url, schema="synth"), seed=0)
    return metadata


def test_a_unique_integer_column_comes_back_unique_and_constrained(postgres_url: str) -> None:
    rng = random.Random(0)
    engine = _source(postgres_url, "CREATE TABLE src.t (id int PRIMARY KEY, seat int UNIQUE NOT NULL, v real)")
    with engine.begin() as conn:
        for i, seat in enumerate(rng.sample(range(1, 400), 300), 1):
            conn.execute(sa.text("INSERT INTO src.t VALUES (:i, :s, :v)"), {"i": i, "s": seat, "v": rng.random()})
    metadata = _reflect_fit_and_write(postgres_url)
    assert metadata.tables["t"].unique == [["seat"]] and metadata.tables["t"].columns["seat"] == "id"
    with engine.connect() as conn:
        rows, seats = conn.exec_driver_sql("SELECT count(*), count(DISTINCT seat) FROM synth.t").one()
    assert rows == seats == 300
    assert _unique_constraints(engine, "synth", "t") == [["seat"]]
    engine.dispose()


def test_a_composite_unique_set_of_a_child_has_no_repeated_combination(postgres_url: str) -> None:
    rng = random.Random(0)
    engine = _source(postgres_url, "CREATE TABLE src.u (id int PRIMARY KEY, g int)",
                     "CREATE TABLE src.v (id int PRIMARY KEY, user_id int NOT NULL REFERENCES src.u(id), "
                     "day date NOT NULL, UNIQUE (user_id, day))",
                     "INSERT INTO src.u SELECT g, g %% 3 FROM generate_series(1, 100) g")
    with engine.begin() as conn:
        k = 0
        for user in range(1, 101):
            for day in rng.sample(range(10), rng.randint(1, 8)):
                k += 1
                conn.execute(sa.text("INSERT INTO src.v VALUES (:k, :u, :d)"),
                             {"k": k, "u": user, "d": datetime.date(2024, 1, 1) + datetime.timedelta(days=day)})
    assert _reflect_fit_and_write(postgres_url).tables["v"].unique == [["user_id", "day"]]
    with engine.connect() as conn:
        rows, pairs = conn.exec_driver_sql("SELECT count(*), count(DISTINCT (user_id, day)) FROM synth.v").one()
    assert rows == pairs and rows >= 0.95 * k  # repeated pairs redrawn, the rare hopeless one dropped
    assert _unique_constraints(engine, "synth", "v") == [["day", "user_id"]]
    engine.dispose()


def test_the_target_creates_declared_unique_sets_and_the_database_enforces_them(database_url: str) -> None:
    metadata = Metadata().add_table("pair", pk="id", unique=[["a", "b"], ["code"]])
    metadata.tables["pair"].column_types.update({
        "id": ColumnType(kind="integer", bits=64, nullable=False), "a": ColumnType(kind="integer", bits=32),
        "b": ColumnType(kind="integer", bits=32), "code": ColumnType(kind="string", length=8)})
    frame = pd.DataFrame({"id": [1, 2], "a": [1, 1], "b": [1, 2], "code": ["x", "y"]})
    with SQLTarget(database_url, _schema(database_url)).open(metadata, ["pair"]) as writer:
        writer.write_table("pair", [frame])
    engine = sa.create_engine(database_url)
    schema = _schema(database_url)
    name = f"{schema}.pair" if schema else "pair"
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO {name} (id, a, b, code) VALUES (3, 1, 2, 'z')")
    with pytest.raises(sa.exc.IntegrityError):
        with engine.begin() as conn:
            conn.exec_driver_sql(f"INSERT INTO {name} (id, a, b, code) VALUES (4, 2, 2, 'x')")
    engine.dispose()
