"""Detection of personal-data columns from their names and, above all, their values.

A column is reported when

- its values validate as a type that is unambiguous by itself (e-mail, international phone number,
  IBAN with its mod-97 check, card number with a network's IIN and Luhn, national identity number
  with its check digits, IPv4/IPv6): reason ``"values"``, or ``"name+values"`` when the name agrees;
- its name says so (aliases in English, German, French, Spanish, Italian, Dutch and Portuguese) and its
  values agree (names that look like names, valid phone numbers of the row's country, dates for a date
  of birth ...): reason ``"name+values"``;
- its name says so and it holds no value to check: reason ``"name"``.

A name whose values disagree (an ``email`` column of integers, a product ``name``) is listed under
:attr:`PIIReport.rejected`, not reported. A date of birth is recognised only when the name says so.
Validators are real checks (``phonenumbers``, ``python-stdnum``, ``ipaddress``), not bare patterns,
so order statuses, product codes, integer ids and random 9-digit numbers are not personal data.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
import phonenumbers
from pandas.api import types as ptypes

from syntho_hive._checks import is_int
from syntho_hive._random import numpy_generator
from syntho_hive._random import sample_rows as random_rows
from syntho_hive.core.privacy.types import DEFAULT_ACTIONS, PII_TYPES
from syntho_hive.core.semantic import country_code, detect_semantic_type, resolve_locale
from syntho_hive.core.semantic.birth_dates import is_date_of_birth
from syntho_hive.core.semantic.detect import VALUE_CHECKS
from syntho_hive.core.semantic.geo import country_of_locale
from syntho_hive.core.semantic.naming import name_hints
from syntho_hive.core.semantic.national_ids import id_schemes_of
from syntho_hive.core.semantic.validators import is_card_number
from syntho_hive.exceptions import ConfigurationError

__all__ = ["detect_pii", "PIIReport", "PIIFinding", "PIIRejection", "is_valid_phone", "DEFAULT_SAMPLE_ROWS"]

#: Rows inspected per table (drawn with the detection seed when the table is longer).
DEFAULT_SAMPLE_ROWS = 10_000
#: Share of values that must validate when the name agrees / when values decide alone.
_NAME_AGREE = 0.8
_VALUES_ALONE = 0.9
#: Types an integer column may hold.
_INTEGER_TYPES = ("credit_card_number", "national_id", "phone_number", "postcode")

Reason = Literal["name", "values", "name+values"]


@dataclass(frozen=True)
class PIIFinding:
    """One personal-data column.

    Attributes:
        column: The column.
        semantic_type: Its type (see :data:`~syntho_hive.core.privacy.types.PII_TYPES`).
        reason: ``"name"``, ``"values"`` or ``"name+values"``.
        share: Share of the sampled non-null values that validate as the type (``None``: no value).
        sample_size: Non-null values checked.
        default_action: The action applied when the config names none.
    """

    column: str
    semantic_type: str
    reason: Reason
    share: float | None
    sample_size: int
    default_action: str


@dataclass(frozen=True)
class PIIRejection:
    """A column whose name suggests personal data but whose values do not agree (not reported as PII).

    Attributes:
        column: The column.
        semantic_type: The type the name suggests.
        share: Share of the sampled non-null values that validate as that type.
        sample_size: Non-null values checked.
    """

    column: str
    semantic_type: str
    share: float
    sample_size: int


@dataclass
class PIIReport:
    """What :func:`detect_pii` found in one table.

    Attributes:
        table: The table name (``None`` for a lone frame).
        findings: Personal-data columns, in column order.
        rejected: Columns whose name suggested personal data but whose values disagreed.
        semantic_types: Every semantic column detected (personal or not: a country, a company), used as
            context by generation.
        rows: Rows in the table; ``sampled``: rows inspected.
    """

    table: str | None
    findings: list[PIIFinding] = field(default_factory=list)
    rejected: list[PIIRejection] = field(default_factory=list)
    semantic_types: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    sampled: int = 0

    @property
    def columns(self) -> list[str]:
        """The personal-data columns found."""
        return [f.column for f in self.findings]

    def __getitem__(self, column: str) -> PIIFinding:
        for finding in self.findings:
            if finding.column == column:
                return finding
        raise KeyError(f"{column!r} was not detected as personal data (found: {self.columns})")

    def __contains__(self, column: object) -> bool:
        return column in self.columns

    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON form (types, reasons and shares only; no value of the data)."""
        return {"table": self.table, "rows": self.rows, "sampled": self.sampled,
                "findings": [asdict(f) for f in self.findings], "rejected": [asdict(r) for r in self.rejected],
                "semantic_types": dict(self.semantic_types)}

    def __str__(self) -> str:
        where = f"table {self.table!r}" if self.table is not None else "the frame"
        lines = [f"Personal data in {where} ({self.sampled} of {self.rows} rows inspected): "
                 f"{len(self.findings)} column(s)"]
        for f in self.findings:
            share = "no values" if f.share is None else f"{f.share:.0%} of {f.sample_size} values valid"
            lines.append(f"  {f.column}: {f.semantic_type} by {f.reason} ({share}) -> {f.default_action}")
        for r in self.rejected:
            lines.append(f"  {r.column}: name suggests {r.semantic_type}, but only {r.share:.0%} of "
                         f"{r.sample_size} values agree -> not personal data")
        return "\n".join(lines)


