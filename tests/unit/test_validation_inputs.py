"""evaluate() on inputs data engineers pass: pyarrow dtypes, tiny lookup tables, odd names and targets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from structlog.testing import capture_logs

from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.exceptions import ConfigurationError, SchemaError
from syntho_hive.validation import (
    PrivacyThreshold,
    ValidationReport,
    column_pair_trends,
    detection_auc,
    evaluate,
    membership_inference_auc,
    ml_efficacy,
    privacy_metrics,
)

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("dtype", ["timestamp[ns, tz=UTC][pyarrow]", "timestamp[ms, tz=Europe/Paris][pyarrow]",
                                   "timestamp[us][pyarrow]", "date32[pyarrow]", "duration[s][pyarrow]"])
def test_pyarrow_temporal_columns_are_scored(dtype: str) -> None:
    """They raised ``ValueError: Could not convert object to NumPy timedelta`` (objects from to_numpy)."""
    if dtype.startswith("duration"):
        base = pd.Series(pd.to_timedelta(np.arange(60), unit="s"))
    else:
        base = pd.Series(pd.date_range("2020-01-01", periods=60, tz="UTC" if "tz=" in dtype else None))
    frame = pd.DataFrame({"t": base.astype(dtype), "x": RNG.normal(size=60), "c": RNG.choice(["a", "b"], 60)})
    result = evaluate(frame, frame, privacy=False)
    assert result.column_shapes == 1.0 and result.column_pair_trends == 1.0


def test_tiny_lookup_tables_skip_detection_and_privacy_instead_of_failing_the_schema() -> None:
    metadata = Metadata().add_table("status", pk="status_id").add_table(
        "orders", pk="oid", fk={"status_id": "status.status_id"})
    status = pd.DataFrame({"status_id": [1], "label": ["open"]})
    orders = pd.DataFrame({"oid": range(50), "status_id": 1, "amount": RNG.normal(5, 1, 50)})
    data = {"status": status, "orders": orders}
    with capture_logs() as logs:
        result = evaluate(data, data, metadata=metadata)
    skipped = {(e["table"], e["metric"]) for e in logs if e["event"] == "evaluation_metric_skipped"}
    assert skipped == {("status", "detection"), ("status", "privacy")}
    assert result.tables["status"].detection is None and result.tables["orders"].detection is not None


def test_a_target_without_features_and_an_integer_target() -> None:
    ids = pd.DataFrame({"user_id": range(60), "label": RNG.choice(["a", "b"], 60)})
    metadata = Metadata().add_table("users", columns={"user_id": "id", "label": "categorical"})
    with pytest.raises(SchemaError, match="no feature to predict 'label'"):
        evaluate(ids, ids.sample(frac=1, random_state=1), metadata=metadata, target="label",
                 detection=False, privacy=False)
    numbered = pd.DataFrame({0: RNG.normal(size=60), 1: RNG.choice(["a", "b"], 60)})  # a header-less table
    result = evaluate(numbered, numbered, target=1, detection=False, privacy=False)
    assert result.tables["table"].efficacy is not None
    with pytest.raises(SchemaError, match="target must be a column name"):
        evaluate(numbered, numbered, target=[1], detection=False, privacy=False)


def test_unparsable_numbers_and_infinite_objects_are_refused() -> None:
    """Text in a numerical column was read as missing on both sides, so two unrelated columns scored 1.0."""
    real = pd.DataFrame({"x": ["1,234.5", "2,000.1", "3,100.0"] * 20})
    metadata = Metadata().add_table("t", columns={"x": "numerical"})
    with pytest.raises(SchemaError, match="'x' is declared 'numerical' but 60 value"):
        evaluate(real, pd.DataFrame({"x": ["9,999.9"] * 60}), metadata=metadata, detection=False, privacy=False)
    infinite = pd.DataFrame({"x": pd.Series([1.0, 2.0, np.inf] * 20, dtype=object), "y": RNG.choice(["a", "b"], 60)})
    with pytest.raises(SchemaError, match="holds infinite values"):
        evaluate(infinite, infinite)


def test_child_columns_named_like_parent_columns_do_not_collide() -> None:
    """Flattened joins name columns ``users.age``; the parent-child join raised a KeyError on them."""
    metadata = Metadata().add_table("users", pk="uid").add_table("tx", pk="tid", fk={"uid": "users.uid"})
    users = pd.DataFrame({"uid": range(20), "age": RNG.integers(18, 80, 20)})
    tx = pd.DataFrame({"tid": range(50), "uid": RNG.integers(0, 20, 50), "users.age": RNG.normal(size=50)})
    data = {"users": users, "tx": tx}
    result = evaluate(data, data, metadata=metadata, detection=False, privacy=False)
    pairs = result.relational.foreign_keys[0].pairs
    assert [(p.column_1, p.column_2) for p in pairs] == [("users.age", "users.age")]


def test_plain_reading_of_unusual_efficacy_ratios() -> None:
    """A negative R^2 ratio used to read "reaches -50% of the score"."""
    import dataclasses

    from syntho_hive.validation.report.html import plain_reading

    frame = pd.DataFrame({"x": RNG.normal(size=60), "c": RNG.choice(["a", "b"], 60)})
    result = evaluate(frame, frame, detection=False, privacy=False)
    texts = {ratio: " ".join(plain_reading(dataclasses.replace(result, ml_efficacy=ratio)))
             for ratio in (-0.5, 0.8, 3.1)}
    assert "does worse than predicting the average" in texts[-0.5] and "-50%" not in texts[-0.5]
    assert "reaches 80% of the score" in texts[0.8] and "above 100%" not in texts[0.8]
    assert "reaches 310%" in texts[3.1] and "ratio is noisy" in texts[3.1]


def test_dates_beyond_the_nanosecond_range_keep_their_order() -> None:
    """``datetime64[s]`` columns and ``datetime.date`` objects hold 9999-12-31 (an open-ended validity date):
    the cast to nanoseconds wrapped it around to a negative number, and ``pd.to_datetime`` made it a null."""
    import datetime as dt

    from syntho_hive.core.quality.shapes import as_float

    stamps = pd.Series(np.array(["1000-01-01", "2020-01-01", "9999-12-31", "NaT"], dtype="datetime64[s]"))
    dates = pd.Series([dt.date(1000, 1, 1), dt.date(2020, 1, 1), dt.date(9999, 12, 31), None])
    arrow = stamps.astype("timestamp[s][pyarrow]")
    expected = [np.datetime64(day, "s").astype(np.int64) * 1e9 for day in ("1000-01-01", "2020-01-01", "9999-12-31")]
    for column in (stamps, dates, arrow):
        values = as_float(column)
        np.testing.assert_allclose(values[:3], expected, rtol=1e-12)
        assert np.isnan(values[3])
    real = pd.DataFrame({"valid_to": stamps[:3].repeat(20).to_numpy(), "x": np.repeat([1.0, 2.0, 3.0], 20)})
    result = evaluate(real, real, privacy=False, detection=False)
    pair = result.tables["table"].pair_trends.pairs[0]
    assert pair.real_correlation > 0.5 and result.overall == 1.0  # the wrapped 9999 made it negative


def test_text_in_a_column_declared_datetime_is_refused() -> None:
    """Every unreadable value counted as missing on both sides: two columns of unrelated text scored 1.0."""
    real = pd.DataFrame({"when": ["k", "l"] * 30, "x": RNG.normal(size=60)})
    synthetic = real.assign(when=["zzz", "yyy"] * 30)
    with pytest.raises(SchemaError, match=r"'when' is declared 'datetime' but none of its 60 value\(s\) can be read"):
        evaluate(real, synthetic, sdtypes={"when": "datetime"})
    dated = real.assign(when=["2020-01-01", None, "N/A", ""] * 15)  # some unreadable values count as missing
    assert evaluate(dated, dated, sdtypes={"when": "datetime"}, privacy=False).column_shapes == 1.0


def test_a_constant_datetime_column_is_binned_not_a_numpy_error(tmp_path) -> None:
    """numpy cannot make finite-sized bins around 1.6e18 ns: a generator that collapsed a datetime column to
    one value made evaluate() and the report raise ``ValueError: Too many bins for data range``."""
    real = pd.DataFrame({"d": pd.to_datetime(["2020-01-01", "2021-01-01"] * 20), "c": ["a", "b"] * 20})
    collapsed = real.assign(d=pd.Timestamp("2020-01-01"))
    result = evaluate(real, collapsed, privacy=False, detection=False)
    assert result.tables["table"].pair_trends.pairs[0].score == 0.0
    assert evaluate(collapsed, collapsed, privacy=False, detection=False).column_shapes == 1.0
    html = ValidationReport().generate(collapsed, real, tmp_path / "r.html", privacy=False).read_text()
    assert "2020-01-01" in html  # the collapsed column's histogram, labelled by date


def test_column_names_that_read_the_same_as_text_are_refused() -> None:
    """The JSON keys columns by their text: 1 and "1" overwrote each other's score and sdtype."""
    frame = pd.DataFrame({1: ["a", "b"] * 30, "1": RNG.normal(size=60)})
    with pytest.raises(SchemaError, match=r"names read the same as text \(\[1, '1'\]\)"):
        evaluate(frame, frame)


