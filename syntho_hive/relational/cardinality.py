"""Children-per-parent model that depends on the parent's attributes.

For every parent row the model knows the number of child rows referencing it (zero
included). Parents are grouped by a few of their attributes, encoded into coarse levels
(quantile bins for numbers and dates, the most frequent categories otherwise); the model
keeps the *empirical* count distribution of each group and draws from it. Small groups
back off to a coarser grouping (the most informative attribute alone), then to the global
distribution, so unseen or rare attribute combinations still get a sensible count.

The attributes are chosen by how much of the count variance they explain (eta squared),
so a premium tier with more orders is found and kept without being named. Draws are stratified
(one per equal-probability slice of each group's distribution), so the total number of children
stays close to what the parents imply even when parents are few. Everything is
plain data: :meth:`CardinalityModel.to_dict` is JSON-serialisable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.time_of_day import durations_of, is_time_of_day
from syntho_hive.exceptions import SerializationError

__all__ = ["CardinalityModel", "children_per_parent", "count_ks", "pool_top_counts", "rescale_counts"]

_NAN = "__nan__"
_OTHER = "__other__"


def children_per_parent(child_keys: pd.DataFrame | pd.Series, parent_keys: pd.DataFrame | pd.Series) -> np.ndarray:
    """Number of child rows referencing each parent row (zeros included), in parent order.

    Args:
        child_keys: The child's FK column(s); null keys are ignored.
        parent_keys: The parent's key column(s), aligned column-by-column with ``child_keys``.

    Returns:
        ``int64`` array with one count per parent row.
    """
    from syntho_hive.relational.keys import comparable_frames

    child = child_keys.to_frame() if isinstance(child_keys, pd.Series) else child_keys
    parent = parent_keys.to_frame() if isinstance(parent_keys, pd.Series) else parent_keys
    child = child.dropna()
    child = child.set_axis([f"k{i}" for i in range(child.shape[1])], axis=1)
    parent = parent.set_axis([f"k{i}" for i in range(parent.shape[1])], axis=1)
    # Keys of two dtypes (int64 and Int64, int and float) meet exactly, never as float64.
    child, parent = comparable_frames(child, parent)
    if child.shape[1] == 1:
        counts = child["k0"].value_counts()
        return parent["k0"].map(counts).fillna(0).to_numpy(dtype=np.int64)
    counts = child.groupby(list(child.columns), sort=False).size().rename("n").reset_index()
    merged = parent.merge(counts, how="left", on=list(parent.columns))
    return merged["n"].fillna(0).to_numpy(dtype=np.int64)


#: Parents per pooled count below which counts are kept as they are (:func:`pool_top_counts`).
POOL_MIN_PARENTS_PER_COUNT = 20


def pool_top_counts(counts: np.ndarray, k: int) -> np.ndarray:
    """``counts`` with the ``k`` largest replaced by their mean (rounded; the remainder goes to the
    largest), so the busiest parents' exact counts, which one parent may hold (a customer's 125 orders),
    are neither stored nor drawn, while the total number of children is kept. Unchanged when the ``k``
    largest are equal (the top count is held by ``k`` parents), when ``k <= 1``, and for fewer than
    :data:`POOL_MIN_PARENTS_PER_COUNT` ``* k`` parents: there the ``k`` largest are a large share of a
    lookup table (16 airlines, 12 regions), whose counts pooling would flatten (1 - KS of the flights
    per airline fell from 1.00 to 0.81), and whose rows are seldom people.

    Args:
        counts: Children per parent.
        k: How many of the largest counts are pooled (the ``rare_threshold``).

    Returns:
        The counts (a copy when pooled).
    """
    counts = np.asarray(counts, dtype=np.int64)
    if k <= 1 or counts.size < POOL_MIN_PARENTS_PER_COUNT * k:
        return counts
    top = np.argsort(counts, kind="stable")[-k:]
    if counts[top].min() == counts[top].max():
        return counts
    share, extra = divmod(int(counts[top].sum()), top.size)
    pooled = counts.copy()
    pooled[top] = share
    if extra:
        pooled[top[-extra:]] += 1
    return pooled


def count_ks(real: np.ndarray, synthetic: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov distance between two count distributions.

    Args:
        real: Children-per-parent counts of the real data.
        synthetic: The same for synthetic data.

    Returns:
        ``max |F_real - F_synthetic|`` in ``[0, 1]`` (0 when identical); 1.0 when one side is empty
        and the other is not.
    """
    real, synthetic = np.asarray(real), np.asarray(synthetic)
    if real.size == 0 or synthetic.size == 0:
        return 0.0 if real.size == synthetic.size else 1.0
    grid = np.union1d(real, synthetic)
    f_real = np.searchsorted(np.sort(real), grid, side="right") / real.size
    f_syn = np.searchsorted(np.sort(synthetic), grid, side="right") / synthetic.size
    return float(np.max(np.abs(f_real - f_syn)))


