"""Reflect database tables into SQLAlchemy ``Table`` objects and SynthoHive :class:`Metadata`.

:func:`reflect_tables` uses SQLAlchemy's inspector for SQLite, PostgreSQL and MySQL/MariaDB; for
DuckDB (whose SQLAlchemy reflection fails) it builds the tables from ``duckdb_columns()`` and
``duckdb_constraints()``. Either way every column carries its
:class:`~syntho_hive.core.metadata.ColumnType` in ``column.info["column_type"]``, and every table
its foreign keys (``table.info["foreign_keys"]``, also those to tables outside the selection) and
unique column sets (``table.info["unique"]``).

:func:`metadata_from_tables` turns them into :class:`Metadata`: primary keys (composite too),
foreign keys (composite, self-references), storage types and sdtypes, the latter refined from a
sample of each table's rows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from syntho_hive.connectors.sql.ddl import sql_name
from syntho_hive.connectors.sql.engine import dialect_of
from syntho_hive.connectors.sql.types import (
    column_type_from_name,
    column_type_from_sqlalchemy,
    suggest_sdtype,
    unsupported,
)
from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.core.metadata.detect import TEXT_MIN_VALUES, detect_sdtype
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConfigurationError, SchemaError

if TYPE_CHECKING:  # pragma: no cover
    import sqlalchemy as sa

    from syntho_hive.core.metadata.schema import Metadata, SDType

__all__ = ["list_relations", "reflect_tables", "reflect_query", "carry_table_keys", "query_subquery",
           "metadata_from_tables", "parse_foreign_key",
           "refine_sdtype", "LOW_CARDINALITY_VALUES"]

_log = get_logger(__name__)

#: An integer column with at most this many distinct values (each seen at least twice on
#: average) is categorical.
LOW_CARDINALITY_VALUES = 10
#: Unique single-token strings up to this mean length are identifiers (codes, SKUs, e-mails).
_ID_MAX_MEAN_LENGTH = 50
_JSON_CHECK = re.compile(r"json_valid\(`((?:[^`]|``)+)`\)", re.IGNORECASE)
_FOREIGN_KEY = re.compile(r"^\s*([^()]+?)\s*\(([^()]+)\)\s*->\s*([^()]+?)\s*(?:\([^()]*\))?\s*$")

#: A foreign key as :func:`parse_foreign_key` gives it: (child table, child columns, parent table).
ForeignKeyName = tuple[str, tuple[str, ...], str]


def parse_foreign_key(text: str) -> ForeignKeyName:
    """``"flights(origin, time_hour) -> weather"`` as ``("flights", ("origin", "time_hour"), "weather")``.

    The parent's columns may follow its name (``-> weather(origin, time_hour)``); they are not needed,
    as a foreign key references the parent's primary key.

    Raises:
        ConfigurationError: ``text`` is not a string of that form.
    """
    match = _FOREIGN_KEY.match(text) if isinstance(text, str) else None
    columns = tuple(column.strip() for column in match.group(2).split(",")) if match else ()
    if match is None or not all(columns):
        raise ConfigurationError(f"A foreign key is named 'child(col, ...) -> parent', e.g. "
                                 f"'flights(origin, time_hour) -> weather'; got {text!r}.")
    return match.group(1), columns, match.group(3)


def _fk_name(key: ForeignKeyName) -> str:
    return f"{key[0]}({', '.join(key[1])}) -> {key[2]}"


def _key_of(table: str, fk: Mapping[str, Any]) -> ForeignKeyName:
    """A reflected foreign key (``table.info["foreign_keys"]`` entry) of ``table`` as a :data:`ForeignKeyName`."""
    return table, tuple(fk["columns"]), fk["referred_table"]


def _normal(key: ForeignKeyName) -> ForeignKeyName:
    """``key`` with its columns sorted: the same foreign key however its columns are listed."""
    return key[0], tuple(sorted(key[1])), key[2]


# --------------------------------------------------------------------------- listing


def _default_schema(connection: "sa.Connection", dialect: str) -> str | None:
    import sqlalchemy as sa

    if dialect == "duckdb":
        return str(connection.execute(sa.text("SELECT current_schema()")).scalar_one())
    return sa.inspect(connection).default_schema_name


def _schemas(connection: "sa.Connection", dialect: str) -> list[str]:
    import sqlalchemy as sa

    if dialect == "duckdb":
        rows = connection.execute(sa.text(
            "SELECT schema_name FROM duckdb_schemas() WHERE database_name = current_database() "
            "AND NOT internal ORDER BY schema_name")).scalars().all()
        return sorted({str(name) for name in rows} | {"main"})
    return list(sa.inspect(connection).get_schema_names())


def list_relations(connection: "sa.Connection", schema: str | None) -> tuple[list[str], list[str]]:
    """The tables and the views of ``schema`` (``None``: the connection's default schema).

    Args:
        connection: An open connection.
        schema: The schema (a database on MySQL/MariaDB, an attached database on SQLite).

    Returns:
        ``(tables, views)``, each sorted by name.

    Raises:
        SchemaError: The schema does not exist (the message lists those that do).
    """
    import sqlalchemy as sa

    dialect = dialect_of(connection)
    if schema is not None:
        known = _schemas(connection, dialect)
        if schema not in known:
            raise SchemaError(f"Schema {schema!r} does not exist in the database; schemas there: "
                              f"{', '.join(known) or 'none'}. Pass one of them as schema=..., or None "
                              "for the default schema.")
    if dialect == "duckdb":
        target = schema if schema is not None else _default_schema(connection, dialect)
        tables = connection.execute(sa.text(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() "
            "AND schema_name = :schema AND NOT internal AND NOT temporary"), {"schema": target}).scalars().all()
        views = connection.execute(sa.text(
            "SELECT view_name FROM duckdb_views() WHERE database_name = current_database() "
            "AND schema_name = :schema AND NOT internal AND NOT temporary"), {"schema": target}).scalars().all()
        return sorted(map(str, tables)), sorted(map(str, views))
    inspector = sa.inspect(connection)
    return sorted(inspector.get_table_names(schema=schema)), sorted(inspector.get_view_names(schema=schema))


def _check_names(names: Sequence[str], tables: Sequence[str], views: Sequence[str], where: str) -> None:
    missing = [name for name in names if name not in tables and name not in views]
    if missing:
        views_text = f"; views: {', '.join(views)}" if views else ""
        raise SchemaError(
            f"Table(s) {missing} not found in {where}. Tables there: {', '.join(tables) or 'none'}{views_text}. "
            "Check the spelling (names are case-sensitive) and the schema.")


# --------------------------------------------------------------------------- reflection


def reflect_tables(connection: "sa.Connection", schema: str | None,
                   names: Sequence[str] | None) -> dict[str, "sa.Table"]:
    """Reflect ``names`` (``None``: every table, views excluded) of ``schema``.

    Args:
        connection: An open connection.
        schema: The schema (``None``: the default one).
        names: Tables or views to reflect, in the order wanted.

    Returns:
        ``{name: sa.Table}`` in the order of ``names`` (sorted when ``None``). Columns carry
        ``info["column_type"]``; tables carry ``info["foreign_keys"]`` (dicts with
        ``columns``, ``referred_schema``, ``referred_table``, ``referred_columns``),
        ``info["unique"]`` (tuples of column names) and ``info["dialect"]``.

    Raises:
        SchemaError: The schema or a table is missing (the message lists what exists).
    """
    dialect = dialect_of(connection)
    tables, views = list_relations(connection, schema)
    where = f"schema {schema!r}" if schema is not None else "the database's default schema"
    wanted = list(dict.fromkeys(names)) if names is not None else list(tables)
    _check_names(wanted, tables, views, where)
    if not wanted:
        return {}
    if dialect == "duckdb":
        result = _reflect_duckdb(connection, schema, wanted)
    else:
        result = _reflect_inspector(connection, schema, wanted, dialect, with_views=any(n in views for n in wanted))
    for table in result.values():
        table.info["dialect"] = dialect
    return {name: result[name] for name in wanted}


def _reflect_inspector(connection: "sa.Connection", schema: str | None, names: list[str], dialect: str,
                       *, with_views: bool) -> dict[str, "sa.Table"]:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    metadata.reflect(bind=connection, schema=schema, only=names, views=with_views, resolve_fks=False)
    inspector = sa.inspect(connection)
    key = (lambda name: f"{schema}.{name}") if schema is not None else (lambda name: name)
    tables = {name: metadata.tables[key(name)] for name in names}
    foreign = inspector.get_multi_foreign_keys(schema=schema, filter_names=names)
    uniques = inspector.get_multi_unique_constraints(schema=schema, filter_names=names)
    index_options = {"include_auto_indexes": True} if dialect == "sqlite" else {}  # column-level UNIQUE
    indexes = inspector.get_multi_indexes(schema=schema, filter_names=names, **index_options)
    json_columns = _mariadb_json_columns(connection, schema, names) if dialect == "mysql" else set()
    here = {schema, inspector.default_schema_name} if schema is None else {schema}

    def referred_schema(fk: Mapping[str, Any]) -> str | None:
        return None if fk.get("referred_schema") in here else fk.get("referred_schema")

    for name, table in tables.items():
        table.info["foreign_keys"] = [
            {"columns": list(fk["constrained_columns"]), "referred_schema": referred_schema(fk),
             "referred_table": fk["referred_table"], "referred_columns": list(fk["referred_columns"])}
            for fk in foreign.get((schema, name), [])]
        unique = [tuple(entry["column_names"]) for entry in uniques.get((schema, name), [])]
        unique += [tuple(entry["column_names"]) for entry in indexes.get((schema, name), [])
                   if entry.get("unique") and all(isinstance(c, str) for c in entry["column_names"])
                   and not any(option.endswith("_where") for option in entry.get("dialect_options", {}))]
        table.info["unique"] = list(dict.fromkeys(unique))
        for column in table.columns:
            if column.primary_key:
                column.nullable = False  # SQLite reports INTEGER PRIMARY KEY (the rowid) as nullable
            if (name, column.name) in json_columns:
                column_type = ColumnType(kind="json", nullable=bool(column.nullable), source="JSON")
            else:
                column_type = column_type_from_sqlalchemy(column.type, nullable=bool(column.nullable),
                                                          dialect=dialect, table=name, column=column.name)
            if column_type.kind == "float" and getattr(column.type, "asdecimal", False):
                # MySQL/MariaDB DOUBLE/REAL reflect with asdecimal=True: SQLAlchemy would turn each value
                # into a Decimal rounded to 10 digits after the point (0.1234567890123 -> 0.123456789).
                column.type.asdecimal = False
            column.info["column_type"] = column_type
    return tables


def _mariadb_json_columns(connection: "sa.Connection", schema: str | None,
                          names: list[str]) -> set[tuple[str, str]]:
    """MariaDB's JSON columns: LONGTEXT with a ``json_valid(col)`` check (MySQL reflects JSON itself)."""
    import sqlalchemy as sa

    if not getattr(connection.dialect, "is_mariadb", False):
        return set()
    query = sa.text(
        "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
        "WHERE CONSTRAINT_SCHEMA = COALESCE(:schema, DATABASE()) AND TABLE_NAME IN :names"
    ).bindparams(sa.bindparam("names", expanding=True))
    found: set[tuple[str, str]] = set()
    for table, clause in connection.execute(query, {"schema": schema, "names": names}):
        match = _JSON_CHECK.fullmatch(str(clause).strip())
        if match is not None:
            found.add((str(table), match.group(1).replace("``", "`")))
    return found


def _reflect_duckdb(connection: "sa.Connection", schema: str | None, names: list[str]) -> dict[str, "sa.Table"]:
    import sqlalchemy as sa

    from syntho_hive.connectors.sql.types import sqlalchemy_type_for

    target = schema if schema is not None else _default_schema(connection, "duckdb")
    names_param = sa.bindparam("names", expanding=True)
    columns = connection.execute(sa.text(
        "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
        "WHERE database_name = current_database() AND schema_name = :schema AND table_name IN :names "
        "ORDER BY table_name, column_index").bindparams(names_param),
        {"schema": target, "names": names}).all()
    constraints = connection.execute(sa.text(
        "SELECT table_name, constraint_type, constraint_column_names, referenced_table, referenced_column_names "
        "FROM duckdb_constraints() WHERE database_name = current_database() AND schema_name = :schema "
        "AND table_name IN :names AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY', 'UNIQUE') "
        "ORDER BY table_name, constraint_index").bindparams(names_param),
        {"schema": target, "names": names}).all()
    primary: dict[str, list[str]] = {}
    foreign: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    unique: dict[str, list[tuple[str, ...]]] = {name: [] for name in names}
    for table, kind, cols, referenced, referenced_cols in constraints:
        cols = [str(c) for c in cols]
        if kind == "PRIMARY KEY":
            primary[table] = cols
        elif kind == "UNIQUE":
            unique[table].append(tuple(cols))
        else:
            foreign[table].append({"columns": cols, "referred_schema": None, "referred_table": str(referenced),
                                   "referred_columns": [str(c) for c in referenced_cols]})
    metadata = sa.MetaData()
    by_table: dict[str, list[sa.Column]] = {name: [] for name in names}
    for table, column, data_type, is_nullable in columns:
        nullable = bool(is_nullable)
        column_type = column_type_from_name(str(data_type), nullable=nullable) or unsupported(
            str(data_type), nullable=nullable, table=table, column=column)
        by_table[table].append(sa.Column(sql_name(column, "duckdb"), sqlalchemy_type_for(column_type),
                                         nullable=nullable, primary_key=column in primary.get(table, []),
                                         info={"column_type": column_type}))
    result: dict[str, sa.Table] = {}
    for name in names:
        constraints_args: list[Any] = []
        for fk in foreign[name]:
            if fk["referred_table"] in by_table:
                prefix = f"{schema}." if schema is not None else ""
                constraints_args.append(sa.ForeignKeyConstraint(
                    fk["columns"], [f"{prefix}{fk['referred_table']}.{col}" for col in fk["referred_columns"]]))
        result[name] = sa.Table(sql_name(name, "duckdb"), metadata, *by_table[name], *constraints_args,
                                schema=schema, info={"foreign_keys": foreign[name], "unique": unique[name]})
    return result


# --------------------------------------------------------------------------- metadata


def _foreign_keys(table: "sa.Table") -> list[dict[str, Any]]:
    if "foreign_keys" in table.info:
        return list(table.info["foreign_keys"])
    found = []
    for constraint in table.foreign_key_constraints:
        targets = [element.target_fullname.split(".") for element in constraint.elements]
        found.append({"columns": [column.name for column in constraint.columns],
                      "referred_schema": targets[0][-3] if len(targets[0]) > 2 else None,
                      "referred_table": targets[0][-2], "referred_columns": [t[-1] for t in targets]})
    return found


def _column_type(table: "sa.Table", column: "sa.Column") -> ColumnType:
    given = column.info.get("column_type")
    if isinstance(given, ColumnType):
        return given
    return column_type_from_sqlalchemy(column.type, nullable=bool(column.nullable),
                                       dialect=str(table.info.get("dialect", "")), table=table.name,
                                       column=column.name)


def _single_unique(table: "sa.Table") -> set[str]:
    declared = {cols[0] for cols in table.info.get("unique", []) if len(cols) == 1}
    declared |= {column.name for column in table.columns if column.unique}
    return declared


def refine_sdtype(series: pd.Series, column_type: ColumnType, column: str, *, unique: bool = False) -> "SDType":
    """The sdtype of a non-key column from its storage type and a sample of its values.

    Rules: ``string`` columns declared unique, or whose sampled values (10 or more) are all
    distinct single tokens (codes, SKUs, e-mails), are ``id``; otherwise :func:`detect_sdtype` decides between
    ``id`` (UUIDs), ``datetime``, ``text`` (long or nearly all distinct) and ``categorical``.
    Integers declared unique are ``id``; integers with few distinct values, each repeated, are
    ``categorical``; unique integers with an id-like name are ``id``. Other storage types keep
    :func:`suggest_sdtype`'s answer.

    Args:
        series: Sampled values of the column (read with the storage dtype contract).
        column_type: The column's storage type.
        column: The column's name (id-like names matter).
        unique: Whether the database declares the column unique.

    Returns:
        The sdtype.
    """
    suggested = suggest_sdtype(column_type)
    non_null = series.dropna()
    if column_type.kind == "string":
        if unique:
            return "id"
        if non_null.empty:
            return suggested
        strings = non_null.astype(str)
        if (len(strings) >= TEXT_MIN_VALUES and strings.is_unique and not strings.str.contains(r"\s").any()
                and strings.str.len().mean() <= _ID_MAX_MEAN_LENGTH):
            return "id"
        return detect_sdtype(strings.reset_index(drop=True), column)
    if column_type.kind == "integer":
        if unique:
            return "id"
        if non_null.empty:
            return suggested
        detected = detect_sdtype(non_null.reset_index(drop=True), column)
        if detected == "id":
            return "id"
        distinct = int(non_null.nunique())
        if distinct <= LOW_CARDINALITY_VALUES and len(non_null) >= 2 * distinct:
            return "categorical"
        return "numerical"
    return suggested


def metadata_from_tables(tables: Mapping[str, "sa.Table"],
                         sample: Mapping[str, pd.DataFrame] | None = None,
                         skip_foreign_keys: Sequence[ForeignKeyName] = ()) -> "Metadata":
    """Build :class:`Metadata` from reflected tables (see :func:`reflect_tables`).

    Every table gets its primary key (a list when composite; none, with a warning, when the
    table has none), its foreign keys (``{"child_col": "parent.parent_col"}``; a composite key
    as several entries), ``column_types``, ``unique`` (the declared unique column sets other than the
    primary key), and sdtypes: key columns are ``id``, the others come from the storage type, refined
    from ``sample[table]`` when given (:func:`refine_sdtype`; a text or integer column declared unique
    alone is ``id``).

    Args:
        tables: ``{name: sa.Table}``, the selection (keys are the metadata's table names).
        sample: ``{name: frame}`` of the first rows of each table, read with the storage dtypes.
        skip_foreign_keys: Foreign keys of the database to leave out (:func:`parse_foreign_key`).

    Returns:
        The metadata, tables in the order of ``tables``.

    Raises:
        SchemaError: A foreign key points at a table outside the selection, at columns that are
            not the parent's primary key, or shares a column with another foreign key; or a foreign
            key to skip is not one of its table's (a table of the selection).
    """
    from syntho_hive.core.metadata.schema import Metadata

    selection = dict(tables)
    skip = {_normal(key) for key in skip_foreign_keys}
    for key in skip_foreign_keys:
        known = [_key_of(key[0], fk) for fk in _foreign_keys(selection[key[0]])] if key[0] in selection else None
        if known is not None and _normal(key) not in map(_normal, known):
            raise SchemaError(f"skip_foreign_keys names {_fk_name(key)!r}, which is not a foreign key of "
                              f"{key[0]!r}; its foreign keys: {', '.join(map(_fk_name, known)) or 'none'}.")
    metadata = Metadata()
    for name, table in selection.items():
        column_types = {column.name: _column_type(table, column) for column in table.columns}
        pk = [column.name for column in table.primary_key.columns]
        if not pk and "query" not in table.info:
            _log.warning("sql_table_without_primary_key", table=name,
                         action="modelled without a primary key; no table can reference it")
        fk = _fk_entries(name, table, selection, skip)
        keys = set(pk) | set(fk)
        unique = _single_unique(table)
        frame = (sample or {}).get(name)
        sdtypes: dict[str, SDType] = {}
        for column, column_type in column_types.items():
            if column in keys:
                sdtypes[column] = "id"
            elif frame is not None and column in frame.columns:
                sdtypes[column] = refine_sdtype(frame[column], column_type, column, unique=column in unique)
            elif column_type.kind in ("string", "integer") and column in unique:
                sdtypes[column] = "id"
            else:
                sdtypes[column] = suggest_sdtype(column_type)
        metadata.add_table(name, pk=(pk[0] if len(pk) == 1 else pk) if pk else None, fk=fk, columns=sdtypes)
        metadata.tables[name].column_types = column_types
        metadata.tables[name].unique = [list(columns) for columns in table.info.get("unique", [])
                                        if set(columns) != set(pk)]
    return metadata


def _fk_entries(name: str, table: "sa.Table", selection: Mapping[str, "sa.Table"],
                skip: "set[ForeignKeyName]") -> dict[str, str]:
    schema = table.schema
    entries: dict[str, str] = {}
    owners: dict[str, ForeignKeyName] = {}  # child column -> the foreign key it belongs to
    composite_parents: dict[str, ForeignKeyName] = {}
    for fk in _foreign_keys(table):
        key = _key_of(name, fk)
        if _normal(key) in skip:
            _log.info("sql_foreign_key_skipped", foreign_key=_fk_name(key), reason="skip_foreign_keys")
            continue
        child_columns, parent, parent_columns = fk["columns"], fk["referred_table"], fk["referred_columns"]
        referred_schema = fk.get("referred_schema")
        shown = f"{name}({', '.join(child_columns)}) -> {parent}({', '.join(parent_columns)})"
        parent_table = selection.get(parent)
        if parent_table is None or referred_schema not in (None, schema):
            outside = f"{referred_schema}.{parent}" if referred_schema else parent
            raise SchemaError(
                f"Table {name!r} has a foreign key {shown} to table {outside!r}, which is not among the tables "
                f"selected ({', '.join(selection)}). Include {parent!r} in the tables to reflect, or leave "
                f"{name!r} out (to drop the key: reflect both, then delete the foreign key from "
                f"metadata.tables[{name!r}].fk and the table {parent!r} from metadata.tables).")
        parent_pk = [column.name for column in parent_table.primary_key.columns]
        if sorted(parent_columns) != sorted(parent_pk):
            what = (f"the primary key of {parent!r} is ({', '.join(parent_pk)})" if parent_pk
                    else f"{parent!r} has no primary key")
            raise SchemaError(
                f"Table {name!r} has a foreign key {shown} to column(s) that are not the primary key of "
                f"{parent!r} (a unique key), but {what}. SynthoHive's foreign keys must reference the parent's "
                f"primary key: make ({', '.join(parent_columns)}) the primary key of {parent!r} in the database "
                f"or in the metadata, or delete the foreign key from metadata.tables[{name!r}].fk.")
        if len(parent_pk) > 1:
            if parent in composite_parents:
                raise SchemaError(
                    f"Table {name!r} has two composite foreign keys to {parent!r}; SynthoHive supports one "
                    f"composite foreign key per parent. {_leave_one_out(composite_parents[parent], key)}")
            composite_parents[parent] = key
        for child_column, parent_column in zip(child_columns, parent_columns):
            if child_column in entries:
                raise SchemaError(
                    f"Column {name}.{child_column} belongs to two foreign keys; SynthoHive needs each key "
                    f"column in one foreign key. {_leave_one_out(owners[child_column], key)}")
            entries[child_column] = f"{parent}.{parent_column}"
            owners[child_column] = key
    return entries


def _leave_one_out(first: ForeignKeyName, second: ForeignKeyName) -> str:
    """How to reflect a schema where the foreign keys ``first`` and ``second`` cannot both be kept."""
    return (f"Leave one of {_fk_name(first)!r} and {_fk_name(second)!r} out: "
            f"SQLSource(..., skip_foreign_keys=[{_fk_name(second)!r}]) (CLI: --skip-foreign-key "
            f"{_fk_name(second)!r}); its columns stay, only the key is not kept.")


# --------------------------------------------------------------------------- queries

_MYSQL_FIELD_TYPES: dict[int, str] = {
    0: "DECIMAL", 1: "TINYINT", 2: "SMALLINT", 3: "INTEGER", 4: "FLOAT", 5: "DOUBLE", 7: "TIMESTAMP", 8: "BIGINT",
    9: "INTEGER", 10: "DATE", 11: "TIME", 12: "DATETIME", 13: "YEAR", 14: "DATE", 245: "JSON", 246: "DECIMAL",
}


def query_subquery(name: str, sql: str, column_types: Mapping[str, ColumnType] | None = None) -> Any:
    """The user's query ``sql`` as a subquery called ``name`` (typed when ``column_types`` is given).

    Args:
        name: The name the query stands for.
        sql: The query, as the user wrote it (a single SELECT).
        column_types: The storage type of each column, in the query's order.

    Returns:
        A SQLAlchemy subquery whose ``.c`` are the query's columns.
    """
    import sqlalchemy as sa

    from syntho_hive.connectors.sql.types import sqlalchemy_type_for

    text = sa.text(sql.strip().rstrip(";").rstrip())
    if column_types is None:
        return text.columns().subquery(name)
    return text.columns(*[sa.column(column, sqlalchemy_type_for(column_type))
                          for column, column_type in column_types.items()]).subquery(name)


def _described_type(dialect: str, column: Any, raw_connection: Any) -> ColumnType | None:
    """The storage type of a query's column as the driver's cursor describes it (``None``: unknown)."""
    type_code = column[1]
    if dialect == "duckdb":
        return column_type_from_name(str(type_code))
    if dialect == "postgresql":
        info = getattr(getattr(raw_connection, "adapters", None), "types", None)
        found = info.get(type_code) if info is not None else None
        if found is None:
            return None
        spelling = str(found.name)
        precision, scale = getattr(column, "precision", None), getattr(column, "scale", None)
        if spelling == "numeric" and precision is not None:
            spelling = f"numeric({precision},{scale or 0})"
        return column_type_from_name(spelling)
    if dialect == "mysql":
        spelling = _MYSQL_FIELD_TYPES.get(type_code) if isinstance(type_code, int) else None
        if spelling is None:
            return None
        nullable = bool(column[6]) if len(column) > 6 and column[6] is not None else True
        size, scale = column[3], column[5]
        if spelling == "TINYINT" and size == 1:
            spelling = "BOOLEAN"
        elif spelling == "DECIMAL" and isinstance(size, int) and isinstance(scale, int):
            precision = size - 1 - (1 if scale > 0 else 0)
            if precision >= max(scale, 1):
                spelling = f"DECIMAL({precision},{scale})"
        return column_type_from_name(spelling, nullable=nullable)
    return None


def reflect_query(connection: "sa.Connection", name: str, sql: str, *, rows: int = 1_000) -> "sa.Table":
    """A ``sa.Table`` describing the result of the user's query ``sql`` (no keys).

    Types come from the cursor's description where the driver gives them (PostgreSQL, MySQL/
    MariaDB, DuckDB) and from the first ``rows`` values otherwise (SQLite, or a type the driver
    does not name); every column is nullable unless the driver says otherwise. The table's
    ``info["query"]`` holds ``sql``.

    Args:
        connection: An open connection.
        name: The name the query stands for.
        sql: The query (a single SELECT).
        rows: How many rows to look at for types the cursor does not give.

    Returns:
        The table (never created in the database); read it with :func:`query_subquery`.

    Raises:
        SchemaError: The query returns duplicated or empty column names.
    """
    import sqlalchemy as sa

    from syntho_hive.connectors.sql.types import column_type_from_values, sqlalchemy_type_for

    dialect = dialect_of(connection)
    statement = sa.select(sa.literal_column("*")).select_from(query_subquery(name, sql)).limit(max(rows, 1))
    result = connection.execute(statement)
    try:
        description = list(result.cursor.description or [])
        fetched = result.fetchall()
    finally:
        result.close()
    names = [str(column[0]) for column in description]
    duplicated = sorted({column for column in names if names.count(column) > 1})
    if duplicated or any(not column for column in names):
        raise SchemaError(f"Query {name!r} returns duplicated or unnamed columns {duplicated or names}; give "
                          "every column of the query a distinct name with AS.")
    raw = connection.connection.dbapi_connection
    columns: list[sa.Column] = []
    for index, column in enumerate(description):
        values = [row[index] for row in fetched]
        column_type = _described_type(dialect, column, raw)
        if column_type is None:
            column_type = column_type_from_values(values, table=name, column=names[index])
        elif column_type.kind == "integer" and column_type.bits == 64 and not column_type.unsigned and any(
                isinstance(value, int) and value > 2**63 - 1 for value in values):
            column_type = column_type.model_copy(update={"unsigned": True})
        columns.append(sa.Column(names[index], sqlalchemy_type_for(column_type), nullable=column_type.nullable,
                                 info={"column_type": column_type}))
    return sa.Table(name, sa.MetaData(), *columns,
                    info={"query": sql, "foreign_keys": [], "unique": [], "dialect": dialect})


def _agrees(described: ColumnType, reflected: ColumnType) -> bool:
    """The query's column has the table column's type as far as the driver describes it (an ENUM is
    described as text), so the table's declared type can stand for it."""
    if described.kind != reflected.kind and not (described.kind == "string" and reflected.kind == "enum"):
        return False
    return all(getattr(described, field) in (None, getattr(reflected, field))
               for field in ("bits", "unsigned", "precision", "scale", "timezone"))


def carry_table_keys(query: "sa.Table", table: "sa.Table") -> None:
    """Give ``query`` (a query standing in for ``table``, see :func:`reflect_query`) the table's keys and types.

    The table's primary key when the query returns all its columns (they become NOT NULL), the foreign keys
    whose columns it returns, and the declared type of each column the query returns with a type that agrees
    (a column the query computes into another type keeps the query's; nullability stays the query's, except
    for the primary key). Keys the query does not return are left out, as for any query.

    Args:
        query: The reflected query (changed in place).
        table: The reflected table of the same name.
    """
    import sqlalchemy as sa

    from syntho_hive.connectors.sql.types import sqlalchemy_type_for

    pk = [column.name for column in table.primary_key.columns]
    keyed = bool(pk) and all(column in query.c for column in pk)
    for column in query.columns:
        if column.name not in table.c:
            continue
        described = column.info["column_type"]
        reflected = table.c[column.name].info["column_type"]
        nullable = described.nullable and not (keyed and column.name in pk)
        carried = (reflected if _agrees(described, reflected) else described).model_copy(update={"nullable": nullable})
        column.info["column_type"] = carried
        column.type = sqlalchemy_type_for(carried)
        column.nullable = nullable
    if keyed:
        query.append_constraint(sa.PrimaryKeyConstraint(*[query.c[column] for column in pk]))
    query.info["foreign_keys"] = [dict(fk) for fk in table.info["foreign_keys"]
                                  if all(column in query.c for column in fk["columns"])]
