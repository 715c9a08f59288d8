"""SQLSource: a column in two foreign keys (nycflights13's ``flights.origin -> airports`` and
``flights(origin, time_hour) -> weather``) cannot be modelled; ``skip_foreign_keys`` (CLI
``--skip-foreign-key``) leaves one out so the schema reflects, and the error names both keys and that option.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sql_source_zoo import run_in_schema  # tests/integration is on sys.path (its conftest)

from syntho_hive.connectors.sql.source import SQLSource
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import ConfigurationError, SchemaError
from syntho_hive.interface.cli import main

WEATHER = "flights(origin, time_hour) -> weather"
AIRPORTS = "flights(origin) -> airports"


def _flights(url: str) -> str | None:
    """airports <- weather (pk origin, time_hour) <- flights, whose origin is also a key to airports."""
    return run_in_schema(url, [
        "CREATE TABLE {p}airports (faa varchar(3) PRIMARY KEY, name varchar(20))",
        "CREATE TABLE {p}weather (origin varchar(3) REFERENCES {p}airports (faa), time_hour timestamp, "
        "temp float, PRIMARY KEY (origin, time_hour))",
        "CREATE TABLE {p}flights (flight_id integer PRIMARY KEY, origin varchar(3) REFERENCES {p}airports (faa), "
        "time_hour timestamp, dep_delay float, FOREIGN KEY (origin, time_hour) REFERENCES {p}weather (origin, "
        "time_hour))",
        "INSERT INTO {p}airports VALUES ('EWR', 'Newark'), ('JFK', 'JFK')",
        "INSERT INTO {p}weather VALUES ('EWR', '2013-01-01 05:00:00', 39.0), ('JFK', '2013-01-01 05:00:00', 38.0)",
        "INSERT INTO {p}flights VALUES (1, 'EWR', '2013-01-01 05:00:00', 2.0), (2, 'JFK', '2013-01-01 05:00:00', "
        "-1.0)"])


def test_a_column_in_two_foreign_keys_names_both_and_the_option(database_url: str) -> None:
    schema = _flights(database_url)
    with pytest.raises(SchemaError) as caught:
        Metadata.from_source(SQLSource(database_url, schema=schema))
    message = str(caught.value)
    assert "flights.origin" in message and WEATHER in message and AIRPORTS in message
    assert "skip_foreign_keys=" in message and "--skip-foreign-key" in message


@pytest.mark.parametrize(("skip", "fk"), [
    ([WEATHER], {"origin": "airports.faa"}),
    ([" flights( time_hour,origin )->weather(origin, time_hour)"], {"origin": "airports.faa"}),
    ([AIRPORTS], {"origin": "weather.origin", "time_hour": "weather.time_hour"}),
], ids=["composite", "any-spelling", "single"])
def test_skip_foreign_keys_leaves_one_out(skip: list[str], fk: dict[str, str], database_url: str) -> None:
    schema = _flights(database_url)
    metadata = Metadata.from_source(SQLSource(database_url, schema=schema, skip_foreign_keys=skip))
    assert metadata.get_table("flights").fk == fk
    assert metadata.get_table("weather").fk == {"origin": "airports.faa"}
    assert metadata.get_table("weather").pk == ["origin", "time_hour"]


def test_a_foreign_key_to_skip_must_exist_and_be_named_well(sqlite_url: str) -> None:
    _flights(sqlite_url)
    with pytest.raises(SchemaError, match=r"'flights\(origin\) -> weather', which is not a foreign key of "
                                          r"'flights'; its foreign keys: .*flights\(origin\) -> airports"):
        Metadata.from_source(SQLSource(sqlite_url, skip_foreign_keys=["flights(origin) -> weather"]))
    for bad in ("flights.origin", WEATHER):  # not "child(cols) -> parent"; a string, not a list
        with pytest.raises(ConfigurationError, match="foreign key"):
            SQLSource(sqlite_url, skip_foreign_keys=bad if bad == WEATHER else [bad])


def test_cli_skip_foreign_key(sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _flights(sqlite_url)
    argv = ["fit", "--source", sqlite_url, "--epochs", "1", "--seed", "0", "--no-progress"]
    assert main([*argv, "--output", str(tmp_path / "refused")]) == 1
    assert "--skip-foreign-key" in capsys.readouterr().err
    assert main([*argv, "--skip-foreign-key", WEATHER, "--output", str(tmp_path / "synth")]) == 0
    assert main(["fit", "--source", str(tmp_path), "--skip-foreign-key", WEATHER,
                 "--output", str(tmp_path / "folder")]) == 2
    assert "applies to database URLs" in capsys.readouterr().err
    # --metadata replaces reflection, so the skipped key would silently stay: a usage mistake.
    assert main([*argv, "--metadata", str(tmp_path / "metadata.json"), "--skip-foreign-key", WEATHER,
                 "--output", str(tmp_path / "described")]) == 2
    assert "delete that foreign key from the metadata file" in capsys.readouterr().err
