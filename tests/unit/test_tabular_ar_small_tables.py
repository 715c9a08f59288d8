"""TabularAR on small tables: numerical bins sized by the table's rows (``auto_max_bins``), so a
200-row table's correlations are learned; explicit values win; seeded fits stay bit-identical."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.core.models.tabular_ar.model import auto_max_bins


def correlated_table(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """Two numerical columns with correlation about 0.9 and a category that depends on them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(50.0, 10.0, n)
    y = 0.9 * (x - 50.0) / 10.0 + np.sqrt(1.0 - 0.81) * rng.normal(size=n)
    band = np.where(x + rng.normal(0.0, 5.0, n) > 50.0, "high", "low")
    return pd.DataFrame({"x": np.round(x, 2), "y": np.round(100.0 + 20.0 * y, 2), "band": band})


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Kolmogorov-Smirnov distance of two samples' empirical distributions."""
    grid = np.sort(np.concatenate([a, b]))
    cdf_a = np.searchsorted(np.sort(a), grid, side="right") / len(a)
    cdf_b = np.searchsorted(np.sort(b), grid, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def tokens_of(model: TabularAR, column: str) -> int:
    """Value tokens of ``column``'s (first) sub-column."""
    return model.codec_.cardinalities[model.codec_.slices[column].start]


@pytest.fixture(scope="module")
def real() -> pd.DataFrame:
    return correlated_table()


@pytest.fixture(scope="module")
def model(real: pd.DataFrame) -> TabularAR:
    # No torch.set_num_threads here: it is process-wide, and CTGAN's cross-process digest test failed after it
    # in the same process (also with the old count set back in this fixture; cause not pinned down).
    return TabularAR().fit(real, seed=3, progress_bar=False)


def test_auto_max_bins_grows_with_rows_and_keeps_large_tables_at_100() -> None:
    assert [auto_max_bins(n) for n in (0, 50, 150, 276, 569, 1000, 3000, 5000, 48_842)] == \
        [5, 5, 5, 7, 11, 20, 60, 100, 100]
    sizes = np.unique(np.geomspace(1, 100_000, 400).astype(int))
    bins = [auto_max_bins(int(n)) for n in sizes]
    assert all(5 <= b <= 100 for b in bins) and bins == sorted(bins)


def test_default_bins_follow_the_table_size_and_explicit_values_win(model: TabularAR,
                                                                     real: pd.DataFrame) -> None:
    assert tokens_of(model, "x") <= auto_max_bins(len(real)) and tokens_of(model, "y") <= auto_max_bins(len(real))
    assert model.max_bins is None and model.hyper_parameters()["max_bins"] is None  # stays "automatic"
    wide = TabularAR(max_bins=100, epochs=1).fit(real, seed=3, progress_bar=False)
    assert wide.max_bins == 100 and tokens_of(wide, "x") > 50
    narrow = TabularAR(max_bins=3, epochs=1).fit(real, seed=3, progress_bar=False)
    assert tokens_of(narrow, "x") <= 3


def test_small_table_learns_marginals_and_the_correlation(model: TabularAR, real: pd.DataFrame) -> None:
    synthetic = model.sample(2000, seed=1)
    for column in ("x", "y"):
        assert ks_distance(real[column].to_numpy(), synthetic[column].to_numpy()) < 0.12, column
    # With the former 100 bins (2 rows per bin) training stopped after ~5 epochs and the
    # synthetic correlation was ~0.0 for a real ~0.88.
    assert real["x"].corr(real["y"]) > 0.85
    assert synthetic["x"].corr(synthetic["y"]) > 0.6
    assert abs((synthetic["band"] == "high").mean() - (real["band"] == "high").mean()) < 0.08
    assert len(model.history_) > 10


def test_same_seed_gives_bit_identical_output_on_a_small_table(model: TabularAR, real: pd.DataFrame) -> None:
    again = TabularAR().fit(real, seed=3, progress_bar=False)
    pd.testing.assert_frame_equal(model.sample(300, seed=5), again.sample(300, seed=5))
    for name, tensor in model.network_.state_dict().items():
        assert torch.equal(tensor, again.network_.state_dict()[name]), name
