"""Typed schema: tables, keys, column semantic types, constraints, PII columns."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from syntho_hive.core.metadata.column_types import ColumnType
from syntho_hive.exceptions import SchemaError

#: Parts of a timestamp (``Series.dt`` attributes) a numeric column can hold (:attr:`TableConfig.date_parts`).
DATE_PARTS = ("year", "month", "day", "hour", "minute", "second")

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Sequence

    import pandas as pd

class ReflectableSource(Protocol):
    """What :meth:`Metadata.from_source` needs of a source (every connector source has it)."""

    def reflect(self, tables: "Sequence[str] | None" = None) -> "Metadata":
        """The schema of ``tables`` (all when ``None``)."""


SDType = Literal["numerical", "categorical", "datetime", "boolean", "id", "text"]
SDTYPES: tuple[str, ...] = ("numerical", "categorical", "datetime", "boolean", "id", "text")


class Constraint(BaseModel):
    """Per-column value constraint, e.g. ``Constraint(dtype="int", min=0, max=120)``.

    Attributes:
        dtype: Storage type the generated column must have (``"int"``, ``"float"``,
            ``"str"``, ``"bool"``, ``"datetime"``); ``None`` keeps the input's dtype.
        min: Inclusive lower bound (numbers, or ISO strings for datetimes).
        max: Inclusive upper bound.
    """

    model_config = ConfigDict(extra="forbid")

    dtype: Literal["int", "float", "str", "bool", "datetime"] | None = None
    min: float | int | str | None = None
    max: float | int | str | None = None


class Inequality(BaseModel):
    """Row-wise ordering between two columns: ``low <= high`` (or ``<`` when ``strict``).

    Works for numbers and datetimes, e.g. ``Inequality(low="start", high="end")``.
    """

    model_config = ConfigDict(extra="forbid")

    low: str
    high: str
    strict: bool = False


class FixedCombinations(BaseModel):
    """Only the combinations of these columns' values seen in the data may be generated."""

    model_config = ConfigDict(extra="forbid")

    columns: list[str] = Field(min_length=2)


class FunctionalDependency(BaseModel):
    """Within a row, ``dependent`` is a function of ``determinants`` (``city -> country``).

    Generated rows keep it: a determinant value seen in training gets the dependent value it had
    there (the most common one, should the real data break the rule in some rows).
    """

    model_config = ConfigDict(extra="forbid")

    determinants: list[str] = Field(min_length=1)
    dependent: str


