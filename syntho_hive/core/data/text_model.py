"""Free-text columns (names, emails, addresses): generated word by word, never copied.

A text column has (nearly) a distinct value per row, so as a category every value would be
rare: a model could only replay training values (a privacy leak) or emit a placeholder.
Instead the column is not modelled; each generated value is a sequence of words drawn from
aggregate statistics:

* the number of words per value, as in training;
* each word by its slot (the only word, first, middle or last): a word seen at least
  ``rare_threshold`` times in that slot is reused by frequency (``"Inc."`` at the end of
  company names, ``"Airport"``), and in place of the rarer words a new one is invented with
  their length and casing (title, upper, lower or mixed case) distributions and characters
  drawn from their overall character frequencies.

The fitted :class:`TextModel` keeps only the frequent words and those aggregates, never a
rare word or a whole value, so a training value comes back only if it is made of frequent
words alone (such as a common first name and surname). Generated values do not depend on
the other columns. Whitespace runs become single spaces. The null rate and the column's dtype
are kept (a ``category`` column comes back as a categorical of the generated values: its
training categories are real values and are not stored).

Statistics flow :func:`analyze_text` (one partition) -> :meth:`TextStats.merge` (partitions,
associative and commutative) -> :meth:`TextModel.build`; :meth:`TextModel.fit` does both for
one in-memory column. Used by the DataTransformer (CTGAN, TVAE) and, through a thin codec
adapter, by TabularAR.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import (
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
    null_marker,
    restore_objects,
)
from syntho_hive.exceptions import GenerationError, SchemaError, SerializationError

__all__ = ["DEFAULT_RARE_THRESHOLD", "SLOTS", "TextModel", "TextStats", "analyze_text"]

#: Words seen fewer times than this in their slot are never reproduced (same default as TabularAR).
DEFAULT_RARE_THRESHOLD = 5
#: Word positions, each with its own word statistics.
SLOTS = ("only", "first", "middle", "last")
_STATE_KEYS = ("lengths", "nulls", "rows", "dtype", "marker", "slots", "chars", "upper_share")


def _slot(position: int, count: int) -> str:
    if count == 1:
        return "only"
    if position == 0:
        return "first"
    return "last" if position == count - 1 else "middle"


def _case(word: str) -> str:
    if not any(c.isalpha() for c in word) or word.islower():
        return "lower"
    if word.isupper():
        return "upper" if sum(c.isalpha() for c in word) > 1 else "title"
    if word[:1].isupper() and word[1:] == word[1:].lower():
        return "title"
    return "mixed"


@dataclass
class TextStats:
    """Per-partition word counts of a text column (hold every word: not for checkpoints).

    Attributes:
        words: ``{"<slot>|<word>": count}``.
        lengths: ``{str(words per value): count}`` of the non-null values.
        nulls: Number of missing values.
        dtype: JSON dtype; marker: JSON null marker of an ``object`` column.
    """

    words: dict[str, int] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    nulls: int = 0
    dtype: dict[str, Any] = field(default_factory=lambda: {"name": "object"})
    marker: str | None = None
    kind: str = "text"

    def merge(self, other: "TextStats") -> "TextStats":
        """Statistics of both partitions together.

        Args:
            other: The statistics of another partition of the same column.

        Returns:
            New merged statistics.
        """
        words, lengths = Counter(self.words), Counter(self.lengths)
        words.update(other.words)
        lengths.update(other.lengths)
        return TextStats(words=dict(sorted(words.items())), lengths=dict(sorted(lengths.items())),
                         nulls=self.nulls + other.nulls, dtype=self.dtype, marker=self.marker or other.marker)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (``TextStats(**data)`` restores it)."""
        return {"kind": self.kind, "words": self.words, "lengths": self.lengths, "nulls": self.nulls,
                "dtype": self.dtype, "marker": self.marker}


def analyze_text(series: pd.Series) -> TextStats:
    """Count the words (per slot) and words per value of one partition of a text column.

    Args:
        series: The partition's values (any dtype; non-null values are read as strings).

    Returns:
        The partition's :class:`TextStats`.

    Raises:
        SerializationError: The column's dtype cannot be stored (it would not read back).
    """
    words: Counter[str] = Counter()
    lengths: Counter[str] = Counter()
    for value in series.dropna().astype(str):
        parts = value.split()
        lengths[str(len(parts))] += 1
        words.update(f"{_slot(i, len(parts))}|{word}" for i, word in enumerate(parts))
    dtype = dtype_to_json(series.dtype, f"text column {series.name!r}", categories=False)
    return TextStats(words=dict(sorted(words.items())), lengths=dict(sorted(lengths.items())),
                     nulls=int(series.isna().sum()), dtype=dtype,
                     marker=marker_to_json(null_marker(series)))


