"""Identifier columns: not modelled, generated unique in the training column's format.

Learned formats (checked in this order):

* ``int``: integer values (any integer dtype, or integral floats) -> the sequence
  ``min, min + step, ...`` where ``step`` is the most common gap between sorted distinct values.
* ``datetime``: ``datetime64`` values, naive or tz-aware (a date dimension's key) -> the same
  sequence over timestamps (``step``: the most common gap, e.g. one day), in the training
  dtype; asking for more ids than the dtype can hold (e.g. past 2262 for nanoseconds) is an error. A
  tz-aware column stepping by whole days steps on the wall clock (kind ``local_days``), so its
  keys stay at the same local time across daylight-saving changes.
* ``uuid``: strings shaped like ``8-4-4-4-12`` hex digits -> random version-4 UUIDs drawn from
  the caller's generator (upper case if the training ids were), not ``uuid.uuid4()``.
* ``code``: strings ``<prefix><digits>`` with one common prefix (``"C00042"``) -> the number
  sequence as for ``int``, zero-padded to the training width when all ids had the same width.
* ``random``: anything else -> random strings over the training ids' characters, as long as
  the longest training id (longer if needed for uniqueness).

Generated ids are never null. The output dtype is the training column's.

The learned format is the generator's own state: :meth:`IdGenerator.to_dict` /
:meth:`IdGenerator.from_dict` store it as plain JSON (TabularAR checkpoints), and
:meth:`IdGenerator.merge` combines the formats learned on two partitions of one column.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive.core.data._dtypes import (
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
    null_marker,
    restore_numbers,
    restore_objects,
)
from syntho_hive.core.data._integers import integer_dtype, integer_sequence
from syntho_hive.core.data.encoders.base import GeneratedColumn
from syntho_hive.exceptions import GenerationError, SerializationError

__all__ = ["IdGenerator"]

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_CODE = r"^(.*\D)?(\d+)$"
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MAX_DRAWS = 100
_KINDS = ("int", "datetime", "local_days", "uuid", "code", "random")


def _ticks(stamps: pd.Series, *, wall_clock: bool) -> np.ndarray:
    """Integer ticks (in the column's own unit) of non-null timestamps; a tz-aware column's
    are UTC, or its local wall-clock time with ``wall_clock``."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None) if wall_clock else stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.to_numpy().view(np.int64)


def _step(numbers: np.ndarray) -> int:
    distinct = np.unique(numbers)
    if distinct.size < 2:
        return 1
    gaps, counts = np.unique(np.diff(distinct), return_counts=True)
    return int(max(gaps[np.argmax(counts)], 1))


class IdGenerator(GeneratedColumn):
    """Learn an id format; generate unique ids of that format on inverse transform.

    Args:
        column: Source column name.
    """

    sdtype = "id"

    def __init__(self, column: str) -> None:
        super().__init__(column)
        self.kind = "int"
        self.start = 0
        self.step = 1
        self.prefix = ""
        self.width = 0
        self.upper = False
        self.alphabet = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
        self.length = 12
        self.dtype: Any = None
        self.marker: Any = None

    def prepare(self, series: pd.Series, *, seed: int) -> None:
        self.dtype = series.dtype
        self.marker = null_marker(series)
        present = series.dropna()
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            ticks = _ticks(present, wall_clock=False)
            self.kind, self.start, self.step = "datetime", int(ticks.min()) if ticks.size else 0, _step(ticks)
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                wall = _ticks(present, wall_clock=True)
                day = int(pd.Timedelta(days=1) / pd.Timedelta(1, unit=series.dtype.unit))
                wall_step = _step(wall)
                if wall.size and wall_step % day == 0:
                    self.kind, self.start, self.step = "local_days", int(wall.min()), wall_step
            return
        numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
        if numeric:
            exact = integer_dtype(series.dtype)
            values = None if exact is not None else present.to_numpy(dtype=np.float64)
            if values is None or values.size == 0 or np.all(values == np.round(values)):
                ints = present.to_numpy(dtype=exact or np.int64)  # the column's own integers: exact
                self.kind = "int"
                self.start = int(ints.min()) if ints.size else 0
                self.step = _step(ints)
                return
        text = present.astype(str)
        if not text.empty and text.str.match(_UUID).all():
            self.kind = "uuid"
            self.upper = not text.str.contains("[a-f]").any() and text.str.contains("[A-F]").any()
            return
        parts = text.str.extract(_CODE)
        if not text.empty and parts[1].notna().all() and parts[0].fillna("").nunique() == 1:
            digits = parts[1]
            numbers = digits.astype(np.int64).to_numpy() if digits.str.len().max() <= 18 else None
            if numbers is not None:
                self.kind = "code"
                self.prefix = str(parts[0].fillna("").iloc[0])
                lengths = digits.str.len()
                padded = lengths.nunique() == 1 and digits.str.startswith("0").any()
                self.width = int(lengths.iloc[0]) if lengths.nunique() == 1 and (
                    padded or lengths.iloc[0] > 1) else 0
                self.start = int(numbers.min())
                self.step = _step(numbers)
                return
        self.kind = "random"
        joined = "".join(text.unique().tolist()) or "0123456789abcdefghijklmnopqrstuvwxyz"
        self.alphabet = np.unique(np.frombuffer(joined.encode("utf-8"), dtype=np.uint8))
        if self.alphabet.max() >= 128:  # non-ASCII ids: use a safe alphanumeric alphabet
            self.alphabet = np.frombuffer(b"0123456789abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
        self.length = int(max(text.str.len().max() if not text.empty else 12, 1))

    def to_dict(self) -> dict[str, Any]:
        """The learned format as plain JSON (what :meth:`from_dict` reads back).

        Returns:
            ``kind``, ``start``, ``step``, ``prefix``, ``width``, ``upper``, ``length``, ``alphabet``
            (a string), ``dtype`` (:func:`~syntho_hive.core.data._dtypes.dtype_to_json`) and
            ``marker`` (the null marker's JSON form).

        Raises:
            SerializationError: The column's dtype cannot be stored (it would not read back).
        """
        return {"kind": str(self.kind), "start": int(self.start), "step": int(self.step), "prefix": str(self.prefix),
                "width": int(self.width), "upper": bool(self.upper), "length": int(self.length),
                "alphabet": bytes(np.asarray(self.alphabet, dtype=np.uint8)).decode("ascii"),
                "dtype": dtype_to_json(self.dtype, f"id column {self.column!r}"),
                "marker": marker_to_json(self.marker)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, column: str) -> "IdGenerator":
        """A generator with the format :meth:`to_dict` stored.

        Args:
            data: The stored format.
            column: The column's name.

        Returns:
            The generator, ready to :meth:`generate`.

        Raises:
            SerializationError: ``data`` lacks a field or holds a bad one.
        """
        where = f"id column {column!r}"
        try:
            generator = cls(column)
            if data["kind"] not in _KINDS:
                raise ValueError(f"unknown id kind {data['kind']!r}")
            generator.kind = str(data["kind"])
            generator.start, generator.step = int(data["start"]), int(data["step"])
            generator.prefix, generator.width = str(data["prefix"]), int(data["width"])
            generator.upper, generator.length = bool(data["upper"]), int(data["length"])
            generator.alphabet = np.frombuffer(str(data["alphabet"]).encode("ascii"), dtype=np.uint8).copy()
            generator.dtype = dtype_from_json(data["dtype"], where)
            generator.marker = marker_from_json(data["marker"])
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(f"{where}: the stored id format is corrupt ({type(exc).__name__}: {exc}); "
                                     "fit the model again.") from exc
        return generator

    def merge(self, other: "IdGenerator") -> "IdGenerator":
        """The format of two partitions of one column together.

        This generator's format, with a sequence (``int``, ``code``, of the same kind in both)
        starting at the smaller start and stepping by the smaller step, and random ids drawn over
        both alphabets, as long as the longer.

        Args:
            other: The generator fitted on the other partition.

        Returns:
            A new generator.
        """
        merged = copy.copy(self)
        if self.kind == other.kind and self.kind in ("int", "code"):
            merged.start, merged.step = min(int(self.start), int(other.start)), min(int(self.step), int(other.step))
        if self.kind == "random":
            merged.alphabet = np.union1d(np.asarray(self.alphabet, dtype=np.uint8),
                                         np.asarray(other.alphabet, dtype=np.uint8))
            merged.length = max(int(self.length), int(other.length))
        return merged

    def generate(self, n: int, rng: np.random.Generator) -> pd.Series:
        """``n`` unique ids in the learned format and dtype."""
        nulls = np.zeros(n, dtype=bool)
        if self.kind in ("datetime", "local_days"):
            return self._timestamps(n)
        if self.kind == "int":
            numbers = integer_sequence(int(self.start), np.arange(n, dtype=np.int64), int(self.step),
                                       integer_dtype(self.dtype) or np.dtype(np.int64), self.column)
            return restore_numbers(numbers, nulls, self.dtype, self.marker, self.column)
        if self.kind == "code":
            numbers = integer_sequence(int(self.start), np.arange(n, dtype=np.int64), int(self.step),
                                       np.dtype(np.int64), self.column)
            text = pd.Series(numbers.astype(str), dtype=object)
            if self.width:
                text = text.str.zfill(self.width)
            values = (self.prefix + text).to_numpy(dtype=object)
        elif self.kind == "uuid":
            values = self._unique(n, rng, self._uuids)
        else:
            values = self._unique(n, rng, self._random_strings)
        return self._restore(values, nulls)

    def _timestamps(self, n: int) -> pd.Series:
        """The ``datetime`` kind's sequence, in the training dtype.

        Raises:
            GenerationError: The sequence would pass the last timestamp the dtype can hold.
        """
        unit = self.dtype.unit if isinstance(self.dtype, pd.DatetimeTZDtype) else np.datetime_data(self.dtype)[0]
        last = self.start + self.step * max(n - 1, 0)  # Python ints: no overflow
        if last > np.iinfo(np.int64).max:
            limit = (np.iinfo(np.int64).max - self.start) // self.step + 1
            raise GenerationError(
                f"Cannot generate {n} unique keys for datetime column {self.column!r}: its sequence (one key "
                f"every {pd.Timedelta(self.step, unit=unit)}) passes the last timestamp pandas can hold after "
                f"{limit} keys. Generate fewer rows for this table.")
        numbers = self.start + self.step * np.arange(n, dtype=np.int64)
        stamps = pd.Series(numbers.view(f"datetime64[{unit}]"), name=self.column)
        if self.kind == "local_days":  # whole days on the wall clock: distinct dates, so unique
            stamps = stamps.dt.tz_localize(self.dtype.tz, ambiguous=np.zeros(n, dtype=bool),
                                           nonexistent="shift_forward")
        elif isinstance(self.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(self.dtype.tz)
        return stamps.astype(self.dtype)

    def _restore(self, values: np.ndarray, nulls: np.ndarray) -> pd.Series:
        if isinstance(self.dtype, pd.CategoricalDtype):
            return pd.Series(pd.Categorical(values), name=self.column)
        return restore_objects(values, nulls, self.dtype, self.marker, self.column)

    @staticmethod
    def _unique(n: int, rng: np.random.Generator, draw: Any) -> np.ndarray:
        values = draw(n, rng)
        for _ in range(_MAX_DRAWS):
            _, first = np.unique(values, return_index=True)
            if first.size == n:
                return values
            duplicate = np.ones(n, dtype=bool)
            duplicate[first] = False
            values[duplicate] = draw(int(duplicate.sum()), rng)
        raise RuntimeError("could not draw unique ids")  # pragma: no cover - 2^-100 odds

    def _uuids(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
        raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
        raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
        hexed = np.empty((n, 32), dtype=np.uint8)
        hexed[:, 0::2] = _HEX[raw >> 4]
        hexed[:, 1::2] = _HEX[raw & 0x0F]
        chars = np.full((n, 36), ord("-"), dtype=np.uint8)
        for src, dst in ((slice(0, 8), slice(0, 8)), (slice(8, 12), slice(9, 13)),
                         (slice(12, 16), slice(14, 18)), (slice(16, 20), slice(19, 23)),
                         (slice(20, 32), slice(24, 36))):
            chars[:, dst] = hexed[:, src]
        if self.upper:
            chars = np.where((chars >= ord("a")) & (chars <= ord("f")), chars - 32, chars).astype(np.uint8)
        return chars.view("S36").ravel().astype(str).astype(object)

    def _random_strings(self, n: int, rng: np.random.Generator) -> np.ndarray:
        length = self.length
        # Long enough that collisions are rare: alphabet^length >= 1000 * n^2.
        needed = np.log(max(n, 2) ** 2 * 1000.0) / np.log(max(self.alphabet.size, 2))
        length = max(length, int(np.ceil(needed)))
        chars = self.alphabet[rng.integers(0, self.alphabet.size, size=(n, length))]
        return chars.astype(np.uint8).view(f"S{length}").ravel().astype(str).astype(object)