def is_valid_phone(value: str, region: str | None) -> bool:
    """Whether ``value`` is a valid phone number (``phonenumbers.is_valid_number``): an international number
    (``+`` / ``00``) of any country, or a national number of ``region`` (alpha-2)."""
    text = value.strip()
    if sum(ch.isdigit() for ch in text) < 6 or any(ch.isalpha() and ch not in "xX" for ch in text):
        return False
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)


def _texts(series: pd.Series) -> list[str]:
    """Non-null values as text (integers without a decimal point)."""
    out = []
    for v in series.dropna().tolist():
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            v = int(v)
        out.append(str(v).strip())
    return out


def _regions(frame: pd.DataFrame, types: dict[str, str], default: str) -> np.ndarray:
    """Each row's region for national phone numbers: its country column's country, else ``default``."""
    country_col = next((c for c, t in types.items() if t == "country"), None)
    if country_col is None:
        return np.full(len(frame), default, dtype=object)
    return np.asarray([country_code(v) or default for v in frame[country_col].tolist()], dtype=object)


def _share(series: pd.Series, sem: str, regions: np.ndarray, *, named: bool = False) -> tuple[float | None, int]:
    """Share of the non-null values of ``series`` that validate as ``sem``, and how many were checked.

    With ``named`` (the column's name says ``sem``), phone numbers need only look like one (seven digits or
    more that libphonenumber parses): local numbers without an area code cannot be validated, and a column
    named ``phone`` holding them is personal data all the same. Values alone are held to the strict check.
    """
    present = series.notna().to_numpy()
    n = int(present.sum())
    if n == 0:
        return None, 0
    if sem == "date_of_birth":
        return sum(is_date_of_birth(v) for v in series[present].tolist()) / n, n
    texts = _texts(series)
    if sem == "phone_number" and not named:
        valid = sum(is_valid_phone(v, r) for v, r in zip(texts, regions[present]))
    else:
        check: Callable[[str], bool] = VALUE_CHECKS[sem]
        valid = sum(bool(check(v)) for v in texts)
    return valid / n, n


def _integer_values_only(series: pd.Series) -> str | None:
    """An integer column that is personal data by its values alone: card numbers or strong national ids."""
    texts = _texts(series)
    if not texts:
        return None
    if sum(is_card_number(v) for v in texts) >= _VALUES_ALONE * len(texts):
        return "credit_card_number"
    if sum(bool(id_schemes_of(v, strong_only=True)) for v in texts) >= _VALUES_ALONE * len(texts):
        return "national_id"
    return None


