"""Reading the gzip-compressed CSV files bundled in this package (empty field = missing value)."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pandas as pd

from syntho_hive.exceptions import SerializationError

__all__ = ["read_bundled_csv"]

_PACKAGE = "syntho_hive.datasets"


def read_bundled_csv(relative: str, dtypes: dict[str, Any], *, hint: str = "") -> pd.DataFrame:
    """One bundled ``.csv.gz`` file as a DataFrame.

    Args:
        relative: Its path inside the package (``"sales/customers.csv.gz"``).
        dtypes: ``pandas.read_csv`` dtypes of some columns.
        hint: Added to the error message (how else to get the file back).

    Returns:
        The table; empty fields are missing values, nothing else is.

    Raises:
        SerializationError: The file is missing or unreadable (a broken install).
    """
    resource = resources.files(_PACKAGE).joinpath(*relative.split("/"))
    try:
        with resources.as_file(resource) as path:
            return pd.read_csv(path, compression="gzip", dtype=dtypes, keep_default_na=False, na_values=[""])
    except (OSError, ValueError) as exc:
        raise SerializationError(
            f"Cannot read the bundled dataset {relative} from package {_PACKAGE}: {exc}. Reinstall synthohive "
            f"(pip install --force-reinstall synthohive){hint}."
        ) from exc