def _canonical(state: dict[str, Any]) -> dict[str, Any]:
    """``state`` with every count table in one fixed order.

    Draws walk these tables in order, so the order must not depend on how the state was
    stored (a JSON writer with ``sort_keys`` reorders ``{"10": .., "2": ..}``): numeric keys
    by value, frequent words by decreasing count then word, other keys alphabetically.
    """
    def by_number(table: dict[str, Any]) -> dict[str, Any]:
        return {k: table[k] for k in sorted(table, key=int)}

    def by_key(table: dict[str, Any]) -> dict[str, Any]:
        return {k: table[k] for k in sorted(table)}

    out = dict(state)
    out["lengths"] = by_number(state["lengths"])
    out["chars"] = by_key(state["chars"])
    out["slots"] = {
        slot: {**entry,
               "frequent": dict(sorted(entry["frequent"].items(), key=lambda kv: (-kv[1], kv[0]))),
               "rare_lengths": by_number(entry["rare_lengths"]),
               "rare_cases": by_key(entry["rare_cases"])}
        for slot, entry in sorted(state["slots"].items())}
    return out


class TextModel:
    """Generates text from word statistics (see the module docstring).

    Build it with :meth:`fit` or :meth:`build`; the state is plain JSON (:meth:`to_dict`).

    Args:
        state: ``lengths`` ({words per value: count}), ``nulls``, ``rows``, ``dtype``, ``marker``,
            and per slot under ``slots``: ``frequent`` ({word: count}), ``rare`` (occurrences of
            rarer words), ``rare_lengths`` and ``rare_cases`` ({length or case: count}); ``chars``
            ({character: count}) and ``upper_share`` (of letters in mixed-case words) over the
            rarer words.

    Raises:
        SerializationError: ``state`` lacks a field.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise SerializationError(f"Text model state lacks {missing}; the checkpoint is corrupt or was "
                                     "written by an incompatible version: fit the model again.")
        try:
            self.state = _canonical(state)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(f"Text model state is malformed ({type(exc).__name__}: {exc}); the "
                                     "checkpoint is corrupt or was written by an incompatible version: fit "
                                     "the model again.") from exc
        self.dtype = dtype_from_json(state["dtype"], "the text model's dtype", categories=False)
        self.marker = marker_from_json(state["marker"])

    @classmethod
    def build(cls, stats: TextStats, rare_threshold: int = DEFAULT_RARE_THRESHOLD) -> "TextModel":
        """The model for reduced statistics: frequent words kept, rarer ones only aggregated.

        Args:
            stats: Statistics of the whole column (partitions merged).
            rare_threshold: Words seen fewer times than this in their slot are not kept.

        Returns:
            The fitted model.

        Raises:
            SchemaError: ``rare_threshold`` is below 1.
        """
        if isinstance(rare_threshold, bool) or not isinstance(rare_threshold, (int, np.integer)) \
                or rare_threshold < 1:
            raise SchemaError(f"rare_threshold must be an integer >= 1, got {rare_threshold!r}.")
        slots: dict[str, dict[str, Any]] = {s: {"frequent": {}, "rare": 0, "rare_lengths": Counter(),
                                                "rare_cases": Counter()} for s in SLOTS}
        chars: Counter[str] = Counter()
        letters = upper = 0
        for key, count in sorted(stats.words.items(), key=lambda kv: (-kv[1], kv[0])):
            slot, word = key.split("|", 1)
            entry = slots[slot]
            if count >= rare_threshold:
                entry["frequent"][word] = count
                continue
            entry["rare"] += count
            entry["rare_lengths"][str(len(word))] += count
            case = _case(word)
            entry["rare_cases"][case] += count
            for char in word:
                chars[char.lower()] += count
            if case == "mixed":
                letters += count * sum(c.isalpha() for c in word)
                upper += count * sum(c.isupper() for c in word)
        state = {
            "lengths": dict(stats.lengths), "nulls": stats.nulls, "rows": sum(stats.lengths.values()),
            "dtype": dtype_to_json(dtype_from_json(stats.dtype, "text statistics", categories=False),
                                   "text statistics", categories=False), "marker": stats.marker,
            "slots": {s: {"frequent": e["frequent"], "rare": e["rare"], "rare_lengths": dict(e["rare_lengths"]),
                          "rare_cases": dict(e["rare_cases"])} for s, e in slots.items()},
            "chars": dict(sorted(chars.items())), "upper_share": upper / letters if letters else 0.0,
        }
        return cls(state)

    @classmethod
    def fit(cls, series: pd.Series, *, rare_threshold: int = DEFAULT_RARE_THRESHOLD) -> "TextModel":
        """Fit on one in-memory column (:func:`analyze_text` then :meth:`build`).

        Args:
            series: The training column.
            rare_threshold: See :meth:`build`.

        Returns:
            The fitted model.

        Raises:
            SchemaError: ``rare_threshold`` is below 1.
        """
        return cls.build(analyze_text(series), rare_threshold)

    @property
    def null_rate(self) -> float:
        """Share of missing values in training."""
        total = self.state["rows"] + self.state["nulls"]
        return self.state["nulls"] / total if total else 0.0

    def draw(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` generated values as plain strings, and which of them are missing.

        Args:
            n: Number of values (``>= 0``).
            rng: Source of every draw (same generator state -> same values).

        Returns:
            ``(values, nulls)``: an object array of strings (ignore entries at ``nulls``) and
            a boolean mask drawn with the training null rate.

        Raises:
            GenerationError: ``n`` is negative or not an integer.
        """
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise GenerationError(f"Text model: the number of values must be an integer >= 0, got {n!r}.")
        n = int(n)
        state = self.state
        nulls = rng.random(n) < self.null_rate
        values = np.full(n, "", dtype=object)
        if state["rows"]:
            sizes = np.asarray([int(k) for k in state["lengths"]], dtype=np.int64)
            counts = np.asarray(list(state["lengths"].values()), dtype=np.float64)
            per_row = sizes[rng.choice(sizes.size, size=n, p=counts / counts.sum())]
            words = self._words(per_row, rng)
            ends = np.cumsum(per_row)
            values = np.array([" ".join(words[end - size:end]) for end, size in zip(ends, per_row)] if n else [],
                              dtype=object)
        return values, nulls

    def generate(self, n: int, rng: np.random.Generator, *, name: Any = None) -> pd.Series:
        """``n`` generated values with the training null rate and dtype.

        Args:
            n: Number of values (``>= 0``).
            rng: Source of every draw.
            name: Name of the returned series.

        Returns:
            A series with a fresh ``RangeIndex``; a ``category`` column comes back as a
            categorical of the generated values (ordered as in training).

        Raises:
            GenerationError: ``n`` is negative or not an integer.
        """
        values, nulls = self.draw(n, rng)
        if isinstance(self.dtype, pd.CategoricalDtype):
            values = values.copy()
            values[nulls] = np.nan
            return pd.Series(pd.Categorical(values, ordered=self.dtype.ordered), name=name)
        return restore_objects(values, nulls, self.dtype, self.marker, name)

    def _words(self, per_row: np.ndarray, rng: np.random.Generator) -> list[str]:
        """The words of every row, row after row (``per_row`` words each)."""
        count = np.repeat(per_row, per_row)
        position = np.arange(count.size) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        slot = np.where(count == 1, 0, np.where(position == 0, 1, np.where(position == count - 1, 3, 2)))
        words = np.empty(count.size, dtype=object)
        for index, name in enumerate(SLOTS):
            at = np.flatnonzero(slot == index)
            if not at.size:
                continue
            entry = self.state["slots"][name]
            frequent = list(entry["frequent"])
            weights = np.asarray(list(entry["frequent"].values()), dtype=np.float64)
            rare_share = entry["rare"] / (entry["rare"] + weights.sum()) if entry["rare"] + weights.sum() else 1.0
            rare = rng.random(at.size) < rare_share
            if (~rare).any():
                picks = rng.choice(len(frequent), size=int((~rare).sum()), p=weights / weights.sum())
                words[at[~rare]] = np.asarray(frequent, dtype=object)[picks]
            if rare.any():
                words[at[rare]] = self._invent(entry, int(rare.sum()), rng)
        return words.tolist()

    def _invent(self, entry: dict[str, Any], count: int, rng: np.random.Generator) -> list[str]:
        """``count`` new words with the slot's rare-word lengths and casing."""
        lengths = np.asarray([int(k) for k in entry["rare_lengths"]], dtype=np.int64)
        weights = np.asarray(list(entry["rare_lengths"].values()), dtype=np.float64)
        sizes = lengths[rng.choice(lengths.size, size=count, p=weights / weights.sum())]
        cases = list(entry["rare_cases"])
        case_weights = np.asarray(list(entry["rare_cases"].values()), dtype=np.float64)
        drawn = rng.choice(len(cases), size=count, p=case_weights / case_weights.sum())
        pool = list(self.state["chars"])
        pool_weights = np.asarray(list(self.state["chars"].values()), dtype=np.float64)
        chars = np.asarray(pool, dtype=object)[rng.choice(len(pool), size=int(sizes.sum()),
                                                          p=pool_weights / pool_weights.sum())]
        flips = rng.random(int(sizes.sum())) < self.state["upper_share"]
        out: list[str] = []
        end = 0
        for size, case in zip(sizes.tolist(), drawn.tolist()):
            start, end = end, end + size
            word = "".join(chars[start:end])
            kind = cases[case]
            if kind == "title":
                word = word[:1].upper() + word[1:]
            elif kind == "upper":
                word = word.upper()
            elif kind == "mixed":
                word = "".join(c.upper() if flip else c for c, flip in zip(word, flips[start:end]))
            out.append(word)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state (frequent words and aggregates only)."""
        return self.state

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TextModel":
        """Inverse of :meth:`to_dict`.

        Raises:
            SerializationError: ``data`` lacks a field.
        """
        return cls(dict(data))