def _is_integer(series: pd.Series) -> bool:
    dtype = series.dtype
    if ptypes.is_bool_dtype(dtype):
        return False
    if ptypes.is_integer_dtype(dtype):
        return True
    return ptypes.is_float_dtype(dtype) and bool(series.dropna().map(float.is_integer).all())


def _column(frame: pd.DataFrame, column: str, types: dict[str, str], regions: np.ndarray
            ) -> PIIFinding | PIIRejection | None:
    series = frame[column]
    hints = name_hints(column)
    hint = next((h for h in hints if h in PII_TYPES), None)
    sem = types.get(column)
    if sem in PII_TYPES:  # the semantic detector agreed (name and values, or unambiguous values)
        share, size = _share(series, sem, regions, named=sem in hints)
        if sem in hints and share is not None and share < _NAME_AGREE:
            # The share reported here decides: a name needs _NAME_AGREE of the values valid by its check.
            return PIIRejection(column, sem, share, size)
        return PIIFinding(column, sem, "name+values" if sem in hints else "values", share, size, DEFAULT_ACTIONS[sem])
    integer = _is_integer(series)
    if integer and hint not in _INTEGER_TYPES and (found := _integer_values_only(series)) is not None:
        share, size = _share(series, found, regions)
        return PIIFinding(column, found, "name+values" if found in hints else "values", share, size,
                          DEFAULT_ACTIONS[found])
    if hint is None:
        return None
    share, size = _share(series, hint, regions)
    if share is None:
        return PIIFinding(column, hint, "name", None, 0, DEFAULT_ACTIONS[hint])
    checked_here = hint == "date_of_birth" or (integer and hint in _INTEGER_TYPES)
    if checked_here and share >= _NAME_AGREE:
        return PIIFinding(column, hint, "name+values", share, size, DEFAULT_ACTIONS[hint])
    return PIIRejection(column, hint, share, size)


def detect_pii(frame: pd.DataFrame, table: str | None = None, *, sample_rows: int = DEFAULT_SAMPLE_ROWS,
               seed: int = 0, locale: str | None = None) -> PIIReport:
    """Find the personal-data columns of a table (see the module docstring for the rules).

    Args:
        frame: The real table.
        table: Its name (for the report and messages).
        sample_rows: Rows inspected (a seeded sample of longer tables).
        seed: Seed of the row sample (the same seed gives the same report).
        locale: The region of national phone numbers for rows without a country column
            (``None``: ``en_US``, i.e. US numbers).

    Returns:
        The :class:`PIIReport`.

    Raises:
        ConfigurationError: If ``frame`` is not a DataFrame, ``sample_rows`` is not a positive integer,
            ``seed`` is not a non-negative integer or ``locale`` is unknown.
    """
    if not isinstance(frame, pd.DataFrame):
        raise ConfigurationError(f"detect_pii expects a pandas DataFrame, got {type(frame).__name__}.")
    for name, value, least in (("sample_rows", sample_rows, 1), ("seed", seed, 0)):
        if not is_int(value) or value < least:
            raise ConfigurationError(f"{name} must be an integer >= {least}, got {value!r}.")
    default_region = country_of_locale(resolve_locale(locale or "en_US")) or "US"
    sample = random_rows(frame, int(sample_rows), numpy_generator(int(seed)))
    types: dict[str, str] = {}
    for column in map(str, sample.columns):
        detected = detect_semantic_type(sample[column], column)
        if detected is not None:
            types[column] = detected
    regions = _regions(sample, types, default_region)
    report = PIIReport(table=table, semantic_types=types, rows=len(frame), sampled=len(sample))
    for column in map(str, sample.columns):
        result = _column(sample, column, types, regions)
        if isinstance(result, PIIFinding):
            report.findings.append(result)
            report.semantic_types[column] = result.semantic_type
        elif isinstance(result, PIIRejection):
            report.rejected.append(result)
    return report
