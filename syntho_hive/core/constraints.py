"""Declared constraints: checked on training data, satisfied by construction when sampling.

:class:`ConstraintEngine` sits between the raw table and the
:class:`~syntho_hive.core.data.transformer.DataTransformer`:

* ``fit`` checks the training data against every declared constraint and raises
  :class:`~syntho_hive.exceptions.ConstraintViolationError` (column, bound, count, examples)
  when it is violated; it learns the allowed value combinations of each
  :class:`~syntho_hive.core.metadata.schema.FixedCombinations` group.
* ``transform`` reparametrises the table so that *any* model output maps back to valid rows:

  - a fixed-combination group becomes one joint categorical column (``"city#country"``) whose
    categories are exactly the combinations seen in the data;
  - an inequality ``low <= high`` replaces ``high`` by a non-negative log-gap column
    (``"end#gap"`` = ``log1p(high - low)``; datetimes (datetime64, tz-aware, or date strings
    with a fixed format) in steps of the data's granularity, e.g. whole seconds or days; a
    strict inequality on integers/datetimes stores ``log1p(gap - 1 step)`` so every decoded
    gap is at least one step). The transformer is told (``bounds``) that the gap column is
    ``>= 0`` and reparametrises it, so the decoded ``high`` can never fall below ``low``.
    A null on either side gives a null gap (nulls never violate). When ``low`` is null but
    ``high`` is not, the value of ``high`` travels in an extra column (``"end#unpaired"``);
  - per-column ``min``/``max`` bounds are published in ``bounds`` (floats for numbers,
    timestamps for datetimes) for the transformer to enforce by reparametrisation.

* ``reverse_transform`` is the exact inverse on valid data (integers and datetimes exactly,
  floats exactly when they have at most 12 decimals, otherwise to float rounding).
* ``is_valid`` gives the row mask used to resample the rows that reparametrisation cannot
  guarantee (a bound on a column replaced by a gap, a zero gap under a strict float
  inequality, a bound on a non-numeric-modelled column), never clipping onto a bound.
* ``to_dict`` / ``from_dict`` keep what ``fit`` learned as strict JSON (kinds, steps, dtypes,
  formats, bounds, the seen fixed combinations) and nothing else of the training rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core._json_state import (
    dtype_from_json,
    dtype_to_json,
    frame_from_json,
    frame_to_json,
    value_from_json,
    value_to_json,
)
from syntho_hive.core.data.datetime_formats import (
    detect_datetime_format,
    format_datetimes,
    formats_exactly,
    parse_datetimes,
)
from syntho_hive.core.metadata.detect import detect_sdtype
from syntho_hive.core.metadata.schema import SDType, TableConfig
from syntho_hive.exceptions import (
    ConstraintViolationError,
    GenerationError,
    NotFittedError,
    SchemaError,
    SerializationError,
)

__all__ = ["ConstraintEngine", "GAP_SUFFIX", "UNPAIRED_SUFFIX", "JOINT_SEPARATOR"]

GAP_SUFFIX = "#gap"
UNPAIRED_SUFFIX = "#unpaired"
JOINT_SEPARATOR = "#"
_LABEL_SEPARATOR = " | "
_MAX_EXAMPLES = 5
_MAX_DECIMALS = 12
# Candidate granularities of datetime gaps, coarsest first (nanoseconds).
_STEPS_NS = (86_400 * 10**9, 3_600 * 10**9, 60 * 10**9, 10**9, 10**6, 10**3, 1)
# strftime directives by the finest time unit they write, finest first (nanoseconds).
_FORMAT_STEPS_NS = ((("%f",), 10**3), (("%S", "%T", "%X", "%c", "%s"), 10**9), (("%M", "%R"), 60 * 10**9),
                    (("%H", "%I"), 3_600 * 10**9))
_INT64_MAX = np.iinfo(np.int64).max
_STATE_FORMAT = 1  # version of the to_dict() layout


@dataclass
class _InequalityPlan:
    low: str
    high: str
    strict: bool
    gap: str
    kind: str = "numeric"  # "numeric" | "datetime"
    integer: bool = False
    decimals: int | None = None
    step_ns: int = 10**9
    unpaired: str | None = None
    high_dtype: Any = None
    high_sdtype: SDType = "numerical"
    high_format: str | None = None  # strftime format when ``high`` holds date strings
    high_string_dtype: Any = None


@dataclass
class _ComboPlan:
    columns: list[str]
    joint: str
    combos: pd.DataFrame | None = None
    labels: pd.Index | None = None


@dataclass
class _Rule:
    column: str
    message: str
    mask: np.ndarray
    examples: list[Any]


def _scalar(value: Any) -> Any:
    """A plain Python value for messages/examples."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _examples(values: pd.Series | pd.DataFrame, mask: np.ndarray) -> list[Any]:
    picked = values[mask].iloc[:_MAX_EXAMPLES]
    if isinstance(picked, pd.DataFrame):
        return [tuple(_scalar(v) for v in row) for row in picked.itertuples(index=False)]
    return [_scalar(v) for v in picked.tolist()]


def _float_values(series: pd.Series) -> np.ndarray:
    """Numeric column as float64 with NaN for nulls."""
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def _is_numeric(series: pd.Series) -> bool:
    return ptypes.is_numeric_dtype(series.dtype) and not ptypes.is_bool_dtype(series.dtype)


def _decimals(values: np.ndarray) -> int | None:
    """Smallest number of decimals that represents every finite value exactly, if <= 12."""
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return None
    for decimals in range(_MAX_DECIMALS + 1):
        if np.array_equal(np.round(finite, decimals), finite):
            return decimals
    return None


