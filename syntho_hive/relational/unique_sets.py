"""Declared unique column sets (``TableConfig.unique``) kept in generated rows.

A set whose columns include a generated unique key (the primary key, an ``id`` column) is unique by
construction. For the others, a row that repeats the combination of an earlier row (of this chunk, an
earlier chunk, or the rows the table already holds) keeps its fixed columns (keys, and the columns the
rules derive from them or from its parent row) and takes all its other columns from another generated
row, drawn at random, so the row's rules (inequalities, date parts, dependencies...) still hold; this
for a few rounds, and a row still repeating one after them is dropped. A set with no fixed column is not
redrawn (any donor's combination is in the chunk already): its repeated rows are dropped. Rows with a
null in a set repeat nothing (as in SQL).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

__all__ = ["UniqueSets"]

#: Rounds of redrawing the repeated rows of a chunk before those left are dropped.
REDRAW_ROUNDS = 8


class UniqueSets:
    """The combinations of a table's unique sets seen so far, over its chunks.

    Args:
        sets: The column sets that must hold no repeated combination.
        keys: The fixed columns, never redrawn (keys, generated unique values, the columns the rules derive from
            them); a repeated row takes all the others from another row.
        prior: Rows the table already holds (``None``: none); their combinations count as seen.
    """

    def __init__(self, sets: Sequence[Sequence[str]], keys: Collection[str],
                 prior: pd.DataFrame | None = None) -> None:
        self.sets = [list(columns) for columns in sets]
        self.keys = set(keys)
        self.seen: list[set[tuple]] = [set() for _ in self.sets]
        self.redrawn = 0
        self.dropped = 0
        if prior is not None:
            for index, columns in enumerate(self.sets):
                if all(c in prior.columns for c in columns):
                    self.seen[index].update(self._combinations(prior, columns)[1])

    @staticmethod
    def _combinations(frame: pd.DataFrame, columns: list[str]) -> tuple[np.ndarray, list[tuple]]:
        """Rows of ``frame`` with no null in ``columns``, and their combinations."""
        complete = np.flatnonzero(frame[columns].notna().all(axis=1).to_numpy())
        values = [frame[c].iloc[complete].tolist() for c in columns]
        return complete, list(zip(*values))

    def _first_rows(self, frame: pd.DataFrame, active: list[int]) -> np.ndarray:
        """Rows to keep: each row repeating no combination (of the sets ``active``) of an earlier kept row
        or a seen one."""
        combos: dict[int, dict[int, tuple]] = {}
        for index in active:
            rows, values = self._combinations(frame, self.sets[index])
            combos[index] = dict(zip(rows.tolist(), values))
        seen = {index: set(self.seen[index]) for index in active}
        keep = np.ones(len(frame), dtype=bool)
        for row in range(len(frame)):
            mine = [(index, found[row]) for index, found in combos.items() if row in found]
            if any(combo in seen[index] for index, combo in mine):
                keep[row] = False
                continue
            for index, combo in mine:
                seen[index].add(combo)
        return keep

    def apply(self, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """``frame`` with no repeated combination: repeated rows redrawn, those left dropped.

        Args:
            frame: One generated chunk of the table.
            rng: Source of the donor rows.

        Returns:
            The chunk (a copy when changed), its combinations now counted as seen. Sets with a column the
            chunk lacks are left out.
        """
        active = [index for index, columns in enumerate(self.sets) if set(columns) <= set(frame.columns)]
        if frame.empty or not active:
            return frame
        frame = frame.copy()
        changed = np.zeros(len(frame), dtype=bool)
        donated = [c for c in frame.columns if c not in self.keys]
        # a set with no fixed column cannot be helped: a donor's combination is in the chunk already
        redrawable = [index for index in active if 0 < len(set(self.sets[index]) - self.keys) < len(self.sets[index])]
        for _ in range(REDRAW_ROUNDS if redrawable else 0):
            redrawn = False
            for index in redrawable:
                repeated = np.flatnonzero(~self._first_rows(frame, [index]))
                if not repeated.size:
                    continue
                source = np.arange(len(frame))
                source[repeated] = rng.integers(0, len(frame), size=repeated.size)
                for column in donated:  # the whole row but its fixed columns: its rules hold with the donor's
                    frame[column] = frame[column].take(source).set_axis(frame.index)
                changed[repeated] = redrawn = True
            if not redrawn:
                break
        drop = ~self._first_rows(frame, active)
        if drop.any():
            frame = frame[~drop].reset_index(drop=True)
            changed = changed[~drop]
        self.dropped += int(drop.sum())
        self.redrawn += int(changed.sum())
        for index in active:
            self.seen[index].update(self._combinations(frame, self.sets[index])[1])
        return frame