def test_misspelt_sdtypes_and_bad_options_are_typed_errors() -> None:
    frame = pd.DataFrame({"x": RNG.normal(size=60), "c": RNG.choice(["a", "b"], 60)})
    with pytest.raises(SchemaError, match=r"sdtypes names column\(s\) \['cc'\]"):
        evaluate(frame, frame, sdtypes={"cc": "categorical"})
    tables = {"a": frame, "b": frame}
    with pytest.raises(SchemaError, match=r"sdtypes names column\(s\) \['y'\] that table 'b' lacks"):
        evaluate(tables, tables, sdtypes={"a": {"x": "numerical"}, "b": {"y": "numerical"}})
    with pytest.raises(SchemaError, match=r"sdtypes names unknown table\(s\) \['z'\]"):
        evaluate(tables, tables, sdtypes={"a": {"x": "numerical"}, "z": {"x": "numerical"}})
    for options, message in (({"n_threads": 0}, "n_threads must be a positive integer"),
                             ({"n_threads": "2"}, "n_threads must be a positive integer"),
                             ({"detection": "no"}, "must be True or False: detection='no'")):
        with pytest.raises(ConfigurationError, match=message):
            evaluate(frame, frame, **options)
    with pytest.raises(SchemaError, match=r"reference_tables names unknown table\(s\) \['c'\]"):
        evaluate(tables, tables, reference_tables=["c"])


