"""A :class:`DataTransformer` under differential privacy: fitted to stand-ins, applied row by row.

:func:`fit_dp_transformer` fits the ordinary transformer to the stand-in table of
:mod:`~syntho_hive.core.data.dp_standins` (made from noisy counts only), so its category sets,
ranges and Gaussian mixtures are post-processing of the DP release; no mixture or interval is
fitted on a raw value.

:func:`dp_transform` encodes the real rows for DP-SGD. DP-SGD's guarantee needs each row's
training vector to depend on that row alone (and on released statistics and independent
randomness), so the real rows are first mapped into what the transformer can represent, cell by
cell:

* a category (or missing value) the release dropped becomes a value drawn from the stand-in column
  (a low-cardinality number: the nearest kept number);
* a number or timestamp outside the released range becomes the range's end;
* a missing number or timestamp gets a value drawn from the stand-in column in the value part
  (the transformer would copy one from another real row), and its null indicator is set from the
  real cell when the release kept one (else the row is encoded as not missing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data.dp_standins import standin_frame
from syntho_hive.core.data.encoders.categorical import OneHotEncoder, _factorize
from syntho_hive.core.data.encoders.datetime import DatetimeEncoder
from syntho_hive.core.data.encoders.frequency import FrequencyEncoder
from syntho_hive.core.data.encoders.nulls import NullIndicator
from syntho_hive.core.data.encoders.numerical import CoreEncoder, numeric_values
from syntho_hive.core.data.transformer import DataTransformer
from syntho_hive.core.dp.accounting import DPPlan
from syntho_hive.core.dp.columns import duration_bounds

__all__ = ["DPEncoding", "dp_transform", "fit_dp_transformer"]


@dataclass
class DPEncoding:
    """A transformer fitted to stand-ins, with the stand-ins the real rows are mapped onto.

    Attributes:
        transformer: The fitted transformer (what the model keeps).
        standins: The stand-in table it was fitted to (kept only while training).
    """

    transformer: DataTransformer
    standins: pd.DataFrame


def fit_dp_transformer(frame: pd.DataFrame, sdtypes: Mapping[str, str], plan: DPPlan, rng: np.random.Generator, *,
                       seed: int, max_modes: int, datetime_formats: Mapping[str, str] | None = None,
                       where: str = "the model") -> DPEncoding:
    """Fit a transformer to ``frame``'s stand-ins (noisy counts only; see the module docstring).

    Args:
        frame: The training rows.
        sdtypes: Every column's sdtype.
        plan: The calibrated noise and thresholds (declared bounds in ``plan.config.bounds``).
        rng: Source of the noise.
        seed: Seed of the mixtures.
        max_modes: Most mixture modes per number.
        datetime_formats: String formats of datetime columns.
        where: The model / table, for messages.

    Returns:
        The fitted transformer and its stand-ins.

    Raises:
        PrivacyError: A categorical column none of whose values may be kept.
    """
    standins, formats = standin_frame(frame, sdtypes, plan, rng, datetime_formats=datetime_formats, where=where)
    bounds: dict[str, tuple[Any, Any]] = {}
    for column, pair in plan.config.bounds.items():
        if column not in frame.columns:
            continue
        dtype = frame[column].dtype
        # A duration's (or time of day's) bounds in its native ticks, as the encoder counts it.
        bounds[column] = (duration_bounds(pair, np.datetime_data(frame[column].to_numpy().dtype)[0], 1)
                          if pd.api.types.is_timedelta64_dtype(dtype) else tuple(pair))
    # rare_threshold=1: the stand-ins hold only values released under the budget (noisy counts past the
    # threshold), so there is nothing left to pool, and the real cells are mapped onto them below.
    transformer = DataTransformer(max_modes=max_modes, rare_threshold=1).fit(
        standins, dict(sdtypes), bounds=bounds, seed=seed, datetime_formats=formats)
    return DPEncoding(transformer, standins)


def _draws(standin: pd.Series, count: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` values drawn from the stand-in column's present values (independent of the real rows)."""
    present = standin.dropna().to_numpy(dtype=object)
    return present[rng.integers(0, len(present), count)] if len(present) else np.full(count, None, dtype=object)