def rescale_counts(counts: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Scale non-negative integer ``counts`` so they sum to exactly ``total``.

    Proportional scaling with largest-remainder rounding (ties broken at random); when every
    count is zero, ``total`` is spread uniformly at random.

    Args:
        counts: Counts per parent.
        total: Required sum (non-negative).
        rng: Generator for tie-breaking.

    Returns:
        ``int64`` counts summing to ``total``.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.size == 0 or total <= 0:
        return np.zeros(counts.size, dtype=np.int64)
    weights = counts if counts.sum() > 0 else np.ones_like(counts)
    exact = weights / weights.sum() * total
    base = np.floor(exact).astype(np.int64)
    left = int(total - base.sum())
    if left:
        remainder = exact - base + rng.random(counts.size) * 1e-9
        base[np.argsort(-remainder, kind="stable")[:left]] += 1
    return base


class _Feature:
    """One parent attribute coarsened to a few string levels."""

    def __init__(self, column: str, kind: str, edges: list[float] | None = None,
                 levels: list[str] | None = None) -> None:
        self.column = column
        self.kind = kind  # "binned" or "levels"
        self.edges = list(edges or [])
        self.levels = list(levels or [])

    @classmethod
    def learn(cls, column: str, series: pd.Series, sdtype: str, max_bins: int, max_levels: int,
              min_count: int = 1) -> "_Feature":
        if sdtype in ("numerical", "datetime"):
            values = _as_float(series)
            finite = values[np.isfinite(values)]
            if finite.size:
                qs = np.quantile(finite, np.linspace(0, 1, max_bins + 1)[1:-1])
                edges = np.unique(qs).tolist()
            else:
                edges = []
            return cls(column, "binned", edges=edges)
        text = series.dropna().astype(str)
        top = text.value_counts()
        top = top[top >= min_count]  # rarer categories pool into _OTHER (never stored by label)
        levels = sorted(top.index[: max_levels].tolist()) if len(top) <= max_levels else sorted(
            top.index[: max_levels - 1].tolist())
        return cls(column, "levels", levels=levels)

    def encode(self, series: pd.Series) -> np.ndarray:
        """Object array of level labels, one per row."""
        if self.kind == "binned":
            values = _as_float(series)
            codes = np.searchsorted(np.asarray(self.edges, dtype=np.float64), values, side="right")
            labels = np.char.add("b", codes.astype(str)).astype(object)
            labels[~np.isfinite(values)] = _NAN
            return labels
        isna = series.isna().to_numpy()
        text = series.astype(str).to_numpy(dtype=object)
        known = pd.Index(self.levels)
        labels = np.where(known.get_indexer(text) >= 0, text, _OTHER).astype(object)
        labels[isna] = _NAN
        return labels

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "kind": self.kind, "edges": self.edges, "levels": self.levels}


def _as_float(series: pd.Series) -> np.ndarray:
    if is_time_of_day(series):  # seconds since midnight
        return durations_of(series).dt.total_seconds().to_numpy()
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        stamps = pd.to_datetime(series)
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        values = stamps.astype("datetime64[ns]").to_numpy().astype(np.int64).astype(np.float64)
        values[stamps.isna().to_numpy()] = np.nan
        return values
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.astype("float64").to_numpy()
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.notna().sum() == 0 and series.notna().any():
        parsed = pd.to_datetime(series, errors="coerce", format="mixed")
        return _as_float(parsed)
    return numeric.astype("float64").to_numpy()


def _eta_squared(labels: np.ndarray, counts: np.ndarray, min_group: int) -> float:
    """Share of the count variance explained by the grouping (groups below ``min_group`` pooled)."""
    total = counts.var()
    if total <= 0 or counts.size < 2:
        return 0.0
    frame = pd.DataFrame({"g": labels, "c": counts})
    stats = frame.groupby("g", sort=True)["c"].agg(["mean", "size"])
    small = stats["size"] < min_group
    if small.all():
        return 0.0
    means = frame["g"].map(stats["mean"].where(~small, counts.mean())).to_numpy(dtype=np.float64)
    return float(np.mean((means - counts.mean()) ** 2) / total)


