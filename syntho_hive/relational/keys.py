"""Keys of generated tables: unique primary keys, valid foreign keys, dirty-data clean-up.

* Primary keys come from the transformer's :class:`~syntho_hive.core.data.encoders.IdGenerator`
  (int sequences, UUIDs, prefixed zero-padded codes, random strings in the real alphabet),
  learned on the real key and stored as plain JSON.
* Primary-key legs that the real data numbers ``1..k`` within each parent (``order_items``'
  ``line_no`` under ``order_id``) are found by :func:`per_parent_start` and generated with
  :func:`running_numbers`.
* Foreign keys are copied from generated parent keys, so they cannot dangle;
  :class:`ReferenceChecker` (one parent index, many chunks) re-checks it anyway.
* Self-references are built as a forest: every row's parent comes earlier in a random order.
* :func:`drop_integrity_violations` removes rows with null/duplicate PKs and orphan FKs,
  parents first so that dropping a parent also drops the children that referenced it.

Integer keys stay integers all the way: a ``float64`` cannot tell ``2**62`` from ``2**62 + 1``,
so keys are never compared, copied or generated through floats. Nulls go into the nullable
twin of the key's dtype (``Int64``, ``UInt64``), keys of two different dtypes are compared in a
common exact one (:func:`comparable_keys`) and integer sequences are built in their own dtype,
continuing below the real keys when they would pass the dtype's largest value
(:func:`integer_sequence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import dtype_from_name, dtype_name, dtype_to_json, restore_numbers, restore_objects
from syntho_hive.core.data._integers import integer_dtype, integer_sequence
from syntho_hive.core.data.encoders.ids import (IdGenerator, check_indices, decimal_numerators, indexed_strings,
                                                timestamp_ticks)
from syntho_hive.core.metadata.decimals import FLOAT_EXACT
from syntho_hive.exceptions import GenerationError, SerializationError
from syntho_hive.relational.graph import Relationship, SchemaGraph

__all__ = ["KeyGenerator", "ReferenceChecker", "key_frame", "build_hierarchy", "grouped_hierarchy", "hierarchy_within",
           "row_labels",
           "place_nulls", "allocate", "cap_counts", "distinct_within_groups",
           "redraw_repeated_combinations", "cast_like", "nullable_twin", "integer_dtype", "integer_sequence",
           "comparable_keys", "comparable_frames", "same_rows", "per_parent_numbers",
           "drop_integrity_violations", "dtype_name", "dtype_from_name", "per_parent_start", "running_numbers",
           "group_ids", "parent_positions", "composite_key_legs",
           "per_parent_timeline", "per_parent_labels", "labels_per_parent"]

_ID_FIELDS = ("kind", "start", "step", "prefix", "width", "upper", "length")


_MAX_PATTERN_LENGTH = 64
#: Most rounds of redrawing generated keys that equal existing ones.
_MAX_REDRAWS = 20


def nullable_twin(dtype: Any) -> Any:
    """The dtype that holds ``dtype``'s values and nulls exactly: ``UInt64`` for unsigned integers,
    ``Int64`` for signed ones, ``boolean`` for ``bool``; other dtypes are returned as they are."""
    if isinstance(dtype, np.dtype) and dtype.kind == "b":
        return pd.BooleanDtype()
    numpy_dtype = integer_dtype(dtype)
    if numpy_dtype is None:
        return dtype
    return pd.UInt64Dtype() if numpy_dtype.kind == "u" else pd.Int64Dtype()


def per_parent_numbers(start: int, groups: np.ndarray, dtype: Any, column: str, *,
                       offsets: np.ndarray | None = None, stride: int = 1, phase: int = 0) -> pd.Series:
    """``start, start + 1, ...`` within each group (a key leg numbered per parent), exact in the
    column's integer ``dtype`` (other dtypes: ``int64``, as before).

    Args:
        start: The first number of every group.
        groups: Group id per row.
        dtype: The column's dtype.
        column: Column name, for messages.
        offsets: Per row, a number added to its running number (the rows of its group that
            another part of the table numbers first); ``None``: none.
        stride: The k-th row of a group gets ``start + k * stride + phase`` (plus its offset):
            parts ``phase = 0 .. stride - 1`` of one table number a group apart.
        phase: See ``stride``.

    Returns:
        The numbers, named ``column``.
    """
    numbers = running_numbers(groups) * int(stride) + int(phase)
    if offsets is not None:
        numbers = numbers + np.asarray(offsets, dtype=np.int64)
    numpy_dtype = integer_dtype(dtype)
    if numpy_dtype is None:
        return pd.Series(start + numbers, name=column)
    return pd.Series(integer_sequence(int(start), numbers, 1, numpy_dtype, column), name=column)


def _python_numbers(series: pd.Series) -> pd.Series:
    """``series`` as Python ints/floats (``object``): compared exactly whatever their types."""
    return pd.Series(series.tolist(), index=series.index, dtype=object, name=series.name)


def comparable_keys(left: pd.Series, right: pd.Series) -> tuple[pd.Series, pd.Series]:
    """``left`` and ``right`` in one dtype where equal means equal, for key lookups and joins.

    Two integer dtypes of the same signedness meet in ``Int64`` / ``UInt64``, a signed and an
    unsigned one as Python numbers (pandas would compare them as ``float64``, where
    ``2**62 == 2**62 + 1``). An integer and a float key meet as ``float64``: the float column
    holds no more than that (as the schema validation's ``isin`` compares them). Other pairs
    are returned as they are.
    """
    if left.dtype == right.dtype:
        return left, right
    ints = integer_dtype(left.dtype), integer_dtype(right.dtype)
    if ints[0] is None and ints[1] is None:
        return left, right
    if ints[0] is not None and ints[1] is not None:
        if ints[0].kind == ints[1].kind:
            twin = nullable_twin(ints[0])
            return left.astype(twin), right.astype(twin)
        return _python_numbers(left), _python_numbers(right)
    other = right.dtype if ints[0] is not None else left.dtype
    if pd.api.types.is_float_dtype(other):
        return left.astype(np.float64), right.astype(np.float64)
    return left, right


def comparable_frames(left: pd.DataFrame, right: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two key frames with columns paired by position, each pair made comparable
    (:func:`comparable_keys`); the column names of each frame are kept."""
    left_cols, right_cols = {}, {}
    for (l_name, l_col), (r_name, r_col) in zip(left.items(), right.items()):
        left_cols[l_name], right_cols[r_name] = comparable_keys(l_col, r_col)
    return (pd.DataFrame(left_cols, index=left.index) if left_cols else left,
            pd.DataFrame(right_cols, index=right.index) if right_cols else right)


def same_rows(left: pd.DataFrame, right: pd.DataFrame) -> np.ndarray:
    """Whether each row of ``left`` equals the same row of ``right`` in every column (paired by
    position), compared exactly; a null never equals anything."""
    left, right = left.reset_index(drop=True), right.reset_index(drop=True)
    out = np.ones(len(left), dtype=bool)
    for (_, l_col), (_, r_col) in zip(left.items(), right.items()):
        l_col, r_col = comparable_keys(l_col, r_col)
        present = l_col.notna().to_numpy() & r_col.notna().to_numpy()
        equal = np.zeros(len(left), dtype=bool)
        if present.any():
            equal[present] = l_col[present].eq(r_col[present]).to_numpy(dtype=bool)
        out &= equal
    return out


def row_labels(keys: pd.DataFrame) -> pd.Index:
    """One label per row of a key frame: its value (one column) or the tuple of its values (a
    ``MultiIndex``), for ``get_indexer`` and ``factorize``."""
    return pd.Index(keys.iloc[:, 0]) if keys.shape[1] == 1 else pd.MultiIndex.from_frame(keys)


class _PositionPattern:
    """Free-form string ids (``"N10156"``, ``"9E"``, ``"04G"``) kept in shape: the real length mix and,
    per length and position, the characters seen there. Keys are distinct by construction
    (distinct integers decoded in mixed radix), so no retries are needed.

    Used for the transformer's ``random`` id kind when the pattern has room for the keys;
    otherwise the transformer's own (longer) random strings are used.
    """

    def __init__(self, lengths: list[int], probs: list[float], alphabets: list[list[str]]) -> None:
        self.lengths = lengths
        self.probs = probs
        self.alphabets = alphabets  # per length: one string of allowed characters per position

    @classmethod
    def learn(cls, series: pd.Series) -> "_PositionPattern | None":
        text = series.dropna().astype(str)
        if text.empty or not text.str.fullmatch(r"[\x21-\x7e]+").all():
            return None
        counts = text.str.len().value_counts().sort_index()
        if counts.index.max() > _MAX_PATTERN_LENGTH:
            return None
        alphabets = []
        for length in counts.index:
            same = text[text.str.len() == length].to_numpy(dtype=str).astype(f"S{length}")
            chars = same.view(np.uint8).reshape(-1, length)
            alphabets.append(["".join(map(chr, np.unique(chars[:, i]))) for i in range(length)])
        probs = (counts / counts.sum()).tolist()
        return cls([int(v) for v in counts.index], probs, alphabets)

    def capacity(self, index: int) -> int:
        return int(np.prod([len(a) for a in self.alphabets[index]], dtype=object))

    def fits(self, n: int) -> bool:
        """Whether ``n`` keys fit comfortably (at most half of the pattern's capacity)."""
        return sum(self.capacity(i) for i in range(len(self.lengths))) >= 2 * n

    def generate(self, n: int, rng: np.random.Generator) -> np.ndarray:
        from syntho_hive.relational.cardinality import rescale_counts

        caps = np.array([min(self.capacity(i), 2**62) for i in range(len(self.lengths))], dtype=np.int64)
        want = rescale_counts(np.asarray(self.probs) * 1e6, n, rng)
        for _ in range(len(caps)):  # move any overflow to lengths with room, largest room first
            over = np.maximum(want - caps // 2, 0)
            if not over.any():
                break
            want -= over
            room = np.maximum(caps // 2 - want, 0)
            want += rescale_counts(room.astype(np.float64), int(over.sum()), rng)
        want = np.minimum(want, caps)
        pieces = []
        for index, k in enumerate(want):
            if not k:
                continue
            codes = rng.choice(int(caps[index]), size=int(k), replace=False).astype(np.int64)
            columns = []
            for alphabet in reversed(self.alphabets[index]):
                size = len(alphabet)
                columns.append(np.frombuffer(alphabet.encode("ascii"), dtype=np.uint8)[codes % size])
                codes = codes // size
            chars = np.stack(columns[::-1], axis=1).astype(np.uint8)
            pieces.append(chars.view(f"S{chars.shape[1]}").ravel().astype(str).astype(object))
        values = np.concatenate(pieces) if pieces else np.zeros(0, dtype=object)
        return values[rng.permutation(values.size)]

    def to_dict(self) -> dict[str, Any]:
        return {"lengths": self.lengths, "probs": self.probs, "alphabets": self.alphabets}


class KeyGenerator:
    """Unique ids in the format of one real key column, persisted as JSON.

    Integer sequences, UUIDs and prefixed codes come from the transformer's
    :class:`~syntho_hive.core.data.encoders.IdGenerator`; other string ids keep their length
    mix and per-position characters.

    Args:
        column: The key column.
    """

    def __init__(self, column: str) -> None:
        self.column = column
        self._ids = IdGenerator(column)
        self._pattern: _PositionPattern | None = None

    def fit(self, series: pd.Series, *, seed: int = 0) -> "KeyGenerator":
        """Learn the format (kind, start, step, prefix, width, alphabet) and dtype of ``series``."""
        self._ids.prepare(series, seed=seed)
        self._pattern = _PositionPattern.learn(series) if self._ids.kind == "random" else None
        numpy_dtype = integer_dtype(series.dtype)
        if self._ids.kind == "int" and numpy_dtype is not None:
            # Start and step exactly, in the column's own dtype (``uint64`` past 2**63 included).
            wide = np.unique(series.dropna().to_numpy(dtype=np.uint64 if numpy_dtype.kind == "u" else np.int64))
            self._ids.start, self._ids.step = (int(wide[0]) if wide.size else 0), 1
            if wide.size > 1:  # the most common gap; differences taken modulo 2**64 are exact
                gaps, counts = np.unique(np.diff(wide.view(np.uint64)), return_counts=True)
                self._ids.step = max(int(gaps[np.argmax(counts)]), 1)
        return self

    def fit_dtype(self, series: pd.Series) -> "KeyGenerator":
        """Take a format from ``series``' dtype alone, reading no key (for fits under differential privacy):
        integers from 1 on a step of 1, daily timestamps from 2000-01-01, random strings otherwise
        (:func:`~syntho_hive.core.data.dp_standins.dtype_id_generator`)."""
        from syntho_hive.core.data.dp_standins import dtype_id_generator

        self._ids = dtype_id_generator(series.rename(self.column))
        self._pattern = None
        return self

    def generate(self, n: int, rng: np.random.Generator, *, indices: np.ndarray | None = None,
                 existing: pd.Series | None = None) -> pd.Series:
        """``n`` unique keys in the learned format and dtype.

        Args:
            n: Number of keys.
            rng: Source of the draws. With ``indices`` it must be seeded alike in every part of
                one table: it decides the map from indices to keys (a pattern's permutation, the
                UUIDs' hash key), which must be the same everywhere.
            indices: Global index of each key (``n`` distinct non-negative integers), for a table
                generated in parts that never talk to each other: keys of distinct indices are
                distinct. Integers are ``start + step * index`` (continuing below ``start`` past
                the dtype's largest value, as without indices), codes and datetimes follow the
                same sequence, UUIDs hash the index, and string patterns map it bijectively into
                the pattern's space at its most common length. ``None``: keys drawn as ever.
            existing: Keys the column already holds (a table appended to), none of which may be
                generated again: sequences (integers, codes, timestamps) continue after the largest
                of them, drawn keys (UUIDs, random strings) that equal one are drawn again (not with
                ``indices``). ``None`` or empty: keys as without it.

        Returns:
            The keys, named after the column.

        Raises:
            GenerationError: Bad ``indices``, an index past what the key's format holds (the
                dtype's range, or the pattern's space), or no room for keys besides ``existing``.
            SerializationError: ``existing`` cannot be compared with keys of this format.
        """
        if existing is not None and existing.notna().any():
            return self._after(int(n), rng, indices, existing)
        if indices is not None:
            return self._indexed(int(n), indices, rng)
        if self._pattern is not None and self._pattern.fits(int(n)):
            return self._strings(self._pattern.generate(int(n), rng))
        numpy_dtype = integer_dtype(self._ids.dtype)
        if self._ids.kind == "int" and numpy_dtype is not None:
            return self._integers(np.arange(int(n), dtype=np.int64), numpy_dtype)
        return self._ids.generate(int(n), rng).reset_index(drop=True).rename(self.column)

    def check_length(self, length: int, last: int, existing: pd.Series | None = None) -> None:
        """Check that the keys up to index ``last`` (after those of ``existing``) fit ``length`` characters.

        Only codes (``<prefix><number>``) grow longer than the real keys; other formats keep the real
        lengths, which fit.

        Args:
            length: The column's declared length (``ColumnType.length``).
            last: The largest index to be generated (``n - 1`` for ``n`` keys).
            existing: Keys the column already holds (generation continues after them).

        Raises:
            GenerationError: A key would be longer than ``length``; the message names the column and how many
                keys fit.
        """
        if self._ids.kind != "code" or last < 0:
            return
        first = self._first_free_index(existing) if existing is not None and existing.notna().any() else 0
        first = first or 0

        def fits(index: int) -> bool:
            return len(str(self._ids._codes(np.array([index], dtype=np.int64))[0])) <= length

        if fits(first + last):
            return
        low, high = 0, first + last  # the keys grow longer with the index: the last index that fits
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if fits(middle) else (low, middle - 1)
        capacity = low + 1 if fits(0) else 0
        raise GenerationError(
            f"Column {self.column!r} holds at most {length} characters, and its keys "
            f"{self._ids.prefix}<number> from {self._ids._codes(np.array([0]))[0]!r} have room for {capacity} "
            f"values within them; {first + last + 1} are needed ({first} taken by existing rows, "
            f"{last + 1} new). Generate fewer rows, widen the column, or write to an empty table.")

    def _after(self, n: int, rng: np.random.Generator, indices: np.ndarray | None,
               existing: pd.Series) -> pd.Series:
        """``n`` keys none of which is in ``existing`` (see :meth:`generate`)."""
        first = self._first_free_index(existing)
        if first is not None:  # a sequence: the keys of the indices after the existing keys' largest
            shifted = np.arange(n, dtype=np.int64) if indices is None else check_indices(indices, n, self.column)
            keys = self._indexed(n, shifted + first, rng)
        else:
            keys = self.generate(n, rng, indices=indices)
        taken = pd.Index(existing.dropna().unique())
        values = keys.to_numpy(dtype=object)
        clash = np.flatnonzero(pd.Index(values).isin(taken))
        if not clash.size:
            return keys
        # Drawn keys are drawn again; a sequence that ran past its dtype's end into the existing keys,
        # or keys that must stay a function of their index, cannot be.
        redraws = _MAX_REDRAWS if first is None and indices is None else 0
        for _ in range(redraws):
            fresh = self.generate(2 * clash.size + 16, rng).to_numpy(dtype=object)
            fresh = pd.unique(fresh[~pd.Index(fresh).isin(taken) & ~pd.Index(fresh).isin(values)])[:clash.size]
            values[clash[:fresh.size]] = fresh
            clash = clash[fresh.size:]
            if not clash.size:
                return self._ids._restore(values).rename(self.column)
        raise GenerationError(
            f"Cannot generate {n} keys for column {self.column!r} besides the {taken.size} it already holds: "
            f"their format has no room for more distinct keys (e.g. {values[clash[0]]!r} is taken). Replace the "
            "table (if_exists='replace') or write to another target.")

    def _first_free_index(self, existing: pd.Series) -> int | None:
        """For a sequence (integers, codes, timestamps), the first index whose key is past every key of
        ``existing`` on the sequence; ``None`` for drawn keys (UUIDs, random strings).

        Raises:
            SerializationError: ``existing`` cannot be read as keys of this format.
        """
        kind, start, step = self._ids.kind, int(self._ids.start), max(int(self._ids.step), 1)
        present = existing.dropna()
        if kind in ("datetime", "local_days"):
            try:
                present = present.astype(self._ids.dtype)
            except (TypeError, ValueError) as exc:
                raise SerializationError(f"The existing keys of column {self.column!r} ({present.dtype}) cannot be "
                                         f"read as its timestamps ({self._ids.dtype}): {exc}") from exc
            largest = int(self._ticks(present).max()) + start
        elif kind in ("int", "decimal"):
            numbers = pd.to_numeric(present, errors="coerce").dropna()
            if kind == "decimal":  # on the grid of ``start`` and ``step``: the numerators
                numbers = decimal_numerators(numbers, self._ids.decimals)
            largest = int(numbers.max()) if len(numbers) else None
        elif kind == "code":
            text = present.astype(str)
            digits = text[text.str.startswith(self._ids.prefix)].str.slice(len(self._ids.prefix))
            digits = digits[digits.str.fullmatch(r"\d{1,18}")]
            largest = int(digits.astype(np.int64).max()) if len(digits) else None
        else:
            return None
        return 0 if largest is None or largest < start else (largest - start) // step + 1

    def _ticks(self, stamps: pd.Series) -> np.ndarray:
        """Ticks of timestamps (no null) after the learned start, on the generator's clock (UTC, or the
        wall clock by day)."""
        return timestamp_ticks(stamps, wall_clock=self._ids.kind == "local_days") - np.int64(self._ids.start)

    @property
    def is_timeline(self) -> bool:
        """Whether the keys are timestamps on a step (``start + step * k``)."""
        return self._ids.kind in ("datetime", "local_days")

    def timeline_offsets(self, series: pd.Series) -> np.ndarray | None:
        """Where each timestamp of ``series`` (no null) is on the learned step: ``k`` for ``start + step * k``,
        ``-1`` off the step; ``None`` when the keys are not timestamps (:attr:`is_timeline`)."""
        if not self.is_timeline or not pd.api.types.is_datetime64_any_dtype(series.dtype):
            return None
        ticks = self._ticks(series)
        step = np.int64(max(int(self._ids.step), 1))
        return np.where(ticks % step == 0, ticks // step, -1)

    def timeline_numbers(self, stamps: pd.Series) -> pd.Series:
        """For each timestamp of ``stamps`` (keys of this timeline, :attr:`is_timeline`), the ``k`` of the latest
        ``start + step * k`` at or before it (null stays null): how far a timeline numbered per parent got."""
        present = stamps.dropna()
        step = np.int64(max(int(self._ids.step), 1))
        return pd.Series(self._ticks(present) // step, index=present.index, name=stamps.name).reindex(stamps.index)

    def at(self, offsets: np.ndarray) -> pd.Series:
        """The timestamps ``start + step * k`` for each ``k`` of ``offsets`` (repeats allowed), in the
        column's dtype: a timeline numbered per parent (:func:`per_parent_timeline`)."""
        return self._ids._timestamps(np.asarray(offsets, dtype=np.int64)).rename(self.column).reset_index(drop=True)

    def _indexed(self, n: int, indices: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """The key of each global index (see :meth:`generate`)."""
        values = check_indices(indices, n, self.column)
        if self._pattern is not None:
            length = int(np.argmax(self._pattern.probs))  # the most common length (the first of equals)
            key = int(rng.integers(0, 2**63))
            return self._strings(indexed_strings(values, self._pattern.alphabets[length], key, self.column))
        numpy_dtype = integer_dtype(self._ids.dtype)
        if self._ids.kind == "int" and numpy_dtype is not None:
            return self._integers(values, numpy_dtype)
        return self._ids.generate(n, rng, indices=values).reset_index(drop=True).rename(self.column)

    def _strings(self, values: np.ndarray) -> pd.Series:
        """Pattern keys in the column's dtype."""
        if isinstance(self._ids.dtype, pd.CategoricalDtype):
            return pd.Series(pd.Categorical(values), name=self.column)
        return restore_objects(values, np.zeros(len(values), dtype=bool), self._ids.dtype, None, self.column)

    def _integers(self, indices: np.ndarray, numpy_dtype: np.dtype) -> pd.Series:
        """The key of each index: ``start + step * index`` exactly in the column's integer dtype; past
        the dtype's largest value the sequence goes on below ``start`` (``start - step, start - 2 * step,
        ...``), so keys near ``2**63 - 1`` stay unique, in range and on the real step.

        Raises:
            GenerationError: The dtype has no room for the largest index on that step.
        """
        n = len(indices)
        start, step = int(self._ids.start), max(int(self._ids.step), 1)
        info = np.iinfo(numpy_dtype)
        above = max(0, (int(info.max) - start) // step + 1) if start >= info.min else 0
        below = max(0, (start - int(info.min)) // step) if start <= info.max else 0
        needed = int(indices.max()) + 1 if n else 0
        if needed > above + below:
            raise GenerationError(
                f"Cannot generate {needed} unique keys for column {self.column!r}: its dtype {numpy_dtype} holds "
                f"only {above + below} values on the real keys' step of {step}. Generate fewer rows for this "
                "table, or store the key in a wider integer dtype.")
        cut = min(above, 2**63 - 1)  # indices are int64: none reaches a larger ``above``
        offsets = np.where(indices < cut, indices, cut - 1 - indices)  # index ``above`` -> ``-1``, ...
        values = integer_sequence(start, offsets, step, numpy_dtype, self.column)
        return restore_numbers(values, np.zeros(n, dtype=bool), self._ids.dtype, self._ids.marker, self.column)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable state: the id generator's own (:meth:`IdGenerator.to_dict`) and the pattern.

        Raises:
            SerializationError: The column's dtype cannot be stored.
        """
        return {"column": self.column, "ids": self._ids.to_dict(),
                "pattern": self._pattern.to_dict() if self._pattern is not None else None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "KeyGenerator":
        """Rebuild from :meth:`to_dict` output (or the flat form that version-1 plans stored).

        Raises:
            SerializationError: When ``data`` lacks a field or names an unknown dtype.
        """
        try:
            gen = cls(str(data["column"]))
            ids = data.get("ids")
            if ids is None:  # version 1: the generator's fields side by side, the dtype by name
                ids = {**{name: data[name] for name in _ID_FIELDS}, "alphabet": data["alphabet"], "marker": None,
                       "dtype": dtype_to_json(dtype_from_name(data["dtype"]), f"key column {gen.column!r}")}
            gen._ids = IdGenerator.from_dict(ids, column=gen.column)
            pattern = data.get("pattern")
            if pattern is not None:
                gen._pattern = _PositionPattern([int(v) for v in pattern["lengths"]],
                                                [float(v) for v in pattern["probs"]],
                                                [list(map(str, a)) for a in pattern["alphabets"]])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(f"Key generator state is corrupt ({type(exc).__name__}: {exc}); "
                                     "save the synthesizer again.") from exc
        return gen


def key_frame(frame: pd.DataFrame, columns: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The key columns of ``frame`` with neutral names ``k0, k1, ...`` (for joins and lookups)."""
    return frame[list(columns)].set_axis([f"k{i}" for i in range(len(columns))], axis=1).reset_index(drop=True)


class ReferenceChecker:
    """Re-checks generated FK values against one parent's keys, chunk after chunk.

    The parent's key index is built once, so checking a table written in many chunks costs
    one lookup per child row rather than one join with the whole parent per chunk.

    Args:
        rel: The relationship to check.
        parent_keys: The parent's key columns (names of ``rel.parent_columns``).
    """

    def __init__(self, rel: Relationship, parent_keys: pd.DataFrame) -> None:
        self.rel = rel
        self._parent = key_frame(parent_keys, rel.parent_columns)
        self._indexes: dict[tuple[str, ...], pd.Index] = {}  # per dtypes of the child's FK columns

    def _index(self, fk: pd.DataFrame) -> pd.Index:
        """The parent's keys, in the dtypes they are compared with ``fk``'s in (exactly)."""
        signature = tuple(str(dtype) for dtype in fk.dtypes)
        if signature not in self._indexes:
            _, pk = comparable_frames(fk.iloc[:0], self._parent)
            self._indexes[signature] = row_labels(pk[pk.notna().all(axis=1)].drop_duplicates())
        return self._indexes[signature]

    def found(self, child: pd.DataFrame) -> np.ndarray:
        """Whether each row of ``child`` has a row in the parent (``False`` where an FK column is null)."""
        fk = key_frame(child, self.rel.child_columns)
        return self._hits(fk, fk.notna().all(axis=1).to_numpy())

    def _hits(self, fk: pd.DataFrame, present: np.ndarray) -> np.ndarray:
        """:meth:`found` of the FK values ``fk`` whose rows ``present`` have no null leg."""
        hit = np.zeros(len(fk), dtype=bool)
        if present.any():
            wanted, _ = comparable_frames(fk[present], self._parent.iloc[:0])
            hit[present] = self._index(fk[present]).get_indexer(row_labels(wanted)) >= 0
        return hit

    def check(self, child: pd.DataFrame) -> None:
        """Raise when a non-null FK value of ``child`` has no row in the parent.

        Args:
            child: Generated child rows (all of them, or one chunk).

        Raises:
            GenerationError: Naming the table, the FK and a few orphan values.
        """
        rel = self.rel
        fk = key_frame(child, rel.child_columns)
        present = fk.notna().all(axis=1).to_numpy()
        orphan = present & ~self._hits(fk, present)
        if orphan.any():
            examples = fk[orphan].head(5).set_axis(list(rel.child_columns), axis=1).to_dict("records")
            raise GenerationError(
                f"table {rel.child!r}: {int(orphan.sum())} generated value(s) of foreign key "
                f"{list(rel.child_columns)} have no row in {rel.parent!r} (examples: {examples}). This is "
                "a bug in SynthoHive; please report it with the schema.")


def group_ids(codes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Group rows by the tuple of their integer codes (one array per key column).

    Args:
        codes: Equal-length ``int64`` arrays; equal tuples mean the same group.

    Returns:
        ``(group id per row, index of each group's first row)``.
    """
    if len(codes) == 1:
        _, first, inverse = np.unique(codes[0], return_index=True, return_inverse=True)
    else:
        _, first, inverse = np.unique(np.stack(codes, axis=1), axis=0, return_index=True, return_inverse=True)
    return np.asarray(inverse, dtype=np.int64).ravel(), np.asarray(first, dtype=np.int64)


def running_numbers(groups: np.ndarray) -> np.ndarray:
    """``0, 1, 2, ...`` within each group, in row order (a per-group row counter).

    Args:
        groups: Group id per row (any integers).

    Returns:
        ``int64`` array: how many earlier rows share the row's group.
    """
    return pd.Series(groups).groupby(groups, sort=False).cumcount().to_numpy(dtype=np.int64)


#: Share of rows that must follow a per-parent numbering (see :func:`per_parent_start`).
PER_PARENT_SHARE = 0.95


def per_parent_start(values: pd.Series, parents: pd.DataFrame) -> int | None:
    """Whether a primary-key leg numbers the rows of each parent ``s, s+1, ..., s+k-1``.

    ``order_items(order_id, line_no)`` with ``line_no`` restarting at 1 in every order is the
    typical case. No number may repeat within a parent, and at least :data:`PER_PARENT_SHARE` of
    the rows must follow the pattern with the same start ``s`` (the column's minimum), so a few
    deleted lines (gaps) do not turn the leg into a table-wide sequence; the row order within a
    parent does not matter.

    Args:
        values: The leg (a primary-key column that is not a foreign key).
        parents: The foreign-key columns of the primary key, row-aligned with ``values``.

    Returns:
        The common start ``s``, or ``None`` when the leg is not numbered per parent (not
        integer-valued, null values, repeats within a parent, or too many rows off the pattern).
    """
    if len(values) == 0 or parents.shape[1] == 0 or values.isna().any():
        return None
    if not pd.api.types.is_numeric_dtype(values.dtype) or pd.api.types.is_bool_dtype(values.dtype):
        return None
    numpy_dtype = integer_dtype(values.dtype)
    if numpy_dtype is not None:  # exactly, in 64 bits (a float64 would merge 2**62 and 2**62 + 1)
        ints = values.to_numpy(dtype=np.uint64 if numpy_dtype.kind == "u" else np.int64)
    else:
        floats = values.to_numpy(dtype=np.float64)
        if not np.all(floats == np.round(floats)) or np.abs(floats).max() >= FLOAT_EXACT:
            return None
        ints = floats.astype(np.int64)
    groups = parents.reset_index(drop=True).groupby(list(parents.columns), dropna=False, sort=False,
                                                    observed=True).ngroup().to_numpy(dtype=np.int64)
    order = np.lexsort((ints, groups))
    ordered_groups, ordered_ints = groups[order], ints[order]
    if (np.diff(ordered_ints)[np.diff(ordered_groups) == 0] == 0).any():  # a number repeats in a parent
        return None
    lowest = ints.min()
    # Distance to the lowest number, modulo 2**64: exact, as it is below 2**64.
    above_start = ordered_ints.view(np.uint64) - np.asarray(lowest, dtype=ints.dtype).view(np.uint64)
    numbered = running_numbers(ordered_groups).astype(np.uint64)
    return int(lowest) if float(np.mean(above_start == numbered)) >= PER_PARENT_SHARE else None


def per_parent_timeline(values: pd.Series, parents: pd.DataFrame, generator: KeyGenerator) -> bool:
    """Whether a timestamp leg of a primary key is a timeline of each parent: ``weather(origin, time_hour)``,
    ``balances(account_id, day)``.

    The same timestamps recur under different parents (a timestamp alone is no id), none repeats within a
    parent, and at least :data:`PER_PARENT_SHARE` of them lie on the learned step (``start + step * k``,
    gaps allowed). Such a leg is generated as ``start, start + step, ...`` within each parent, instead of
    one sequence over the table that scatters each parent's rows over a far longer span.

    Args:
        values: The leg (a primary-key column that is not a foreign key).
        parents: The foreign-key columns of the primary key, row-aligned with ``values``.
        generator: The leg's key generator, fitted on ``values``.

    Returns:
        Whether to number the leg per parent.
    """
    if len(values) == 0 or parents.shape[1] == 0 or values.isna().any() or values.is_unique:
        return False
    offsets = generator.timeline_offsets(values.reset_index(drop=True))
    if offsets is None or float(np.mean(offsets >= 0)) < PER_PARENT_SHARE:
        return False
    keyed = parents.reset_index(drop=True).assign(__leg=values.reset_index(drop=True))
    return not keyed.duplicated().any()


def per_parent_labels(values: pd.Series, parents: pd.DataFrame, min_count: int) -> dict[str, list[Any]] | None:
    """The labels a text leg of a primary key takes within each parent: ``translations(product_id, locale)``.

    The leg is a category (text, ``category`` or boolean values) that recurs under different parents and
    never twice under one; generated, each parent's rows get distinct labels drawn by their real frequency.
    Labels seen fewer than ``min_count`` times are left out (never generated), as by the models.

    Args:
        values: The leg (the primary key's only column that is not a foreign key).
        parents: The foreign-key columns of the primary key, row-aligned with ``values``.
        min_count: Fewest rows a label needs to be generated (the synthesizer's ``rare_threshold``).

    Returns:
        ``{"values": [...], "weights": [...]}`` (plain JSON), most frequent first; ``None`` when the leg
        is not such a label (numbers and timestamps, nulls, a value unique to one row, repeats within
        a parent, or no label seen ``min_count`` times).
    """
    if len(values) == 0 or parents.shape[1] == 0 or values.isna().any() or values.is_unique:
        return None
    dtype = values.dtype
    if not (pd.api.types.is_object_dtype(dtype) or pd.api.types.is_string_dtype(dtype)
            or isinstance(dtype, pd.CategoricalDtype) or pd.api.types.is_bool_dtype(dtype)):
        return None
    labels = values.reset_index(drop=True)
    if not labels.map(lambda v: isinstance(v, (str, bool, np.bool_))).all():
        return None
    if parents.reset_index(drop=True).assign(__leg=labels).duplicated().any():
        return None
    counts = labels.astype(object).value_counts(sort=True)
    counts = counts[counts >= min_count]
    if counts.empty:
        return None
    return {"values": [v.item() if isinstance(v, np.generic) else v for v in counts.index.tolist()],
            "weights": [int(c) for c in counts.to_numpy()]}


def labels_per_parent(labels: dict[str, list[Any]], parents: np.ndarray, numbers: np.ndarray, key: int) -> pd.Series:
    """Row ``i``'s label: the ``numbers[i]``-th of its parent's labels, in an order drawn for each parent
    by the labels' weights (Gumbel top-k), so a parent's rows have distinct labels, popular ones first.

    The order of a parent depends only on ``key``, the parent's position and the labels, so every part of
    a table generated in slices draws the same order for the same parent.

    Args:
        labels: :func:`per_parent_labels` output.
        parents: Each row's parent position (non-negative).
        numbers: Each row's number within its parent, below the number of labels.
        key: Seed of the orders.

    Returns:
        The labels (``object``).
    """
    from syntho_hive.core.data._integers import mix64

    values = np.asarray(labels["values"], dtype=object)
    logw = np.log(np.asarray(labels["weights"], dtype=np.float64))
    out = np.empty(len(parents), dtype=object)
    unique, inverse = np.unique(np.asarray(parents, dtype=np.int64), return_inverse=True)
    block = max(1, 2_000_000 // max(values.size, 1))
    for first in range(0, unique.size, block):
        ids = unique[first:first + block]
        cells = (ids[:, None].astype(np.uint64) * np.uint64(values.size) + np.arange(values.size, dtype=np.uint64))
        uniform = ((mix64(cells, key) >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0**53
        order = np.argsort(-(logw - np.log(-np.log(uniform))), axis=1, kind="stable")
        rows = np.flatnonzero((inverse >= first) & (inverse < first + ids.size))
        out[rows] = values[order[inverse[rows] - first, numbers[rows]]]
    return pd.Series(out, dtype=object)


def composite_key_legs(frame: pd.DataFrame, legs: list[str]) -> tuple[list[str], dict[str, int]]:
    """How a composite primary key without foreign-key legs is generated when its legs are not ids each.

    ``stores(region, store_no)`` has regions that repeat and store numbers that restart in each region:
    generating every leg as a unique id gives ``region`` values no real row has. Instead, the legs that
    are attributes are modelled with the other columns, and one leg keeps the combination unique: a leg
    unique on its own (generated as an id), or a leg numbered ``s, s+1, ...`` within each combination of
    the others (:func:`per_parent_start`), generated the same way after the modelled legs.

    Args:
        frame: The real table.
        legs: The primary-key columns (two or more, none a foreign key).

    Returns:
        ``(modelled legs, {numbered leg: start})``; ``([], {})`` when neither form fits (every leg
        is then generated as a unique id, as before).
    """
    if len(legs) < 2 or len(frame) == 0 or frame[legs].isna().any(axis=None):
        return [], {}
    unique = [c for c in legs if frame[c].is_unique]
    if len(unique) == len(legs):  # every leg an id of its own: nothing to model
        return [], {}
    if unique:
        return [c for c in legs if c != unique[0]], {}
    for leg in reversed(legs):
        others = [c for c in legs if c != leg]
        start = per_parent_start(frame[leg], frame[others])
        if start is not None:
            return others, {leg: start}
    return [], {}


def allocate(weights: np.ndarray, total: int, rng: np.random.Generator) -> np.ndarray:
    """Parent positions for ``total`` child rows, drawn in proportion to ``weights``.

    Every parent with weight ``w`` gets about ``total * w / sum(w)`` rows (largest remainders,
    exact total), in a random order.

    Args:
        weights: Non-negative popularity per parent.
        total: Child rows to place.
        rng: Local generator.

    Returns:
        ``int64`` positions into the parent rows, length ``total``.
    """
    from syntho_hive.relational.cardinality import rescale_counts

    if total <= 0 or len(weights) == 0:
        return np.zeros(0, dtype=np.int64)
    counts = rescale_counts(np.asarray(weights), int(total), rng)
    positions = np.repeat(np.arange(len(weights), dtype=np.int64), counts)
    return positions[rng.permutation(positions.size)]


def cap_counts(counts: np.ndarray, cap: int, rng: np.random.Generator) -> np.ndarray:
    """``counts`` with none above ``cap``, the same total: the excess moves to parents with room.

    For a table whose primary key is made of its foreign keys, a parent can have only as many
    children as there are distinct key combinations (one, for a 1:1 extension table).

    Args:
        counts: Children per parent.
        cap: Most children a parent may have.
        rng: Local generator (for the rounding of the redistribution).

    Returns:
        ``int64`` counts, each ``<= cap``, summing to ``counts.sum()``.

    Raises:
        GenerationError: ``counts.sum()`` exceeds ``cap`` children for every parent.
    """
    from syntho_hive.relational.cardinality import rescale_counts

    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total > cap * counts.size:
        raise GenerationError(f"{total} rows need more than {cap} row(s) per parent over {counts.size} parent(s)")
    capped = np.minimum(counts, cap)
    excess = total - int(capped.sum())
    if excess:  # proportional to the room left, so no parent passes the cap (see rescale_counts)
        capped += rescale_counts((cap - capped).astype(np.float64), excess, rng)
    return capped


def distinct_within_groups(groups: np.ndarray, weights: np.ndarray, rng: np.random.Generator, *,
                           exclude_own: bool = False, max_cells: int = 50_000_000) -> np.ndarray:
    """A parent position per row, distinct among the rows of each group, drawn by ``weights``.

    Each group's parents are a weighted sample without replacement (Gumbel top-k: the ``k``
    largest ``log(weight) + Gumbel`` keys), so a junction table (``enrollments(student_id,
    course_id)``) gives each student distinct, popular-first courses. Parents of weight zero
    are used only when a group needs more parents than have weight.

    Args:
        groups: Group of each row (e.g. its position in the primary parent).
        weights: Non-negative popularity per candidate parent.
        rng: Local generator.
        exclude_own: The groups are positions in the same candidate parents (a self-join
            junction, ``follows(follower_id, followee_id)``): never give a row its own group.
        max_cells: Most (group, parent) keys drawn at once (memory bound).

    Returns:
        ``int64`` positions into the candidate parents.

    Raises:
        GenerationError: A group has more rows than there are candidate parents (less its own).
    """
    n, size = len(groups), len(weights)
    out = np.empty(n, dtype=np.int64)
    if n == 0:
        return out
    order = np.argsort(groups, kind="stable")
    ordered = np.asarray(groups)[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    sizes = np.diff(np.r_[starts, n])
    available = size - int(exclude_own)
    if sizes.max() > available:
        raise GenerationError(f"a group of {int(sizes.max())} rows needs distinct parents among {available}")
    weights = np.asarray(weights, dtype=np.float64)
    floor = weights[weights > 0].min() * 1e-9 if (weights > 0).any() else 1.0
    log_weights = np.log(np.maximum(weights, floor))  # zero weights: last resort, never before others
    block = max(1, max_cells // max(size, 1))
    for first in range(0, len(starts), block):
        group_starts, group_sizes = starts[first:first + block], sizes[first:first + block]
        keys = log_weights[None, :] + rng.gumbel(size=(len(group_starts), size))
        if exclude_own:
            keys[np.arange(len(group_starts)), ordered[group_starts]] = -np.inf
        widest = int(group_sizes.max())
        top = np.argpartition(-keys, widest - 1, axis=1)[:, :widest] if widest < size else \
            np.broadcast_to(np.arange(size), keys.shape)
        top = np.take_along_axis(top, np.argsort(-np.take_along_axis(keys, top, axis=1), axis=1), axis=1)
        row = np.repeat(np.arange(len(group_starts)), group_sizes)
        slot = np.arange(int(group_sizes.sum())) - np.repeat(np.cumsum(group_sizes) - group_sizes, group_sizes)
        out[order[group_starts[row] + slot]] = top[row, slot]
    return out


def redraw_repeated_combinations(groups: np.ndarray, columns: list[np.ndarray], weights: list[np.ndarray],
                                 rng: np.random.Generator, *, rounds: int = 50) -> list[np.ndarray]:
    """Redraw the positions of rows that repeat an earlier row's ``(group, column...)`` combination.

    For a table whose primary key is three or more foreign keys (``assignments(employee_id,
    project_id, role_id)``): the secondary keys are drawn independently by popularity, and a row
    whose combination already occurs in its group gets new secondary positions, drawn by the
    same weights. Groups still repeating after ``rounds`` redraws (nearly every combination
    taken) get their missing combinations drawn without replacement from the ones they have not
    used, so no row is lost as long as no group has more rows than combinations (the caller
    caps it). With two key FKs :func:`distinct_within_groups` draws without replacement instead.

    Args:
        groups: Primary-parent position of each row.
        columns: Positions of each row in each secondary parent.
        weights: Popularity of each secondary parent's rows (same order as ``columns``).
        rng: Local generator.
        rounds: Most redraws.

    Returns:
        New position arrays (the inputs are not modified).
    """
    columns = [np.array(column, dtype=np.int64, copy=True) for column in columns]
    probabilities = []
    for weight in weights:
        weight = np.asarray(weight, dtype=np.float64)
        probabilities.append(weight / weight.sum() if weight.sum() > 0 else np.full(len(weight), 1.0 / len(weight)))
    groups = np.asarray(groups, dtype=np.int64)
    for _ in range(rounds):
        repeated = _repeated_rows(groups, columns)
        if not repeated.size:
            return columns
        for column, probability in zip(columns, probabilities):
            column[repeated] = rng.choice(len(probability), size=repeated.size, p=probability)
    repeated = _repeated_rows(groups, columns)
    if repeated.size:
        _complete_saturated_groups(groups, columns, probabilities, repeated, rng)
    return columns


def _repeated_rows(groups: np.ndarray, columns: list[np.ndarray]) -> np.ndarray:
    """Rows whose ``(group, column...)`` combination occurs in an earlier row."""
    _, first = group_ids([groups, *columns])
    return np.setdiff1d(np.arange(len(groups)), first, assume_unique=True)


def _complete_saturated_groups(groups: np.ndarray, columns: list[np.ndarray], probabilities: list[np.ndarray],
                               repeated: np.ndarray, rng: np.random.Generator) -> None:
    """Give each repeated row of a nearly saturated group a combination its group has not used,
    drawn by popularity without replacement (Gumbel top-k over all combinations; in place)."""
    sizes = [len(p) for p in probabilities]
    grid = np.indices(sizes).reshape(len(sizes), -1)  # every combination, one per column of ``grid``
    log_weight = sum(np.log(np.maximum(p, 1e-300))[g] for p, g in zip(probabilities, grid))
    flat = np.ravel_multi_index(tuple(columns), sizes)
    for group in np.unique(groups[repeated]):
        rows = repeated[groups[repeated] == group]
        used = np.zeros(grid.shape[1], dtype=bool)
        used[flat[groups == group]] = True  # a repeated row's combination is its original's
        keys = np.where(used, -np.inf, log_weight + rng.gumbel(size=grid.shape[1]))
        if int((~used).sum()) < len(rows):
            continue  # more rows than combinations: left for the caller to drop
        chosen = np.argpartition(-keys, len(rows) - 1)[:len(rows)]
        for column, values in zip(columns, grid[:, chosen]):
            column[rows] = values


def place_nulls(n: int, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Boolean mask with exactly ``round(n * rate)`` ``True`` entries at random positions."""
    mask = np.zeros(n, dtype=bool)
    k = int(round(n * float(rate)))
    if k > 0:
        mask[rng.choice(n, size=min(k, n), replace=False)] = True
    return mask


def build_hierarchy(n: int, null_rate: float, report_counts: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """Parent position of each row in a self-referencing table (``-1`` for a root).

    Rows are ordered by their wanted number of reports, most first (ties in random order); the
    first ``max(1, round(n * null_rate))`` are roots and each other row reports to a row strictly
    earlier in that order, so the result is a forest (no cycles). Filling the managers' slots in
    that order gives every row its wanted number of reports where the counts allow it, rows that
    want none get none, and the depth stays that of a real hierarchy (a random order, as before,
    handed the reports it could not place to random earlier rows: chains 20 levels deep for an
    org chart of 4, staff with reports).

    Args:
        n: Rows in the table.
        null_rate: Share of rows without a parent in the real data.
        report_counts: Wanted number of direct reports per row (any non-negative ints).
        rng: Local generator.

    Returns:
        ``int64`` array of parent positions (``-1`` for roots).
    """
    n_roots = min(n, max(1, int(round(n * float(null_rate)))))
    return grouped_hierarchy(np.zeros(n, dtype=np.int64), np.array([n_roots], dtype=np.int64), report_counts, rng)


def hierarchy_within(shared: pd.DataFrame, roots: float, report_counts: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
    """Parent position of each row of a self-referencing table (``-1``: none): one forest
    (:func:`build_hierarchy`) over all rows, or, when ``shared`` has columns (those an FK shares with the
    primary key, :attr:`~syntho_hive.relational.graph.Relationship.shared_columns`), one within each
    combination of their values, so a boss is in the row's company.

    Every group needs a root; the rest of the real share's roots go to the groups in proportion to their other
    rows, rounded at random, so the share holds on average when it allows a root per group.

    Args:
        shared: The rows' values of the shared columns (no columns: one forest).
        roots: Share of rows without a parent.
        report_counts: Wanted children of each row.
        rng: Random generator.

    Returns:
        ``int64`` parent positions.
    """
    if shared.shape[1] == 0 or len(shared) == 0:
        return build_hierarchy(len(shared), roots, report_counts, rng)
    groups, _ = pd.factorize(row_labels(shared), use_na_sentinel=False)
    sizes = np.bincount(groups)
    extra = max(0.0, len(shared) * roots - len(sizes)) / max(len(shared) - len(sizes), 1)
    wanted = (sizes - 1) * min(extra, 1.0)
    n_roots = 1 + np.floor(wanted).astype(np.int64) + (rng.random(len(sizes)) < wanted - np.floor(wanted))
    return grouped_hierarchy(groups, n_roots, report_counts, rng)


def grouped_hierarchy(groups: np.ndarray, roots: np.ndarray, report_counts: np.ndarray,
                      rng: np.random.Generator) -> np.ndarray:
    """:func:`build_hierarchy` within each group at once: every row reports to a row of its own group.

    Args:
        groups: Group number of each row, in ``0 .. len(roots) - 1``.
        roots: Roots of each group, at least one and at most its rows (a finite forest has a root).
        report_counts: Wanted number of direct reports per row (any non-negative ints).
        rng: Local generator.

    Returns:
        ``int64`` array of parent positions (``-1`` for roots).
    """
    groups = np.asarray(groups, dtype=np.int64)
    n = groups.size
    out = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return out
    wanted_all = np.asarray(report_counts, dtype=np.float64)
    order = np.lexsort((rng.random(n), -wanted_all, groups))  # by group, then most wanted reports first
    sizes = np.bincount(groups, minlength=len(roots))
    starts = np.cumsum(sizes) - sizes
    roots = np.minimum(np.asarray(roots, dtype=np.int64), sizes)
    children = sizes - roots
    if not children.any():
        return out
    group = groups[order]  # of each rank (position in ``order``)
    # Wanted reports per rank; the last row of a group cannot have any.
    wanted = wanted_all[order].copy()
    wanted[(starts + sizes - 1)[sizes > 0]] = 0
    slots = _rescale_within(wanted, group, children, rng)
    owner_rank = np.repeat(np.arange(n, dtype=np.int64), slots)  # non-decreasing, groups in order
    rank = np.arange(n, dtype=np.int64)
    child_rank = rank[rank - starts[group] >= roots[group]]  # the same groups in the same order
    bad = owner_rank >= child_rank
    if bad.any():  # reports that would point forwards: pick any earlier row of the group instead
        first = starts[group[child_rank[bad]]]
        owner_rank[bad] = first + np.floor(rng.random(int(bad.sum())) * (child_rank[bad] - first)).astype(np.int64)
    out[order[child_rank]] = order[owner_rank]
    return out


def _rescale_within(counts: np.ndarray, group: np.ndarray, totals: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """:func:`~syntho_hive.relational.cardinality.rescale_counts` within each group (``group`` sorted): the
    counts of group ``g`` scaled to sum to ``totals[g]`` (spread evenly where they are all zero)."""
    sums = np.bincount(group, weights=counts, minlength=len(totals))
    weights = np.where(sums[group] > 0, counts, 1.0)
    exact = weights / np.bincount(group, weights=weights, minlength=len(totals))[group] * totals[group]
    base = np.floor(exact).astype(np.int64)
    left = totals - np.bincount(group, weights=base, minlength=len(totals)).astype(np.int64)
    if left.any():  # largest remainders first, ties at random
        remainder = exact - base + rng.random(counts.size) * 1e-9
        ranked = np.lexsort((-remainder, group))
        sizes = np.bincount(group, minlength=len(totals))
        within = np.arange(counts.size) - (np.cumsum(sizes) - sizes)[group[ranked]]
        base[ranked[within < left[group[ranked]]]] += 1
    return base


def cast_like(values: pd.Series, dtype: Any) -> pd.Series:
    """Cast generated key values to the real column's ``dtype`` (its nullable twin, ``Int64`` or
    ``UInt64``, when an integer column has nulls)."""
    try:
        return values.astype(dtype)
    except (TypeError, ValueError):
        if pd.api.types.is_integer_dtype(dtype) and values.isna().any():
            return values.astype(nullable_twin(dtype))
        return values


def _coerce(child: pd.Series, parent: pd.Series) -> pd.Series:
    """``child`` converted to the parent key's kind; values that cannot be converted become null."""
    if pd.api.types.is_numeric_dtype(parent.dtype) and not pd.api.types.is_numeric_dtype(child.dtype):
        # Nullable dtypes: "4611686018427387905" stays that integer (a float64 would round it).
        return pd.to_numeric(child, errors="coerce", dtype_backend="numpy_nullable")
    if not pd.api.types.is_numeric_dtype(parent.dtype) and pd.api.types.is_numeric_dtype(child.dtype):
        as_int = child.dropna()
        if integer_dtype(child.dtype) is not None:
            text = child.astype(object).map(str)
        elif len(as_int) and np.all(np.mod(as_int.to_numpy(dtype=np.float64), 1) == 0):
            text = child.astype("Int64").astype(str)
        else:
            text = child.astype(str)
        return text.where(child.notna(), None).astype(object)
    return child


def drop_integrity_violations(graph: SchemaGraph, data: Mapping[str, pd.DataFrame],
                              pk_of: Mapping[str, list[str]]) -> tuple[dict[str, pd.DataFrame], dict[str, int]]:
    """Drop rows with null or duplicated primary keys and rows with orphan foreign keys.

    Tables are cleaned parents first; a row whose parent was dropped becomes an orphan and is
    dropped too. FK columns whose dtype differs from the parent key's are converted to it
    first (values that cannot be converted count as orphans). Duplicated keys keep their first
    row. A partly null composite FK references no row (SQL's ``MATCH SIMPLE``): it is kept when
    each of its non-null legs is a value of that parent column.

    Args:
        graph: The schema graph.
        data: Real tables.
        pk_of: Primary-key columns per table.

    Returns:
        ``(clean tables, {table: rows dropped})``.
    """
    clean: dict[str, pd.DataFrame] = {}
    dropped: dict[str, int] = {}
    for name in graph.order:
        if name not in data:
            continue
        frame = data[name]
        before = len(frame)
        pk = pk_of.get(name) or []
        if pk:
            keys = frame[pk]
            frame = frame[keys.notna().all(axis=1).to_numpy() & ~keys.duplicated(keep="first").to_numpy()]
        for rel in graph.parents_of(name):
            parent = clean.get(rel.parent)
            if parent is None:
                continue
            frame = frame.copy()
            for c_col, p_col in zip(rel.child_columns, rel.parent_columns):
                frame[c_col] = _coerce(frame[c_col], parent[p_col])
            frame = _keep_referenced(frame, rel, parent)
        for rel in graph.self_references(name):
            for _ in range(len(frame) + 1):  # dropping a row can orphan its reports: repeat
                frame = frame.copy()
                for c_col, p_col in zip(rel.child_columns, rel.parent_columns):
                    frame[c_col] = _coerce(frame[c_col], frame[p_col])
                kept = _keep_referenced(frame, rel, frame)
                if len(kept) == len(frame):
                    break
                frame = kept
        clean[name] = frame.reset_index(drop=True)
        dropped[name] = before - len(frame)
    for name, frame in data.items():
        clean.setdefault(name, frame)
    return clean, dropped


def _keep_referenced(frame: pd.DataFrame, rel: Relationship, parent: pd.DataFrame) -> pd.DataFrame:
    fk, pk = comparable_frames(key_frame(frame, rel.child_columns), key_frame(parent, rel.parent_columns))
    present = fk.notna().all(axis=1).to_numpy()
    pk = pk[pk.notna().all(axis=1)].drop_duplicates()
    hit = np.zeros(len(fk), dtype=bool)
    if present.any():  # a lookup, not a join: keys that merely compare equal cannot add rows
        hit[present] = row_labels(pk).get_indexer(row_labels(fk[present])) >= 0
    # A partly-null composite FK references no row (SQL's MATCH SIMPLE): kept when each of its non-null
    # legs is a value of that parent column, as Metadata.validate_schema checks each FK column.
    partly = ~present & fk.notna().any(axis=1).to_numpy()
    for column in fk.columns if partly.any() else []:
        partly &= fk[column].isna().to_numpy() | fk[column].isin(pk[column]).to_numpy()
    fully_null = fk.isna().all(axis=1).to_numpy()
    keep = (present & hit) | fully_null | partly
    return frame[keep]


def parent_positions(child: pd.DataFrame, child_cols: tuple[str, ...], parent: pd.DataFrame,
               parent_cols: tuple[str, ...]) -> np.ndarray:
    """Row position in ``parent`` of each child row's FK (``-1`` for null or unmatched), matched exactly
    (:func:`comparable_frames`: ``int64`` and ``Int64`` keys, integers beyond ``2**53``).

    Args:
        child: The child rows.
        child_cols: Its FK columns.
        parent: The parent rows.
        parent_cols: The referenced columns, aligned with ``child_cols``.

    Returns:
        ``int64`` positions, one per child row (the first parent row of a repeated key).
    """
    fk, pk = comparable_frames(key_frame(child, child_cols), key_frame(parent, parent_cols))
    first = ~pk.duplicated(keep="first").to_numpy()
    original = np.flatnonzero(first)
    found = row_labels(pk[first]).get_indexer(row_labels(fk))
    null = fk.isna().any(axis=1).to_numpy()
    found[null] = -1
    return np.where(found >= 0, original[np.maximum(found, 0)], -1).astype(np.int64)
