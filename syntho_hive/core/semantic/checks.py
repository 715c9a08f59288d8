"""Checks of user-declared semantic types, and the generate-or-model decision."""

from __future__ import annotations

import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.semantic.detect import looks_valid_share, string_values
from syntho_hive.core.semantic.types import ALWAYS_GENERATED, SEMANTIC_TYPES
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SchemaError

__all__ = ["check_semantic_type", "should_generate", "validate_type_name", "INTEGER_OK", "DATETIME_OK"]

_log = get_logger(__name__)

#: Types that may sit on an integer column (ZIP codes, phone and card numbers stored as numbers).
INTEGER_OK: frozenset[str] = frozenset({"postcode", "phone_number", "credit_card_number", "national_id"})
#: Types that may sit on a datetime column.
DATETIME_OK: frozenset[str] = frozenset({"date_of_birth"})
_MIN_VALID_SHARE = 0.5


def validate_type_name(semantic_type: str, *, column: str, table: str) -> None:
    """Raise :class:`SchemaError` unless ``semantic_type`` is one of :data:`SEMANTIC_TYPES`."""
    if semantic_type not in SEMANTIC_TYPES:
        raise SchemaError(f"Column {column!r} of table {table!r} declares the unknown semantic type {semantic_type!r}. "
                          f"Use one of: {', '.join(SEMANTIC_TYPES)}.")


def check_semantic_type(series: pd.Series, column: str, semantic_type: str, *, table: str) -> None:
    """Check a semantic type the user declared for a column against its data.

    Args:
        series: The column's real values.
        column: The column name.
        semantic_type: The declared type.
        table: The table name (for messages).

    Raises:
        SchemaError: If the type is unknown or cannot fit the column's dtype (e.g. ``'email'`` on a
            numeric, boolean or datetime column).

    A structlog warning (``semantic_type_mismatch``) is logged when fewer than half of the non-null
    values look valid for the type.
    """
    validate_type_name(semantic_type, column=column, table=table)
    dtype = series.dtype
    numeric_ok = ((semantic_type in INTEGER_OK and ptypes.is_integer_dtype(dtype) and not ptypes.is_bool_dtype(dtype))
                  or (semantic_type in DATETIME_OK and ptypes.is_datetime64_any_dtype(dtype)))
    if (ptypes.is_bool_dtype(dtype) or ptypes.is_numeric_dtype(dtype) or ptypes.is_datetime64_any_dtype(dtype)
            or isinstance(dtype, pd.PeriodDtype) or ptypes.is_timedelta64_dtype(dtype)) and not numeric_ok:
        allowed = (" (an integer column may be 'postcode', 'phone_number', 'credit_card_number' or 'national_id'; "
                   "a datetime column 'date_of_birth')")
        raise SchemaError(
            f"Column {column!r} of table {table!r} has dtype {dtype} but is declared as semantic type "
            f"{semantic_type!r}, which needs text values{allowed if semantic_type not in INTEGER_OK else ''}. "
            "Remove the semantic type from this column or declare it on a text column."
        )
    non_null = series.dropna()
    if non_null.empty:
        return
    if numeric_ok:
        values = [str(v) for v in pd.unique(non_null.to_numpy())[:1000]]
    else:
        values = string_values(series) or []
        if not values:
            raise SchemaError(
                f"Column {column!r} of table {table!r} is declared as semantic type {semantic_type!r} but holds "
                "no text values. Remove the semantic type or convert the column to strings."
            )
    share = looks_valid_share(values, semantic_type)
    if share < _MIN_VALID_SHARE:
        valid = round(share * len(values))
        _log.warning("semantic_type_mismatch", table=table, column=column, semantic_type=semantic_type,
                     valid=valid, checked=len(values),
                     hint="check the declared semantic type; generated values will follow the type, not the data")


def should_generate(series: pd.Series, semantic_type: str, *, rare_threshold: int) -> bool:
    """Whether a semantic column is generated (True) or modelled as a category (False).

    Args:
        series: The column's real values.
        semantic_type: Its semantic type.
        rare_threshold: Values seen fewer times than this could never be shown by the engine.

    Returns:
        ``True`` for :data:`ALWAYS_GENERATED` types, and for the others when no value occurs at
        least ``rare_threshold`` times.
    """
    if semantic_type in ALWAYS_GENERATED:
        return True
    counts = series.dropna().value_counts()
    return counts.empty or int(counts.max()) < rare_threshold
