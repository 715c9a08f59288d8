"""Identifier columns: not modelled, generated unique in the training column's format.

Learned formats (checked in this order):

* ``int``: integer values (any integer dtype, or integral floats) -> the sequence
  ``min, min + step, ...`` where ``step`` is the most common gap between sorted distinct values.
* ``decimal``: floats with a fractional part (``1.5, 2.0, 3.25``) that all have at most
  ``decimals`` digits after the point -> the ``int`` sequence of the values times
  ``10 ** decimals``, divided back (``1.5, 1.75, 2.0, ...``); other fractional floats cannot be
  keys (an error at fit).
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

Ids can also be generated from global indices (:meth:`IdGenerator.generate` with
``indices``), so that tasks generating parts of one table without talking to each other
produce unique ids together: sequences (``int``, ``decimal``, ``code``, ``datetime``) put index ``i`` at
``start + step * i``, random strings map the index bijectively into the string space
(:func:`indexed_strings`) and UUIDs hash it with a seeded key.

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
from syntho_hive.core.data._integers import integer_dtype, integer_sequence, mix64, permute_indices
from syntho_hive.core.data.encoders.base import GeneratedColumn
from syntho_hive.core.metadata.decimals import FLOAT_EXACT, MAX_DECIMALS, decimal_digits, float_dtype
from syntho_hive.exceptions import GenerationError, SchemaError, SerializationError

__all__ = ["IdGenerator", "check_indices", "decimal_numerators", "indexed_strings", "timestamp_ticks"]

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_CODE = r"^(.*\D)?(\d+)$"
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_MAX_DRAWS = 100
_KINDS = ("int", "decimal", "datetime", "local_days", "uuid", "code", "random")
#: Longest id (and zero-padded width) a stored format may ask for.
_MAX_LENGTH = 1 << 16
#: Largest product of alphabet sizes permuted as one number (the other positions are hashed).
_MAX_SPACE = 2**62


def check_indices(indices: np.ndarray, n: int, column: str) -> np.ndarray:
    """``indices`` as ``int64``, checked to be ``n`` distinct non-negative integers.

    Raises:
        GenerationError: Not ``n`` of them, or a negative or repeated index.
    """
    values = np.asarray(indices)
    if values.ndim != 1 or values.size != n or (values.size and values.dtype.kind not in "iu"):
        raise GenerationError(f"Column {column!r}: indices must be {n} integers (one per key), got "
                              f"{values.dtype} of shape {values.shape}.")
    values = values.astype(np.int64)
    if values.size and int(values.min()) < 0:
        raise GenerationError(f"Column {column!r}: key indices must be non-negative, got {int(values.min())}.")
    increasing = values.size < 2 or bool((np.diff(values) > 0).all())
    if not increasing and np.unique(values).size != values.size:
        raise GenerationError(f"Column {column!r}: key indices must be distinct (one per key).")
    return values


def indexed_strings(indices: np.ndarray, alphabets: list[str], key: int, column: str) -> np.ndarray:
    """Strings of ``len(alphabets)`` characters, one per index, distinct for distinct indices.

    The index goes through a keyed permutation (:func:`~syntho_hive.core.data._integers.permute_indices`)
    of the space of the last positions (as many as fit ``2**62`` values), written in mixed radix
    over their alphabets, so the map is a bijection of that space, the same wherever it is
    computed with the same ``key``; any earlier positions get characters hashed from the index.

    Args:
        indices: Distinct non-negative global indices.
        alphabets: The characters allowed at each position (ASCII), one string per position.
        key: Permutation key (the same in every partition of one table).
        column: Column name, for messages.

    Returns:
        ``object`` array of strings.

    Raises:
        GenerationError: An index does not fit the space of the pattern.
    """
    values = np.asarray(indices, dtype=np.int64)
    if not alphabets:
        raise GenerationError(f"Cannot generate keys for column {column!r}: its key pattern has no characters.")
    radices = [len(a) for a in alphabets]
    counted: list[int] = []  # positions permuted as one number, last position first
    space = 1
    for position in reversed(range(len(alphabets))):
        if space * radices[position] > _MAX_SPACE:
            break
        space *= radices[position]
        counted.append(position)
    if values.size and int(values.max()) >= space:
        raise GenerationError(
            f"Cannot generate keys for column {column!r} from global index {int(values.max())}: its key "
            f"pattern ({len(alphabets)} characters drawn from the real keys' characters at each position) "
            f"holds only {space} distinct keys. Generate fewer rows for this table (or use fewer partitions).")
    codes = permute_indices(values, space, key)
    chars = np.empty((values.size, len(alphabets)), dtype=np.uint8)
    for position in counted:
        table = np.frombuffer(alphabets[position].encode("ascii"), dtype=np.uint8)
        chars[:, position] = table[codes % radices[position]]
        codes = codes // radices[position]
    for position in range(len(alphabets) - len(counted)):
        table = np.frombuffer(alphabets[position].encode("ascii"), dtype=np.uint8)
        hashed = mix64(values, int(key) + 7919 * (position + 1))
        chars[:, position] = table[(hashed % np.uint64(radices[position])).astype(np.int64)]
    return chars.view(f"S{len(alphabets)}").ravel().astype(str).astype(object)


def timestamp_ticks(stamps: pd.Series, *, wall_clock: bool) -> np.ndarray:
    """Integer ticks (in the column's own unit) of non-null timestamps; a tz-aware column's
    are UTC, or its local wall-clock time with ``wall_clock``."""
    if isinstance(stamps.dtype, pd.DatetimeTZDtype):
        stamps = stamps.dt.tz_localize(None) if wall_clock else stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.to_numpy().view(np.int64)


def decimal_numerators(values: Any, decimals: int) -> Any:
    """The numerators of ``decimal`` keys ``values`` (an array or a Series, no null) on their
    ``10 ** decimals`` grid, as rounded floats."""
    return np.round(values.astype(np.float64) * 10.0 ** int(decimals))


def _distinct_numerators(dtype: Any, step: int) -> int:
    """Bound on the numerators of ``decimal`` keys held in float ``dtype`` that step by ``step``: below
    ``step * 2 ** mantissa bits`` (and ``2**53``, where ``float64`` stops holding integers) the keys are
    farther apart than the float's resolution there, so distinct numerators give distinct keys (for
    ``float32`` by steps of ``0.25``: keys below ``2**21``)."""
    return min(max(int(step), 1) * 2 ** int(np.finfo(float_dtype(dtype)).nmant), FLOAT_EXACT)


def _decimals(values: np.ndarray, column: str) -> int:
    """:func:`decimal_digits` of ``values`` (finite floats, some fractional).

    Raises:
        SchemaError: No such number of digits up to ``MAX_DECIMALS``.
    """
    digits = decimal_digits(values)
    if digits is not None:
        return digits
    example = next(v for v in values if v != np.round(v))
    raise SchemaError(
        f"Column {column!r} is a key holding fractional floats such as {example} that are not short decimals "
        f"(at most {MAX_DECIMALS} digits after the point in its {values.dtype}), so no unique keys of their format "
        "can be generated. "
        "Declare an integer or string key column instead (e.g. number the rows, and map the references to the "
        "numbers).")


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
        self.decimals = 0
        self.dtype: Any = None
        self.marker: Any = None

    def prepare(self, series: pd.Series, *, seed: int) -> None:
        """Learn the format of ``series`` (see the module's docstring).

        Raises:
            SchemaError: Fractional floats with more digits after the point than a ``decimal`` key holds.
        """
        self.dtype = series.dtype
        self.marker = null_marker(series)
        present = series.dropna()
        if pd.api.types.is_datetime64_any_dtype(series.dtype):
            ticks = timestamp_ticks(present, wall_clock=False)
            self.kind, self.start, self.step = "datetime", int(ticks.min()) if ticks.size else 0, _step(ticks)
            if isinstance(series.dtype, pd.DatetimeTZDtype):
                wall = timestamp_ticks(present, wall_clock=True)
                day = int(pd.Timedelta(days=1) / pd.Timedelta(1, unit=series.dtype.unit))
                wall_step = _step(wall)
                if wall.size and wall_step % day == 0:
                    self.kind, self.start, self.step = "local_days", int(wall.min()), wall_step
            return
        numeric = pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype)
        if numeric:
            exact = integer_dtype(series.dtype)
            values = None if exact is not None else present.to_numpy(dtype=float_dtype(series.dtype))
            if values is None or values.size == 0 or np.all(values == np.round(values)):
                ints = present.to_numpy(dtype=exact or np.int64)  # the column's own integers: exact
                self.kind = "int"
                self.start = int(ints.min()) if ints.size else 0
                self.step = _step(ints)
                return
            self.kind, self.decimals = "decimal", _decimals(values, self.column)
            ints = decimal_numerators(values, self.decimals).astype(np.int64)
            self.start, self.step = int(ints.min()), _step(ints)
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
            ``kind``, ``start``, ``step``, ``prefix``, ``width``, ``upper``, ``length``, ``decimals``, ``alphabet``
            (a string), ``dtype`` (:func:`~syntho_hive.core.data._dtypes.dtype_to_json`) and
            ``marker`` (the null marker's JSON form).

        Raises:
            SerializationError: The column's dtype cannot be stored (it would not read back).
        """
        return {"kind": str(self.kind), "start": int(self.start), "step": int(self.step), "prefix": str(self.prefix),
                "width": int(self.width), "upper": bool(self.upper), "length": int(self.length),
                "decimals": int(self.decimals),
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
            numbers = {name: data[name] for name in ("start", "step", "width", "length")}
            bad = [name for name, value in numbers.items() if type(value) is not int]
            if bad or numbers["step"] < 1 or not 0 <= numbers["width"] <= _MAX_LENGTH \
                    or not 1 <= numbers["length"] <= _MAX_LENGTH:
                raise ValueError(f"start, step, width and length must be integers with step >= 1, width in "
                                 f"0..{_MAX_LENGTH} and length in 1..{_MAX_LENGTH}, got {str(numbers)[:200]}")
            if not isinstance(data["prefix"], str) or not isinstance(data["upper"], bool) \
                    or not isinstance(data["alphabet"], str) or not data["alphabet"]:
                raise ValueError("prefix and alphabet must be text (the alphabet not empty), upper true or false")
            generator.kind = str(data["kind"])
            generator.start, generator.step = numbers["start"], numbers["step"]
            generator.prefix, generator.width = data["prefix"], numbers["width"]
            generator.upper, generator.length = data["upper"], numbers["length"]
            decimals = data.get("decimals", 0)  # absent before the ``decimal`` kind
            if type(decimals) is not int or not 0 <= decimals <= MAX_DECIMALS:
                raise ValueError(f"decimals must be an integer in 0..{MAX_DECIMALS}, got {str(decimals)[:50]}")
            generator.decimals = decimals
            generator.alphabet = np.frombuffer(data["alphabet"].encode("ascii"), dtype=np.uint8).copy()
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
        if self.kind == other.kind == "decimal":  # on the grid of the finer of the two
            decimals = max(int(self.decimals), int(other.decimals))
            starts, steps = zip(*((int(g.start) * 10 ** (decimals - int(g.decimals)),
                                   int(g.step) * 10 ** (decimals - int(g.decimals))) for g in (self, other)))
            merged.decimals, merged.start, merged.step = decimals, min(starts), min(steps)
        if self.kind == "random":
            merged.alphabet = np.union1d(np.asarray(self.alphabet, dtype=np.uint8),
                                         np.asarray(other.alphabet, dtype=np.uint8))
            merged.length = max(int(self.length), int(other.length))
        return merged

    def generate(self, n: int, rng: np.random.Generator, *, indices: np.ndarray | None = None) -> pd.Series:
        """``n`` unique ids in the learned format and dtype.

        Args:
            n: Number of ids.
            rng: Source of the draws. With ``indices``, every part of one table must get a
                generator seeded alike: it decides the map from indices to ids, not the ids of
                one part.
            indices: Global index of each id (``n`` distinct non-negative integers); ``None``:
                ``0 .. n - 1``, drawn as ever. Ids of distinct indices are distinct, also across
                calls with the same ``rng`` seed: sequences put index ``i`` at ``start + step * i``,
                random strings map it bijectively into their space (:func:`indexed_strings`) and
                UUIDs hash it with a key drawn from ``rng``.

        Returns:
            The ids.

        Raises:
            GenerationError: Bad ``indices``, or an index past what the format holds.
        """
        if indices is not None:
            return self._indexed(check_indices(indices, n, self.column), rng)
        if self.kind in ("uuid", "random"):  # drawn; the sequences are the ids of 0 .. n - 1
            draw = self._uuids if self.kind == "uuid" else self._random_strings
            return self._restore(self._unique(n, rng, draw))
        return self._indexed(np.arange(n, dtype=np.int64), rng)

    def _indexed(self, indices: np.ndarray, rng: np.random.Generator) -> pd.Series:
        """The id of each global index (see :meth:`generate`)."""
        n = indices.size
        if self.kind in ("datetime", "local_days"):
            return self._timestamps(indices)
        if self.kind == "int":
            numbers = integer_sequence(int(self.start), indices, int(self.step),
                                       integer_dtype(self.dtype) or np.dtype(np.int64), self.column)
            if pd.api.types.is_float_dtype(self.dtype):
                self._check_whole_floats(numbers, indices)
            return restore_numbers(numbers, np.zeros(n, dtype=bool), self.dtype, self.marker, self.column)
        if self.kind == "decimal":
            return restore_numbers(self._decimal_values(indices), np.zeros(n, dtype=bool), self.dtype, self.marker,
                                   self.column)
        if self.kind == "code":
            values = self._codes(indices)
        elif self.kind == "uuid":
            values = self._indexed_uuids(indices, rng)
        else:
            alphabet = bytes(np.asarray(self.alphabet, dtype=np.uint8)).decode("ascii")
            if len(alphabet) < 2:
                raise GenerationError(f"Cannot generate distinct random ids for column {self.column!r}: its "
                                      f"ids use a single character {alphabet!r}.")
            length, space = int(self.length), len(alphabet) ** int(self.length)
            while n and space <= int(indices.max()):  # longer ids never equal shorter ones
                length, space = length + 1, space * len(alphabet)
            values = indexed_strings(indices, [alphabet] * length, int(rng.integers(0, 2**63)), self.column)
        return self._restore(values)

    def _check_whole_floats(self, numbers: np.ndarray, indices: np.ndarray) -> None:
        """Refuse ``int`` keys (``numbers``, of ``indices``) that the column's float dtype cannot hold exactly
        (a ``float32`` holds every integer only up to ``2**24``: ``16777217`` would be written ``16777216``,
        the key before it).

        Raises:
            GenerationError: A key is not a whole number of the column's float dtype.
        """
        held = float_dtype(self.dtype)
        with np.errstate(invalid="ignore"):  # past int64 a float does not come back at all
            inexact = numbers.astype(held).astype(np.int64) != numbers
        if inexact.any():
            raise GenerationError(
                f"Cannot generate unique keys for column {self.column!r} up to index {int(indices.max())}: its "
                f"whole-number keys (from {self.start}, one every {self.step}) would pass what its {held} holds "
                f"exactly ({int(numbers[inexact][0])} is not one). Generate fewer rows for this table, or store the "
                "key as an integer column" + (" or as float64." if held.itemsize < 8 else "."))

    def _decimal_values(self, indices: np.ndarray) -> np.ndarray:
        """The ``decimal`` kind's floats ``(start + step * index) / 10 ** decimals``: distinct in the column's
        dtype, as their numerators are distinct integers below :func:`_distinct_numerators` of it.

        Raises:
            GenerationError: A numerator would reach that bound.
        """
        numbers = integer_sequence(int(self.start), indices, int(self.step), np.dtype(np.int64), self.column)
        limit = _distinct_numerators(self.dtype, int(self.step))
        if numbers.size and int(np.abs(numbers).max()) >= limit:
            raise GenerationError(
                f"Cannot generate unique keys for column {self.column!r} up to index {int(indices.max())}: its "
                f"decimal keys ({self.decimals} digits after the point, one every {self.step} / "
                f"10**{self.decimals}) would pass what its {float_dtype(self.dtype)} holds distinctly "
                f"(numerators below {limit}). Generate fewer rows for this table"
                + (", or store the key as float64." if float_dtype(self.dtype).itemsize < 8 else "."))
        return numbers / 10.0 ** int(self.decimals)

    def _codes(self, indices: np.ndarray) -> np.ndarray:
        """``<prefix><number>`` for each index's number ``start + step * index`` (zero-padded to the width)."""
        numbers = integer_sequence(int(self.start), indices, int(self.step), np.dtype(np.int64), self.column)
        text = pd.Series(numbers.astype(str), dtype=object)
        if self.width:
            text = text.str.zfill(self.width)
        return (self.prefix + text).to_numpy(dtype=object)

    def _indexed_uuids(self, indices: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Version-4 UUIDs whose 122 random bits hash each index with two keys drawn from ``rng``:
        distinct indices collide only if two 60- and 62-bit hashes both do (negligible)."""
        first, second = (int(k) for k in rng.integers(0, 2**63, size=2))
        words = np.stack([mix64(indices, first), mix64(indices, second)], axis=1).astype(">u8")
        return self._format_uuids(words.view(np.uint8).reshape(-1, 16).copy())

    def _timestamps(self, offsets: np.ndarray) -> pd.Series:
        """The ``datetime`` kind's sequence at ``offsets`` (``int64``), in the training dtype.

        Raises:
            GenerationError: The sequence would pass the last timestamp the dtype can hold.
        """
        n = offsets.size
        unit = self.dtype.unit if isinstance(self.dtype, pd.DatetimeTZDtype) else np.datetime_data(self.dtype)[0]
        last = self.start + self.step * max(int(offsets.max()) if offsets.size else 0, 0)  # Python ints
        if last > np.iinfo(np.int64).max:
            limit = (np.iinfo(np.int64).max - self.start) // self.step + 1
            raise GenerationError(
                f"Cannot generate {n} unique keys for datetime column {self.column!r}: its sequence (one key "
                f"every {pd.Timedelta(self.step, unit=unit)}) passes the last timestamp pandas can hold after "
                f"{limit} keys. Generate fewer rows for this table.")
        numbers = self.start + self.step * offsets
        stamps = pd.Series(numbers.view(f"datetime64[{unit}]"), name=self.column)
        if self.kind == "local_days":  # whole days on the wall clock: distinct dates, so unique
            stamps = stamps.dt.tz_localize(self.dtype.tz, ambiguous=np.zeros(n, dtype=bool),
                                           nonexistent="shift_forward")
        elif isinstance(self.dtype, pd.DatetimeTZDtype):
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(self.dtype.tz)
        return stamps.astype(self.dtype)

    def _restore(self, values: np.ndarray) -> pd.Series:
        """Generated ids (never missing) in the training dtype."""
        if isinstance(self.dtype, pd.CategoricalDtype):
            return pd.Series(pd.Categorical(values), name=self.column)
        return restore_objects(values, np.zeros(len(values), dtype=bool), self.dtype, self.marker, self.column)

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
        return self._format_uuids(rng.integers(0, 256, size=(n, 16), dtype=np.uint8))

    def _format_uuids(self, raw: np.ndarray) -> np.ndarray:
        """Version-4 UUID strings of 16 random bytes per row (``raw`` is modified)."""
        n = raw.shape[0]
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
