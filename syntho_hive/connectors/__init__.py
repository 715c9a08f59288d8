"""Connectors: read real tables from where they live, write synthetic tables back.

Sources (:class:`~syntho_hive.connectors.base.TableSource`) and targets
(:class:`~syntho_hive.connectors.base.TableTarget`):

- ``SQLSource`` / ``SQLTarget``: SQLite, PostgreSQL, MySQL/MariaDB and DuckDB through SQLAlchemy
  (extras ``sql``, ``postgres``, ``mysql``, ``duckdb``).
- ``ParquetSource`` / ``ParquetTarget`` (partitioned datasets) and ``CSVSource`` / ``CSVTarget``.
- ``DeltaSource`` / ``DeltaTarget``: Delta Lake through ``deltalake`` (extra ``delta``; no JVM).
- ``SparkSource``, ``save_to_hive``, ``write_parquet``, ``write_delta``: Hive tables and Spark DataFrames
  (extra ``spark``; see :mod:`syntho_hive.connectors.spark`).

Every name is imported lazily: ``import syntho_hive.connectors`` needs no optional extra, and a
missing one is named (with the ``pip install`` to run) when the connector is first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syntho_hive._lazy import lazy_attributes

if TYPE_CHECKING:  # pragma: no cover
    from syntho_hive.connectors.base import TableSource, TableTarget, TargetWriter
    from syntho_hive.connectors.delta import DeltaSource, DeltaTarget
    from syntho_hive.connectors.files import CSVSource, CSVTarget, ParquetSource, ParquetTarget
    from syntho_hive.connectors.spark.files import write_delta, write_parquet
    from syntho_hive.connectors.spark.hive import save_to_hive
    from syntho_hive.connectors.spark.source import SparkSource
    from syntho_hive.connectors.sql.source import SQLSource
    from syntho_hive.connectors.sql.target import SQLTarget
    from syntho_hive.relational.subset import Subset, SubsetReport

_LAZY: dict[str, tuple[str, ...]] = {
    "syntho_hive.connectors.base": ("TableSource", "TableTarget", "TargetWriter"),
    "syntho_hive.connectors.sql.source": ("SQLSource",),
    "syntho_hive.connectors.sql.target": ("SQLTarget",),
    "syntho_hive.connectors.files": ("ParquetSource", "ParquetTarget", "CSVSource", "CSVTarget"),
    "syntho_hive.connectors.delta": ("DeltaSource", "DeltaTarget"),
    "syntho_hive.connectors.spark.source": ("SparkSource",),
    "syntho_hive.connectors.spark.hive": ("save_to_hive",),
    "syntho_hive.connectors.spark.files": ("write_parquet", "write_delta"),
    "syntho_hive.relational.subset": ("Subset", "SubsetReport"),
}

__all__ = sorted(name for names in _LAZY.values() for name in names)


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
