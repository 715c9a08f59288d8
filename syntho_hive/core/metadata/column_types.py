"""Storage types of columns: what a column *is* in the database or file it came from.

A :class:`ColumnType` records the logical type a connector reflected (``integer`` of 64 bits,
``decimal(12, 2)``, ``timestamp`` with a time zone, ``uuid``...) and whether the column accepts
nulls. The models never read it: sdtypes (``TableConfig.columns``) drive modelling. Connectors
use it to read values in an exact pandas dtype and to create target tables and files with the
source's types (a ``decimal(12, 2)`` column is written back as ``DECIMAL(12, 2)``, not as a float).

This module is pure data: it names no database, driver or file format.
"""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["ColumnType", "TypeKind", "TYPE_KINDS"]

TypeKind = Literal["boolean", "integer", "float", "decimal", "date", "time", "timestamp", "string", "uuid",
                   "enum", "json", "binary"]
TYPE_KINDS: tuple[str, ...] = get_args(TypeKind)


class ColumnType(BaseModel):
    """The storage type of one column.

    Attributes:
        kind: The logical type (see :data:`TYPE_KINDS`).
        bits: Width of an ``integer`` (8, 16, 32, 64) or ``float`` (32, 64).
        unsigned: Whether an ``integer`` is unsigned (MySQL/MariaDB).
        precision: Total digits of a ``decimal``.
        scale: Digits after the point of a ``decimal``.
        length: Maximum length of a ``string`` (``None``: unbounded text).
        timezone: Whether a ``timestamp`` is time-zone aware (``timestamptz``).
        values: The labels of an ``enum``, in declaration order.
        nullable: Whether the column accepts nulls.
        source: The type as the source spelled it (e.g. ``"NUMERIC(12, 2)"``), for messages.

    Example:
        >>> ColumnType(kind="decimal", precision=12, scale=2, nullable=False)
    """

    model_config = ConfigDict(extra="forbid")

    kind: TypeKind
    bits: int | None = Field(default=None, ge=8, le=64)
    unsigned: bool = False
    precision: int | None = Field(default=None, ge=1, le=1000)
    scale: int | None = Field(default=None, ge=0, le=1000)
    length: int | None = Field(default=None, ge=1)
    timezone: bool = False
    values: list[str] | None = None
    nullable: bool = True
    source: str | None = None

    @model_validator(mode="after")
    def _fits_kind(self) -> "ColumnType":
        if self.bits is not None:
            allowed = {"integer": (8, 16, 32, 64), "float": (32, 64)}.get(self.kind)
            if allowed is None or self.bits not in allowed:
                raise ValueError(f"bits={self.bits} does not fit kind {self.kind!r} (integer: 8/16/32/64, "
                                 "float: 32/64)")
        if self.unsigned and self.kind != "integer":
            raise ValueError(f"unsigned applies to integers, not {self.kind!r}")
        if (self.precision is not None or self.scale is not None) and self.kind != "decimal":
            raise ValueError(f"precision/scale apply to decimals, not {self.kind!r}")
        if self.precision is not None and self.scale is not None and self.scale > self.precision:
            raise ValueError(f"decimal scale {self.scale} exceeds its precision {self.precision}")
        if self.length is not None and self.kind != "string":
            raise ValueError(f"length applies to strings, not {self.kind!r}")
        if self.timezone and self.kind != "timestamp":
            raise ValueError(f"timezone applies to timestamps, not {self.kind!r}")
        if (self.values is not None) != (self.kind == "enum"):
            raise ValueError("an enum needs its values, and only an enum has values")
        return self

    def describe(self) -> str:
        """A short spelling for messages and reports, e.g. ``decimal(12,2)`` or ``timestamp with time zone``."""
        if self.kind == "integer":
            return f"{'unsigned ' if self.unsigned else ''}int{self.bits or 64}"
        if self.kind == "float":
            return f"float{self.bits or 64}"
        if self.kind == "decimal":
            return f"decimal({self.precision},{self.scale})" if self.precision is not None else "decimal"
        if self.kind == "string" and self.length is not None:
            return f"string({self.length})"
        if self.kind == "timestamp":
            return "timestamp with time zone" if self.timezone else "timestamp"
        if self.kind == "enum":
            return f"enum({', '.join(self.values or [])})"
        return self.kind