def _datetime_step_ns(gaps_ns: np.ndarray) -> int:
    """Coarsest granularity (day, hour, minute, second, ms, us, ns) dividing every gap."""
    if gaps_ns.size == 0:
        return 10**9
    for step in _STEPS_NS:
        if not np.any(gaps_ns % step):
            return step
    return 1


def _format_step_ns(fmt: str | None) -> int:
    """Finest unit a date-string format writes (a day without time directives; 1 s for no format)."""
    if fmt is None:
        return 10**9
    for directives, step in _FORMAT_STEPS_NS:
        if any(d in fmt for d in directives):
            return step
    return _STEPS_NS[0]


def _restore_numeric(values: np.ndarray, dtype: Any) -> Any:
    """Cast float results back to the column's original numeric dtype.

    Integers are rounded to the nearest integer (they are exact integers on valid input);
    a null in a plain ``int64`` column turns it into the nullable ``Int64``.
    """
    null = np.isnan(values)
    if ptypes.is_integer_dtype(dtype):
        data = np.where(null, 0, np.rint(values)).astype(np.int64)
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) or null.any():
            target = dtype if isinstance(dtype, pd.api.extensions.ExtensionDtype) else "Int64"
            return pd.arrays.IntegerArray(data, null).astype(target)
        return data.astype(dtype)
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return pd.array(values, dtype="Float64").astype(dtype) if not null.any() else \
            pd.arrays.FloatingArray(np.where(null, 0.0, values), null).astype(dtype)
    return values.astype(dtype)


