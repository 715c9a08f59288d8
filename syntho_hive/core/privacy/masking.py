"""The ``mask`` action: hide most characters of *generated* values, keeping their format.

Each run of letters or digits shows its first ``keep`` characters and the rest become ``char``;
everything else (``@``, ``.``, ``-``, ``+``, spaces, parentheses) stays, and an e-mail keeps its
top-level domain: ``jane.doe@example.com`` -> ``j***.d**@e******.com``. Only generated values are
ever masked (the real column is removed before training), so a masked value reveals nothing real.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["mask_value", "mask_series"]

_RUN = re.compile(r"[^\W_]+")


def mask_value(value: Any, *, char: str = "*", keep: int = 1) -> Any:
    """The masked form of one value (``None`` / NaN / NaT stay as they are; other values as text).

    Args:
        value: A generated value.
        char: The replacement character.
        keep: Characters shown at the start of each run of letters/digits.
    """
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
        return value
    text = value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)
    tld_start = len(text)
    if "@" in text and "." in text.rpartition("@")[2]:
        tld_start = text.rfind(".") + 1  # an e-mail keeps its top-level domain
    head = _RUN.sub(lambda m: m.group(0)[:keep] + char * max(len(m.group(0)) - keep, 0), text[:tld_start])
    return head + text[tld_start:]


def mask_series(series: pd.Series, *, char: str = "*", keep: int = 1) -> pd.Series:
    """:func:`mask_value` of every value; the result holds text (``object``), nulls kept."""
    return pd.Series([mask_value(v, char=char, keep=keep) for v in series.tolist()], index=series.index,
                     name=series.name, dtype=object)
