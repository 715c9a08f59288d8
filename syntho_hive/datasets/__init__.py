"""Small real datasets bundled with SynthoHive, for the demo, examples and tests.

``adult_sample.csv.gz``: 5,000 rows x 15 columns drawn at random (fixed seed) from the UCI Adult
census income table (Becker & Kohavi, 1996, UCI Machine Learning Repository, CC BY 4.0,
https://archive.ics.uci.edu/dataset/2/adult). See ``LICENSE.md`` next to this file.

``sales/*.csv.gz``: a business-shaped 10-table sales schema (customers, employees, invoices,
invoice lines, products, suppliers and four lookup tables) of invented people and companies in
real places (GeoNames, CC BY 4.0); :func:`~syntho_hive.datasets.sales.load_sales` and
:func:`~syntho_hive.datasets.sales.sales_metadata`. See ``SALES_LICENSE.md``.
"""

from __future__ import annotations

import pandas as pd

from syntho_hive.datasets._bundled import read_bundled_csv
from syntho_hive.datasets.sales import load_sales, sales_metadata

__all__ = ["load_adult_sample", "load_sales", "sales_metadata", "ADULT_INTEGER_COLUMNS", "ADULT_STRING_COLUMNS"]

_ADULT_FILE = "adult_sample.csv.gz"

#: Integer columns of the Adult sample (loaded as ``int64``).
ADULT_INTEGER_COLUMNS: tuple[str, ...] = (
    "age", "fnlwgt", "education-num", "capital-gain", "capital-loss", "hours-per-week",
)
#: String columns of the Adult sample (loaded as pandas' string dtype, nulls as missing values).
ADULT_STRING_COLUMNS: tuple[str, ...] = (
    "workclass", "education", "marital-status", "occupation", "relationship", "race", "sex",
    "native-country", "income",
)


def load_adult_sample() -> pd.DataFrame:
    """Load the bundled 5,000-row sample of the UCI Adult table.

    The columns keep the source's order and types: six integer columns as ``int64`` and nine
    string columns (pandas' default dtype for text read from CSV: ``str`` on pandas >= 3,
    ``object`` before), with the source's nulls
    (in ``workclass``, ``occupation`` and ``native-country``) as missing values.

    Returns:
        A new DataFrame with 5,000 rows and 15 columns.

    Raises:
        SerializationError: If the bundled file is missing or unreadable (a broken install).
    """
    dtypes: dict[str, str] = {column: "int64" for column in ADULT_INTEGER_COLUMNS}
    return read_bundled_csv(_ADULT_FILE, dtypes)
