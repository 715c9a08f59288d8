"""Relational integrity and fidelity across foreign keys.

For every foreign key ``child.col -> parent.pk`` declared in the metadata (a composite key's
columns together, as one key):

* **orphan rate**: share of non-null child key values with no matching parent key (real and
  synthetic; a correct generator scores 0).
* **cardinality similarity**: ``1 - KS`` between the real and synthetic distributions of
  children per parent, counting parents with zero children.
* **parent-child pair trends**: the child table joined to its parent; every (parent column, child
  column) pair is scored like :mod:`syntho_hive.validation.pair_trends` (same definitions and
  relatedness thresholds as SDMetrics' InterTableTrends).
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._random import child_seed, numpy_generator, resolve_seed, sample_rows
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.events import get_logger
from syntho_hive.exceptions import SchemaError
from syntho_hive.validation._common import CONTINUOUS, DISCRETE, resolve_sdtypes
from syntho_hive.validation.column_shapes import ks_complement
from syntho_hive.validation.pair_trends import PairScore, score_pairs

_log = get_logger(__name__)

__all__ = ["ForeignKeyQuality", "RelationalResult", "relational_metrics", "CARDINALITY_PLOT_CAP"]

#: Children-per-parent histograms put every count >= this in the last bucket.
CARDINALITY_PLOT_CAP = 20


@dataclass
class ForeignKeyQuality:
    """Quality figures of one foreign key.

    Attributes:
        child_table: Table holding the foreign key.
        child_column: The foreign-key column.
        parent_table: Referenced table.
        parent_column: Referenced (primary-key) column.
        orphan_rate_real: Share of real child key values without a parent.
        orphan_rate_synthetic: Same in the synthetic data.
        cardinality_similarity: ``1 - KS`` of children-per-parent counts (parents with none included).
        children_per_parent_real: Mean children per real parent.
        children_per_parent_synthetic: Mean children per synthetic parent.
        cardinality_histogram: ``{"counts": [0..CAP], "real": shares, "synthetic": shares}`` with
            the last bucket holding ``>= CAP``.
        pair_trends: Mean score of the contributing parent-child pairs (``None`` when none).
        pairs: Per (``parent_table.column``, child column) scores.
    """

    child_table: str
    child_column: str
    parent_table: str
    parent_column: str
    orphan_rate_real: float
    orphan_rate_synthetic: float
    cardinality_similarity: float
    children_per_parent_real: float
    children_per_parent_synthetic: float
    cardinality_histogram: dict[str, list[float]]
    pair_trends: float | None
    pairs: list[PairScore] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict of the fields."""
        out = asdict(self)
        out["pairs"] = [pair.to_dict() for pair in self.pairs]
        return out


