"""Schema validation: find every problem in a :class:`Metadata` (and its data) at once.

Used by ``Metadata.validate_schema``. Nothing stops at the first problem: all issues are
collected and raised together in one :class:`~syntho_hive.exceptions.SchemaValidationError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.metadata.constraint_checks import find_violations
from syntho_hive.core.metadata.constraint_rules import ordered_inequalities, required_columns
from syntho_hive.core.metadata.constraint_values import ValueReader
from syntho_hive.core.metadata.decimals import MAX_DECIMALS, decimal_digits, float_dtype
from syntho_hive.core.metadata.detect import unsupported_values
from syntho_hive.core.metadata.schema import DATE_PARTS
from syntho_hive.exceptions import SchemaError, SchemaValidationError, SynthoHiveError

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.core.metadata.schema import Metadata, TableConfig

__all__ = ["validate_metadata", "schema_issues", "data_issues", "table_data_issues", "table_value_issues",
           "check_table_data",
           "declared_sdtype_issue", "is_boolean_value"]

_MAX_EXAMPLES = 5
#: How to get past orphan rows (the command line spells the option as its flag).
_ORPHAN_FIX = 'drop those rows or add the parents, or train with on_integrity_error="drop" to drop them.'


def _examples(values: pd.Series | list[Any]) -> list[Any]:
    items = values.tolist() if isinstance(values, pd.Series) else list(values)
    return [v.item() if isinstance(v, np.generic) else v for v in items[:_MAX_EXAMPLES]]


def _split_fk(target: str) -> tuple[str, str] | None:
    """``"parent.col"`` -> ``("parent", "col")``; the last dot separates the column."""
    parent, dot, column = str(target).rpartition(".")
    if not dot or not parent or not column:
        return None
    return parent, column


def _referenced_columns(table: TableConfig) -> list[tuple[str, str]]:
    """(column, where it is referenced) for every column name the table config uses."""
    refs: list[tuple[str, str]] = [(c, "pk") for c in table.pk_columns]
    refs += [(c, "fk") for c in table.fk]
    refs += [(c, "constraints") for c in table.constraints]
    for q in table.inequalities:
        refs += [(q.low, "inequalities"), (q.high, "inequalities")]
    for group in table.fixed_combinations:
        refs += [(c, "fixed_combinations") for c in group.columns]
    for columns in table.unique:
        refs += [(c, "unique") for c in columns]
    refs += [(c, "pii_cols") for c in table.pii_cols]
    refs += [(c, "datetime_formats") for c in table.datetime_formats]
    refs += [(c, "semantic_types") for c in table.semantic_types]
    refs += [(c, "sample_real_values") for c in table.sample_real_values]
    refs += [(c, "copied_from") for c in table.copied_from]
    for column, declared in table.date_parts.items():
        refs += [(column, "date_parts")] + ([(declared.rpartition(".")[0], "date_parts")] if declared else [])
    for rule in table.dependencies or []:
        refs += [(c, "dependencies") for c in [*rule.determinants, rule.dependent]]
    return refs


def _business_rule_issues(table: TableConfig, tables: Mapping[str, TableConfig]) -> list[str]:
    """Semantic types, copied columns, dependencies and locale that cannot hold, whatever the data."""
    from syntho_hive.core.semantic.types import SEMANTIC_TYPES

    where = f"table {table.name!r}"
    issues: list[str] = []
    keys = set(table.key_columns)
    for column, semantic in table.semantic_types.items():
        if semantic is not None and semantic not in SEMANTIC_TYPES:
            issues.append(f"{where}: column {column!r} has unknown semantic type {semantic!r}; use one of "
                          f"{list(SEMANTIC_TYPES)} (or None to switch detection off).")
        if semantic is not None and column in keys:
            issues.append(f"{where}: key column {column!r} cannot have a semantic type (keys are generated "
                          "as keys); drop it from semantic_types.")
    for column in table.sample_real_values:
        if table.semantic_types.get(column, "title") not in ("title", "text"):
            issues.append(f"{where}: sample_real_values names {column!r}, declared "
                          f"{table.semantic_types[column]!r}; only title and text columns can be sampled "
                          "from real values.")
    parents = {split[0] for target in table.fk.values() if (split := _split_fk(target)) is not None}
    for column, source in table.copied_from.items():
        if column in keys:
            issues.append(f"{where}: key column {column!r} cannot be copied_from a parent; drop it.")
        if source is None:
            continue
        split = _split_fk(source)
        if split is None or split[0] not in parents:
            issues.append(f"{where}: copied_from[{column!r}] = {source!r} must name a column of a table this "
                          f"table has a foreign key to ({sorted(parents) or 'none'}), as 'parent.column'.")
        elif split[1] in tables[split[0]].key_columns:
            issues.append(f"{where}: copied_from[{column!r}] = {source!r} names a key of the parent; declare "
                          f"{column!r} a foreign key instead.")
        elif (declared := tables[split[0]].column_types) and split[1] not in declared:
            # column_types, when filled (Metadata.from_source), lists every column of the parent.
            issues.append(f"{where}: copied_from[{column!r}] = {source!r} names column {split[1]!r}, which "
                          f"table {split[0]!r} does not have (its columns: {sorted(declared)}); name one of "
                          "them or drop the entry.")
    for column, declared in table.date_parts.items():
        if column in keys or table.copied_from.get(column) is not None:
            issues.append(f"{where}: {'key' if column in keys else 'copied'} column {column!r} cannot be a date "
                          "part; drop it from date_parts.")
        if declared is not None and (declared.rpartition(".")[2] not in DATE_PARTS or not declared.rpartition(".")[0]):
            issues.append(f"{where}: date_parts[{column!r}] = {declared!r} must be 'timestamp_column.part' with "
                          f"part one of {list(DATE_PARTS)} (or None to switch detection off).")
    for rule in table.dependencies or []:
        named = [*rule.determinants, rule.dependent]
        if rule.dependent in rule.determinants:
            issues.append(f"{where}: dependency {rule.determinants} -> {rule.dependent!r} determines a column "
                          "by itself; drop it from the determinants.")
        if keys & set(named):
            issues.append(f"{where}: dependency {rule.determinants} -> {rule.dependent!r} names key columns "
                          f"{sorted(keys & set(named))}; keys are generated as keys.")
    if table.locale is not None:
        from syntho_hive.core.semantic import resolve_locale

        try:
            resolve_locale(table.locale)
        except SynthoHiveError as exc:
            issues.append(f"{where}: {exc}")
    return issues


def _as_comparable(bound: Any) -> tuple[str, Any] | None:
    """A (kind, value) pair for ordering bounds: numbers, or dates from strings."""
    if isinstance(bound, bool):
        return None
    try:
        return "number", float(bound)
    except (TypeError, ValueError):
        pass
    try:
        stamp = pd.Timestamp(bound)
    except (TypeError, ValueError):
        return None
    if stamp is pd.NaT:
        return None
    return "date", stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp


def schema_issues(metadata: Metadata) -> list[str]:
    """Problems visible from the metadata alone.

    Args:
        metadata: The schema.

    Returns:
        One line per problem (empty when clean).
    """
    issues: list[str] = []
    tables = metadata.tables
    for name, table in tables.items():
        where = f"table {name!r}"
        if not name.strip() or name in (".", "..") or any(c in name for c in "/\\\0"):
            # Table names become file and folder names (checkpoints, output_path, checkpoint_dir).
            issues.append(f"{where}: a table name cannot be empty, '.' or '..' or contain '/', '\\' or NUL "
                          "(it names files and folders); rename it, e.g. 'sales.orders' or 'sales_orders'.")
        for pk in table.pk_columns:
            sdtype = table.columns.get(pk)
            if sdtype is not None and sdtype != "id":
                issues.append(f"{where}: primary key {pk!r} is declared as sdtype {sdtype!r}; keys must be "
                              f"'id' (set columns[{pk!r}] = 'id' or drop it from columns).")
        for child_col, target in table.fk.items():
            sdtype = table.columns.get(child_col)
            if sdtype is not None and sdtype != "id":
                issues.append(f"{where}: foreign key {child_col!r} is declared as sdtype {sdtype!r}; keys "
                              f"must be 'id' (set columns[{child_col!r}] = 'id').")
            split = _split_fk(target)
            if split is None:
                issues.append(f"{where}: foreign key {child_col!r} -> {target!r} must be written "
                              "'parent_table.parent_column'.")
                continue
            parent_name, parent_col = split
            parent = tables.get(parent_name)
            if parent is None:
                issues.append(f"{where}: foreign key {child_col!r} points at unknown table {parent_name!r}; "
                              f"known tables: {sorted(tables)}.")
                continue
            if not parent.pk_columns:
                issues.append(f"{where}: foreign key {child_col!r} points at table {parent_name!r}, which "
                              "has no primary key; declare pk for it.")
            elif parent_col not in parent.pk_columns:
                issues.append(f"{where}: foreign key {child_col!r} points at {target!r}, which is not the "
                              f"primary key of {parent_name!r} ({parent.pk_columns}); point it at the pk.")
        if table.parent_context_cols and not table.fk:
            issues.append(f"{where}: parent_context_cols {table.parent_context_cols} are set but the "
                          "table has no foreign key to a parent; add fk or drop them.")
        for column, constraint in table.constraints.items():
            if constraint.min is None or constraint.max is None:
                continue
            low, high = _as_comparable(constraint.min), _as_comparable(constraint.max)
            if low is None or high is None or low[0] != high[0]:
                issues.append(f"{where}: constraint on {column!r} has min={constraint.min!r} and "
                              f"max={constraint.max!r}, which cannot be compared; use two numbers or two ISO dates.")
            elif low[1] > high[1]:
                issues.append(f"{where}: constraint on {column!r} has min={constraint.min!r} greater than "
                              f"max={constraint.max!r}; swap or fix them.")
        issues += _structure_issues(table)
        issues += _business_rule_issues(table, tables)
    return issues


def _structure_issues(table: TableConfig) -> list[str]:
    """Inequality/combination layouts the constraint engine cannot honour."""
    try:
        ordered_inequalities(table)
    except SchemaError as exc:
        return [str(exc)]
    return []


def _dtype_family(series: pd.Series) -> str:
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return "boolean"
    if ptypes.is_datetime64_any_dtype(dtype):
        return "datetime"
    if ptypes.is_numeric_dtype(dtype):
        if ptypes.is_float_dtype(dtype):
            values = series.dropna()
            if len(values) and not np.array_equal(np.floor(values), values):
                return "float"
        return "integer"
    if isinstance(dtype, pd.CategoricalDtype):
        return _dtype_family(pd.Series(dtype.categories))
    non_null = series.dropna()
    if non_null.empty:
        return "empty"
    kind = ptypes.infer_dtype(non_null, skipna=True)
    return {"integer": "integer", "floating": "float", "string": "string",
            "boolean": "boolean", "datetime": "datetime", "datetime64": "datetime"}.get(kind, kind)


def data_issues(metadata: Metadata, real_data: Mapping[str, pd.DataFrame]) -> list[str]:
    """Problems found by checking the data against the metadata.

    Args:
        metadata: The schema.
        real_data: ``{table_name: DataFrame}``; tables absent here are not checked.

    Returns:
        One line per problem (empty when clean).
    """
    issues: list[str] = []
    for name in real_data:
        if name not in metadata.tables:
            issues.append(f"data has table {name!r}, which is not in the metadata "
                          f"({sorted(metadata.tables)}); add it with Metadata.add_table({name!r}, ...).")
    for name, table in metadata.tables.items():
        df = real_data.get(name)
        if df is None:
            continue
        where = f"table {name!r}"
        if not isinstance(df, pd.DataFrame):
            issues.append(f"{where}: data is a {type(df).__name__}, expected a pandas DataFrame.")
            continue
        present = {str(c) for c in df.columns}
        issues += table_data_issues(table, df, where)
        for child_col, target in table.fk.items():
            split = _split_fk(target)
            if split is None or child_col not in present:
                continue
            parent_name, parent_col = split
            parent_df = real_data.get(parent_name)
            if not isinstance(parent_df, pd.DataFrame):
                continue
            if parent_col not in parent_df.columns:
                issues.append(f"{where}: foreign key {child_col!r} points at {target!r}, but the data of "
                              f"{parent_name!r} has no column {parent_col!r}.")
                continue
            child, parent = df[child_col], parent_df[parent_col]
            fam_child, fam_parent = _dtype_family(child), _dtype_family(parent)
            # A fractional value of a float FK to an integer key is no type problem: it matches no key, an orphan.
            if "empty" not in (fam_child, fam_parent) and fam_child != fam_parent \
                    and (fam_child, fam_parent) != ("float", "integer"):
                issues.append(f"{where}: foreign key {child_col!r} has dtype {child.dtype} ({fam_child}) but "
                              f"{target!r} has dtype {parent.dtype} ({fam_parent}); cast one so they match.")
                continue
            values = child.dropna()
            orphan = ~values.isin(parent.dropna())
            if orphan.any():
                distinct = values[orphan].drop_duplicates()
                issues.append(f"{where}: foreign key {child_col!r} has {int(orphan.sum())} row(s) with no "
                              f"matching {target!r} (orphans: {len(distinct)} distinct value(s), examples: "
                              f"{_examples(distinct)}); {_ORPHAN_FIX}")
        issues += _composite_orphan_issues(metadata, table, df, real_data, where)
        issues += _copied_from_data_issues(table, real_data, where)
        issues += _context_issues(table, real_data)
        try:
            inequalities = ordered_inequalities(table)
        except SchemaError:
            continue  # already reported by schema_issues
        if any(c not in present for c in required_columns(table, inequalities)):
            continue  # already reported as missing columns
        try:
            violations = find_violations(ValueReader(table, {}), inequalities, df, context=f"{where} data")
        except SchemaError as exc:
            issues.append(str(exc))
            continue
        issues += [str(v) for v in violations]
    return issues


def table_data_issues(table: TableConfig, df: pd.DataFrame, where: str) -> list[str]:
    """Problems of one table's data on its own (no parents, no constraints).

    Columns the table config names but the data lacks, then :func:`table_value_issues`.

    Args:
        table: The table's config.
        df: Its data.
        where: How messages name the table (``"table 'orders'"``).

    Returns:
        One line per problem (empty when clean).
    """
    return missing_column_issues(table, df, where) + table_value_issues(table, df, where)


def missing_column_issues(table: TableConfig, df: pd.DataFrame, where: str) -> list[str]:
    """Columns the table config names (keys, columns, constraints, rules) that ``df`` lacks.

    Args:
        table: The table's config.
        df: Its data.
        where: How messages name the table (``"table 'orders'"``).

    Returns:
        One line per missing column (empty when none is missing).
    """
    present = {str(c) for c in df.columns}
    missing: dict[str, str] = {}
    for column, place in _referenced_columns(table) + [(c, "columns") for c in table.columns]:
        if column not in present:
            missing.setdefault(column, place)
    return [f"{where}: column {column!r} (named in {place}) is missing from the data; data columns: "
            f"{sorted(present)}." for column, place in missing.items()]


def table_value_issues(table: TableConfig, df: pd.DataFrame, where: str) -> list[str]:
    """Problems of the values of the columns ``df`` has (absent columns are not reported).

    Null or duplicated primary keys (when every key column is present) and columns whose
    values do not fit their declared sdtype (see :func:`declared_sdtype_issue`).

    Args:
        table: The table's config.
        df: Its data, or the part of it a model trains on (a table's model inside a
            ``Synthesizer`` gets the table without its keys).
        where: How messages name the table (``"table 'orders'"``).

    Returns:
        One line per problem (empty when clean).
    """
    issues: list[str] = []
    present = {str(c) for c in df.columns}
    pk_cols = [c for c in table.pk_columns if c in present]
    if pk_cols and len(pk_cols) == len(table.pk_columns):
        keys = df[pk_cols]
        nulls = keys.isna().any(axis=1)
        if nulls.any():
            issues.append(f"{where}: primary key {table.pk!r} has {int(nulls.sum())} null value(s) "
                          f"(rows {_examples(pd.Series(df.index[nulls.to_numpy()]))}); keys must be non-null.")
        dupes = keys[~nulls].duplicated(keep=False)
        if dupes.any():
            values = keys[~nulls][dupes]
            shown = (values.iloc[:, 0].drop_duplicates() if len(pk_cols) == 1
                     else pd.Series(list(values.drop_duplicates().itertuples(index=False))))
            issues.append(f"{where}: primary key {table.pk!r} has {int(dupes.sum())} row(s) with "
                          f"duplicated values (examples: {_examples(shown)}); keys must be unique.")
    for column, sdtype in table.columns.items():
        if column in present and column not in table.fk:  # a foreign key's values are checked against its key
            problem = declared_sdtype_issue(column, sdtype, df[column])
            if problem:
                issues.append(f"{where}: {problem}")
    return issues


def is_boolean_value(value: Any) -> bool:
    """Whether ``value`` is a boolean: ``True``/``False`` or the number 0 or 1 (not a string)."""
    if isinstance(value, (bool, np.bool_)):
        return True
    return isinstance(value, (int, float, np.integer, np.floating)) and value in (0, 1)


def declared_sdtype_issue(column: str, sdtype: str, series: pd.Series) -> str | None:
    """What is wrong with declaring ``series`` as ``sdtype``, or ``None`` when it fits.

    * ``numerical``: values that are not numbers (durations and times of day are);
    * ``boolean``: values other than ``True``/``False``/0/1 (``"Y"``/``"N"`` is categorical);
    * ``datetime``: a numeric or boolean column (``20230115`` or epoch seconds would be modelled
      as plain numbers, and generate non-dates such as ``20231399``);
    * ``text``: a numeric, boolean, datetime or timedelta column (text is generated word by
      word and could not be stored back in it);
    * ``id``: fractional or infinite numbers (ids are generated as sequences or strings).

    Categorical columns take any values but complex numbers, periods and intervals, which no sdtype takes
    (see :func:`~syntho_hive.core.metadata.detect.unsupported_values`); datetime strings are checked where
    their format is detected.

    Args:
        column: Column name (for the message).
        sdtype: Its declared sdtype.
        series: Its values.

    Returns:
        A message saying what is wrong and how to fix it, or ``None``.
    """
    unsupported = unsupported_values(series, column)
    if unsupported:
        return unsupported + "."
    dtype = series.dtype
    is_bool = ptypes.is_bool_dtype(dtype)
    is_number = ptypes.is_numeric_dtype(dtype) and not is_bool
    values = series.dropna()
    if sdtype == "numerical":
        if is_number or is_bool or not len(values) or ptypes.infer_dtype(values, skipna=True) == "time":
            return None
        bad = pd.to_numeric(values, errors="coerce").isna()
        if bad.any():
            return (f"column {column!r} is declared 'numerical' but {int(bad.sum())} value(s) are not numbers "
                    f"(examples: {_examples(values[bad].drop_duplicates())}); clean them or declare another "
                    "sdtype.")
        return None
    if sdtype == "boolean":
        if is_bool:
            return None
        uniques = pd.unique(values.to_numpy(dtype=object))
        bad = [v for v in uniques if not is_boolean_value(v)]
        if bad:
            return (f"column {column!r} is declared 'boolean' but holds other values than True/False/0/1 "
                    f"(examples: {_examples(bad)}); declare it 'categorical'.")
        return None
    if sdtype == "datetime" and (is_number or is_bool):
        return (f"column {column!r} is declared 'datetime' but holds {dtype} values, which would be modelled as "
                "plain numbers (a date written 20230115 or in epoch seconds would come back as non-dates); "
                f"convert it first, e.g. pd.to_datetime(df[{column!r}], format='%Y%m%d') or "
                f"pd.to_datetime(df[{column!r}], unit='s'), or declare it 'numerical'.")
    if sdtype == "text" and (is_number or is_bool or ptypes.is_datetime64_any_dtype(dtype)
                             or ptypes.is_timedelta64_dtype(dtype)):
        kind = "boolean" if is_bool else "numerical" if is_number else "datetime"
        return (f"column {column!r} is declared 'text' but holds {dtype} values; text columns hold strings "
                f"(names, e-mails, free text) and are generated word by word. Declare it {kind!r} (or "
                "'categorical').")
    if sdtype == "id" and ptypes.is_float_dtype(dtype) and len(values):
        numbers = values.to_numpy(dtype=np.float64)
        whole = np.isfinite(numbers) & (np.floor(numbers) == numbers)
        if not whole.all() and decimal_digits(values.to_numpy(dtype=float_dtype(dtype))) is None:
            return (f"column {column!r} is declared 'id' but holds infinite numbers or fractional ones that are not "
                    f"short decimals (examples: {_examples(values[~whole].drop_duplicates())}); ids are generated "
                    f"as integer or decimal sequences (at most {MAX_DECIMALS} digits after the point) or strings. Declare it "
                    "'numerical' (a key column must be an id: number its rows instead).")
    return None


def check_table_data(table: TableConfig, df: pd.DataFrame) -> None:
    """Raise one :class:`SchemaValidationError` listing :func:`table_value_issues`, or return.

    Models call this at fit, before any work, on the data they train on.

    Raises:
        SchemaValidationError: If any problem was found (``issues`` lists them all).
    """
    issues = table_value_issues(table, df, f"table {table.name!r}")
    if issues:
        raise SchemaValidationError(issues)


def _composite_orphan_issues(metadata: Metadata, table: TableConfig, df: pd.DataFrame,
                             real_data: Mapping[str, pd.DataFrame], where: str) -> list[str]:
    """Orphans of composite foreign keys: rows whose key *combination* has no parent row.

    Each column of a composite key may exist in the parent on its own while the pair does not
    (``(order_id, line_no)`` with both values known but not together), which the per-column
    check above cannot see.
    """
    by_parent: dict[str, dict[str, str]] = {}
    for child_col, target in table.fk.items():
        split = _split_fk(target)
        if split is None:
            continue
        parent_name, parent_col = split
        parent_table = metadata.tables.get(parent_name)
        if parent_table is not None and len(parent_table.pk_columns) > 1:
            by_parent.setdefault(parent_name, {})[parent_col] = child_col
    issues: list[str] = []
    for parent_name, pairs in by_parent.items():
        parent_df = real_data.get(parent_name)
        parent_cols = metadata.tables[parent_name].pk_columns
        if (not isinstance(parent_df, pd.DataFrame) or sorted(pairs) != sorted(parent_cols)
                or any(c not in parent_df.columns for c in parent_cols)
                or any(pairs[c] not in df.columns for c in parent_cols)):
            continue  # malformed or missing columns: reported elsewhere
        child_cols = [pairs[c] for c in parent_cols]
        child = df[child_cols].dropna()
        known = pd.MultiIndex.from_frame(parent_df[list(parent_cols)].dropna())
        try:
            orphan = ~pd.MultiIndex.from_frame(child).isin(known)
        except (TypeError, ValueError):  # key columns of incomparable dtypes: reported per column
            continue
        if orphan.any():
            distinct = pd.Series(list(child[orphan].drop_duplicates().itertuples(index=False, name=None)))
            issues.append(
                f"{where}: composite foreign key {child_cols} has {int(orphan.sum())} row(s) whose "
                f"combination has no row in {parent_name!r} {list(parent_cols)} (orphans: {len(distinct)} "
                f"distinct combination(s), examples: {_examples(distinct)}); {_ORPHAN_FIX}")
    return issues


def _copied_from_data_issues(table: TableConfig, real_data: Mapping[str, pd.DataFrame], where: str) -> list[str]:
    """copied_from entries naming a parent column that the parent's data does not have.

    Entries whose form or parent table is wrong are reported by :func:`schema_issues`; a parent
    whose data is not given cannot be checked.
    """
    parents = {split[0] for target in table.fk.values() if (split := _split_fk(target)) is not None}
    issues: list[str] = []
    for column, source in table.copied_from.items():
        split = _split_fk(source) if source is not None else None
        if split is None or split[0] not in parents:
            continue
        parent_df = real_data.get(split[0])
        if not isinstance(parent_df, pd.DataFrame):
            continue
        present = {str(c) for c in parent_df.columns}
        if split[1] not in present:
            issues.append(f"{where}: copied_from[{column!r}] = {source!r} names column {split[1]!r}, which the "
                          f"data of {split[0]!r} does not have (its columns: {sorted(present)}); name one of "
                          "them or drop the entry.")
    return issues


def _context_issues(table: TableConfig, real_data: Mapping[str, pd.DataFrame]) -> list[str]:
    """parent_context_cols that no parent table's data has."""
    parent_frames = []
    for target in table.fk.values():
        split = _split_fk(target)
        frame = real_data.get(split[0]) if split else None
        if not isinstance(frame, pd.DataFrame):
            return []  # cannot tell without every parent's data
        parent_frames.append(frame)
    if not parent_frames:
        return []
    available = set().union(*[{str(c) for c in f.columns} for f in parent_frames])
    unknown = [c for c in table.parent_context_cols if c not in available]
    if not unknown:
        return []
    return [
        f"table {table.name!r}: parent_context_cols {unknown} are not columns of its parent "
        f"table(s) {sorted({_split_fk(t)[0] for t in table.fk.values()})}; fix the names."
    ]


def validate_metadata(metadata: Metadata,
                      real_data: Mapping[str, pd.DataFrame] | None = None) -> None:
    """Raise one :class:`SchemaValidationError` listing every problem, or return ``None``.

    Args:
        metadata: The schema.
        real_data: Optional ``{table_name: DataFrame}`` to check against the schema.

    Raises:
        SchemaValidationError: If any problem was found (``issues`` lists them all).
        SchemaError: If ``real_data`` is not a mapping.
    """
    issues = schema_issues(metadata)
    if real_data is not None:
        if isinstance(real_data, pd.DataFrame):
            if len(metadata.tables) != 1:
                raise SchemaError("validate_schema(real_data=DataFrame) needs a single-table metadata; pass "
                                  "{table_name: DataFrame} instead.")
            real_data = {next(iter(metadata.tables)): real_data}
        if not isinstance(real_data, Mapping):
            raise SchemaError("validate_schema(real_data=...) expects {table_name: DataFrame}, got "
                              f"{type(real_data).__name__}.")
        issues += data_issues(metadata, real_data)
    if issues:
        raise SchemaValidationError(issues)
