"""Metadata: sdtype / key detection, schema validation, JSON and YAML files."""

from __future__ import annotations

import json
import os
import uuid

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.metadata import (
    SDTYPES,
    Constraint,
    FixedCombinations,
    Inequality,
    Metadata,
    TableConfig,
    detect_sdtype,
)
from syntho_hive.exceptions import SchemaError, SchemaValidationError


@pytest.fixture()
def users() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 40
    return pd.DataFrame({
        "user_id": np.arange(1, n + 1),
        "email": [f"user{i}@example.org" for i in range(n)],
        "country": rng.choice(["FR", "DE", "US", "BR"], n),
        "signup_date": pd.date_range("2021-01-03", periods=n, freq="7D").strftime("%Y-%m-%d"),
        "is_active": rng.random(n) < 0.7,
        "income": np.round(rng.lognormal(10, 0.5, n), 2),
        "age": rng.integers(18, 90, n),
    })


@pytest.fixture()
def orders(users: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(8)
    n = 60
    return pd.DataFrame({
        "order_id": [str(uuid.UUID(int=int(x))) for x in rng.integers(0, 2**62, n)],
        "user_id": rng.choice(users["user_id"].to_numpy(), n),
        "amount": np.round(rng.gamma(2.0, 30.0, n), 2),
        "ordered_at": pd.Series(pd.date_range("2023-05-01", periods=n, freq="37h", tz="UTC")),
        "status": pd.Categorical(rng.choice(["paid", "shipped", "returned"], n)),
        "review": [f"Order {i} arrived {'late' if i % 2 else 'on time'}; the packaging was "
                   f"{'fine' if i % 3 else 'damaged'} and support answered within {i} hours."
                   for i in range(n)],
    })


# --------------------------------------------------------------------------- detect_sdtype


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("is_member", [True, False, True], "boolean"),
        ("flag", pd.array([True, None, False], dtype="boolean"), "boolean"),
        ("opted_in", pd.Series([True, None, False], dtype=object), "boolean"),
        ("created", pd.to_datetime(["2020-01-01", "2021-06-30", None]), "datetime"),
        ("created_tz", pd.date_range("2020", periods=3, tz="Asia/Tokyo"), "datetime"),
        ("birth_date", ["1990-05-17", "1984-12-01", None, "2001-02-28"], "datetime"),
        ("when", ["03/04/2021", "12/11/2020", "01/01/2019"], "datetime"),
        ("paid_on", ["Jan 5, 2020", "Feb 16, 2021", "Mar 1, 2022"], "datetime"),
        ("age", [31, 45, 31, 60], "numerical"),
        ("score", [0.5, np.nan, 2.25], "numerical"),
        ("customer_id", [101, 102, 103, 104], "id"),
        ("sku_code", ["A-0001", "A-0002", "A-0003"], "id"),
        ("token", [str(uuid.UUID(int=i)) for i in range(1, 5)] * 2, "id"),
        ("city", ["Paris", "Lyon", "Paris", None], "categorical"),
        ("zip", ["75001", "69001", "75001"], "categorical"),
        ("segment", pd.Categorical(["a", "b", "a"]), "categorical"),
        ("comment", [f"{'lorem ipsum dolor sit amet ' * 3} number {i}" for i in range(6)], "text"),
        ("empty", [None, None], "categorical"),
        # Short strings nearly all distinct over >= 10 values: names, not categories.
        ("name", [f"Airline {chr(65 + i)}{i} Inc." for i in range(16)], "text"),
        ("name", [f"Airport {i}" for i in range(19)] + ["Airport 0"], "text"),
        ("name", [f"Carrier {i}" for i in range(9)], "categorical"),  # too few values to tell
        ("market", ["mature", "emerging"] * 6, "categorical"),
        ("model", [f"A3{i % 8}" for i in range(40)], "categorical"),
        # Times of day as strings have no date: string rules, never datetime (no format fits them).
        ("opens", ["09:00", "17:30", "09:00", "12:15"], "categorical"),
        ("at", ["09:00:05", "17:30:00", "09:00:05", "12:15:59"], "categorical"),
        ("at", ["9:00 am", "5:30 PM", "9:00 am"], "categorical"),
        ("at", [f"{h:02d}:{m:02d}" for h in range(4) for m in range(0, 60, 7)], "text"),
        ("at_full", ["2020-01-02 09:00", "2021-03-04 17:30"], "datetime"),  # a date part: still datetime
    ],
)
def test_detect_sdtype(name: str, values: object, expected: str) -> None:
    assert detect_sdtype(pd.Series(values), name) == expected


