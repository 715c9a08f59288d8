"""Write one generated table to a Parquet or CSV file chunk by chunk, atomically.

The writer lives in :mod:`syntho_hive.connectors.files` (the file connectors write with it);
this module keeps its import path. See :func:`write_table_chunks`.
"""

from __future__ import annotations

from syntho_hive.connectors.files._chunks import write_table_chunks

__all__ = ["write_table_chunks"]
