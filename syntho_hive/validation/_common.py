"""Shared helpers of the validation metrics: column typing, category text, seeded row sampling, input checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._checks import is_int
from syntho_hive.core.metadata.schema import SDTYPES, SDType, TableConfig
from syntho_hive.exceptions import ConfigurationError, SchemaError

__all__ = [
    "CONTINUOUS",
    "DISCRETE",
    "resolve_sdtypes",
    "bin_edges",
    "check_columns",
    "check_positive_int",
    "check_switches",
    "FieldsDict",
]

class FieldsDict:
    """Base of the metric result dataclasses: their ``to_dict``."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of the fields."""
        return asdict(self)  # type: ignore[call-overload]


CONTINUOUS: frozenset[str] = frozenset({"numerical", "datetime"})
DISCRETE: frozenset[str] = frozenset({"categorical", "boolean"})


def resolve_sdtypes(real: pd.DataFrame, sdtypes: Mapping[str, SDType] | None = None,
                    table: TableConfig | None = None) -> dict[str, SDType]:
    """Semantic type of every column of ``real``.

    Precedence: ``sdtypes`` argument, then the table's declared ``columns``, then key columns of the
    table (primary/foreign keys are ``id``), then :func:`detect_sdtype` on the real data.

    Args:
        real: The real table.
        sdtypes: Explicit ``{column: sdtype}``.
        table: The table's metadata, if any.

    Returns:
        ``{column: sdtype}`` in the column order of ``real``.

    Raises:
        SchemaError: If a given sdtype is unknown.
    """
    from syntho_hive.core.metadata.detect import detect_sdtype

    given = dict(sdtypes or {})
    declared: dict[str, SDType] = dict(table.columns) if table is not None else {}
    keys = set(table.key_columns) if table is not None else set()
    out: dict[str, SDType] = {}
    for column in real.columns:
        sdtype = given.get(column) or declared.get(column)
        if sdtype is None and column in keys:
            sdtype = "id"
        if sdtype is None:
            sdtype = detect_sdtype(real[column], str(column))
        if sdtype not in SDTYPES:
            where = f" of table {table.name!r}" if table is not None else ""
            raise SchemaError(f"Unknown sdtype {sdtype!r} for column {column!r}{where}; "
                              f"use one of {list(SDTYPES)}.")
        out[column] = sdtype
    return out


def category_text(series: pd.Series, null_label: str) -> pd.Series:
    """Category values as text, the same way in every metric: an integral float is its integer
    (``1.0`` and ``1`` are one category, as in the column-shape scores, whatever side stored floats:
    a column with nulls, read from CSV, or ``Int64``), nulls become ``null_label``.

    Args:
        series: A categorical or boolean column.
        null_label: Text of a missing value.

    Returns:
        An ``object`` Series of strings, index kept.
    """
    def text(value: object) -> str:
        if isinstance(value, (float, np.floating)) and np.isfinite(value) and float(value).is_integer():
            return str(int(value))
        return str(value)

    values = series.astype(object)
    present = series.notna().to_numpy()
    out = np.full(len(series), null_label, dtype=object)
    out[present] = [text(v) for v in values.to_numpy()[present]]
    return pd.Series(out, index=series.index, dtype=object)


def check_columns(real: pd.DataFrame, synthetic: pd.DataFrame, *, what: str,
                  table: str | None = None, other: str = "synthetic") -> None:
    """Raise :class:`SchemaError` if ``synthetic`` lacks a column of ``real`` or either is empty.

    Args:
        real: The reference rows.
        synthetic: The rows compared with them.
        what: The metric, for the message.
        table: The table, for the message.
        other: What ``synthetic`` is (``"synthetic"``, ``"holdout"``), for the message.
    """
    where = f" of table {table!r}" if table else ""
    if not isinstance(real, pd.DataFrame) or not isinstance(synthetic, pd.DataFrame):
        raise SchemaError(f"{what}{where} needs pandas DataFrames, got {type(real).__name__} and "
                          f"{type(synthetic).__name__}.")
    missing = [column for column in real.columns if column not in synthetic.columns]
    if missing:
        fix = "generate all of them" if other == "synthetic" else f"give the {other} data all of them"
        raise SchemaError(f"{other.capitalize()} data{where} lacks column(s) {missing} present in the real "
                          f"data; {what} compares the same columns, so {fix}.")
    if len(real) == 0 or len(synthetic) == 0:
        raise SchemaError(f"{what}{where} needs non-empty data; got {len(real)} real and "
                          f"{len(synthetic)} {other} rows.")


def check_positive_int(name: str, value: Any) -> None:
    """Raise :class:`ConfigurationError` unless ``value`` is an integer >= 1 (``True`` is not one)."""
    if not is_int(value) or value < 1:
        raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")


def check_switches(**switches: Any) -> None:
    """Raise :class:`ConfigurationError` unless every value is ``True`` or ``False`` (a string such as
    ``"no"`` would switch a metric on)."""
    wrong = {name: value for name, value in switches.items() if not isinstance(value, (bool, np.bool_))}
    if wrong:
        raise ConfigurationError("These options must be True or False: "
                                 + ", ".join(f"{name}={value!r}" for name, value in wrong.items()) + ".")


def bin_edges(values: np.ndarray, bins: int) -> tuple[np.ndarray, float]:
    """Equal-width bin edges of the finite ``values`` (``numpy.histogram_bin_edges``), and the offset to
    subtract from values before binning them.

    The offset is 0, unless the range is too narrow for the magnitude: numpy cannot make finite-sized bins
    around a constant datetime (1.6e18 ns since the epoch, where a float's step is 256), and raises. Then the
    edges are those of ``values - min`` and the offset is the minimum.

    Args:
        values: Numbers (NaN and infinities ignored; none finite: the edges of ``[0]``).
        bins: Number of bins.

    Returns:
        ``(edges, offset)``.
    """
    finite = values[np.isfinite(values)]
    if not finite.size:
        finite = np.zeros(1)
    try:
        return np.histogram_bin_edges(finite, bins=bins), 0.0
    except ValueError:
        offset = float(finite.min())
        return np.histogram_bin_edges(finite - offset, bins=bins), offset