def test_detect_sdtype_only_returns_known_sdtypes(users: pd.DataFrame) -> None:
    assert {detect_sdtype(users[c], c) for c in users} <= set(SDTYPES)


def test_duplicated_int_id_name_is_numerical_not_id() -> None:
    assert detect_sdtype(pd.Series([1, 1, 2]), "store_id") == "numerical"


# --------------------------------------------------------------------------- Metadata.detect


def test_detect_single_table(users: pd.DataFrame) -> None:
    md = Metadata.detect(users, table_name="users")
    table = md.get_table("users")
    assert table.pk == "user_id"
    assert table.columns == {
        "user_id": "id", "email": "text", "country": "categorical",  # email: distinct per row
        "signup_date": "datetime", "is_active": "boolean", "income": "numerical",
        "age": "numerical",
    }


def test_detect_tables_keys_and_foreign_keys(users: pd.DataFrame, orders: pd.DataFrame) -> None:
    md = Metadata.detect({"users": users, "orders": orders})
    assert md.get_table("users").pk == "user_id"
    table = md.get_table("orders")
    assert table.pk == "order_id"
    assert table.fk == {"user_id": "users.user_id"}
    assert table.columns["user_id"] == "id"
    assert table.columns["ordered_at"] == "datetime"
    assert table.columns["status"] == "categorical"
    assert table.columns["review"] == "text"
    md.validate_schema({"users": users, "orders": orders})  # detected schema is consistent


def test_detect_natural_keys_and_id_named_parent_keys() -> None:
    airlines = pd.DataFrame({"carrier": ["AA", "DL", "UA", "B6"],
                             "name": ["American", "Delta", "United", "JetBlue"]})
    users = pd.DataFrame({"id": [10, 11, 12], "name": ["Ana", "Bo", "Cy"]})
    flights = pd.DataFrame({
        "carrier": ["AA", "DL", "AA", "UA", "B6", "DL"],
        "user_id": [10, 12, 12, 11, 10, 10],
        "dep_delay": [3.0, -2.0, 15.0, 0.0, 7.0, 1.0],
    })
    md = Metadata.detect({"airlines": airlines, "users": users, "flights": flights})
    assert md.get_table("airlines").pk == "carrier"
    assert md.get_table("users").pk == "id"
    assert md.get_table("flights").pk is None
    assert md.get_table("flights").fk == {"carrier": "airlines.carrier", "user_id": "users.id"}


def test_detect_no_fk_when_values_are_not_contained(users: pd.DataFrame,
                                                    orders: pd.DataFrame) -> None:
    orders = orders.assign(user_id=orders["user_id"] + 1000)
    md = Metadata.detect({"users": users, "orders": orders})
    assert md.get_table("orders").fk == {}


def test_detect_rejects_non_dataframes() -> None:
    with pytest.raises(SchemaError, match="DataFrame"):
        Metadata.detect([1, 2, 3])  # type: ignore[arg-type]
    with pytest.raises(SchemaError, match="'t'.*list"):
        Metadata.detect({"t": [1, 2]})  # type: ignore[dict-item]


# --------------------------------------------------------------------------- validate_schema


