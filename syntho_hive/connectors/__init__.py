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

_LAZY: dict[str, str] = {
    "TableSource": "syntho_hive.connectors.base",
    "TableTarget": "syntho_hive.connectors.base",
    "TargetWriter": "syntho_hive.connectors.base",
    "SQLSource": "syntho_hive.connectors.sql.source",
    "SQLTarget": "syntho_hive.connectors.sql.target",
    "ParquetSource": "syntho_hive.connectors.files",
    "ParquetTarget": "syntho_hive.connectors.files",
    "CSVSource": "syntho_hive.connectors.files",
    "CSVTarget": "syntho_hive.connectors.files",
    "DeltaSource": "syntho_hive.connectors.delta",
    "DeltaTarget": "syntho_hive.connectors.delta",
    "SparkSource": "syntho_hive.connectors.spark.source",
    "save_to_hive": "syntho_hive.connectors.spark.hive",
    "write_parquet": "syntho_hive.connectors.spark.files",
    "write_delta": "syntho_hive.connectors.spark.files",
    "Subset": "syntho_hive.relational.subset",
    "SubsetReport": "syntho_hive.relational.subset",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_attributes(__name__, _LAZY, globals())