class CardinalityModel:
    """Empirical children-per-parent distribution, per group of parent attributes, with back-off.

    Args:
        max_features: Most parent attributes combined into the finest grouping.
        max_bins: Quantile bins for numerical and datetime attributes.
        max_levels: Most distinct categories kept per categorical attribute (others pooled).
        min_group: Fewest parents a group needs to keep its own distribution (lowered to a
            quarter of the parents, at least 3, for small parent tables).
        min_eta: Least variance share an attribute must explain to be used.
        min_count: Categories seen fewer times are pooled with the other categories (and not
            stored); values never seen in training, such as newly generated ones, fall there too.
            The ``min_count`` largest counts are pooled into their mean (:func:`pool_top_counts`).

    Example:
        >>> model = CardinalityModel().fit(customers, counts, sdtypes={"tier": "categorical"})
        >>> model.sample(synthetic_customers, np.random.default_rng(0))
    """

    def __init__(self, *, max_features: int = 2, max_bins: int = 5, max_levels: int = 20,
                 min_group: int = 20, min_eta: float = 0.01, min_count: int = 1) -> None:
        self.max_features = max_features
        self.max_bins = max_bins
        self.max_levels = max_levels
        self.min_group = min_group
        self.min_eta = min_eta
        self.min_count = min_count
        self.features_: list[_Feature] = []
        self.levels_: list[dict[str, tuple[list[int], list[float]]]] = []
        self.fitted_ = False

    @classmethod
    def unconditional(cls, values: list[int], probs: list[float]) -> "CardinalityModel":
        """A fitted model of one count distribution for every parent (no parent attribute is read), e.g.
        one released from noisy counts (:mod:`syntho_hive.relational.dp_cardinality`).

        Args:
            values: Distinct non-negative children counts.
            probs: Their probabilities (positive, summing to 1).

        Returns:
            The model.
        """
        model = cls()
        model.levels_ = [{"*": ([int(v) for v in values], [float(p) for p in probs])}]
        model.fitted_ = True
        return model

    @property
    def feature_columns(self) -> list[str]:
        """Parent columns the model reads (keep them in the parent frame passed to ``sample``)."""
        return [f.column for f in self.features_]

    def fit(self, parents: pd.DataFrame, counts: np.ndarray, *,
            sdtypes: Mapping[str, str] | None = None) -> "CardinalityModel":
        """Learn the count distribution of each group of parents.

        Args:
            parents: Candidate parent attributes, one row per parent (keys excluded).
            counts: Children per parent, aligned with ``parents``.
            sdtypes: Semantic type per column (numerical/datetime are binned, others levelled);
                columns of sdtype ``id``/``text`` are ignored.

        Returns:
            ``self``.
        """
        counts = pool_top_counts(counts, self.min_count)
        sdtypes = dict(sdtypes or {})
        # Small parent tables (a handful of airlines) still get per-group distributions.
        min_group = int(min(self.min_group, max(3, counts.size // 4)))
        scored: list[tuple[float, int, _Feature, np.ndarray]] = []
        for position, column in enumerate(parents.columns):
            sdtype = sdtypes.get(column, "categorical")
            if sdtype in ("id", "text") or pd.api.types.infer_dtype(parents[column], skipna=True) == "bytes":
                continue  # bytes are generated at random: no level to learn
            feature = _Feature.learn(str(column), parents[column], sdtype, self.max_bins, self.max_levels,
                                     self.min_count)
            labels = feature.encode(parents[column])
            eta = _eta_squared(labels, counts, min_group)
            if eta >= self.min_eta:
                scored.append((eta, position, feature, labels))
        scored.sort(key=lambda item: (-item[0], item[1]))
        chosen = scored[: self.max_features]
        self.features_ = [item[2] for item in chosen]
        encoded = [item[3] for item in chosen]
        self.levels_ = []
        for depth in range(len(encoded), -1, -1):
            keys = _join(encoded[:depth], counts.size)
            self.levels_.append(self._distributions(keys, counts, require=min_group if depth else 1))
        self.fitted_ = True
        return self

    @staticmethod
    def _distributions(keys: np.ndarray, counts: np.ndarray,
                       require: int) -> dict[str, tuple[list[int], list[float]]]:
        frame = pd.DataFrame({"key": keys, "count": counts})
        table = frame.groupby(["key", "count"], sort=True).size()
        out: dict[str, tuple[list[int], list[float]]] = {}
        for key, sub in table.groupby(level=0, sort=True):
            total = int(sub.sum())
            if total < require:
                continue
            values = sub.index.get_level_values(1).astype(np.int64).tolist()
            out[str(key)] = (values, (sub.to_numpy() / total).tolist())
        return out

    def sample(self, parents: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
        """Draw a children count for each parent row.

        Args:
            parents: Parent rows holding at least :attr:`feature_columns`.
            rng: Local generator.

        Returns:
            ``int64`` counts, one per row.

        Raises:
            SerializationError: When called before ``fit`` / ``from_dict``.
        """
        if not self.fitted_:
            raise SerializationError("CardinalityModel is not fitted; call fit() or from_dict() first.")
        n = len(parents)
        encoded = [f.encode(parents[f.column].reset_index(drop=True)) for f in self.features_]
        depth_of_level = list(range(len(encoded), -1, -1))
        group = np.full(n, -1, dtype=np.int64)
        names: list[tuple[int, str]] = []
        for level, depth in enumerate(depth_of_level):
            todo = group < 0
            if not todo.any():
                break
            keys = _join([e[todo] for e in encoded[:depth]], int(todo.sum()))
            known = sorted(self.levels_[level])
            index = pd.Index(known).get_indexer(keys)
            hit = index >= 0
            offset = len(names)
            names.extend((level, k) for k in known)
            rows = np.flatnonzero(todo)
            group[rows[hit]] = offset + index[hit]
        out = np.zeros(n, dtype=np.int64)
        for gid in np.unique(group[group >= 0]):
            level, key = names[gid]
            values, probs = self.levels_[level][key]
            rows = np.flatnonzero(group == gid)
            out[rows] = _stratified_draw(np.asarray(values, dtype=np.int64), np.asarray(probs), rows.size, rng)
        return out

    # ------------------------------------------------------------------ persistence
    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state."""
        return {
            "format": "syntho_hive.cardinality/1",
            "params": {"max_features": self.max_features, "max_bins": self.max_bins,
                       "max_levels": self.max_levels, "min_group": self.min_group, "min_eta": self.min_eta},
            "features": [f.to_dict() for f in self.features_],
            "levels": [{k: {"values": v[0], "probs": v[1]} for k, v in level.items()} for level in self.levels_],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "cardinality model") -> "CardinalityModel":
        """Rebuild a model from :meth:`to_dict` output.

        Raises:
            SerializationError: When ``data`` does not have the expected shape (names ``source``).
        """
        try:
            if data.get("format") != "syntho_hive.cardinality/1":
                raise KeyError("format")
            model = cls(**data["params"])
            model.features_ = [_Feature(f["column"], f["kind"], f["edges"], f["levels"]) for f in data["features"]]
            model.levels_ = [{k: (list(map(int, v["values"])), list(map(float, v["probs"])))
                              for k, v in level.items()} for level in data["levels"]]
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise SerializationError(f"{source} is corrupt ({type(exc).__name__}: {exc}); save the "
                                     "synthesizer again.") from exc
        if len(model.levels_) != len(model.features_) + 1:
            raise SerializationError(f"{source} is corrupt: {len(model.levels_)} back-off levels for "
                                     f"{len(model.features_)} features.")
        model.fitted_ = True
        return model


def _stratified_draw(values: np.ndarray, probs: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` draws from a discrete distribution, one per equal-probability stratum, shuffled.

    Each draw's uniform comes from its own slice ``[i/size, (i+1)/size)``, so the draws cover the
    distribution evenly: drawing as many counts as there were real parents reproduces the real
    counts (and their total) instead of an i.i.d. sample whose total can swing widely when the
    parents are few (16 airlines, 12 regions).
    """
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0
    uniforms = (np.arange(size) + rng.random(size)) / size
    picks = values[np.minimum(np.searchsorted(cdf, uniforms, side="right"), values.size - 1)]
    return picks[rng.permutation(size)]


def _join(columns: list[np.ndarray], n: int) -> np.ndarray:
    """Row-wise ``"|"``-joined labels (``"*"`` for the global level)."""
    if not columns:
        return np.full(n, "*", dtype=object)
    out = columns[0].astype(str).astype(object)
    for column in columns[1:]:
        out = out + "|" + column.astype(str).astype(object)
    return out