def _shop() -> Metadata:
    md = Metadata().add_table("users", pk="user_id", columns={"user_id": "id"})
    md.add_table("orders", pk="order_id", fk={"user_id": "users.user_id"},
                 constraints={"amount": Constraint(min=0)},
                 inequalities=[("ordered_at", "shipped_at")])
    return md


def test_validate_schema_clean_returns_none(users: pd.DataFrame, orders: pd.DataFrame) -> None:
    md = _shop()
    orders = orders.assign(shipped_at=orders["ordered_at"] + pd.Timedelta(hours=5))
    assert md.validate_schema() is None
    assert md.validate_schema({"users": users, "orders": orders}) is None


def test_validate_schema_reports_every_schema_problem_at_once() -> None:
    md = Metadata().add_table("users", pk="user_id", columns={"user_id": "numerical"})
    md.add_table(
        "orders", pk="order_id",
        fk={"user_id": "users", "shop_id": "shops.shop_id", "email": "users.email"},
        parent_context_cols=[],
        constraints={"amount": Constraint(min=10, max=5), "day": Constraint(min=1, max="2020-01-01")},
        inequalities=[("a", "b"), ("b", "a")],
    )
    md.add_table("refunds", parent_context_cols=["country"])
    with pytest.raises(SchemaValidationError) as info:
        md.validate_schema()
    issues = info.value.issues
    expected = [
        "primary key 'user_id' is declared as sdtype 'numerical'",
        "'users' must be written 'parent_table.parent_column'",
        "unknown table 'shops'",
        "'users.email', which is not the primary key of 'users'",
        "min=10 greater than max=5",
        "min=1 and max='2020-01-01', which cannot be compared",
        "form a cycle",
        "parent_context_cols ['country'] are set but the table has no foreign key",
    ]
    assert len(issues) == len(expected), issues
    for fragment in expected:
        assert any(fragment in issue for issue in issues), (fragment, issues)
    assert f"{len(expected)} problem(s)" in str(info.value)


def test_validate_schema_reports_every_data_problem_with_counts_and_examples(
    users: pd.DataFrame, orders: pd.DataFrame
) -> None:
    md = _shop()
    md.add_table("reviews", pk="review_id", fk={"user_id": "users.user_id"})
    users = users.copy()
    # Orders of the two users whose keys are broken below move to user 0, so that the only orphans are
    # the three planted ones, whatever the seed drew.
    broken = users.loc[[3, 5], "user_id"].tolist()
    orders = orders.assign(user_id=orders["user_id"].where(~orders["user_id"].isin(broken),
                                                             users.loc[0, "user_id"]))
    users.loc[3, "user_id"] = users.loc[2, "user_id"]        # 2 rows share a key
    users["user_id"] = users["user_id"].astype("Int64")
    users.loc[5, "user_id"] = pd.NA                          # 1 null key
    orders = orders.assign(shipped_at=orders["ordered_at"] + pd.Timedelta(hours=2))
    orders.loc[[0, 1, 2], "user_id"] = [9001, 9002, 9001]   # 3 orphan rows, 2 distinct values
    orders.loc[[4, 9], "amount"] = [-1.5, -3.0]              # violates min=0
    reviews = pd.DataFrame({"review_id": [1, 2], "user_id": ["1", "2"]})  # str vs int key
    with pytest.raises(SchemaValidationError) as info:
        md.validate_schema({"users": users, "orders": orders.drop(columns="status"),
                            "reviews": reviews, "ghosts": reviews})
    issues = info.value.issues
    text = "\n".join(issues)
    assert "data has table 'ghosts', which is not in the metadata" in text
    assert "primary key 'user_id' has 1 null value(s)" in text
    assert "primary key 'user_id' has 2 row(s) with duplicated values (examples: [3])" in text
    assert ("foreign key 'user_id' has 3 row(s) with no matching 'users.user_id' (orphans: 2 "
            "distinct value(s), examples: [9001, 9002])") in text
    assert "column 'amount' has 2 value(s) below the declared min=0" in text
    assert "[-1.5, -3.0]" in text
    assert "foreign key 'user_id' has dtype str (string) but 'users.user_id' has dtype Int64" \
        in text.replace("dtype object", "dtype str")
    assert len(issues) == 6, issues


