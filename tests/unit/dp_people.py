"""The small people table both DP suites fit (``test_dp.py`` for TabularAR, ``test_dp_tvae.py`` for TVAE)."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Cities held by one person each: below any noisy threshold, so never in a DP model or its output.
RARE = ["Reykjavik", "Lima", "Hanoi"]


def make_people(n: int = 600, seed: int = 0) -> pd.DataFrame:
    """``n`` people: an id, age, income (five missing), a city (three rare ones), a flag and a join date."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "person_id": np.arange(5000, 5000 + n),
        "age": rng.integers(18, 80, n),
        "income": np.round(rng.lognormal(10.5, 0.4, n), 2),
        "city": rng.choice(["Boston", "Denver", "Austin"], n, p=[0.5, 0.3, 0.2]).astype(object),
        "active": rng.random(n) < 0.8,
        "joined": pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 900, n), unit="D"),
    })
    df.loc[:2, "city"] = RARE
    df.loc[10:14, "income"] = np.nan  # too few missing values for the noisy count: no null token
    return df