class TableConfig(BaseModel):
    """One table of the schema.

    Attributes:
        name: Table name.
        pk: Primary key column, or a list of columns for a composite key.
        fk: Foreign keys, ``{"child_col": "parent_table.parent_col"}``.
        parent_context_cols: Parent columns fed to the child model as context.
        constraints: Per-column :class:`Constraint`.
        inequalities: Cross-column orderings.
        fixed_combinations: Column groups restricted to seen value combinations.
        unique: Column sets whose values no two generated rows share (a ``UNIQUE`` constraint; a row with
            a null in the set repeats nothing, as in SQL). Filled by :meth:`Metadata.from_source` from a
            database's ``UNIQUE`` constraints and indexes; SQL targets create them. An integer or text
            column alone in a set (not a date, named by no declared rule) is generated unique in the real
            values' format, as sdtype ``id`` columns are; other repeated combinations are redrawn or dropped
            (see ``docs/architecture.md``).
        columns: Semantic type per column (``numerical``, ``categorical``, ``datetime``,
            ``boolean``, ``id``, ``text``). Columns not listed are detected from data.
        pii_cols: Columns holding personal data.
        datetime_formats: ``strftime`` format for datetime columns stored as strings; ``"%H%M"`` on a number
            column declares clock times ``hhmm`` (``517`` is 05:17), modelled as minutes since midnight.
        column_types: Storage type per column (:class:`ColumnType`), filled by
            :meth:`Metadata.from_source` from a database or file schema; targets create tables
            and files with them. Not used for modelling.
        semantic_types: Business meaning per column (``email``, ``city``, ... see
            :data:`~syntho_hive.core.semantic.SEMANTIC_TYPES`): such columns are generated
            realistically instead of learned character by character. Columns not listed are
            detected from their names and values at fit; ``None`` switches detection off for one.
        locale: Faker locale of generated values (``"de_DE"``) when a row has no country column
            to take it from (``None``: ``en_US``).
        sample_real_values: ``title`` / ``text`` columns whose generated values are real values
            of the column drawn at random (realistic, but NOT private: the values are stored).
        copied_from: ``{column: "parent_table.parent_column"}``: the column repeats its parent row's
            value (an invoice's billing city), through the foreign key to that parent; generated
            rows copy it from their generated parent. Detected at fit when not declared; ``None``
            switches detection off for a column.
        date_parts: ``{column: "timestamp_column.part"}``: the numeric column holds that part
            (:data:`DATE_PARTS`) of a datetime column of the same row (``{"hour": "time_hour.hour"}``);
            generated rows take it from their generated timestamp instead of the model. Detected at fit
            when not declared; ``None`` switches detection off for a column (a ``day`` column of weekdays
            that happens to equal the day of the month of one week's data).
        dependencies: Within-row :class:`FunctionalDependency` rules; ``None``: detected at fit; a
            list (``[]`` included): exactly these, no detection.
        reference: ``True``: a lookup table (currencies, statuses) copied verbatim, not
            synthesised; ``False``: always synthesised; ``None``: detected at fit.
    """

    model_config = ConfigDict(extra="forbid")

    name: str
    pk: str | list[str] | None = None
    fk: dict[str, str] = Field(default_factory=dict)
    parent_context_cols: list[str] = Field(default_factory=list)
    constraints: dict[str, Constraint] = Field(default_factory=dict)
    inequalities: list[Inequality] = Field(default_factory=list)
    fixed_combinations: list[FixedCombinations] = Field(default_factory=list)
    unique: list[Annotated[list[str], Field(min_length=1)]] = Field(default_factory=list)
    columns: dict[str, SDType] = Field(default_factory=dict)
    pii_cols: list[str] = Field(default_factory=list)
    datetime_formats: dict[str, str] = Field(default_factory=dict)
    column_types: dict[str, ColumnType] = Field(default_factory=dict)
    semantic_types: dict[str, str | None] = Field(default_factory=dict)
    locale: str | None = None
    sample_real_values: list[str] = Field(default_factory=list)
    copied_from: dict[str, str | None] = Field(default_factory=dict)
    date_parts: dict[str, str | None] = Field(default_factory=dict)
    dependencies: list[FunctionalDependency] | None = None
    reference: bool | None = None

    @property
    def pk_columns(self) -> list[str]:
        """The primary key as a list of columns (empty when there is none)."""
        if self.pk is None:
            return []
        return [self.pk] if isinstance(self.pk, str) else list(self.pk)

    @property
    def key_columns(self) -> list[str]:
        """Primary- and foreign-key columns: generated, never modelled."""
        return list(dict.fromkeys([*self.pk_columns, *self.fk]))

    def rule_columns(self, dependencies: bool = True) -> set[str]:
        """The columns the table's declared rules name.

        Args:
            dependencies: Whether to include the columns of its dependencies (kept outside the models); the
                constraints, inequalities and fixed combinations (kept by the models) always count.

        Returns:
            The column names.
        """
        columns = {*self.constraints, *(c for q in self.inequalities for c in (q.low, q.high)),
                   *(c for group in self.fixed_combinations for c in group.columns)}
        if dependencies:
            columns |= {c for rule in self.dependencies or [] for c in (*rule.determinants, rule.dependent)}
        return columns

    @property
    def declares_constraints(self) -> bool:
        """Whether the table declares constraints, inequalities or fixed combinations."""
        return bool(self.constraints or self.inequalities or self.fixed_combinations)