def test_validate_schema_reports_missing_columns(users: pd.DataFrame) -> None:
    md = Metadata().add_table("users", pk="user_id", columns={"nickname": "categorical"},
                              constraints={"salary": Constraint(min=0)},
                              fixed_combinations=[["country", "region"]])
    with pytest.raises(SchemaValidationError) as info:
        md.validate_schema({"users": users})
    missing = sorted(i.split("'")[3] for i in info.value.issues)
    assert missing == ["nickname", "region", "salary"]


# --------------------------------------------------------------------------- files


def _rich() -> Metadata:
    md = Metadata().add_table(
        "users", pk="user_id", columns={"user_id": "id", "country": "categorical"},
        constraints={"age": Constraint(dtype="int", min=0, max=120),
                     "signup": Constraint(min="2020-01-01")},
        pii_cols=["email"], datetime_formats={"signup": "%Y-%m-%d"},
    )
    md.add_table(
        "trips", pk="trip_id", fk={"user_id": "users.user_id"}, parent_context_cols=["country"],
        inequalities=[Inequality(low="start", high="end", strict=True)],
        fixed_combinations=[FixedCombinations(columns=["city", "country"])],
        columns={"price": "numerical"}, constraints={"price": {"min": 0.5}},
    )
    return md


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".yml"])
def test_save_load_round_trip(tmp_path, suffix: str) -> None:
    md = _rich()
    path = md.save(tmp_path / f"schema{suffix}")
    loaded = Metadata.load(path)
    assert loaded == md
    assert loaded.get_table("users").constraints["age"].min == 0
    assert isinstance(loaded.get_table("users").constraints["age"].min, int)
    assert os.listdir(tmp_path) == [f"schema{suffix}"]  # no temp file left behind


def test_text_round_trip_and_overwrite(tmp_path) -> None:
    md = _rich()
    assert Metadata.from_json(md.to_json()) == md
    assert Metadata.from_yaml(md.to_yaml()) == md
    target = tmp_path / "m.json"
    Metadata().add_table("old").to_json(target)
    text = md.to_json(target)
    assert target.read_text() == text
    assert Metadata.from_json(str(target)) == md
    assert json.loads(text)["tables"]["trips"]["fk"] == {"user_id": "users.user_id"}


def test_yaml_written_by_hand_loads_without_table_names() -> None:
    text = """
tables:
  people:
    pk: person_id
    constraints:
      age: {dtype: int, min: 0, max: 120}
    inequalities:
      - {low: hired, high: left}
"""
    table = Metadata.from_yaml(text).get_table("people")
    assert table.name == "people"
    assert table.constraints["age"] == Constraint(dtype="int", min=0, max=120)
    assert table.inequalities == [Inequality(low="hired", high="left")]


