"""A float foreign key holding a fractional value (1.5) to integer keys is an orphan: said so at fit and at write."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from syntho_hive import Synthesizer
from syntho_hive.connectors import SQLTarget
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import SchemaError, SchemaValidationError


def _data(pid: Any = (1.0, 1.5, np.nan, 3.0)) -> tuple[Metadata, dict[str, pd.DataFrame]]:
    parents = pd.DataFrame({"pid": np.arange(1, 6), "x": np.arange(5.0)})
    children = pd.DataFrame({"cid": np.arange(4), "pid": pd.Series(list(pid)) if isinstance(pid, tuple) else pid,
                             "y": np.arange(4.0)})
    md = Metadata().add_table("parents", pk="pid").add_table("children", pk="cid", fk={"pid": "parents.pid"},
                                                              columns={"pid": "id"})
    return md, {"parents": parents, "children": children}


def test_fit_reports_the_fractional_value_as_an_orphan() -> None:
    """It was a dtype mismatch to fix by casting (which would turn 1.5 into key 1), and the FK, declared 'id', was
    to be declared 'numerical'."""
    md, data = _data()
    with pytest.raises(SchemaValidationError) as caught:
        Synthesizer(md, seed=0).fit(data, epochs=1, progress_bar=False, n_jobs=1)
    assert [str(issue) for issue in caught.value.issues] == [
        "table 'children': foreign key 'pid' has 1 row(s) with no matching 'parents.pid' (orphans: 1 distinct "
        "value(s), examples: [1.5]); drop those rows or add the parents, or train with "
        'on_integrity_error="drop" to drop them.']


_KEYS = {
    "float64": pd.Series([1.0, 1.5, np.nan, 3.0]),
    "Float64": pd.Series(pd.array([1.0, 1.5, None, 3.0], dtype="Float64")),
    # An object column said "declare the column's type in column_types", which the DDL overrides.
    "object": pd.Series([1, 1.5, None, 3], dtype=object),
    "object-numpy": pd.Series([np.int64(1), np.float64(1.5), None, 3], dtype=object),
}


@pytest.mark.parametrize("database", ["duckdb", "sqlite"])
@pytest.mark.parametrize("keys", list(_KEYS))
def test_a_write_names_the_table_column_and_value_and_writes_nothing(tmp_path: Path, database: str,
                                                                      keys: str) -> None:
    """It said to declare the column a float, which the DDL overrides with the key's integer type."""
    md, data = _data(_KEYS[keys])
    url = f"{database}:///{tmp_path / 'out.db'}"
    with pytest.raises(SchemaError, match=r"Table 'children', column 'pid': the foreign key to 'parents.pid' "
                                          r"\(integer keys\) holds 1.5, which matches no key \(an orphan\)"):
        with SQLTarget(url).open(md, ["parents", "children"]) as writer:
            writer.write_table("parents", [data["parents"]])
            writer.write_table("children", [data["children"]])
            writer.commit()
    engine = sa.create_engine(url)
    try:
        assert sa.inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("database", ["duckdb", "sqlite"])
def test_whole_numbers_in_an_object_key_column_are_written_as_integers(tmp_path: Path, database: str) -> None:
    """Whole floats among an object column's integers are keys, as in a float column."""
    md, data = _data(pd.Series([1, 2.0, None, np.float64(3.0)], dtype=object))
    url = f"{database}:///{tmp_path / 'out.db'}"
    with SQLTarget(url).open(md, ["parents", "children"]) as writer:  # commits on leaving
        writer.write_table("parents", [data["parents"]])
        writer.write_table("children", [data["children"]])
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text("SELECT pid FROM children ORDER BY cid")).scalars().all()
    finally:
        engine.dispose()
    assert rows == [1, 2, None, 3] and all(isinstance(value, int) for value in rows if value is not None)


def test_a_fractional_value_in_a_plain_integer_column_names_the_value() -> None:
    """Outside a foreign key, the fix is to round or to declare a float or decimal column."""
    from syntho_hive.connectors.sql.bulk import python_values
    from syntho_hive.core.metadata.column_types import ColumnType

    for values in (pd.Series([1.0, 2.5], name="n"), pd.Series([1, 2.5], dtype=object, name="n")):
        with pytest.raises(SchemaError, match=r"column 'n' is an integer column but holds 2.5, not a whole number; "
                                              r"round its values, or declare the column a float or a decimal"):
            python_values(values, ColumnType(kind="integer"), "sqlite")