class Metadata(BaseModel):
    """The schema of a dataset: a set of tables and the keys between them.

    Example:
        >>> md = Metadata().add_table("users", pk="user_id")
        >>> md = md.add_table("orders", pk="order_id", fk={"user_id": "users.user_id"})
    """

    model_config = ConfigDict(extra="forbid")

    version: str = "1"
    tables: dict[str, TableConfig] = Field(default_factory=dict)

    @field_validator("tables")
    @classmethod
    def _names_match(cls, tables: dict[str, TableConfig]) -> dict[str, TableConfig]:
        for key, table in tables.items():
            if key != table.name:
                raise ValueError(f"table key {key!r} differs from its name {table.name!r}")
        return tables

    def add_table(
        self,
        name: str,
        pk: str | list[str] | None = None,
        fk: dict[str, str] | None = None,
        parent_context_cols: list[str] | None = None,
        constraints: dict[str, Constraint | dict] | None = None,
        columns: dict[str, SDType] | None = None,
        *,
        inequalities: list[Inequality | dict | tuple[str, str]] | None = None,
        fixed_combinations: list[FixedCombinations | list[str]] | None = None,
        pii_cols: list[str] | None = None,
        datetime_formats: dict[str, str] | None = None,
        semantic_types: dict[str, str | None] | None = None,
        locale: str | None = None,
        sample_real_values: list[str] | None = None,
        copied_from: dict[str, str | None] | None = None,
        date_parts: dict[str, str | None] | None = None,
        dependencies: list[FunctionalDependency | dict | tuple[str, str]] | None = None,
        reference: bool | None = None,
        column_types: dict[str, ColumnType | dict] | None = None,
        unique: list[list[str]] | None = None,
    ) -> "Metadata":
        """Add (or replace) a table and return ``self`` so calls chain.

        Args:
            name: Table name.
            pk: Primary key column(s).
            fk: ``{"child_col": "parent_table.parent_col"}``.
            parent_context_cols: Parent columns to condition the child model on.
            constraints: ``{column: Constraint(...)}``.
            columns: ``{column: sdtype}`` overrides.
            inequalities: ``Inequality`` objects, dicts or ``(low, high)`` tuples.
            fixed_combinations: ``FixedCombinations`` or plain lists of column names.
            pii_cols: Columns holding personal data.
            datetime_formats: ``{column: strftime format}`` for string datetimes (``"%H%M"`` on a number column:
                clock times ``hhmm``).
            semantic_types: ``{column: semantic type or None}`` (see :class:`TableConfig`).
            locale: Faker locale for rows without a country column.
            sample_real_values: Text/title columns sampled from their real values (not private).
            copied_from: ``{column: "parent_table.parent_column" or None}``.
            date_parts: ``{column: "timestamp_column.part" or None}`` (see :class:`TableConfig`).
            dependencies: :class:`FunctionalDependency` objects, dicts or ``(determinant, dependent)``
                (``None``: detected at fit).
            reference: Whether the table is a lookup table copied verbatim (``None``: detected).
            column_types: ``{column: ColumnType}`` storage types (see :class:`TableConfig`).
            unique: Column sets declared unique, e.g. ``[["user_id", "day"]]`` (see :class:`TableConfig`).

        Returns:
            ``self``.

        Raises:
            SchemaError: If an argument has the wrong shape.
        """
        ineqs = [
            Inequality(low=item[0], high=item[1]) if isinstance(item, tuple) else item
            for item in (inequalities or [])
        ]
        combos = [
            FixedCombinations(columns=item) if isinstance(item, list) else item
            for item in (fixed_combinations or [])
        ]
        rules = [
            FunctionalDependency(determinants=[item[0]], dependent=item[1]) if isinstance(item, tuple) else item
            for item in dependencies
        ] if dependencies is not None else None
        try:
            table = TableConfig(
                name=name, pk=pk, fk=fk or {}, parent_context_cols=parent_context_cols or [],
                constraints=constraints or {}, columns=columns or {}, inequalities=ineqs,
                fixed_combinations=combos, pii_cols=pii_cols or [],
                datetime_formats=datetime_formats or {}, semantic_types=semantic_types or {},
                locale=locale, sample_real_values=sample_real_values or [], copied_from=copied_from or {},
                date_parts=date_parts or {}, dependencies=rules, reference=reference,
                column_types=column_types or {}, unique=unique or [],
            )
        except ValueError as exc:  # pydantic.ValidationError is a ValueError
            raise SchemaError(f"Invalid definition of table {name!r}: {exc}") from exc
        self.tables[name] = table
        return self

    def get_table(self, name: str) -> TableConfig:
        """Return the table called ``name``.

        Raises:
            SchemaError: If there is no such table (the message lists the known ones).
        """
        try:
            return self.tables[name]
        except KeyError:
            known = ", ".join(sorted(self.tables)) or "none"
            raise SchemaError(f"Unknown table {name!r}; tables in the metadata: {known}. "
                              f"Add it with Metadata.add_table({name!r}, ...).") from None

    # ------------------------------------------------------------------ detection

    @classmethod
    def detect(
        cls,
        dataframes: "pd.DataFrame | Mapping[str, pd.DataFrame]",
        table_name: str = "table",
    ) -> "Metadata":
        """Infer the schema from data: per-column sdtypes, primary keys and foreign keys.

        Args:
            dataframes: One DataFrame, or ``{table_name: DataFrame}``.
            table_name: Name given to a single DataFrame.

        Returns:
            A new metadata; edit it (``add_table``, ``tables[...]``) to override guesses.

        Raises:
            SchemaError: If the input is not a DataFrame or mapping of DataFrames.
        """
        from syntho_hive.core.metadata.detect import detect_metadata

        return detect_metadata(dataframes, table_name)

    @classmethod
    def from_source(cls, source: "ReflectableSource", tables: "Sequence[str] | None" = None) -> "Metadata":
        """Reflect the schema of a database or file source: tables, columns, sdtypes, storage types, keys.

        Example:
            >>> from syntho_hive.connectors import SQLSource
            >>> metadata = Metadata.from_source(SQLSource("sqlite:///shop.db"))

        Args:
            source: A :class:`~syntho_hive.connectors.TableSource` (``SQLSource``, ``ParquetSource``,
                ``DeltaSource``...).
            tables: The tables to take (``None``: every table of the source).

        Returns:
            A new metadata; edit it to override what was detected.

        Raises:
            SchemaError: A table named is missing, a foreign key points outside the selection, or a
                column belongs to two foreign keys (the message names both; leave one out with
                ``SQLSource(..., skip_foreign_keys=[...])``).
            SerializationError: The source cannot be reached or read.
        """
        if not callable(getattr(source, "reflect", None)):
            raise SchemaError(f"Metadata.from_source() needs a connector source (SQLSource, ParquetSource, "
                              f"DeltaSource...), got {type(source).__name__}; for DataFrames use "
                              "Metadata.detect().")
        return source.reflect(tables)

    # ------------------------------------------------------------------ validation

    def validate_schema(self, real_data: "Mapping[str, pd.DataFrame] | None" = None) -> None:
        """Check the schema (and, when given, the data) and report every problem at once.

        Checks FK syntax ``"parent.col"``, unknown parent tables, FKs not pointing at the
        parent's pk, keys declared with a non-``id`` sdtype, unorderable or reversed
        ``min``/``max``, inconsistent inequalities/combinations; with data also missing
        columns, null or duplicated primary keys, orphan FK values (count and examples), FK
        dtypes differing from the parent key's, and constraint violations.

        Args:
            real_data: Optional ``{table_name: DataFrame}``.

        Raises:
            SchemaValidationError: Listing every problem found (``.issues``).
        """
        from syntho_hive.core.metadata.validate import validate_metadata

        validate_metadata(self, real_data)

    # ------------------------------------------------------------------ files

    def to_json(self, path: "str | os.PathLike[str] | None" = None) -> str:
        """JSON text of the schema; also written atomically to ``path`` when given.

        Raises:
            SchemaError: If ``path`` cannot be written.
        """
        from syntho_hive.core.metadata import io

        return io.to_json(self, path)

    @classmethod
    def from_json(cls, path_or_text: "str | os.PathLike[str]") -> "Metadata":
        """Load from a JSON file path or JSON text.

        Raises:
            SchemaError: Missing or invalid file (the message names it).
        """
        from syntho_hive.core.metadata import io

        return io.from_json(path_or_text)

    def to_yaml(self, path: "str | os.PathLike[str] | None" = None) -> str:
        """YAML text of the schema; also written atomically to ``path`` when given.

        Raises:
            SchemaError: If ``path`` cannot be written.
        """
        from syntho_hive.core.metadata import io

        return io.to_yaml(self, path)

    @classmethod
    def from_yaml(cls, path_or_text: "str | os.PathLike[str]") -> "Metadata":
        """Load from a YAML file path or YAML text.

        Raises:
            SchemaError: Missing or invalid file (the message names it).
        """
        from syntho_hive.core.metadata import io

        return io.from_yaml(path_or_text)

    def save(self, path: "str | os.PathLike[str]") -> Path:
        """Write to ``path`` (``.json``, ``.yaml`` or ``.yml``) atomically.

        Returns:
            The path written.

        Raises:
            SchemaError: Unknown extension or unwritable path.
        """
        from syntho_hive.core.metadata import io

        return io.save(self, path)

    @classmethod
    def load(cls, path: "str | os.PathLike[str]") -> "Metadata":
        """Read a ``.json``, ``.yaml`` or ``.yml`` metadata file.

        Raises:
            SchemaError: Unknown extension, missing or invalid file (the message names it).
        """
        from syntho_hive.core.metadata import io

        return io.load(path)