@pytest.mark.parametrize(
    ("name", "content", "fragment"),
    [
        ("bad.json", '{"tables": {"t": {"name": "t",}}}', r"Invalid JSON in file '.*bad\.json' at line 1"),
        ("bad.yaml", "tables:\n  t: [unclosed\n", r"Invalid YAML in file '.*bad\.yaml' at line"),
        ("shape.json", '{"tables": {"t": {"pk": "id", "colour": 1}}}',
         r"Invalid metadata in file '.*shape\.json': tables\.t\.colour: Extra inputs"),
        ("list.yml", "- a\n- b\n", r"Metadata in file '.*list\.yml' must be a mapping"),
        ("sd.yaml", "tables:\n  t:\n    columns: {x: number}\n",
         r"file '.*sd\.yaml': tables\.t\.columns\.x"),
    ],
)
def test_bad_file_raises_schema_error_naming_the_file(tmp_path, name: str, content: str,
                                                      fragment: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(SchemaError, match=fragment):
        Metadata.load(path)


def test_missing_file_and_unknown_extension(tmp_path) -> None:
    with pytest.raises(SchemaError, match=r"'.*nope\.yaml' does not exist"):
        Metadata.load(tmp_path / "nope.yaml")
    with pytest.raises(SchemaError, match=r"\.json, \.yaml or \.yml"):
        _rich().save(tmp_path / "schema.txt")
    assert not (tmp_path / "schema.txt").exists()


def test_interface_config_reexports_the_same_classes() -> None:
    from syntho_hive.interface import config

    assert config.Metadata is Metadata
    assert config.TableConfig is TableConfig
    assert config.Constraint is Constraint
    assert config.Inequality is Inequality
    assert config.FixedCombinations is FixedCombinations


def test_validate_schema_checks_composite_foreign_keys_as_combinations() -> None:
    """Each column of ``(order_id, line_no)`` exists in the parent, but not every pair does."""
    lines = pd.DataFrame({"order_id": [1, 1, 2], "line_no": [1, 2, 2], "qty": [3, 1, 5]})  # no line (2, 1)
    md = (Metadata().add_table("lines", pk=["order_id", "line_no"])
          .add_table("returns", pk="return_id", fk={"order_id": "lines.order_id", "line_no": "lines.line_no"}))
    clean = pd.DataFrame({"return_id": [10, 11], "order_id": [1, 2], "line_no": [2, 2]})
    assert md.validate_schema({"lines": lines, "returns": clean}) is None
    orphans = pd.DataFrame({"return_id": [10, 11, 12, 13], "order_id": [1, 2, 2, 2], "line_no": [2, 1, 2, 1]})
    with pytest.raises(SchemaValidationError, match=r"composite foreign key \['order_id', 'line_no'\] has 2 "
                                                    r"row\(s\).*1 distinct.*\(2, 1\)"):
        md.validate_schema({"lines": lines, "returns": orphans})


@pytest.mark.parametrize("name", ["../escaped", "a/b", "..", "", "x\\y"])
def test_table_names_that_would_escape_their_folder_are_refused(name: str) -> None:
    with pytest.raises(SchemaValidationError, match="table name cannot be empty"):
        Metadata().add_table(name, pk="id").validate_schema()
    assert Metadata().add_table("sales.orders", pk="id").validate_schema() is None  # Hive-style names are fine


def test_validate_schema_reports_non_numbers_in_a_numerical_column() -> None:
    data = pd.DataFrame({"id": [1, 2, 3, 4], "price": ["1.5", "n/a", "3", None]})
    md = Metadata().add_table("items", pk="id", columns={"price": "numerical"})
    with pytest.raises(SchemaValidationError, match="'price' is declared 'numerical' but 1 value.*n/a"):
        md.validate_schema({"items": data})
    assert md.validate_schema({"items": data.assign(price=["1.5", "2", "3", None])}) is None


# --------------------------------------------------------------------------- declared sdtypes vs values
_N = 6
_VALUES = {
    "epoch": pd.Series([1_600_000_000 + i for i in range(_N)]),
    "yyyymmdd": pd.Series([20230115 + i for i in range(_N)]),
    "score": pd.Series([0.5, -1.25, 2.0, 3.5, None, 1.0]),
    "thirds": pd.Series([1 / 3, 2 / 3, 1.0, np.inf, None, 2.0]),
    "flag01": pd.Series([0, 1, 1, 0, None, 1]),
    "yes_no": pd.Series(["Y", "N"] * 3),
    "count": pd.Series([3, 7, 1, 0, 2, 9]),
    "whole": pd.Series([1.0, 2.0, None, 4.0, 5.0, 6.0]),
    "when": pd.Series(pd.date_range("2024-01-01", periods=_N)),
    "name": pd.Series(["ann", "bob", "cy", "dee", None, "eve"]),
}


@pytest.mark.parametrize("column, sdtype, expected", [
    ("epoch", "datetime", "declared 'datetime' but holds int64 values.*unit='s'"),
    ("yyyymmdd", "datetime", "declared 'datetime'.*format='%Y%m%d'"),
    ("score", "text", "declared 'text' but holds float64 values.*'numerical'"),
    ("when", "text", "declared 'text' but holds datetime64.*'datetime'"),
    ("count", "boolean", r"declared 'boolean' but holds other values than True/False/0/1 \(examples: \[3, 7, 2, 9\]"),
    ("yes_no", "boolean", "declared 'boolean'.*'Y', 'N'.*'categorical'"),
    ("thirds", "id", r"declared 'id' but holds infinite numbers or fractional ones that are not short decimals "
                     r"\(examples: \[0.333.*, 0.666.*, inf\]\).*'numerical'"),
    ("score", "boolean", "declared 'boolean'"),
])
def test_values_that_do_not_fit_the_declared_sdtype_are_reported(column: str, sdtype: str, expected: str) -> None:
    data = pd.DataFrame({column: _VALUES[column]})
    metadata = Metadata().add_table("t", columns={column: sdtype})
    with pytest.raises(SchemaValidationError, match=expected) as info:
        metadata.validate_schema({"t": data})
    assert len(info.value.issues) == 1


@pytest.mark.parametrize("column, sdtype", [
    ("flag01", "boolean"), ("whole", "id"), ("count", "id"), ("name", "text"), ("yes_no", "categorical"),
    ("count", "numerical"), ("when", "datetime"), ("score", "numerical"), ("name", "id"),
    ("score", "id"),  # short decimals: a decimal key's format
])
def test_values_that_fit_the_declared_sdtype_pass(column: str, sdtype: str) -> None:
    Metadata().add_table("t", columns={column: sdtype}).validate_schema({"t": pd.DataFrame({column: _VALUES[column]})})


def test_every_model_refuses_a_misdeclared_column_before_training() -> None:
    """They used to train and then fail in sample() (text on floats, float ids), or model 20230115 as a number."""
    from syntho_hive.core.models import CTGAN, TVAE, TabularAR

    data = pd.DataFrame({column: _VALUES[column] for column in ("yyyymmdd", "score", "count")})
    metadata = Metadata().add_table("t", pk="count", columns={"yyyymmdd": "datetime", "score": "text", "count": "id"})
    data.loc[1, "count"] = 3  # a duplicated primary key too
    for model in (CTGAN(metadata, epochs=1), TVAE(metadata, epochs=1), TabularAR(metadata, epochs=1)):
        with pytest.raises(SchemaValidationError) as info:
            model.fit(data, seed=0, progress_bar=False)
        text = str(info.value)
        assert "'yyyymmdd' is declared 'datetime'" in text and "'score' is declared 'text'" in text
        assert "primary key 'count' has 2 row(s) with duplicated values" in text
        assert not model.is_fitted


def test_add_table_takes_every_table_config_field() -> None:
    """README tells users to declare ``date_parts``: ``add_table(..., date_parts=...)`` raised a raw TypeError.
    Every TableConfig field is now a keyword of add_table, and a value of the wrong shape is a SchemaError."""
    import inspect

    from syntho_hive.core.metadata.schema import TableConfig

    assert set(TableConfig.model_fields) <= set(inspect.signature(Metadata.add_table).parameters)
    md = Metadata().add_table("flights", pk="flight_id", date_parts={"hour": "time_hour.hour", "day": None},
                              column_types={"flight_id": {"kind": "integer"}})
    table = md.tables["flights"]
    assert table.date_parts == {"hour": "time_hour.hour", "day": None}
    assert table.column_types["flight_id"].kind == "integer"
    assert Metadata.from_json(md.to_json()).tables["flights"].date_parts == table.date_parts
    with pytest.raises(SchemaError, match="Invalid definition of table 'flights'"):
        Metadata().add_table("flights", date_parts={"hour": 3})