@dataclass
class RelationalResult:
    """Relational figures of a multi-table dataset.

    Attributes:
        foreign_keys: One entry per foreign key.
        max_orphan_rate: Worst synthetic orphan rate.
        cardinality: Mean cardinality similarity.
        parent_child_trends: Mean parent-child pair-trend score (``None`` when no pair contributes).
    """

    foreign_keys: list[ForeignKeyQuality]
    max_orphan_rate: float
    cardinality: float | None
    parent_child_trends: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict."""
        return {"foreign_keys": [fk.to_dict() for fk in self.foreign_keys],
                "max_orphan_rate": self.max_orphan_rate, "cardinality": self.cardinality,
                "parent_child_trends": self.parent_child_trends}


def _keys(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """The key of each row: the column's value, or a tuple of a composite key's values (null when
    any part is null)."""
    if len(columns) == 1:
        return frame[columns[0]].reset_index(drop=True)
    parts = frame[columns].reset_index(drop=True)
    tuples = pd.Series(list(parts.itertuples(index=False, name=None)), dtype=object)
    return tuples.where(parts.notna().all(axis=1).to_numpy(), None)


def _orphan_rate(child_keys: pd.Series, parent_keys: pd.Series) -> float:
    keys = child_keys.dropna()
    if keys.empty:
        return 0.0
    return float((~keys.isin(parent_keys.dropna())).mean())


def _children_per_parent(child_keys: pd.Series, parent_keys: pd.Series) -> pd.Series:
    counts = child_keys.dropna().value_counts()
    return counts.reindex(parent_keys.dropna().unique(), fill_value=0).astype(np.int64)


def _histogram(counts: pd.Series) -> list[float]:
    capped = np.minimum(counts.to_numpy(), CARDINALITY_PLOT_CAP)
    shares = np.bincount(capped, minlength=CARDINALITY_PLOT_CAP + 1) / max(len(capped), 1)
    return [float(x) for x in shares]


def _table(frames: Mapping[str, pd.DataFrame], name: str, which: str) -> pd.DataFrame:
    if name not in frames:
        raise SchemaError(f"Relational metrics need table {name!r} in the {which} data "
                          f"(it is named in a foreign key); got tables {sorted(frames)}.")
    return frames[name]


def relational_metrics(real: Mapping[str, pd.DataFrame], synthetic: Mapping[str, pd.DataFrame],
                       metadata: Metadata, *, max_rows: int | None = 100_000, max_columns: int = 10,
                       seed: int | None = 0, real_correlation_threshold: float = 0.5,
                       real_association_threshold: float = 0.3) -> RelationalResult | None:
    """Orphans, children-per-parent similarity and parent-child pair trends for every foreign key.

    Args:
        real: ``{table: DataFrame}`` of real data.
        synthetic: ``{table: DataFrame}`` of synthetic data.
        metadata: Schema with foreign keys ``{"child_col": "parent_table.parent_col"}``.
        max_rows: Joined rows used for pair trends at most (seeded sample).
        max_columns: Scorable columns per side used for parent-child pairs at most (first ones).
        seed: Seed for the row sampling.
        real_correlation_threshold: As in :func:`column_pair_trends`.
        real_association_threshold: As in :func:`column_pair_trends`.

    Returns:
        A :class:`RelationalResult`, or ``None`` when no foreign key has both its tables in the data (a
        foreign key with one table missing from both ``real`` and ``synthetic`` is skipped and logged).

    Raises:
        SchemaError: If a foreign key is malformed, or names a table given on one side only or a column
            missing from the data.
    """
    from syntho_hive.relational.graph import SchemaGraph

    base = resolve_seed(seed)
    results: list[ForeignKeyQuality] = []
    # One entry per relationship: a composite FK is one key (its columns joined with "+"), and
    # table names may hold dots (Hive's "db.table"); both as the synthesizer reads the schema.
    given = set(real) | set(synthetic)
    for rel in SchemaGraph.from_metadata(metadata).relationships:
        child_name, parent_name = rel.child, rel.parent
        if not {child_name, parent_name} & given:
            continue  # neither table evaluated (a report on part of the schema)
        if not {child_name, parent_name} <= given:
            _log.info("relational_metrics_foreign_key_skipped", foreign_key=f"{rel.child} -> {rel.parent}",
                      reason="one of its tables is not evaluated")
            continue
        fk_columns, key_columns = list(rel.child_columns), list(rel.parent_columns)
        fk_label, key_label = "+".join(fk_columns), "+".join(key_columns)
        reference = f"{rel.child}.{fk_label} -> {parent_name}.{key_label}"
        frames = {}
        for which, data in (("real", real), ("synthetic", synthetic)):
            child, parent = _table(data, child_name, which), _table(data, parent_name, which)
            for frame, columns, name in ((child, fk_columns, child_name), (parent, key_columns, parent_name)):
                for column in columns:
                    if column not in frame.columns:
                        raise SchemaError(f"Column {column!r} of table {name!r} ({which} data) is named in "
                                          f"foreign key {reference} but missing.")
            frames[which] = (child, parent)
        (real_child, real_parent), (synth_child, synth_parent) = frames["real"], frames["synthetic"]
        real_fk, real_pk = _keys(real_child, fk_columns), _keys(real_parent, key_columns)
        synth_fk, synth_pk = _keys(synth_child, fk_columns), _keys(synth_parent, key_columns)
        real_counts = _children_per_parent(real_fk, real_pk)
        synth_counts = _children_per_parent(synth_fk, synth_pk)
        table = metadata.tables[child_name]
        parent_types = resolve_sdtypes(real_parent, table=metadata.tables.get(parent_name))
        child_types = resolve_sdtypes(real_child, table=table)
        parent_cols = [c for c in real_parent.columns if parent_types[c] in CONTINUOUS | DISCRETE
                       and c not in key_columns][:max_columns]
        child_cols = [c for c in real_child.columns if child_types[c] in CONTINUOUS | DISCRETE
                      and c not in fk_columns][:max_columns]
        pairs_scored: list[PairScore] = []
        if parent_cols and child_cols:
            # Internal names in the join (a child column may itself be called "<parent>.<column>", as
            # flattened Spark joins name them); the scores carry the display names.
            inner_parent = {c: f"__parent{i}" for i, c in enumerate(parent_cols)}
            inner_child = {c: f"__child{i}" for i, c in enumerate(child_cols)}
            display = {**{v: f"{parent_name}.{c}" for c, v in inner_parent.items()},
                       **{v: str(c) for c, v in inner_child.items()}}
            joined = {}
            for which, (child, parent) in frames.items():
                right = parent[[*key_columns, *parent_cols]].set_axis(
                    [*(f"__key{i}" for i in range(len(key_columns))), *inner_parent.values()], axis=1)
                left = child[[*fk_columns, *child_cols]].set_axis(
                    [*(f"__key{i}" for i in range(len(fk_columns))), *inner_child.values()], axis=1)
                merged = left.merge(right, on=[f"__key{i}" for i in range(len(key_columns))], how="inner")
                joined[which] = sample_rows(merged, max_rows,
                                            numpy_generator(child_seed(base, "relational", child_name,
                                                                       fk_label, which)))
            types = {**{inner_parent[c]: parent_types[c] for c in parent_cols},
                     **{inner_child[c]: child_types[c] for c in child_cols}}
            if len(joined["real"]) and len(joined["synthetic"]):
                pairs = [(inner_parent[p], inner_child[c]) for p, c in itertools.product(parent_cols, child_cols)]
                pairs_scored, _ = score_pairs(joined["real"], joined["synthetic"], types, pairs,
                                              real_correlation_threshold=real_correlation_threshold,
                                              real_association_threshold=real_association_threshold)
                pairs_scored = [dataclasses.replace(p, column_1=display[p.column_1], column_2=display[p.column_2])
                                for p in pairs_scored]
        contributing = [p.score for p in pairs_scored if p.contributes]
        results.append(ForeignKeyQuality(
            child_table=child_name, child_column=fk_label, parent_table=parent_name, parent_column=key_label,
            orphan_rate_real=_orphan_rate(real_fk, real_pk),
            orphan_rate_synthetic=_orphan_rate(synth_fk, synth_pk),
            cardinality_similarity=ks_complement(real_counts, synth_counts),
            children_per_parent_real=float(real_counts.mean()) if len(real_counts) else 0.0,
            children_per_parent_synthetic=float(synth_counts.mean()) if len(synth_counts) else 0.0,
            cardinality_histogram={"counts": list(range(CARDINALITY_PLOT_CAP + 1)),
                                   "real": _histogram(real_counts), "synthetic": _histogram(synth_counts)},
            pair_trends=float(np.mean(contributing)) if contributing else None,
            pairs=pairs_scored,
        ))
    if not results:
        return None
    trends = [fk.pair_trends for fk in results if fk.pair_trends is not None]
    return RelationalResult(
        foreign_keys=results, max_orphan_rate=max(fk.orphan_rate_synthetic for fk in results),
        cardinality=float(np.mean([fk.cardinality_similarity for fk in results])),
        parent_child_trends=float(np.mean(trends)) if trends else None,
    )
