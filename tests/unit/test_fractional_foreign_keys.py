"""A float foreign key holding a fractional value (1.5) to integer keys is an orphan: said so at fit and at write."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from syntho_hive import Synthesizer
from syntho_hive.connectors import SQLTarget
from syntho_hive.core.metadata import Metadata
from syntho_hive.exceptions import SchemaError, SchemaValidationError


def _data() -> tuple[Metadata, dict[str, pd.DataFrame]]:
    parents = pd.DataFrame({"pid": np.arange(1, 6), "x": np.arange(5.0)})
    children = pd.DataFrame({"cid": np.arange(4), "pid": [1.0, 1.5, np.nan, 3.0], "y": np.arange(4.0)})
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
        "value(s), examples: [1.5]); drop those rows or add the parents."]


@pytest.mark.parametrize("database", ["duckdb", "sqlite"])
def test_a_write_names_the_table_column_and_value_and_writes_nothing(tmp_path: Path, database: str) -> None:
    """It said to declare the column a float, which the DDL overrides with the key's integer type."""
    md, data = _data()
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
