"""Folders of table files: Parquet (single files and Hive-partitioned datasets) and CSV.

- :class:`ParquetSource` / :class:`ParquetTarget`: ``<table>.parquet`` files and ``<table>/`` datasets.
- :class:`CSVSource` / :class:`CSVTarget`: ``<table>.csv`` files, optionally compressed.

Sources stream tables in the storage dtypes and reflect them into a
:class:`~syntho_hive.core.metadata.Metadata`; targets stage every table and commit them together.
"""

from __future__ import annotations

from syntho_hive.connectors.files.csv import CSVSource, CSVTarget
from syntho_hive.connectors.files.parquet import ParquetSource, ParquetTarget

__all__ = ["CSVSource", "CSVTarget", "ParquetSource", "ParquetTarget"]