class ConstraintEngine:
    """Checks, reparametrises and restores the declared constraints of one table.

    Args:
        table: The table's configuration (``constraints``, ``inequalities``,
            ``fixed_combinations``).

    Attributes (set by :meth:`fit`):
        derived_sdtypes: sdtypes of the columns created by :meth:`transform`
            (joint columns ``"categorical"``, gap columns ``"numerical"``, unpaired columns
            the sdtype of the column they carry).
        bounds: Declared ``(min, max)`` per column of the transformed table that the
            transformer must keep in range by reparametrisation: floats for numeric columns,
            ``pd.Timestamp`` (in the column's timezone) for datetime columns; gap columns get
            ``(0.0, None)``. Bounds on a column replaced by a gap or a joint column are not
            listed: rows breaking them are rejected by :meth:`is_valid` (resampling).
        datetime_bounds: The datetime entries of ``bounds``.
        dtypes: Declared ``Constraint.dtype`` per column, applied by :meth:`reverse_transform`.

    Raises:
        SchemaError: If the declared constraints are inconsistent (a column is the ``high``
            side of two inequalities, the inequalities form a cycle, a column belongs to two
            fixed combinations, or to a fixed combination and an inequality).
    """

    def __init__(self, table: TableConfig) -> None:
        self.table = table
        self._check_structure()
        self._inequalities = self._ordered_inequalities()
        self._combos = [
            _ComboPlan(columns=list(group.columns), joint=JOINT_SEPARATOR.join(group.columns))
            for group in table.fixed_combinations
        ]
        self.dtypes: dict[str, str] = {
            col: c.dtype for col, c in table.constraints.items() if c.dtype is not None
        }
        self.derived_sdtypes: dict[str, SDType] = {}
        self.bounds: dict[str, tuple[float | None, float | None]] = {}
        self.datetime_bounds: dict[str, tuple[pd.Timestamp | None, pd.Timestamp | None]] = {}
        self.columns_: list[str] = []
        self._formats: dict[str, str | None] = {}
        self._fitted = False

    # ------------------------------------------------------------------ structure

    @property
    def _where(self) -> str:
        return f"table {self.table.name!r}"

    def _check_structure(self) -> None:
        problems: list[str] = []
        highs: dict[str, int] = {}
        for ineq in self.table.inequalities:
            if ineq.low == ineq.high:
                problems.append(f"Inequality {ineq.low} <= {ineq.high} compares a column with itself")
            highs[ineq.high] = highs.get(ineq.high, 0) + 1
        problems += [
            f"column {col!r} is the 'high' side of {n} inequalities; keep one and chain the "
            "others (a <= b, b <= c)" for col, n in highs.items() if n > 1
        ]
        seen: dict[str, int] = {}
        for i, group in enumerate(self.table.fixed_combinations):
            if len(set(group.columns)) != len(group.columns):
                problems.append(f"FixedCombinations {group.columns} repeats a column")
            for col in group.columns:
                if col in seen and seen[col] != i:
                    problems.append(
                        f"column {col!r} belongs to two FixedCombinations groups; merge them"
                    )
                seen[col] = i
        in_ineq = {c for q in self.table.inequalities for c in (q.low, q.high)}
        problems += [
            f"column {col!r} is in both a FixedCombinations group and an Inequality; "
            "remove one of them" for col in sorted(in_ineq & set(seen))
        ]
        if problems:
            raise SchemaError(
                f"Invalid constraints for {self._where}: " + "; ".join(problems) + "."
            )

    def _ordered_inequalities(self) -> list[_InequalityPlan]:
        """Inequalities in decoding order: a ``high`` is restored before it is used as ``low``."""
        pending = list(self.table.inequalities)
        ordered: list[_InequalityPlan] = []
        while pending:
            pending_highs = {q.high for q in pending}
            ready = [q for q in pending if q.low not in pending_highs]
            if not ready:
                cycle = ", ".join(f"{q.low} <= {q.high}" for q in pending)
                raise SchemaError(
                    f"Invalid constraints for {self._where}: the inequalities {cycle} form a "
                    "cycle; remove one of them."
                )
            for q in ready:
                ordered.append(_InequalityPlan(low=q.low, high=q.high, strict=q.strict,
                                               gap=f"{q.high}{GAP_SUFFIX}"))
            pending = [q for q in pending if q not in ready]
        return ordered

    def _required_columns(self) -> list[str]:
        cols = list(self.table.constraints)
        for q in self._inequalities:
            cols += [q.low, q.high]
        for c in self._combos:
            cols += c.columns
        return list(dict.fromkeys(cols))

    def _require_columns(self, df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
        if not isinstance(df, pd.DataFrame):
            raise SchemaError(
                f"Constraints of {self._where} need a pandas DataFrame, got {type(df).__name__}."
            )
        missing = [c for c in columns if c not in df.columns]
        if missing:
            where = what if self._where in what else f"{what} of {self._where}"
            raise SchemaError(
                f"{where} lacks column(s) {missing} used by its constraints; "
                "add them to the data or remove the constraints that name them."
            )

    def _require_fitted(self) -> None:
        if not self._fitted:
            raise NotFittedError(
                f"The ConstraintEngine of {self._where} is not fitted; call fit(data) first."
            )

    # ------------------------------------------------------------------ rules

    def _bound_values(self, series: pd.Series, column: str, bound: Any, side: str
                      ) -> tuple[Any, Any]:
        """Comparable (values, bound) for a min/max check."""
        if _is_numeric(series):
            try:
                return _float_values(series), float(bound)
            except (TypeError, ValueError):
                raise SchemaError(
                    f"Constraint({side}={bound!r}) on numeric column {column!r} of {self._where} "
                    "is not a number; give a number."
                ) from None
        if ptypes.is_datetime64_any_dtype(series.dtype):
            values = series
        elif ptypes.is_string_dtype(series.dtype) or ptypes.is_object_dtype(series.dtype):
            values = pd.to_datetime(series, errors="coerce", format="mixed")
            if series.notna().any() and values.notna().sum() < 0.95 * series.notna().sum():
                raise SchemaError(
                    f"Constraint({side}=...) on column {column!r} of {self._where} needs numbers "
                    "or datetimes, but the column holds other strings; remove min/max for it."
                )
        else:
            raise SchemaError(
                f"Constraint({side}=...) on column {column!r} of {self._where} needs a numeric "
                f"or datetime column, got dtype {series.dtype}; remove min/max for it."
            )
        try:
            stamp = pd.Timestamp(bound)
        except (TypeError, ValueError):
            raise SchemaError(
                f"Constraint({side}={bound!r}) on datetime column {column!r} of {self._where} is "
                "not a date; use an ISO string such as '2024-01-31'."
            ) from None
        tz = getattr(values.dt, "tz", None)
        if tz is not None and stamp.tzinfo is None:
            stamp = stamp.tz_localize(tz)
        elif tz is None and stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        return values, stamp

    def _rules(self, df: pd.DataFrame, context: str, *, with_combos: bool) -> list[_Rule]:
        """Every constraint as a violation mask over the rows of ``df``."""
        rules: list[_Rule] = []
        for column, constraint in self.table.constraints.items():
            series = df[column]
            for side, bound in (("min", constraint.min), ("max", constraint.max)):
                if bound is None:
                    continue
                values, limit = self._bound_values(series, column, bound, side)
                cmp = (values < limit) if side == "min" else (values > limit)
                mask = np.asarray(pd.Series(cmp).fillna(False), dtype=bool)
                word = "below" if side == "min" else "above"
                rules.append(_Rule(
                    column, f"{context}: column {column!r} has {{count}} value(s) {word} the "
                    f"declared {side}={bound!r} (examples: {{examples}}). Fix or drop these rows, "
                    f"or relax Constraint({side}=...) for {column!r}.", mask,
                    _examples(series, mask)))
            if constraint.dtype == "int" and _is_numeric(series):
                values = _float_values(series)
                with np.errstate(invalid="ignore"):
                    mask = np.isfinite(values) & (np.floor(values) != values)
                mask |= np.isinf(values)
                rules.append(_Rule(
                    column, f"{context}: column {column!r} is declared Constraint(dtype='int') "
                    "but has {count} non-integral value(s) (examples: {examples}). Round the "
                    "column or declare dtype='float'.", mask, _examples(series, mask)))
        for q in self._inequalities:
            low, high = df[q.low], df[q.high]
            both = low.notna().to_numpy() & high.notna().to_numpy()
            kind = self._pair_kind(low, high, q)
            if kind == "numeric":
                lo, hi = _float_values(low), _float_values(high)
            else:
                lo, hi = self._datetime_pair(low, high, q)
            bad = (hi <= lo) if q.strict else (hi < lo)
            mask = both & np.asarray(pd.Series(bad).fillna(False), dtype=bool)
            op = "<" if q.strict else "<="
            rules.append(_Rule(
                f"{q.low} {op} {q.high}", f"{context}: {{count}} row(s) violate the inequality "
                f"{q.low} {op} {q.high} (examples ({q.low}, {q.high}): {{examples}}). Fix or drop "
                "these rows, or remove the Inequality.", mask,
                _examples(df[[q.low, q.high]], mask)))
        if with_combos and self._fitted:
            for plan in self._combos:
                mask = self._combo_index(plan, df) < 0
                rules.append(_Rule(
                    JOINT_SEPARATOR.join(plan.columns), f"{context}: {{count}} row(s) have a "
                    f"combination of {plan.columns} not seen in the training data (examples: "
                    "{examples}). Only the combinations seen at fit may be generated.", mask,
                    _examples(df[plan.columns], mask)))
        return rules

    def _is_date_strings(self, series: pd.Series, column: str) -> bool:
        if not (ptypes.is_string_dtype(series.dtype) or ptypes.is_object_dtype(series.dtype)):
            return False
        if column in self.table.datetime_formats or column in self._formats:
            return True
        sdtype = self.table.columns.get(column) or detect_sdtype(series, column)
        return sdtype == "datetime"

    def _pair_kind(self, low: pd.Series, high: pd.Series, q: _InequalityPlan) -> str:
        if _is_numeric(low) and _is_numeric(high):
            return "numeric"
        dated = [ptypes.is_datetime64_any_dtype(s.dtype) or self._is_date_strings(s, c)
                 for s, c in ((low, q.low), (high, q.high))]
        if all(dated):
            return "datetime"
        raise SchemaError(
            f"Inequality {q.low} <= {q.high} of {self._where} needs two numeric or two datetime "
            f"columns (datetime64 or date strings), got {low.dtype} and {high.dtype}; fix the "
            "column types or declare TableConfig.datetime_formats for date strings."
        )

    def _date_format(self, series: pd.Series, column: str) -> str | None:
        """The strftime format of a date-string column (declared, else guessed and verified).

        Raises:
            SchemaError: If no single format writes every value back exactly.
        """
        if column in self._formats:
            return self._formats[column]
        declared = self.table.datetime_formats.get(column)
        values = series.dropna().astype(str)
        if values.empty:
            return declared
        if declared:
            fmt = declared if formats_exactly(values.drop_duplicates(), declared) else None
        else:  # the transformers' detection: a format every value re-formats to exactly
            fmt = detect_datetime_format(values)
        if fmt is not None:
            self._formats[column] = fmt
            return fmt
        tried = repr(declared) if declared else "the known formats"
        raise SchemaError(
            f"Column {column!r} of {self._where} holds date strings that no single format "
            f"reproduces exactly (tried {tried}; e.g. {values.iloc[0]!r}); set "
            f"TableConfig.datetime_formats[{column!r}] to its strftime format."
        )

    def _as_datetime(self, series: pd.Series, column: str) -> pd.Series:
        if ptypes.is_datetime64_any_dtype(series.dtype):
            return series
        fmt = self._date_format(series, column)
        if fmt is None:  # all null
            return pd.to_datetime(series.astype(object), errors="coerce")
        try:
            return parse_datetimes(series, fmt)
        except (ValueError, TypeError) as exc:
            raise SchemaError(
                f"Column {column!r} of {self._where} holds values that do not match its date "
                f"format {fmt!r}: {exc}"
            ) from exc

    def _datetime_pair(self, low: pd.Series, high: pd.Series, q: _InequalityPlan
                       ) -> tuple[pd.Series, pd.Series]:
        """Both sides of a datetime inequality as datetime64 in one timezone."""
        lo, hi = self._as_datetime(low, q.low), self._as_datetime(high, q.high)
        if (getattr(lo.dt, "tz", None) is None) != (getattr(hi.dt, "tz", None) is None):
            raise SchemaError(
                f"Inequality {q.low} <= {q.high} of {self._where}: one column is tz-aware and "
                "the other is not; localise both (Series.dt.tz_localize) or neither."
            )
        return lo, self._align_tz(hi, lo)

    @staticmethod
    def _align_tz(target: pd.Series, like: pd.Series) -> pd.Series:
        tz = getattr(like.dt, "tz", None)
        return target.dt.tz_convert(tz) if tz is not None else target

    def find_violations(self, df: pd.DataFrame, *, context: str = "data"
                        ) -> list[ConstraintViolationError]:
        """Every violated constraint, as one error each (nothing is raised).

        Works before :meth:`fit` too (fixed combinations are then not checked).

        Args:
            df: Rows to check.
            context: Where the rows come from, for the messages (e.g. ``"training data"``).

        Returns:
            One :class:`ConstraintViolationError` per violated constraint.

        Raises:
            SchemaError: If ``df`` lacks a constrained column or a constraint does not fit
                the column's type.
        """
        self._require_columns(df, self._required_columns(), context[:1].upper() + context[1:])
        errors = []
        for rule in self._rules(df, context, with_combos=True):
            count = int(rule.mask.sum())
            if count:
                errors.append(ConstraintViolationError(
                    rule.message.format(count=count, examples=rule.examples),
                    column=rule.column, count=count, examples=rule.examples))
        return errors

    def check(self, df: pd.DataFrame, *, context: str) -> None:
        """Raise when ``df`` violates a constraint.

        Args:
            df: Rows to check (untransformed columns).
            context: Where the rows come from, e.g. ``"training data of table 'people'"``.

        Raises:
            ConstraintViolationError: The first violated constraint in ``column``/``count``/
                ``examples``; the message lists every violated constraint.
            SchemaError: If ``df`` lacks a constrained column.
        """
        errors = self.find_violations(df, context=context)
        if not errors:
            return
        if len(errors) == 1:
            raise errors[0]
        first = errors[0]
        message = f"{len(errors)} constraints are violated:\n" + "\n".join(
            f"  - {err}" for err in errors)
        raise ConstraintViolationError(message, column=first.column, count=first.count,
                                       examples=first.examples)

    def is_valid(self, df: pd.DataFrame) -> np.ndarray:
        """Row mask: ``True`` where a row satisfies every constraint.

        Nulls never violate a bound or an inequality. Fixed combinations are checked once
        the engine is fitted.

        Args:
            df: Rows in the original (untransformed) columns.

        Returns:
            A boolean array of length ``len(df)``.

        Raises:
            SchemaError: If ``df`` lacks a constrained column.
        """
        self._require_columns(df, self._required_columns(), "Data")
        valid = np.ones(len(df), dtype=bool)
        for rule in self._rules(df, "data", with_combos=True):
            valid &= ~rule.mask
        return valid

    # ------------------------------------------------------------------ fit

    def fit(self, df: pd.DataFrame) -> ConstraintEngine:
        """Check the training data and learn what the reparametrisation needs.

        Args:
            df: The training table.

        Returns:
            ``self``.

        Raises:
            ConstraintViolationError: If the data violates a declared constraint (names the
                column, the bound, the number of offending rows and up to 5 examples).
            SchemaError: If a constrained column is missing or has an unsuitable type.
        """
        context = f"training data of {self._where}"
        self._fitted = False
        self._formats = {}
        self.check(df, context=context)
        self.columns_ = [str(c) for c in df.columns]
        for plan in self._combos:
            self._fit_combo(plan, df)
        for q in self._inequalities:
            self._fit_inequality(q, df)
        self._set_derived_sdtypes()
        self._fit_bounds(df)
        self._fitted = True
        return self

    def _set_derived_sdtypes(self) -> None:
        self.derived_sdtypes = {plan.joint: "categorical" for plan in self._combos}
        for q in self._inequalities:
            self.derived_sdtypes[q.gap] = "numerical"
            if q.unpaired is not None:
                self.derived_sdtypes[q.unpaired] = q.high_sdtype

    def _fit_combo(self, plan: _ComboPlan, df: pd.DataFrame) -> None:
        combos = df[plan.columns].drop_duplicates().reset_index(drop=True)

        def text(column: str) -> pd.Series:
            # str() of every value, nulls included ("None", "nan"), so that no label is missing
            # (astype(str) keeps nulls missing: combinations with a null would share one label)
            return pd.Series([str(v) for v in combos[column].astype(object)], dtype=object)

        labels = text(plan.columns[0])
        for col in plan.columns[1:]:
            labels = labels + _LABEL_SEPARATOR + text(col)
        while labels.duplicated().any():  # e.g. 1 and "1": make labels unique
            dup = labels.duplicated(keep=False)
            rank = labels.groupby(labels).cumcount().astype(str)
            labels = labels.where(~dup, labels + " #" + rank)
        plan.combos = combos
        plan.labels = pd.Index(labels.to_numpy(dtype=object), dtype=object)

    def _fit_inequality(self, q: _InequalityPlan, df: pd.DataFrame) -> None:
        low, high = df[q.low], df[q.high]
        q.kind = self._pair_kind(low, high, q)
        q.high_dtype = high.dtype
        q.high_sdtype = "numerical" if q.kind == "numeric" else "datetime"
        lone = low.isna().to_numpy() & high.notna().to_numpy()
        q.unpaired = f"{q.high}{UNPAIRED_SUFFIX}" if lone.any() else None
        if q.kind == "numeric":
            q.integer = ptypes.is_integer_dtype(low.dtype) and ptypes.is_integer_dtype(high.dtype)
            q.decimals = None if q.integer else _decimals(_float_values(high))
        else:
            if not ptypes.is_datetime64_any_dtype(high.dtype):
                q.high_format = self._date_format(high, q.high)
            lo, hi = self._datetime_pair(low, high, q)
            q.high_dtype = hi.dtype if q.high_format is not None else high.dtype
            q.high_string_dtype = high.dtype
            delta = (hi - lo).dropna()
            gaps_ns = delta.dt.as_unit("ns").astype("int64").to_numpy()
            q.step_ns = _datetime_step_ns(gaps_ns) if gaps_ns.size else _format_step_ns(q.high_format)

    def _fit_bounds(self, df: pd.DataFrame) -> None:
        replaced = {q.high for q in self._inequalities} | {
            c for plan in self._combos for c in plan.columns}
        self.bounds = {}
        self.datetime_bounds = {}
        for column, constraint in self.table.constraints.items():
            if column in replaced or (constraint.min is None and constraint.max is None):
                continue
            if column in self.table.key_columns or self.table.columns.get(
                    column, "numerical") not in ("numerical", "datetime"):
                continue  # not modelled as a number: enforced by is_valid (resampling)
            series = df[column]
            limits = [None if b is None else self._bound_values(series, column, b, side)[1]
                      for side, b in (("min", constraint.min), ("max", constraint.max))]
            if _is_numeric(series):
                self.bounds[column] = (limits[0], limits[1])
            elif ptypes.is_datetime64_any_dtype(series.dtype) or (
                    self.table.columns.get(column, detect_sdtype(series, column)) == "datetime"):
                self.datetime_bounds[column] = (limits[0], limits[1])
                self.bounds[column] = (limits[0], limits[1])
        for q in self._inequalities:
            self.bounds[q.gap] = (0.0, None)

    # ------------------------------------------------------------------ transform

    def _combo_index(self, plan: _ComboPlan, df: pd.DataFrame) -> np.ndarray:
        """Index of each row's combination among the fitted ones (-1 when unseen)."""
        assert plan.combos is not None
        n_seen = len(plan.combos)
        both = pd.concat(
            [plan.combos[plan.columns].astype(object), df[plan.columns].astype(object)],
            ignore_index=True)
        key = np.zeros(len(both), dtype=np.int64)
        for col in plan.columns:
            codes, uniques = pd.factorize(both[col], use_na_sentinel=False)
            key, _ = pd.factorize(key * len(uniques) + codes)
        return pd.Index(key[:n_seen]).get_indexer(key[n_seen:])

    def _gap(self, q: _InequalityPlan, df: pd.DataFrame) -> np.ndarray:
        low, high = df[q.low], df[q.high]
        if q.kind == "numeric":
            diff = _float_values(high) - _float_values(low)
            if q.integer and q.strict:
                diff = diff - 1.0
        else:
            lo, hi = self._datetime_pair(low, high, q)
            ns = (hi - lo).dt.as_unit("ns")
            ints = ns.fillna(pd.Timedelta(0)).astype("int64").to_numpy()
            diff = (ints // q.step_ns).astype(np.float64)
            diff[ns.isna().to_numpy()] = np.nan
            if q.strict:
                diff = diff - 1.0
        with np.errstate(invalid="ignore"):
            return np.log1p(diff)

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        """Reparametrise ``df`` so that any model output decodes into valid rows.

        Args:
            df: Rows in the original columns (normally the training data).

        Returns:
            A new DataFrame: each fixed-combination group replaced (at its first member's
            position) by its joint column, each inequality's ``high`` replaced by its gap
            column (followed by its unpaired column when one was learned); other columns
            untouched.

        Raises:
            NotFittedError: Before :meth:`fit`.
            ConstraintViolationError: If ``df`` violates a constraint.
        """
        self._require_fitted()
        self.check(df, context=f"data transformed for {self._where}")
        derived: dict[str, list[tuple[str, Any]]] = {}
        dropped: set[str] = set()
        for plan in self._combos:
            assert plan.labels is not None
            index = self._combo_index(plan, df)
            joint = pd.Series(plan.labels.to_numpy()[index], index=df.index, dtype=object)
            derived[plan.columns[0]] = [(plan.joint, joint)]
            dropped.update(plan.columns[1:])
        for q in self._inequalities:
            items: list[tuple[str, Any]] = [(q.gap, pd.Series(self._gap(q, df), index=df.index))]
            if q.unpaired is not None:
                items.append((q.unpaired, df[q.high].where(df[q.low].isna())))
            derived[q.high] = items
        out: dict[str, Any] = {}
        for column in df.columns:
            if column in dropped:
                continue
            if column in derived:
                out.update(derived[column])
            else:
                out[column] = df[column]
        return pd.DataFrame(out, index=df.index)

    # ------------------------------------------------------------------ reverse

    def _decode_high(self, q: _InequalityPlan, low: pd.Series, gap: pd.Series,
                     unpaired: pd.Series | None) -> Any:
        g = _float_values(gap)
        if q.kind == "numeric":
            lo = _float_values(low)
            if q.integer:
                steps = np.rint(np.expm1(g)) + (1.0 if q.strict else 0.0)
                values = lo + steps
            else:
                values = lo + np.expm1(g)
                if q.decimals is not None:
                    rounded = np.round(values, q.decimals)
                    keep = (rounded > lo) if q.strict else (rounded >= lo)
                    values = np.where(keep | np.isnan(values), rounded, values)
            if unpaired is not None:
                values = np.where(np.isnan(lo), _float_values(unpaired), values)
            return _restore_numeric(values, q.high_dtype)
        low = self._as_datetime(low, q.low)
        steps = np.rint(np.expm1(g)) + (1.0 if q.strict else 0.0)
        ok = np.isfinite(steps)
        if np.any(steps[ok] > _INT64_MAX // q.step_ns):
            raise GenerationError(
                f"Generated gaps for {q.high!r} of {self._where} are too large to form dates; "
                "the model output is outside the fitted range (refit or check the transformer)."
            )
        ns = np.where(ok, steps, 0).astype(np.int64) * np.int64(q.step_ns)
        delta = pd.Series(pd.to_timedelta(ns, unit="ns"), index=low.index).where(ok)
        try:
            high = low + delta
        except (OverflowError, pd.errors.OutOfBoundsDatetime) as exc:
            raise GenerationError(
                f"Decoding {q.high!r} of {self._where} overflowed the datetime range: {exc}"
            ) from exc
        if unpaired is not None:
            alone = self._as_datetime(unpaired, q.high)
            if getattr(high.dt, "tz", None) is not None:
                alone = self._align_tz(alone, high)
            high = high.where(low.notna(), alone)
        tz = getattr(q.high_dtype, "tz", None)
        if tz is not None:
            high = high.dt.tz_convert(tz)
        high = high.astype(q.high_dtype)
        if q.high_format is not None:
            text = format_datetimes(high, q.high_format)
            return text.astype(object).where(high.notna(), np.nan).astype(q.high_string_dtype)
        return high

    def reverse_transform(self, df: pd.DataFrame, *, copy: bool = True) -> pd.DataFrame:
        """Map a transformed table (or a model's output in that space) back to the original.

        Exact inverse of :meth:`transform` on valid data. Restores column names, order and
        dtypes, and applies the declared ``Constraint.dtype``.

        Args:
            df: A frame with the columns produced by :meth:`transform`.
            copy: ``False`` lets a table without derived columns share ``df``'s columns (for a
                caller that owns ``df``, such as decoding); the result is otherwise independent.

        Returns:
            The frame in the original columns, in the fitted column order (columns unknown at
            fit are kept at the end).

        Raises:
            NotFittedError: Before :meth:`fit`.
            SchemaError: If a derived column is missing.
            GenerationError: If a joint column holds a label that is not a seen combination.
        """
        self._require_fitted()
        needed = [p.joint for p in self._combos] + [q.gap for q in self._inequalities]
        needed += [q.unpaired for q in self._inequalities if q.unpaired is not None]
        self._require_columns(df, needed, "Transformed data")
        if not needed and list(df.columns) == list(self.columns_):
            result = df.copy(deep=copy)  # nothing derived to map back: no frame to rebuild
        else:
            result = self._restore_derived(df, needed)
        for column, dtype in self.dtypes.items():
            if column in result.columns:
                result[column] = self._apply_dtype(result[column], column, dtype)
        return result

    def _restore_derived(self, df: pd.DataFrame, needed: list[str]) -> pd.DataFrame:
        """A new frame of the original columns (fitted order first) from ``df``'s derived ``needed`` ones."""
        derived = set(needed)
        restored: dict[str, Any] = {}
        for plan in self._combos:
            assert plan.labels is not None and plan.combos is not None
            index = plan.labels.get_indexer(df[plan.joint].astype(object))
            bad = index < 0
            if bad.any():
                raise GenerationError(
                    f"Column {plan.joint!r} of {self._where} holds {int(bad.sum())} value(s) that "
                    f"are not seen combinations (examples: {_examples(df[plan.joint], bad)}); "
                    f"valid values look like {list(plan.labels[:3])}."
                )
            members = plan.combos.iloc[index].set_index(df.index)
            for col in plan.columns:
                restored[col] = members[col]

        def current(column: str) -> pd.Series:
            if column in restored:
                return restored[column]
            return df[column]

        for q in self._inequalities:
            unpaired = df[q.unpaired] if q.unpaired is not None else None
            values = self._decode_high(q, current(q.low), df[q.gap], unpaired)
            if isinstance(values, pd.Series):  # positional: the index may hold duplicates;
                restored[q.high] = values.set_axis(df.index)  # keeps an object dtype object
            else:
                restored[q.high] = pd.Series(values, index=df.index)
        out: dict[str, Any] = {}
        for column in self.columns_:
            if column in restored:
                out[column] = restored[column]
            elif column in df.columns:
                out[column] = df[column]
        for column in df.columns:
            if column not in out and column not in derived:
                out[column] = df[column]
        return pd.DataFrame(out, index=df.index)

    def _apply_dtype(self, series: pd.Series, column: str, dtype: str) -> Any:
        if dtype == "int":
            if ptypes.is_integer_dtype(series.dtype):
                return series
            values = _float_values(series)
            return _restore_numeric(values, "Int64" if np.isnan(values).any() else "int64")
        if dtype == "float":
            return series.astype("float64") if not ptypes.is_float_dtype(series.dtype) else series
        if dtype == "str":
            if ptypes.is_string_dtype(series.dtype) and not isinstance(
                    series.dtype, pd.CategoricalDtype):
                return series
            return series.astype(object).where(series.isna(), series.astype(str))
        if dtype == "bool":
            if ptypes.is_bool_dtype(series.dtype):
                return series
            return series.astype("boolean" if series.isna().any() else bool)
        if dtype == "datetime":
            if ptypes.is_datetime64_any_dtype(series.dtype):
                return series
            return pd.to_datetime(series, errors="raise", format="mixed")
        raise SchemaError(f"Unknown Constraint.dtype {dtype!r} for column {column!r}.")

    # ------------------------------------------------------------------ helpers

    def joint_column_of(self, column: str) -> str | None:
        """The joint column that replaced ``column``, or ``None`` if it was not replaced."""
        for plan in self._combos:
            if column in plan.columns:
                return plan.joint
        return None

    def joint_labels_for(self, column: str, value: Any) -> list[str]:
        """Joint-column categories whose combination has ``column == value``.

        Lets a caller turn a condition on a member column (``{"city": "NY"}``) into a
        condition on the joint column.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: If ``column`` is not in a fixed combination.
        """
        plan = self._fitted_combo_of(column)
        assert plan.combos is not None and plan.labels is not None
        members = plan.combos[column]
        match = members.isna() if pd.isna(value) else (members == value)
        return [str(v) for v in plan.labels[np.asarray(match.fillna(False), bool)]]

    def combinations(self, column: str) -> pd.DataFrame:
        """The combinations seen at fit of the fixed-combination group holding ``column``.

        Args:
            column: A member column of a :class:`FixedCombinations` group.

        Returns:
            A copy: one row per combination, in order of first appearance in the training
            data, with the group's columns in their training dtypes.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: If ``column`` is not in a fixed combination.
        """
        plan = self._fitted_combo_of(column)
        assert plan.combos is not None
        return plan.combos.copy()

    def _fitted_combo_of(self, column: str) -> _ComboPlan:
        """The fitted fixed-combination group holding ``column``.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: If ``column`` is not in a fixed combination.
        """
        self._require_fitted()
        for plan in self._combos:
            if column in plan.columns:
                return plan
        raise GenerationError(
            f"Column {column!r} of {self._where} is not part of a FixedCombinations group."
        )

    # ------------------------------------------------------------------ state as plain data

    def to_dict(self) -> dict[str, Any]:
        """What :meth:`fit` learned, as strict-JSON plain data (``json.dumps(allow_nan=False)``).

        Holds, per inequality, its kind, integer flag or decimals, datetime step, unpaired
        column, dtypes and date format; per fixed-combination group, its seen combinations
        and their labels (like any categorical column, these are values of the data); the
        published bounds (timestamps as ISO strings with their timezone) and the date formats.
        No other value of the training data is kept. The declarations themselves are not
        included: :meth:`from_dict` takes the table.

        Returns:
            A dict of JSON types only.

        Raises:
            NotFittedError: Before :meth:`fit`.
            SerializationError: If a learned dtype or a fixed-combination value cannot be
                stored as JSON (e.g. ``Decimal`` objects; the message names the column).
        """
        self._require_fitted()
        where = f"the constraints of {self._where}"
        inequalities = [{
            "low": q.low, "high": q.high, "strict": bool(q.strict), "kind": q.kind,
            "integer": bool(q.integer), "decimals": None if q.decimals is None else int(q.decimals),
            "step_ns": int(q.step_ns), "unpaired": q.unpaired, "high_sdtype": q.high_sdtype,
            "high_format": q.high_format,
            "high_dtype": dtype_to_json(q.high_dtype, f"column {q.high!r} of {where}"),
            "high_string_dtype": None if q.high_string_dtype is None else dtype_to_json(
                q.high_string_dtype, f"column {q.high!r} of {where}"),
        } for q in self._inequalities]
        combinations = []
        for plan in self._combos:
            assert plan.combos is not None and plan.labels is not None
            combinations.append({
                "columns": list(plan.columns),
                "combinations": frame_to_json(plan.combos, f"the fixed combinations of {where}"),
                "labels": [str(label) for label in plan.labels],
            })
        return {
            "format": _STATE_FORMAT,
            "table": self.table.name,
            "columns": list(self.columns_),
            "formats": dict(self._formats),
            "inequalities": inequalities,
            "fixed_combinations": combinations,
            "bounds": {column: [value_to_json(v, f"bound of column {column!r} of {where}") for v in pair]
                       for column, pair in self.bounds.items()},
            "datetime_bounds": list(self.datetime_bounds),
        }

    @classmethod
    def from_dict(cls, table: TableConfig, data: Mapping[str, Any]) -> ConstraintEngine:
        """A fitted engine from :meth:`to_dict`'s output, behaving exactly like the one saved.

        Args:
            table: The same table configuration the saved engine was built with.
            data: The output of :meth:`to_dict` (after a JSON round trip or not).

        Returns:
            A fitted :class:`ConstraintEngine`.

        Raises:
            SchemaError: If ``table``'s declared constraints are inconsistent.
            SerializationError: If ``data`` is malformed or does not match ``table``'s
                declared inequalities and fixed combinations.
        """
        engine = cls(table)
        where = f"Stored constraint state of {engine._where}"

        def expect(ok: bool, what: str) -> None:
            if not ok:
                raise SerializationError(f"{where} is malformed: {what}; save the model again.")

        try:
            expect(isinstance(data, Mapping), f"expected a dict, got {type(data).__name__}")
            expect(data["format"] == _STATE_FORMAT,
                   f"format {data['format']!r} is not {_STATE_FORMAT} (written by another SynthoHive version)")
            expect(data["table"] == table.name, f"it belongs to table {data['table']!r}")
            engine.columns_ = [str(c) for c in data["columns"]]
            formats = dict(data["formats"])
            expect(all(isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in formats.items()),
                   "'formats' must map column names to strftime formats or null")
            engine._formats = formats
            stored = list(data["inequalities"])
            declared = [(q.low, q.high, q.strict) for q in engine._inequalities]
            expect([(s["low"], s["high"], s["strict"]) for s in stored] == declared,
                   f"its inequalities {[(s['low'], s['high'], s['strict']) for s in stored]} are not the "
                   f"table's {declared}")
            for q, s in zip(engine._inequalities, stored):
                engine._restore_inequality(q, s, expect, where)
            groups = list(data["fixed_combinations"])
            expect([list(g["columns"]) for g in groups] == [p.columns for p in engine._combos],
                   f"its fixed combinations {[g['columns'] for g in groups]} are not the table's "
                   f"{[p.columns for p in engine._combos]}")
            for plan, g in zip(engine._combos, groups):
                combos = frame_from_json(g["combinations"], where)
                labels = list(g["labels"])
                expect(list(combos.columns) == plan.columns and len(labels) == len(combos)
                       and all(isinstance(v, str) for v in labels) and len(set(labels)) == len(labels),
                       f"the combinations of {plan.columns} do not match their labels")
                plan.combos = combos
                plan.labels = pd.Index(np.array(labels, dtype=object), dtype=object)
            bounds = {}
            for column, pair in dict(data["bounds"]).items():
                pair = [value_from_json(v, where) for v in pair]
                expect(len(pair) == 2 and all(v is None or isinstance(v, (float, pd.Timestamp)) for v in pair),
                       f"bounds of {column!r} must be [min, max] numbers, timestamps or null")
                bounds[str(column)] = (pair[0], pair[1])
            dated = [str(c) for c in data["datetime_bounds"]]
            expect(set(dated) <= set(bounds), "'datetime_bounds' names columns without bounds")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(f"{where} is malformed ({type(exc).__name__}: {exc}); save the model "
                                     "again.") from exc
        engine.bounds = bounds
        engine.datetime_bounds = {c: bounds[c] for c in dated}
        engine._set_derived_sdtypes()
        engine._fitted = True
        return engine

    @staticmethod
    def _restore_inequality(q: _InequalityPlan, s: Mapping[str, Any], expect: Callable[[bool, str], None],
                            where: str) -> None:
        """Fill a declared inequality's plan from its stored form (see :meth:`from_dict`)."""
        expect(s["kind"] in ("numeric", "datetime"), f"kind {s['kind']!r} of {q.high!r}")
        expect(isinstance(s["integer"], bool), f"'integer' of {q.high!r} must be true/false")
        expect(s["decimals"] is None or (type(s["decimals"]) is int and 0 <= s["decimals"] <= _MAX_DECIMALS),
               f"'decimals' of {q.high!r} must be null or 0..{_MAX_DECIMALS}")
        expect(type(s["step_ns"]) is int and s["step_ns"] >= 1, f"'step_ns' of {q.high!r} must be >= 1")
        expect(s["unpaired"] in (None, f"{q.high}{UNPAIRED_SUFFIX}"), f"'unpaired' of {q.high!r}")
        expect(s["high_sdtype"] in ("numerical", "datetime"), f"'high_sdtype' of {q.high!r}")
        expect(s["high_format"] is None or isinstance(s["high_format"], str), f"'high_format' of {q.high!r}")
        q.kind, q.integer, q.decimals, q.step_ns = s["kind"], s["integer"], s["decimals"], s["step_ns"]
        q.unpaired, q.high_sdtype, q.high_format = s["unpaired"], s["high_sdtype"], s["high_format"]
        q.high_dtype = dtype_from_json(s["high_dtype"], f"{where}, column {q.high!r}")
        q.high_string_dtype = None if s["high_string_dtype"] is None else dtype_from_json(
            s["high_string_dtype"], f"{where}, column {q.high!r}")
