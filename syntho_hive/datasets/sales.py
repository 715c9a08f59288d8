"""A bundled multi-table sales schema (Chinook-like) for the demo, examples, tests and benchmarks.

Ten tables in ``sales/*.csv.gz``: four reference tables (``currencies``, ``categories``,
``order_statuses``, ``payment_methods``), ``employees`` (a reporting hierarchy through the
self-referencing ``reports_to``), ``customers``, ``suppliers``, ``products``, ``invoices`` and
``invoice_lines``. People and companies are invented (Faker word lists); cities, states, postcode
formats and phone area codes are real (GeoNames, libphonenumber). See ``SALES_LICENSE.md`` next
to this file; ``benchmarks/make_sales_dataset.py`` regenerates the files.
"""

from __future__ import annotations

import pandas as pd

from syntho_hive.core.metadata import Metadata
from syntho_hive.datasets._bundled import read_bundled_csv
from syntho_hive.exceptions import SerializationError

__all__ = ["load_sales", "sales_metadata", "SALES_TABLES", "SALES_DATE_COLUMNS"]

_FOLDER = "sales"

#: Table names, parents before children (the order :func:`load_sales` returns them in).
SALES_TABLES: tuple[str, ...] = (
    "currencies", "categories", "order_statuses", "payment_methods", "employees", "customers",
    "suppliers", "products", "invoices", "invoice_lines",
)

#: Date columns per table (loaded as ``datetime64[ns]``).
SALES_DATE_COLUMNS: dict[str, tuple[str, ...]] = {
    "employees": ("birth_date", "hire_date"),
    "invoices": ("invoice_date",),
}

_INT_COLUMNS: dict[str, tuple[str, ...]] = {
    "categories": ("category_id",),
    "order_statuses": ("status_id",),
    "payment_methods": ("payment_method_id",),
    "employees": ("employee_id",),
    "customers": ("customer_id", "support_rep_id"),
    "suppliers": ("supplier_id",),
    "products": ("product_id", "category_id", "supplier_id"),
    "invoices": ("invoice_id", "customer_id", "status_id", "payment_method_id"),
    "invoice_lines": ("invoice_line_id", "invoice_id", "product_id", "quantity"),
}
#: Digit-only text (US ZIP codes would otherwise be read as numbers and lose leading zeros).
_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "employees": ("postal_code", "phone"), "customers": ("postal_code", "phone"),
    "suppliers": ("phone",), "invoices": ("billing_postal_code",),
}
_NULLABLE_INT_COLUMNS: dict[str, tuple[str, ...]] = {"employees": ("reports_to",)}
_FLOAT_COLUMNS: dict[str, tuple[str, ...]] = {
    "products": ("unit_price",), "invoices": ("total",), "invoice_lines": ("unit_price",),
}


def _read_table(name: str) -> pd.DataFrame:
    file_name = f"{name}.csv.gz"
    dtypes: dict[str, object] = {column: "int64" for column in _INT_COLUMNS.get(name, ())}
    dtypes.update({column: str for column in _TEXT_COLUMNS.get(name, ())})
    dtypes.update({column: "Int64" for column in _NULLABLE_INT_COLUMNS.get(name, ())})
    dtypes.update({column: "float64" for column in _FLOAT_COLUMNS.get(name, ())})
    frame = read_bundled_csv(f"{_FOLDER}/{file_name}", dtypes,
                             hint=", or regenerate it with benchmarks/make_sales_dataset.py in a source checkout")
    for column in SALES_DATE_COLUMNS.get(name, ()):
        try:
            frame[column] = pd.to_datetime(frame[column], format="%Y-%m-%d").astype("datetime64[ns]")
        except (KeyError, ValueError) as exc:
            raise SerializationError(f"The bundled sales table {file_name} has no valid date column {column!r} "
                                     f"({exc}); reinstall synthohive.") from exc
    return frame


def load_sales() -> dict[str, pd.DataFrame]:
    """Load the bundled sales dataset: ten related tables.

    Keys and counts are ``int64`` (``employees.reports_to`` is nullable ``Int64``: the general
    manager reports to nobody), prices and totals ``float64``, dates ``datetime64[ns]``, text
    columns pandas' default string dtype for CSV text (``str`` on pandas >= 3, ``object``
    before) with missing values kept (``customers.company``, ``customers.state``,
    ``invoices.billing_state``, ``employees.reports_to``).

    Returns:
        ``{table name: DataFrame}`` in :data:`SALES_TABLES` order.

    Raises:
        SerializationError: If a bundled file is missing or unreadable (a broken install).
    """
    return {name: _read_table(name) for name in SALES_TABLES}


def sales_metadata() -> Metadata:
    """The schema of :func:`load_sales`: primary keys and every foreign key.

    Returns:
        A new :class:`~syntho_hive.interface.config.Metadata` with the ten tables.
    """
    metadata = Metadata()
    metadata.add_table("currencies", pk="currency_code")
    metadata.add_table("categories", pk="category_id")
    metadata.add_table("order_statuses", pk="status_id")
    metadata.add_table("payment_methods", pk="payment_method_id")
    metadata.add_table("employees", pk="employee_id", fk={"reports_to": "employees.employee_id"})
    metadata.add_table("customers", pk="customer_id",
                       fk={"support_rep_id": "employees.employee_id"})
    metadata.add_table("suppliers", pk="supplier_id")
    metadata.add_table("products", pk="product_id",
                       fk={"category_id": "categories.category_id",
                           "supplier_id": "suppliers.supplier_id"})
    metadata.add_table("invoices", pk="invoice_id",
                       fk={"customer_id": "customers.customer_id",
                           "status_id": "order_statuses.status_id",
                           "payment_method_id": "payment_methods.payment_method_id",
                           "currency_code": "currencies.currency_code"})
    metadata.add_table("invoice_lines", pk="invoice_line_id",
                       fk={"invoice_id": "invoices.invoice_id", "product_id": "products.product_id"})
    return metadata
