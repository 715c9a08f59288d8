"""Reading users' table files: CSV so that values keep their form, Parquet files and directories.

:func:`read_table` is the one reader of the command line and of ``Synthesizer`` (which also
takes file paths); :func:`table_format` tells a file's format from its name (also for output
files). They live in :mod:`syntho_hive.connectors.files` (the file connectors read with them);
this module keeps their import path.
"""

from __future__ import annotations

from syntho_hive.connectors.files._csv_text import read_csv
from syntho_hive.connectors.files._table_files import CSV_SUFFIXES, PARQUET_SUFFIXES, read_table, table_format

__all__ = ["read_csv", "read_table", "table_format", "CSV_SUFFIXES", "PARQUET_SUFFIXES"]
