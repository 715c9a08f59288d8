"""Fixtures shared by several unit-test modules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


@pytest.fixture(params=["uint64", "UInt64"])
def huge_uint64(request: pytest.FixtureRequest) -> pd.Series:
    """300 unsigned integers up to ~1.4e19 (past 2**63), one missing in the nullable dtype."""
    values = pd.Series(np.random.default_rng(0).integers(0, 2**62, 300).astype(np.uint64) * np.uint64(3),
                       dtype=request.param)
    if request.param == "UInt64":
        values[3] = pd.NA
    return values
