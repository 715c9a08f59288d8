"""Generated text fits the declared VARCHAR(n) of its column: faked e-mails are drawn again (then shortened
as e-mails) rather than failing the write, and keys that would outgrow the column are refused, naming the
column and how many fit, before any row is generated.
"""

from __future__ import annotations

import random

import pytest
import sqlalchemy as sa

from syntho_hive import Metadata, Synthesizer
from syntho_hive.connectors import SQLSource, SQLTarget
from syntho_hive.exceptions import GenerationError

FIRST = ["ann", "bob", "cy", "dee", "eve", "fay", "gus", "hal", "ivy", "jo"]


def test_faked_e_mails_fit_their_varchar_and_the_sample_is_written(postgres_url: str) -> None:
    rng = random.Random(0)
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA src")
        conn.exec_driver_sql("CREATE TABLE src.users (id int PRIMARY KEY, email varchar(16) UNIQUE NOT NULL, "
                             "phone varchar(12), name varchar(8))")
        for i in range(1, 201):
            conn.execute(sa.text("INSERT INTO src.users VALUES (:i, :e, :p, :n)"), {
                "i": i, "e": f"{rng.choice(FIRST)}{i}@ex.io",
                "p": f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}",
                "n": rng.choice(FIRST).title() + str(i % 10)})
    source = SQLSource(postgres_url, schema="src")
    synthesizer = Synthesizer(Metadata.from_source(source), seed=0)
    synthesizer.fit(source, epochs=1, progress_bar=False, n_jobs=1)
    synthesizer.sample(output=SQLTarget(postgres_url, schema="synth"), seed=1)
    with engine.connect() as conn:
        emails = [row[0] for row in conn.exec_driver_sql("SELECT email FROM synth.users")]
    engine.dispose()
    assert len(emails) == 200 and len(set(emails)) == 200
    assert all(len(email) <= 16 and email.count("@") == 1 and not email.startswith("@") for email in emails)


def test_appended_codes_that_would_outgrow_the_column_are_refused_first(postgres_url: str) -> None:
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE SCHEMA s")
        conn.exec_driver_sql("CREATE TABLE s.t (id int PRIMARY KEY, code varchar(5) UNIQUE NOT NULL, v int)")
        conn.exec_driver_sql("INSERT INTO s.t SELECT g, 'C' || (9800 + g), g %% 7 FROM generate_series(1, 199) g")
    source = SQLSource(postgres_url, schema="s")
    synthesizer = Synthesizer(Metadata.from_source(source), seed=0)
    synthesizer.fit(source, epochs=1, progress_bar=False, n_jobs=1)
    with pytest.raises(GenerationError, match=r"'code'.*at most 5 characters.*room for 199"):
        synthesizer.sample(output=SQLTarget(postgres_url, schema="s", if_exists="append"), num_rows={"t": 50})
    with pytest.raises(GenerationError, match=r"'code'.*room for 199 .*300 are needed"):
        synthesizer.sample(num_rows={"t": 300}, seed=0)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*), max(code) FROM s.t").one() == (199, "C9999")
    engine.dispose()