def test_reference_tables_get_no_privacy_figure() -> None:
    lookup = pd.DataFrame({"code": ["EUR", "USD", "GBP"], "name": ["Euro", "Dollar", "Pound"]})
    orders = pd.DataFrame({"amount": RNG.normal(size=80), "kind": RNG.choice(["a", "b"], 80)})
    real = {"currencies": lookup, "orders": orders}
    synthetic = {"currencies": lookup.copy(), "orders": orders.assign(amount=orders["amount"] + 10)}
    assert evaluate(real, synthetic, detection=False).privacy.exact_copy_rate == 1.0  # the lookup table's copies
    result = evaluate(real, synthetic, detection=False, reference_tables=["currencies"])
    assert result.tables["currencies"].privacy is None and result.tables["currencies"].reference
    assert result.privacy.exact_copy_rate == 0.0 and not result.tables["orders"].reference
    assert result.tables["currencies"].column_shapes_score == 1.0  # quality is still scored


FRAME = pd.DataFrame({"x": RNG.normal(size=60), "c": RNG.choice(["a", "b"], 60)})


@pytest.mark.parametrize("call, message", [
    (lambda: detection_auc(FRAME, FRAME, max_rows=0), "max_rows must be a positive integer"),
    (lambda: detection_auc(FRAME, FRAME, n_folds=2.5), "n_folds must be a positive integer"),
    (lambda: detection_auc(FRAME, FRAME, max_iter=0), "max_iter must be a positive integer"),
    (lambda: privacy_metrics(FRAME, FRAME, max_synthetic=0), "max_synthetic must be a positive integer"),
    (lambda: privacy_metrics(FRAME, FRAME, max_reference=0), "max_reference must be a positive integer"),
    (lambda: ml_efficacy(FRAME, FRAME, "c", test_size=1.5), "test_size must be a number strictly between 0 and 1"),
    (lambda: ml_efficacy(FRAME, FRAME, "c", max_rows=0), "max_rows must be a positive integer"),
    (lambda: column_pair_trends(FRAME, FRAME, real_association_threshold=float("nan")),
     r"real_association_threshold must be a number in \[0, 1\]"),
    (lambda: membership_inference_auc(FRAME, FRAME, FRAME, n_threads=-1), "n_threads must be a positive integer"),
    # An integer beyond any float raised OverflowError from float(value).
    (lambda: ml_efficacy(FRAME, FRAME, "c", test_size=10**400), "test_size must be a number strictly between"),
    (lambda: column_pair_trends(FRAME, FRAME, real_correlation_threshold=10**400),
     r"real_correlation_threshold must be a number in \[0, 1\]"),
    (lambda: PrivacyThreshold(max_dcr_share=10**400), r"max_dcr_share must be a number in \[0, 1\]"),
])
def test_metric_parameters_are_checked_before_any_work(call, message: str) -> None:
    """They raised scikit-learn's errors (``Found array with 0 sample(s)``) or misleading ones."""
    with pytest.raises(ConfigurationError, match=message):
        call()


def test_a_bool_is_not_a_row_count() -> None:
    """``max_rows=True`` passed column_pair_trends' check (a bool is an int) and sampled one row."""
    with pytest.raises(SchemaError, match="max_rows must be a positive integer or None, got True"):
        column_pair_trends(FRAME, FRAME, max_rows=True)


def test_the_shared_checks_import_no_torch() -> None:
    """The option checks the validation metrics share live in a module that imports no torch."""
    import subprocess
    import sys

    code = "import sys, syntho_hive._checks, syntho_hive.validation; print('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


def test_privacy_gate_given_a_frame_instead_of_a_mapping() -> None:
    from syntho_hive.validation import privacy_gate

    with pytest.raises(SchemaError, match=r"needs real_train as \{table: DataFrame\}, got DataFrame \(wrap one"):
        privacy_gate(FRAME, FRAME, None, {"max_exact_copy_rate": 0.0})  # type: ignore[arg-type]


def test_times_of_day_read_back_from_csv_match_the_time_objects() -> None:
    """A CSV of ``datetime.time`` values reads back as '08:30:00': that text was parsed as today's date at
    08:30, so the column scored 0, detection found every row and no copy was seen."""
    import datetime as dt

    times = [dt.time(h, m) for h in range(8, 18) for m in (0, 30)] * 3
    real = pd.DataFrame({"opens": times, "x": np.arange(len(times))})
    read_back = real.assign(opens=[t.isoformat() for t in times])
    result = evaluate(real, read_back)
    assert result.tables["table"].column_shapes["opens"] == 1.0
    assert result.detection_auc == 0.5 and result.privacy.exact_copy_rate == 1.0
