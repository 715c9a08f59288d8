"""Gower-like row distances and row hashes shared by the privacy and disclosure metrics.

Rows are encoded by :class:`~syntho_hive.validation._encoding.MixedEncoder` with ``scale="range"``
(numbers and datetimes scaled to [0, 1] by the fitted range) and one-hot entries weighted
``1/sqrt(2)`` so that two different categories are exactly 1 apart; nearest neighbours come from
scikit-learn's ``NearestNeighbors`` (the caller limits its threads with ``threadpool_limits``).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from syntho_hive.core.metadata.schema import SDType
from syntho_hive.core.quality.shapes import as_float
from syntho_hive.validation._common import CONTINUOUS, DISCRETE, category_text
from syntho_hive.validation._encoding import MixedEncoder

__all__ = ["ONEHOT_WEIGHT", "NULL_LABEL", "distance_columns", "gower_encoder", "nearest", "row_keys"]

#: Weight of a hot one-hot entry: two different categories are exactly 1 apart.
ONEHOT_WEIGHT = float(np.sqrt(0.5))
#: Text of a missing value when rows or categories are compared as text.
NULL_LABEL = "\x00null"


def distance_columns(frame: pd.DataFrame, types: Mapping[str, SDType]) -> list:
    """The columns of ``frame`` that distances compare: numerical, datetime, categorical, boolean."""
    return [c for c in frame.columns if types[c] in CONTINUOUS | DISCRETE]


def gower_encoder(types: Mapping[str, SDType], frame: pd.DataFrame) -> MixedEncoder:
    """A :class:`MixedEncoder` for Gower-like distances, fitted on ``frame``.

    Args:
        types: ``{column: sdtype}`` of the columns to encode (id/text columns are dropped).
        frame: Rows whose ranges and categories define the scale.

    Returns:
        The fitted encoder.
    """
    return MixedEncoder(types, scale="range", onehot_weight=ONEHOT_WEIGHT).fit(frame)


def nearest(reference: np.ndarray, query: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Distances and indices of the ``k`` rows of ``reference`` closest to each row of ``query``.

    Args:
        reference: Encoded reference rows (at least ``k``).
        query: Encoded query rows.
        k: Neighbours per query row.

    Returns:
        ``(distances, indices)``, each of shape ``(len(query), k)``, nearest first.
    """
    from sklearn.neighbors import NearestNeighbors

    return NearestNeighbors(n_neighbors=k).fit(reference).kneighbors(query)


def row_keys(frame: pd.DataFrame, types: Mapping[str, SDType], columns: list) -> np.ndarray:
    """A 64-bit hash per row over normalised values (numbers as float64, anything else as text).

    Args:
        frame: The rows.
        types: ``{column: sdtype}``.
        columns: Columns hashed.

    Returns:
        One ``uint64`` per row; equal rows (``1`` and ``1.0`` alike, nulls alike) hash equal.
    """
    normalised = {}
    for column in columns:
        if types[column] in CONTINUOUS:
            normalised[column] = as_float(frame[column])
        else:
            normalised[column] = category_text(frame[column], NULL_LABEL).to_numpy()
    table = pd.DataFrame(normalised, columns=columns)
    return pd.util.hash_pandas_object(table, index=False).to_numpy()
