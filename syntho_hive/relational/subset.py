"""Key-closed subsets of a schema: train on part of a big database with zero orphans.

A :class:`Subset` picks rows of one root table (a number of rows or a fraction, seeded); the
subset then keeps every descendant row that belongs to a kept row and every parent row that a
kept row references, across several parents and self-references, so that every foreign key of
the training set points at a kept row.

SPEC (to be implemented): see the module's functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Subset", "SubsetReport"]


@dataclass(frozen=True)
class Subset:
    """Which rows of a schema to train on.

    Attributes:
        root: A table without parents (no foreign key to another table) whose rows are sampled.
        rows: How many root rows to keep (at most the table's size); exclusive with ``fraction``.
        fraction: Share of root rows to keep, in ``(0, 1]``; exclusive with ``rows``.
        seed: Seed of the root rows' draw: the same seed, data and ``rows`` keep the same rows.

    Example:
        >>> Subset(root="customers", rows=50_000, seed=0)
        >>> Subset(root="customers", fraction=0.1)
    """

    root: str
    rows: int | None = None
    fraction: float | None = None
    seed: int = 0


@dataclass
class SubsetReport:
    """What a subset kept.

    Attributes:
        root: The root table.
        kept: Rows kept per table, in generation order.
        total: Rows each table had in the source (``None`` where it was not counted).
    """

    root: str
    kept: dict[str, int] = field(default_factory=dict)
    total: dict[str, int | None] = field(default_factory=dict)