def _categorical(encoder: OneHotEncoder | FrequencyEncoder, real: pd.Series, standin: pd.Series, numeric: bool,
                 rng: np.random.Generator) -> pd.Series:
    codes, uniques = _factorize(real)
    known = encoder.codec._find(uniques) >= 0
    unknown = ~known[codes] if len(uniques) else np.zeros(len(real), dtype=bool)
    if not encoder.codec.has_null:
        unknown |= codes < 0
    else:
        unknown &= codes >= 0
    if not unknown.any():
        return real
    values = real.to_numpy(dtype=object).copy()
    kept = encoder.codec.values
    if numeric and len(kept):  # a low-cardinality number: the nearest kept one
        targets = np.asarray(kept, dtype=np.float64)
        cells = pd.to_numeric(pd.Series(values[unknown]), errors="coerce").to_numpy(dtype=np.float64)
        nearest = np.abs(cells[:, None] - targets[None, :]).argmin(axis=1)
        drawn = _draws(standin, int(unknown.sum()), rng)
        values[unknown] = np.where(np.isnan(cells), drawn, kept[nearest])
    else:
        values[unknown] = _draws(standin, int(unknown.sum()), rng)
    return pd.Series(values, dtype=object, name=real.name)


def _ticks(encoder: CoreEncoder, series: pd.Series) -> np.ndarray:
    """Float positions of the cells (NaN: missing) comparable with the stand-in's."""
    if isinstance(encoder, DatetimeEncoder):
        ticks, nulls = encoder._ticks(series)
        out = ticks.astype(np.float64)
        out[nulls] = np.nan
        return out
    return numeric_values(series, str(encoder.column))


def _continuous(encoder: CoreEncoder, real: pd.Series, standin: pd.Series,
                rng: np.random.Generator) -> tuple[pd.Series, np.ndarray]:
    """The real cells inside the released range, missing ones filled with stand-in draws; and the missing mask."""
    cells, reference = _ticks(encoder, real), _ticks(encoder, standin)
    nulls = np.isnan(cells)
    if np.isnan(reference).all():
        return real, nulls
    low, high = np.nanargmin(reference), np.nanargmax(reference)
    below, above = cells < reference[low], cells > reference[high]
    if not (below.any() or above.any() or nulls.any()):
        return real, nulls
    values = real.to_numpy(dtype=object).copy()
    values[below] = standin.iloc[low]
    values[above] = standin.iloc[high]
    values[nulls] = _draws(standin, int(nulls.sum()), rng)
    mapped = pd.Series(values, dtype=object, name=real.name)
    if real.dtype != object:
        mapped = mapped.astype(standin.dtype) if not isinstance(standin.dtype, pd.CategoricalDtype) else mapped
    return mapped, nulls


def dp_transform(encoding: DPEncoding, frame: pd.DataFrame, sdtypes: Mapping[str, str],
                 rng: np.random.Generator) -> np.ndarray:
    """Encode the real rows cell by cell (see the module docstring) into the transformer's matrix.

    Args:
        encoding: The transformer fitted to stand-ins.
        frame: The training rows (the fitted columns).
        sdtypes: Every column's sdtype.
        rng: Source of the draws (and of the transformer's own).

    Returns:
        Float32 matrix of shape ``(len(frame), output_dim_)``.
    """
    transformer = encoding.transformer
    mapped: dict[str, pd.Series] = {}
    indicators: list[tuple[int, np.ndarray]] = []
    start = 0
    for encoder in transformer.encoders_:
        column = encoder.column
        real = frame[column].reset_index(drop=True)
        standin = encoding.standins[column]
        if isinstance(encoder, CoreEncoder):
            mapped[column], nulls = _continuous(encoder, real, standin, rng)
            if encoder.core.indicator is not None:
                indicators.append((start + encoder.dim - 2, nulls))
        elif isinstance(encoder, (OneHotEncoder, FrequencyEncoder)):
            mapped[column] = _categorical(encoder, real, standin, sdtypes.get(str(column)) == "numerical", rng)
        else:  # ids and the like: not modelled
            mapped[column] = real
        start += encoder.dim
    matrix = transformer.transform(pd.DataFrame(mapped, columns=transformer.columns_), rng=rng)
    for offset, nulls in indicators:
        matrix[:, offset:offset + 2] = NullIndicator.encode(nulls)
    return matrix
