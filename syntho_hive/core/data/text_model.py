"""Free-text columns (names, emails, addresses): generated word by word, never copied.

A text column has (nearly) a distinct value per row, so as a category every value would be
rare: a model could only replay training values (a privacy leak) or emit a placeholder.
Instead the column is not modelled; each generated value is a sequence of words drawn from
aggregate statistics:

* the number of words per value, as in training;
* each word by its slot (the only word, first, middle or last): a word that at least
  ``rare_threshold`` rows hold in that slot (a row repeating it counts once) is reused by frequency
  (``"Inc."`` at the end of company names, ``"Airport"``), and in place of the rarer words a new one
  is invented with their length and casing (title, upper, lower or mixed case) distributions and
  characters drawn by the number of rows whose rarer words hold them (only the characters that
  the rarer words of ``rare_threshold`` rows hold, so the counts never spell out a few rare words;
  ``a``-``z`` uniformly when no character is held that often).

Every statistic of the rarer words (and of the values) is an aggregate of ``rare_threshold`` rows
or more, so none describes a single rare value: a row counts once per
slot, length, casing and character however many rarer words hold it (``"Xq Yq Zq Wq Vq Uq Tq"`` is
one row of 2-letter title-case words holding ``q``, not seven); a length (or number of
words per value) seen that often keeps its count and the rarer ones are binned, shortest first, into
bins of ``rare_threshold`` values or more kept at their mean length (:func:`_binned`; fewer than
that in all count at the nearest kept length, so the counts add up to the rare words'); a casing
seen that often keeps its count, the rarer ones together count under the most common of them (under
the most common kept casing when fewer than ``rare_threshold``); the share of uppercase letters of
mixed-case words is kept from ``rare_threshold`` of them (``0`` else); a slot with fewer rarer words
than that keeps none of them (not even their number), so it invents no word unless it has no
frequent word either, when its words take the frequent words' lengths and casing (3 to 8 lowercase
letters without any).

The fitted :class:`TextModel` keeps only the frequent words and those aggregates, never a
rare word or a whole value, so a training value comes back only if it is made of frequent
words alone (such as a common first name and surname). Generated values do not depend on
the other columns. Whitespace runs become single spaces. The null rate and the column's dtype
are kept (a ``category`` column comes back as a categorical of the generated values: its
training categories are real values and are not stored).

Two other kinds of column are generated differently:

* **Structured strings** (JSON documents, times, codes such as ``"AB-1234"``) would become character
  soup word by word. A value's *shape* maps each lowercase letter to ``a``, each uppercase letter to
  ``A``, each decimal digit to ``9`` and keeps any other character (``'{"k": 802}'`` ->
  ``'{"a": 999}'``). Shapes are counted over the values that hold a digit or punctuation (values of letters
  and spaces only, such as names, never switch mode) and of at most :data:`MAX_TEMPLATE_LENGTH`
  characters. When the shapes seen at least ``rare_threshold`` times cover at least
  :data:`TEMPLATE_COVERAGE` of the non-null values, values are generated from these templates, run
  by run. A shape splits into *runs* (:func:`class_runs`): maximal stretches of one class
  (lowercase, uppercase or digits; ``'{"a": aaaa}'`` has the runs ``a`` and ``aaaa``) and literal
  characters, which are copied. A value is made from a shape drawn by its count, then for each run
  of that shape either one of the run's values seen there at least ``rare_threshold`` times, drawn
  by count (``true``/``null``, an hour ``07``, a month ``03``), or, with the share of the rarer run
  values (like the word model's rare share; none when fewer than ``rare_threshold`` rows hold a
  rarer one), a run invented character by character: at each position a character seen there at
  least ``rare_threshold`` times among the rarer run values (by count) or, with the share of the
  rest, one drawn from the class's overall frequencies in the rarer run values (those at the first
  position of a run of two or more apart, so a number's leading digit is not ``0`` when it never
  was; only characters held by the rarer runs of ``rare_threshold`` values, a value counted once
  however many of its runs hold them, the class's letters or digits uniformly when none is). Numbers
  whose values are each rare (ids) are thus invented digit by digit, while JSON literals and hours,
  minutes, days and months seen often come back whole. Runs are drawn independently of each other,
  so a date could pair a day and a month that do not go together (``2021-02-30``, 1% of a uniform
  range of dates): where the training values of a shape hold a valid date at one place (year, month
  and day as ``9999-99-99``, ``99-99-9999`` day or month first (one order per column: month first when
  more rows are of shapes whose training dates are valid month first only than day first only),
  separated by ``-``, ``/`` or ``.``, month and day with or without a leading zero (``4/15/2023``), as
  ``99999999`` (``20230415``) or ``99999999999999`` (``20230415123000``, its time checked too), or
  with an English month name or its abbreviation, ``15 Apr 2023``, ``15-Apr-2023``, ``April 15, 2023``;
  or a time of day, alone or in a date-time: ``9:30``, ``12:30:00``, ``2023-04-15T12:30:00``, hour at most 23,
  minute and second at most 59 (``9:15 AM``, ``12:40:05pm``: hour 1-12, then AM or PM); all values but fewer than
  ``rare_threshold``, or 1%, so one invalid date neither turns this off nor shows in the state), a value whose date
  is not valid is drawn again (up to 10 times, then its day is moved into its month, its time capped at
  ``23:59:59`` (a 12-hour one's hour into 1-12), and a month name that is none becomes the month name of its
  length sharing most letters with it). A date's year is valid only within its shape's ``rare_threshold``-th
  earliest and latest training years (an invented year of ``20230415123000`` stays in the training range; capped
  there after the redraws). A month name (``Apr``, ``APRIL``) is drawn whole, by count, from those seen
  ``rare_threshold`` times or more, so months keep their training shares; a month
  drawn in pieces (the digits of a ``99999999`` date, all of whose runs are rare) follows those draws, not the
  training months. Only frequent shapes, frequent run values and aggregate character
  counts are kept, never a rare run value (so never a rare value): a generated value equals a
  training value only if all its runs are frequent (as a date of a frequent year, month and day), or
  by chance when an invented run equals a rare one (a short number). States written by the first,
  per-position form of this mode (each position drawn on its own) still load and generate as they
  did.
* **Binary values** (``bytes``, ``bytearray``, ``memoryview``: BLOB/BYTEA columns) are generated as
  random bytes, never a training value: byte lengths seen at least ``rare_threshold`` times are
  drawn by count (the rarer lengths binned at their mean like word lengths; with fewer than
  ``rare_threshold`` values in all, at ``max_length``, below, or with fewer rarer ones, counted at the
  nearest kept length), each byte uniform in 0..255. The column comes back as an ``object`` column
  of ``bytes``. A column mixing bytes with other values is refused.

No generated value is longer than the longest training value (characters, or bytes for a binary
column), so a ``VARCHAR(n)`` target accepts them. The model keeps ``max_length``, the
``rare_threshold``-th longest value's length (with fewer values, their mean length rounded half up), so
no single value decides it: the words of a word-model value that is longer are drawn again (same
number of words, up to 10 times), and a value still too long is then truncated at that length with
its trailing spaces stripped; the shapes and byte lengths, aggregates of ``rare_threshold`` values,
are no longer than the longest. Models fitted before these additions (states without the
``max_length``, ``template`` and ``binary`` keys) generate exactly as they did.

Statistics flow :func:`analyze_text` (one partition) -> :meth:`TextStats.merge` (partitions,
associative and commutative) -> :meth:`TextModel.build`; :meth:`TextModel.fit` does both for
one in-memory column. Used by the DataTransformer (CTGAN, TVAE) and, through a thin codec
adapter, by TabularAR.
"""

from __future__ import annotations

import calendar
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import InitVar, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from syntho_hive._checks import is_int
from syntho_hive.core.data._dtypes import (
    dtype_from_json,
    dtype_to_json,
    marker_from_json,
    marker_to_json,
    null_marker,
    restore_objects,
)
from syntho_hive.exceptions import GenerationError, SchemaError, SerializationError

__all__ = ["CLASS_KEYS", "DEFAULT_RARE_THRESHOLD", "MAX_TEMPLATE_LENGTH", "SLOTS", "TEMPLATE_COVERAGE", "TextModel",
           "TextStats", "analyze_text", "class_keys", "class_runs", "shape_of"]

#: Words seen fewer times than this in their slot are never reproduced (same default as TabularAR).
DEFAULT_RARE_THRESHOLD = 5
#: Word positions, each with its own word statistics.
SLOTS = ("only", "first", "middle", "last")
_STATE_KEYS = ("lengths", "nulls", "rows", "dtype", "marker", "slots", "chars", "upper_share")
#: Values longer than this (in characters) are never templates (their shapes are not counted).
MAX_TEMPLATE_LENGTH = 100
#: Share of the non-null values the frequent shapes must cover for the template mode.
TEMPLATE_COVERAGE = 0.9
#: Character classes of a shape: lowercase letter, uppercase letter, decimal digit.
CLASSES = ("a", "A", "9")
#: Keys of the per-class character tables: a class, or ``^`` + class at the first position of a run of
#: two or more positions of that class (where a number's leading digit is, never ``0`` in ``802``).
CLASS_KEYS = CLASSES + tuple(f"^{cls}" for cls in CLASSES)
#: Rounds of redrawing the word-model values longer than the longest training value (then truncated).
_REDRAWS = 10
_BINARY = (bytes, bytearray, memoryview)
_NESTED = (list, tuple, dict, set, frozenset, np.ndarray)
#: A character that is neither a letter nor whitespace (a digit, ``_`` or punctuation).
_STRUCTURED = re.compile(r"[^\w\s]|[\d_]")
#: Characters an invented word (or run of a class key) is drawn from, uniformly, when no character was held by
#: ``rare_threshold`` rare values (their counts are then not kept: they could spell out the few rare values).
_ALPHABETS = {"word": string.ascii_lowercase, "a": string.ascii_lowercase, "A": string.ascii_uppercase,
              "9": string.digits, "^a": string.ascii_lowercase, "^A": string.ascii_uppercase, "^9": "123456789"}

#: Lengths of invented words (drawn uniformly) when neither ``rare_threshold`` rare words nor a frequent word
#: give any.
_STAND_IN_LENGTHS = range(3, 9)

#: Dates (and times) a shape may hold (whole runs): the order of year (``y``), month (``m``: digits, or ``b``: an
#: English month name or its three-letter abbreviation, any case) and day (``d``) -> the shape's pattern, with a
#: group per part (and for ``ymd14`` and ``time`` hour ``H``, minute ``M`` and second ``S``). ``ymd``, ``dmy`` and
#: ``mdy`` separate their parts by ``-``, ``/`` or ``.`` (the same twice), month and day of one or two digits
#: (``4/15/2023``); ``ymd8`` is ``20230415``, ``dby`` ``15 Apr 2023`` (or ``15-Apr-2023``), ``bdy`` ``April 15,
#: 2023`` (or ``Apr 5 2023``), ``ymd14`` ``20230415123000``. ``time`` is a time of day alone or in a date-time
#: (``9:30``, ``12:30:00``, the ``12:30:00`` of ``2023-04-15T12:30:00.5``): hour, minute and optional second, not
#: part of a longer ``:`` chain; ``time12`` such a time of a 12-hour clock followed by ``AM`` or ``PM`` (any case,
#: after a space or not: ``9:15 AM``), its hour ``I`` 1-12 and its ``p`` the AM/PM letters. A shape's first order
#: its training dates are valid in is kept, but ``dmy`` and ``mdy`` are decided once per column (:func:`_day_first`).
_DATES = {order: re.compile(pattern) for order, pattern in {
    "ymd": r"(?P<y>9999)(?P<s>[-/.])(?P<m>99?)(?P=s)(?P<d>99?)",
    "dmy": r"(?P<d>99?)(?P<s>[-/.])(?P<m>99?)(?P=s)(?P<y>9999)",
    "mdy": r"(?P<m>99?)(?P<s>[-/.])(?P<d>99?)(?P=s)(?P<y>9999)",
    "ymd8": r"(?P<y>9999)(?P<m>99)(?P<d>99)",
    "dby": r"(?P<d>99?)(?P<s>[ /.-])(?P<m>[aA]{3,9})(?P=s)(?P<y>9999)",
    "bdy": r"(?P<m>[aA]{3,9}) (?P<d>99?),? (?P<y>9999)",
    "ymd14": r"(?P<y>9999)(?P<m>99)(?P<d>99)(?P<H>99)(?P<M>99)(?P<S>99)",
    "time12": r"(?<!:)(?P<I>99?):(?P<M>99)(:(?P<S>99))? ?(?P<p>[aA]{2})",
    "time": r"(?<!:)(?P<H>99?):(?P<M>99)(:(?P<S>99))?(?!:)"}.items()}
#: The smallest and largest hour (``H``: 24-hour clock, ``I``: 12-hour clock), minute and second of a time.
_TIME_RANGES = {"H": (0, 23), "I": (1, 12), "M": (0, 59), "S": (0, 59)}
#: The smallest and largest year of a date (all four digits) without year bounds of its own.
_YEARS = (1, 9999)
#: The AM/PM letters of a ``time12`` (lowercase).
_HALVES = ("am", "pm")
#: English month names and their abbreviations (lowercase) -> month number.
_MONTHS = {name.lower(): number for names in (calendar.month_name, calendar.month_abbr)
           for number, name in enumerate(names) if name}
#: Per length, the month names and abbreviations of that length (lowercase), in the year's order.
_MONTH_NAMES = {length: sorted((name for name in _MONTHS if len(name) == length), key=_MONTHS.__getitem__)
                for length in {len(name) for name in _MONTHS}}
_MONTH_DAYS = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def _last_day(year: np.ndarray, month: np.ndarray) -> np.ndarray:
    """The last day of each ``month`` (clipped to 1-12) of ``year`` (Gregorian leap years)."""
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    return _MONTH_DAYS[month.clip(1, 12) - 1] + ((month == 2) & leap)


def class_runs(shape: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each maximal run of one class (:data:`CLASSES`) in ``shape``; the rest is literal.

    Args:
        shape: A shape (:func:`shape_of`).

    Returns:
        The runs' half-open position ranges, in order.

    Example:
        >>> class_runs("AA-9999")
        [(0, 2), (3, 7)]
    """
    runs: list[tuple[int, int]] = []
    at = 0
    while at < len(shape):
        end = at + 1
        if shape[at] in CLASSES:
            while end < len(shape) and shape[end] == shape[at]:
                end += 1
            runs.append((at, end))
        at = end
    return runs


def class_keys(shape: str) -> list[str | None]:
    """Per position of ``shape``: its character table key (see :data:`CLASS_KEYS`), ``None`` when literal.

    Args:
        shape: A shape (:func:`shape_of`).

    Returns:
        One key (or ``None``) per character of ``shape``.
    """
    keys: list[str | None] = []
    for at, mark in enumerate(shape):
        if mark not in CLASSES:
            keys.append(None)
        elif (at == 0 or shape[at - 1] != mark) and shape[at + 1:at + 2] == mark:
            keys.append(f"^{mark}")
        else:
            keys.append(mark)
    return keys


def shape_of(value: str) -> str:
    """The shape of ``value``: lowercase letters -> ``a``, uppercase -> ``A``, digits -> ``9``, others kept.

    Args:
        value: A string.

    Returns:
        Its shape, of the same length.

    Example:
        >>> shape_of('{"k": 802}')
        '{"a": 999}'
    """
    return "".join("a" if c.islower() else "A" if c.isupper() else "9" if c.isdecimal() else c for c in value)


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
        row_words: ``{"<slot>|<word> <slot>|<word> ...": count}``: the distinct words of each row (sorted,
            space-separated), so that the rarer words' statistics count rows, not words (a word's count is the
            number of rows holding it in its slot).
        words: Accepted from statistics written before and ignored (it was ``{"<slot>|<word>": count}``, which
            ``row_words`` gives).
        lengths: ``{str(words per value): count}`` of the non-null string values.
        nulls: Number of missing values.
        dtype: JSON dtype; marker: JSON null marker of an ``object`` column.
        values: ``{value: count}`` of the non-null values holding a digit or punctuation, of at most
            :data:`MAX_TEMPLATE_LENGTH` characters (their shapes decide the template mode).
        longest: Length of the longest non-null value (characters; bytes for binary values); read only from
            statistics written before ``sizes``.
        binary: ``{str(byte length): count}`` of the non-null ``bytes`` values.
        sizes: ``{str(characters): count}`` of the non-null string values.
    """

    words: InitVar[dict[str, int] | None] = None
    row_words: dict[str, int] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)
    nulls: int = 0
    dtype: dict[str, Any] = field(default_factory=lambda: {"name": "object"})
    marker: str | None = None
    kind: str = "text"
    values: dict[str, int] = field(default_factory=dict)
    longest: int = 0
    binary: dict[str, int] = field(default_factory=dict)
    sizes: dict[str, int] = field(default_factory=dict)

    def merge(self, other: "TextStats") -> "TextStats":
        """Statistics of both partitions together.

        Args:
            other: The statistics of another partition of the same column.

        Returns:
            New merged statistics.
        """
        lengths, row_words = Counter(self.lengths), Counter(self.row_words)
        row_words.update(other.row_words)
        lengths.update(other.lengths)
        values, binary, sizes = Counter(self.values), Counter(self.binary), Counter(self.sizes)
        values.update(other.values)
        binary.update(other.binary)
        sizes.update(other.sizes)
        # row_words holds about one entry per distinct row: sorted once, by to_dict and build, not per merge.
        return TextStats(row_words=dict(row_words),
                         lengths=dict(sorted(lengths.items())), nulls=self.nulls + other.nulls, dtype=self.dtype,
                         marker=self.marker or other.marker,
                         values=dict(sorted(values.items())), longest=max(self.longest, other.longest),
                         binary=dict(sorted(binary.items())), sizes=dict(sorted(sizes.items())))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (``TextStats(**data)`` restores it)."""
        return {"kind": self.kind, "row_words": dict(sorted(self.row_words.items())), "lengths": self.lengths,
                "nulls": self.nulls, "dtype": self.dtype, "marker": self.marker, "values": self.values,
                "longest": self.longest, "binary": self.binary, "sizes": self.sizes}


def analyze_text(series: pd.Series) -> TextStats:
    """Count the words (per slot), words per value and structured values of one partition of a text column.

    Args:
        series: The partition's values: strings (or scalars, read as strings), or ``bytes`` only.

    Returns:
        The partition's :class:`TextStats`.

    Raises:
        SchemaError: The column holds nested values (dicts, lists...) or mixes bytes with other values.
        SerializationError: The column's dtype cannot be stored (it would not read back).
    """
    where = f"Text column {series.name!r}"
    present = series.dropna()
    row_words: Counter[str] = Counter()
    lengths: Counter[str] = Counter()
    structured: Counter[str] = Counter()
    binary: Counter[str] = Counter()
    sizes: Counter[str] = Counter()
    longest = 0
    objects = present.dtype == object or isinstance(present.dtype, pd.CategoricalDtype)
    kinds = set(map(type, present.to_numpy(dtype=object))) if objects else set()
    nested = sorted(k.__name__ for k in kinds if issubclass(k, _NESTED))
    if nested:
        raise SchemaError(f"{where} holds nested values ({', '.join(nested)}), which cannot be generated as "
                          "text; serialise them to strings (e.g. json.dumps) or drop the column.")
    raw = [k for k in kinds if issubclass(k, _BINARY)]
    if raw and len(raw) < len(kinds):
        others = sorted(k.__name__ for k in kinds if not issubclass(k, _BINARY))
        raise SchemaError(f"{where} mixes bytes with other values ({', '.join(others)}); a column is generated "
                          "either as text or as bytes: convert its values to one type.")
    if raw:
        nbytes = [memoryview(value).nbytes for value in present]
        binary.update(str(size) for size in nbytes)
        longest = max(nbytes, default=0)
    else:
        for value in present.astype(str):
            parts = value.split()
            lengths[str(len(parts))] += 1
            # Each word at most once per row and slot (the rows holding it there are counted at build).
            keys = {f"{_slot(i, len(parts))}|{word}" for i, word in enumerate(parts)}
            row_words[" ".join(sorted(keys))] += 1
            longest = max(longest, len(value))
            sizes[str(len(value))] += 1
            if len(value) <= MAX_TEMPLATE_LENGTH and _STRUCTURED.search(value):
                structured[value] += 1
    dtype = dtype_to_json(series.dtype, f"text column {series.name!r}", categories=False)
    return TextStats(row_words=dict(sorted(row_words.items())),
                     lengths=dict(sorted(lengths.items())), nulls=int(series.isna().sum()), dtype=dtype,
                     marker=marker_to_json(null_marker(series)), values=dict(sorted(structured.items())),
                     longest=longest, binary=dict(sorted(binary.items())), sizes=dict(sorted(sizes.items())))


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
    if state.get("template") is not None:
        template = state["template"]
        shapes = dict(sorted(template["shapes"].items(), key=lambda kv: (-kv[1], kv[0])))
        out["template"] = {"shapes": shapes}
        if "runs" in template:
            out["template"]["runs"] = {
                shape: [{"frequent": dict(sorted(run["frequent"].items(), key=lambda kv: (-kv[1], kv[0]))),
                         "rare": run["rare"], "positions": [by_key(chars) for chars in run["positions"]]}
                        for run in template["runs"][shape]]
                for shape in shapes}
        else:  # the first, per-position form
            out["template"]["positions"] = {shape: [by_key(chars) for chars in template["positions"][shape]]
                                            for shape in shapes}
        if "dates" in template:
            out["template"]["dates"] = {
                shape: [[*date[:2], *(dict(sorted(extra.items(), key=lambda kv: (-kv[1], kv[0])))
                                      if isinstance(extra, dict) else list(extra) for extra in date[2:])]
                        for date in template["dates"][shape]]
                for shape in sorted(template["dates"])}
        out["template"]["classes"] = {cls: by_key(template["classes"][cls]) for cls in sorted(template["classes"])}
    if state.get("binary") is not None:
        out["binary"] = by_number(state["binary"])
    return out


def _malformed(detail: str) -> SerializationError:
    return SerializationError(f"Text model state is malformed ({detail}); the checkpoint is corrupt or was written "
                              "by an incompatible version: fit the model again.")


def _is_count(value: Any, minimum: int = 1) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _check_counts(table: Any, what: str, *, chars: bool = False, numbers: bool = False) -> None:
    """Raise :class:`SerializationError` unless ``table`` is ``{key: count >= 1}`` (single characters / integers)."""
    if not isinstance(table, dict):
        raise _malformed(f"{what} is not an object")
    for key, count in table.items():
        if not isinstance(key, str) or (chars and len(key) != 1) or (numbers and not key.isdecimal()) \
                or not _is_count(count):
            raise _malformed(f"{what} has the entry {key!r}: {count!r}")


def _check_extras(state: dict[str, Any]) -> None:
    """Validate the optional ``max_length``, ``template`` and ``binary`` fields (absent from older states)."""
    if state.get("max_length") is not None and not _is_count(state["max_length"], 0):
        raise _malformed(f"max_length {state['max_length']!r} is not an integer >= 0")
    if state.get("binary") is not None:
        _check_counts(state["binary"], "binary", numbers=True)
        if not state["binary"]:
            raise _malformed("binary has no length")
    template = state.get("template")
    if template is None:
        return
    if not isinstance(template, dict) or set(template) not in ({"shapes", "runs", "classes"},
                                                               {"shapes", "runs", "classes", "dates"},
                                                               {"shapes", "positions", "classes"}):
        raise _malformed("template needs exactly shapes, runs and classes, and optionally dates (or, in the first "
                         "form, shapes, positions and classes)")
    _check_counts(template["shapes"], "template shapes")
    if not template["shapes"]:
        raise _malformed("template has no shape")
    parts = "runs" if "runs" in template else "positions"
    if not isinstance(template[parts], dict) or set(template[parts]) != set(template["shapes"]):
        raise _malformed(f"template {parts} do not match its shapes")
    if not isinstance(template["classes"], dict) or not set(template["classes"]) <= set(CLASS_KEYS):
        raise _malformed(f"template classes are not among {CLASS_KEYS}")
    for cls, chars in template["classes"].items():
        _check_counts(chars, f"template class {cls!r}", chars=True)
    if parts == "runs":
        _check_runs(template)
        _check_dates(template)
        return
    for shape, count in template["shapes"].items():
        positions = template["positions"][shape]
        if not isinstance(positions, list) or len(positions) != len(shape):
            raise _malformed(f"template shape {shape!r} needs one character table per position")
        for at, (key, chars) in enumerate(zip(class_keys(shape), positions)):
            _check_counts(chars, f"template shape {shape!r} position {at}", chars=True)
            if key is None and chars:
                raise _malformed(f"template shape {shape!r} has characters at its literal position {at}")
            if sum(chars.values()) > count:
                raise _malformed(f"template shape {shape!r} position {at} counts more characters than the shape")
            if key is not None and sum(chars.values()) < count and not template["classes"].get(key):
                raise _malformed(f"template class {key!r} has no character")


def _check_runs(template: dict[str, Any]) -> None:
    """Validate the run tables of a ``template`` (shapes and classes already checked)."""
    for shape, count in template["shapes"].items():
        runs, spans = template["runs"][shape], class_runs(shape)
        if not isinstance(runs, list) or len(runs) != len(spans):
            raise _malformed(f"template shape {shape!r} needs one table per run ({len(spans)})")
        for index, (run, (start, end)) in enumerate(zip(runs, spans)):
            where = f"template shape {shape!r} run {index}"
            if not isinstance(run, dict) or set(run) != {"frequent", "rare", "positions"}:
                raise _malformed(f"{where} needs exactly frequent, rare and positions")
            _check_counts(run["frequent"], f"{where} frequent values")
            odd = [value for value in run["frequent"] if shape_of(value) != shape[start:end]]
            if odd:
                raise _malformed(f"{where} has the value {odd[0]!r}, not of the run's shape {shape[start:end]!r}")
            total = sum(run["frequent"].values()) + run["rare"]
            if not _is_count(run["rare"], 0) or not total or total > count or (run["rare"] and total != count):
                raise _malformed(f"{where}: its frequent values and rare count {run['rare']!r} do not add up to "
                                 f"the shape's count {count}")
            if not isinstance(run["positions"], list) or len(run["positions"]) != end - start:
                raise _malformed(f"{where} needs one character table per position")
            for at, chars in enumerate(run["positions"]):
                _check_counts(chars, f"{where} position {at}", chars=True)
                if any(shape_of(char) != shape[start] for char in chars):
                    raise _malformed(f"{where} position {at} holds a character not of class {shape[start]!r}")
                if sum(chars.values()) > run["rare"]:
                    raise _malformed(f"{where} position {at} counts more characters than its rare values")


def _check_dates(template: dict[str, Any]) -> None:
    """Validate the optional ``dates`` of a ``template`` ({shape: [[start, order, names?, years?], ...]}; shapes
    already checked)."""
    dates = template.get("dates", {})
    if not isinstance(dates, dict) or not set(dates) <= set(template["shapes"]):
        raise _malformed("template dates are not keyed by its shapes")
    for shape, found in dates.items():
        if not isinstance(found, list) or not found or any(
                not isinstance(date, list) or len(date) not in (2, 3, 4) or not _is_count(date[0], 0)
                or date[1] not in list(_DATES) or not _date_at(shape, date[0], date[1])
                or date[2:] != [extra for extra in _date_extras(date) if extra is not None] for date in found):
            raise _malformed(f"template dates of shape {shape!r} are not [start, order] pairs of dates it holds "
                             f"(orders {sorted(_DATES)}), optionally followed by month names and year bounds")
        for date in found:
            start, spans, (names, years) = date[0], _date_at(shape, date[0], date[1]), _date_extras(date)
            if years is not None and ("y" not in spans or len(years) != 2 or not _is_count(years[0])
                                      or not _is_count(years[1], years[0])):
                raise _malformed(f"template date at {start} of shape {shape!r} needs year bounds [low, high], "
                                 f"1 <= low <= high, of a date with a year, got {years!r}")
            if names is None:
                continue
            a, b = spans.get("m", (0, 0))
            _check_counts(names, f"template date at {start} of shape {shape!r} month names")
            odd = [name for name in names if shape_of(name) != shape[a:b] or name.lower() not in _MONTHS]
            if not shape[a:b].isalpha() or odd or not names or sum(names.values()) > template["shapes"][shape]:
                raise _malformed(f"template date at {start} of shape {shape!r} needs month names of its shape "
                                 f"{shape[a:b]!r} counted at most {template['shapes'][shape]} times in all, "
                                 f"got {names!r}")


def _date_extras(date: list[Any]) -> tuple[dict[str, int] | None, list[int] | None]:
    """The month names ({name: count}) and year bounds (``[low, high]``) a ``[start, order, ...]`` date of a
    template adds (each ``None`` when absent)."""
    names = [extra for extra in date[2:] if isinstance(extra, dict)]
    years = [extra for extra in date[2:] if isinstance(extra, list)]
    return (names[0] if names else None), (years[0] if years else None)


def _date_at(shape: str, start: int, order: str) -> dict[str, tuple[int, int]] | None:
    """The ``(start, end)`` of year, month and day, of the hour, minute and second (:data:`_TIME_RANGES`) and of the
    AM/PM letters of the date or time of the ``order``'s pattern ``shape`` holds at ``start`` (the parts it has;
    made of whole runs: no digit touches a digit, no letter a letter, outside it), else ``None``."""
    found = _DATES[order].match(shape, start)
    if found is None or _joined(shape[start - 1:start], shape[start]) \
            or _joined(shape[found.end() - 1], shape[found.end():found.end() + 1]):
        return None
    return {part: found.span(part) for part in ("y", "m", "d", *_TIME_RANGES, "p")
            if part in found.re.groupindex and found.group(part) is not None}


def _joined(left: str, right: str) -> bool:
    """Whether two neighbouring shape characters are both digits or both letters (of a single run or word)."""
    return left + right == "99" or (left in ("a", "A") and right in ("a", "A"))


def _invalid_dates(shape: str, values: list[str], dates: list[list[Any]]) -> np.ndarray:
    """Which of ``values`` (all of ``shape``) hold, at one of ``dates``, no valid date or time (of ASCII digits)."""
    if not values:
        return np.zeros(0, dtype=bool)
    width = len(shape)
    codes = np.array(values, dtype=f"<U{width}").view(np.uint32).reshape(len(values), width).astype(np.int64)
    invalid = np.zeros(len(values), dtype=bool)
    for date in dates:
        start, order, (_, years) = date[0], date[1], _date_extras(date)
        numbers: dict[str, np.ndarray] = {}
        for part, (a, b) in (_date_at(shape, start, order) or {}).items():
            if part == "p":
                invalid |= np.array([value[a:b].lower() not in _HALVES for value in values])
                continue
            if shape[a] != "9":  # a month name
                numbers[part] = np.array([_MONTHS.get(value[a:b].lower(), 0) for value in values], dtype=np.int64)
                continue
            field = codes[:, a:b] - ord("0")
            invalid |= ((field < 0) | (field > 9)).any(axis=1)
            numbers[part] = field.clip(0, 9) @ 10 ** np.arange(b - a)[::-1]
        if "y" in numbers:
            year, month, day = numbers.pop("y"), numbers.pop("m"), numbers.pop("d")
            last = _last_day(year, month)
            low, high = years or _YEARS
            invalid |= (year < low) | (year > high) | (month < 1) | (month > 12) | (day < 1) | (day > last)
        for part, number in numbers.items():
            low, top = _TIME_RANGES[part]
            invalid |= (number < low) | (number > top)
    return invalid


def _nearest_months(names: list[str]) -> np.ndarray:
    """Per name of ``names`` (lowercase, all of one length): the index in :data:`_MONTH_NAMES` of that length of the
    month name sharing most letters with it (the first in the year on a tie; the name itself when it is one)."""
    known = _MONTH_NAMES[len(names[0])]
    width = len(known[0])
    grid = np.array(known, dtype=f"<U{width}").view(np.uint32).reshape(len(known), width)
    codes = np.array(names, dtype=f"<U{width}").view(np.uint32).reshape(len(names), width)
    return (codes[:, None, :] == grid[None]).sum(axis=2).argmax(axis=1)


def _valid_dates(shape: str, values: list[str], dates: list[list[Any]]) -> list[str]:
    """``values`` (all of ``shape``) with each of their ``dates`` (and times) made valid: year within its bounds (from 1 without them), month
    1-12 (a month name not one becomes the month name of its length sharing most letters with it, the first in
    the year on a tie, in its casing), day within the month, hour, minute and second at most 23, 59 and 59 (a
    12-hour clock's hour 1-12, letters not AM or PM becoming ``AM`` in their casing); every digit of a date or time
    written as an ASCII digit."""
    if not values:
        return []
    width = len(shape)
    codes = np.array(values, dtype=f"<U{width}").view(np.uint32).reshape(len(values), width).copy()
    digits = codes.astype(np.int64) - ord("0")
    odd = np.array([mark == "9" for mark in shape]) & ((digits < 0) | (digits > 9))
    if odd.any():  # other decimal digits (as int() reads them)
        digits[odd] = [unicodedata.decimal(chr(code)) for code in codes[odd].tolist()]

    def read(a: int, b: int) -> np.ndarray:
        return digits[:, a:b] @ 10 ** np.arange(b - a)[::-1]

    def write(a: int, b: int, number: np.ndarray) -> None:
        digits[:, a:b] = number[:, None] // 10 ** np.arange(b - a)[::-1] % 10
        codes[:, a:b] = digits[:, a:b] + ord("0")

    for date in dates:
        spans, (_, years) = _date_at(shape, date[0], date[1]) or {}, _date_extras(date)
        if "y" in spans:  # a date (else a time alone)
            (ya, yb), (ma, mb), (da, db) = spans["y"], spans["m"], spans["d"]
            year = read(ya, yb).clip(*(years or _YEARS))
            write(ya, yb, year)
            if shape[ma] == "9":
                month = read(ma, mb).clip(1, 12)
                write(ma, mb, month)
            else:
                known = _MONTH_NAMES[mb - ma]
                picks = _nearest_months([value[ma:mb].lower() for value in values])
                month = np.array([_MONTHS[name] for name in known])[picks]
                upper = np.array([mark == "A" for mark in shape[ma:mb]])
                codes[:, ma:mb] = np.array(known, dtype=f"<U{mb - ma}").view(np.uint32).reshape(
                    len(known), mb - ma)[picks] - upper * (ord("a") - ord("A"))
            write(da, db, read(da, db).clip(1, _last_day(year, month)))
        for part, (low, top) in _TIME_RANGES.items():
            if part in spans:
                write(*spans[part], read(*spans[part]).clip(low, top))
        if "p" in spans:
            a, b = spans["p"]
            odd = np.array([value[a:b].lower() not in _HALVES for value in values])
            upper = np.array([mark == "A" for mark in shape[a:b]])
            codes[np.ix_(odd, np.arange(a, b))] = np.array([ord("a"), ord("m")]) - upper * (ord("a") - ord("A"))
    return codes.view(f"<U{width}").ravel().tolist()


def _date_orders(shape: str, values: list[tuple[str, int]], rare_threshold: int) -> list[tuple[int, list[str]]]:
    """Per start of a date (or time) ``shape`` holds, the orders (of :data:`_DATES`) the shape's training values
    are valid in there; starts with none are left out.

    An order is dropped only when ``rare_threshold`` rows or more, and more than 1% of the shape's rows, hold no
    valid date there: a single invalid date (``2001-02-29``) neither turns the check off nor shows in the state.
    """
    found: list[tuple[int, list[str]]] = []
    counts = np.array([count for _, count in values], dtype=np.int64)
    texts = [value for value, _ in values]
    for start in range(len(shape) - 3):  # the shortest layout (a time 9:99) has 4 characters
        valid = []
        for order in _DATES:
            if not _date_at(shape, start, order):
                continue
            invalid = int(counts[_invalid_dates(shape, texts, [[start, order]])].sum())
            if invalid < rare_threshold or invalid <= 0.01 * counts.sum():
                valid.append(order)
        if valid:
            found.append((start, valid))
    return found


def _day_first(orders: dict[str, list[tuple[int, list[str]]]], shapes: dict[str, int]) -> bool:
    """Whether a column's numeric dates are read day first (``dmy``) or month first (``mdy``), one order for all
    its shapes (``shapes``: {shape: rows}; ``orders``: their valid orders, :func:`_date_orders`): month first when
    more rows are of shapes valid month first only (``4/15/2023``) than day first only, else day first. A shape
    valid both ways (``10/5/2020``, whose rare days are invented) then follows the column, not its own few values."""
    rows: Counter[str] = Counter()
    for shape, found in orders.items():
        for _, valid in found:
            numeric = [order for order in valid if order in ("dmy", "mdy")]
            if len(numeric) == 1:
                rows[numeric[0]] += shapes[shape]
    return rows["mdy"] <= rows["dmy"]


def _date_layouts(shape: str, values: list[tuple[str, int]], found: list[tuple[int, list[str]]],
                  day_first: bool, rare_threshold: int) -> list[list[Any]]:
    """``[start, order]`` (then ``names`` and ``years`` where they apply) of each date or time ``shape`` holds: per
    start of ``found`` (:func:`_date_orders`) its first valid order, ``dmy`` or ``mdy`` first as ``day_first``
    says. ``names`` ({month name: rows}, by rows then name) are the whole month names of a month-name date seen
    ``rare_threshold`` times or more (only valid names: a date's month name is drawn whole from them); ``years``
    (``[low, high]``, of a date) its ``rare_threshold``-th earliest and latest training years (with fewer rows,
    both ways), so no single value decides them: a generated date's year stays within them."""
    rank = list(_DATES) if day_first else [{"dmy": "mdy", "mdy": "dmy"}.get(order, order) for order in _DATES]
    layouts: list[list[Any]] = []
    for start, valid in found:
        order = min(valid, key=rank.index)
        layouts.append([start, order])
        spans = _date_at(shape, start, order)
        a, b = spans.get("m", (0, 0))
        if shape[a:b].isalpha():  # a month name
            seen: Counter[str] = Counter()
            for value, count in values:
                if value[a:b].lower() in _MONTHS:
                    seen[value[a:b]] += count
            names = {name: count for name, count in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))
                     if count >= rare_threshold}
            if names:
                layouts[-1].append(names)
        if "y" in spans:
            a, b = spans["y"]
            years = np.sort(np.repeat([int(value[a:b]) for value, _ in values], [count for _, count in values]))
            nth = min(rare_threshold, years.size) - 1
            low, high = sorted((max(int(years[nth]), 1), max(int(years[-1 - nth]), 1)))
            layouts[-1].append([low, high])
    return layouts


def _binned(counts: dict[str, int], rare_threshold: int, rows: Callable[[list[str]], int] | None = None
            ) -> dict[str, int]:
    """Lengths (``{str(length): count}``) as aggregates of ``rare_threshold`` values or more, sorted by length.

    A length seen ``rare_threshold`` times or more keeps its count. The rarer lengths, shortest first, are binned
    into runs of at least ``rare_threshold`` values (a shorter tail joins the last bin), each kept at its mean
    length rounded half up with its count; with fewer than ``rare_threshold`` of them in all they are counted at
    the nearest kept length (so the counts add up to the values', and no difference reveals a rare length), or
    not kept when no length is (the lone rare word ``Zyxwvut`` left ``{"7": 1}``). Invented values then keep
    lengths near the real ones while no stored count describes fewer than ``rare_threshold`` values.

    ``rows`` gives the number of rows holding any of some lengths, when a row may count at several (the rarer
    words' lengths): a bin then holds ``rare_threshold`` rows or more (by default, values).
    """
    rows = rows or (lambda keys: sum(counts[key] for key in keys))
    kept: Counter[int] = Counter({int(k): v for k, v in counts.items() if v >= rare_threshold})
    bins: list[list[Any]] = []  # [sum of lengths, values, lengths] per bin
    for length, count in sorted((int(k), v) for k, v in counts.items() if v < rare_threshold):
        if not bins or rows(bins[-1][2]) >= rare_threshold:
            bins.append([0, 0, []])
        bins[-1][0] += length * count
        bins[-1][1] += count
        bins[-1][2].append(str(length))
    if len(bins) > 1 and rows(bins[-1][2]) < rare_threshold:
        total, count, keys = bins.pop()
        bins[-1][0] += total
        bins[-1][1] += count
        bins[-1][2] += keys
    tail = bins.pop() if bins and rows(bins[-1][2]) < rare_threshold else None
    for total, count, _ in bins:
        kept[(2 * total + count) // (2 * count)] += count
    if tail and kept:  # too few to be a bin: counted at the nearest kept length, so the counts add up
        total, count, _ = tail
        kept[min(kept, key=lambda length: (abs(length * count - total), length))] += count
    return {str(length): kept[length] for length in sorted(kept)}


def _length_cap(counts: dict[str, int], rare_threshold: int) -> int:
    """The ``rare_threshold``-th longest of the lengths ``counts`` (``{str(length): values}``) holds, or, with fewer
    values, their mean length rounded half up: never longer than the longest, never decided by one value of many."""
    total = sum(counts.values())
    if total < rare_threshold:
        return (2 * sum(int(length) * count for length, count in counts.items()) + total) // (2 * total)
    held = 0
    for length in sorted(counts, key=int, reverse=True):
        held += counts[length]
        if held >= rare_threshold:
            break
    return int(length)


def _pooled(counts: Counter[str], rare_threshold: int, rows: Callable[[list[str]], int] | None = None
            ) -> dict[str, int]:
    """Categories (``{case: count}``) seen ``rare_threshold`` times or more, sorted; the rarer ones, when there are
    ``rare_threshold`` of them in all, are counted under the most common of them (the first by name on a tie), else
    under the most common kept category (so the counts add up), else not kept. ``rows``: as for :func:`_binned`
    (the rarer ones are counted together when ``rare_threshold`` rows hold them)."""
    kept = Counter({k: v for k, v in counts.items() if v >= rare_threshold})
    rest = {k: v for k, v in counts.items() if v < rare_threshold}
    if (rows(list(rest)) if rows else sum(rest.values())) >= rare_threshold:
        kept[min(rest, key=lambda k: (-rest[k], k))] += sum(rest.values())
    elif rest and kept:  # too few to keep: counted under the most common kept category, so the counts add up
        kept[min(kept, key=lambda k: (-kept[k], k))] += sum(rest.values())
    return dict(sorted(kept.items()))


def _by_rows(aggregate: Callable[..., dict[str, int]], holding: dict[str, dict[str, int]],
             rare_threshold: int) -> dict[str, int]:
    """``aggregate`` (:func:`_binned` or :func:`_pooled`) of the rows holding each length or casing
    (``{key: {row: count}}``), a group of them kept only when ``rare_threshold`` distinct rows hold it."""
    return aggregate(Counter({key: sum(rows.values()) for key, rows in holding.items()}), rare_threshold,
                     lambda keys: sum({row: n for key in keys for row, n in holding[key].items()}.values()))


def _held(holders: Counter[Any], rare_threshold: int) -> dict[Any, int]:
    """The characters held by ``rare_threshold`` rows' rare values or more, with those row counts, sorted.

    A row counts once per character however many rare words or runs hold it, and a character fewer rows hold
    would let the stored counts spell those values out (the only rare value ``QQ-9931`` left
    ``{"-": 1, "1": 1, "3": 1, "9": 2, "q": 2}``), so it is not kept.
    """
    return {char: count for char, count in sorted(holders.items()) if count >= rare_threshold}


def _template(stats: TextStats, rare_threshold: int) -> dict[str, Any] | None:
    """The template state of structured values (see the module docstring), or ``None`` for the word model."""
    rows = sum(stats.lengths.values())
    shapes: Counter[str] = Counter()
    by_shape: dict[str, list[tuple[str, int]]] = {}
    for value, count in stats.values.items():
        shape = shape_of(value)
        shapes[shape] += count
        by_shape.setdefault(shape, []).append((value, count))
    frequent = {shape: count for shape, count in shapes.items() if count >= rare_threshold}
    if not rows or sum(frequent.values()) < TEMPLATE_COVERAGE * rows:
        return None
    runs: dict[str, list[dict[str, Any]]] = {}
    holders: Counter[tuple[str, str]] = Counter()
    for shape in frequent:
        keys = class_keys(shape)
        runs[shape] = []
        held: dict[str, set[tuple[str, str]]] = {value: set() for value, _ in by_shape[shape]}
        for start, end in class_runs(shape):
            seen: Counter[str] = Counter()
            for value, count in by_shape[shape]:
                seen[value[start:end]] += count
            kept = {run: count for run, count in sorted(seen.items(), key=lambda kv: (-kv[1], kv[0]))
                    if count >= rare_threshold}
            chars: list[Counter[str]] = [Counter() for _ in range(end - start)]
            for value, count in by_shape[shape]:  # the rarer run values (known once seen is complete)
                if value[start:end] not in kept:
                    for at, char in enumerate(value[start:end]):
                        chars[at][char] += count
                        held[value].add((keys[start + at], char))
            rare = sum(seen.values()) - sum(kept.values())
            runs[shape].append({"frequent": kept, "rare": rare if rare >= rare_threshold else 0,
                                "positions": [{c: k for c, k in sorted(table.items()) if k >= rare_threshold}
                                              for table in chars]})
        # A character counts once per value (row) whose rare runs hold it, not once per run ("QZ-QZ-QZ-QZ-QZ").
        for value, count in by_shape[shape]:
            holders.update(dict.fromkeys(held[value], count))
    kept: dict[str, dict[str, int]] = {}
    for (key, char), count in _held(holders, rare_threshold).items():
        kept.setdefault(key, {})[char] = count
    template: dict[str, Any] = {"shapes": dict(sorted(frequent.items())), "runs": dict(sorted(runs.items())),
                                "classes": {key: kept[key] for key in CLASS_KEYS if key in kept}}
    orders = {shape: found for shape in sorted(frequent)
              if (found := _date_orders(shape, by_shape[shape], rare_threshold))}
    day_first = _day_first(orders, frequent)
    dates = {shape: _date_layouts(shape, by_shape[shape], found, day_first, rare_threshold)
             for shape, found in orders.items()}
    if dates:
        template["dates"] = dates
    return template


def _pool(counts: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The keys of ``counts`` (an object array) and their probabilities."""
    weights = np.asarray(list(counts.values()), dtype=np.float64)
    return np.asarray(list(counts), dtype=object), weights / weights.sum()


def _draw_run(run: dict[str, Any], keys: list[str | None],
              classes: dict[str, tuple[np.ndarray, np.ndarray]], size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` values of one run: a frequent run value by count or, with the rare share, an invented one.

    Args:
        run: The run's state (``frequent``, ``rare``, ``positions``).
        keys: The class key (:data:`CLASS_KEYS`) of each of the run's positions.
        classes: Per class key, its characters and their probabilities.
        size: Number of values.
        rng: Source of every draw.

    Returns:
        An object array of ``size`` strings.
    """
    frequent = run["frequent"]
    out = np.empty(size, dtype=object)
    rare = rng.random(size) < run["rare"] / (run["rare"] + sum(frequent.values()))
    if (~rare).any():
        pool, probs = _pool(frequent)
        out[~rare] = pool[rng.choice(pool.size, size=int((~rare).sum()), p=probs)]
    if rare.any():
        out[rare] = _draw_positions("", keys, run["positions"], run["rare"], classes, int(rare.sum()), rng)
    return out


def _draw_positions(literals: str, keys: list[str | None], kept: list[dict[str, int]], total: int,
                    classes: dict[str, tuple[np.ndarray, np.ndarray]], size: int,
                    rng: np.random.Generator) -> list[str]:
    """``size`` strings drawn position by position: at each position a kept character by count (with the share
    of ``total`` its table counts) or one of the position's class; ``literals[position]`` where the key is ``None``.

    Args:
        literals: The characters of the literal positions (a shape; ``""`` when no position is literal).
        keys: The class key (:data:`CLASS_KEYS`) of each position, ``None`` for a literal one.
        kept: Per position, its frequent characters and their counts.
        total: The number of values the ``kept`` counts are out of.
        classes: Per class key, its characters and their probabilities.
        size: Number of strings.
        rng: Source of every draw.

    Returns:
        The ``size`` strings.
    """
    grid = np.empty((size, len(keys)), dtype=object)
    for position, (key, chars) in enumerate(zip(keys, kept)):
        if key is None:
            grid[:, position] = literals[position]
            continue
        common = rng.random(size) < sum(chars.values()) / total
        if common.any():
            pool, probs = _pool(chars)
            grid[common, position] = pool[rng.choice(pool.size, size=int(common.sum()), p=probs)]
        if (~common).any():
            pool, probs = classes[key]
            grid[~common, position] = pool[rng.choice(pool.size, size=int((~common).sum()), p=probs)]
    return ["".join(row) for row in grid.tolist()]


class TextModel:
    """Generates text from word statistics (see the module docstring).

    Build it with :meth:`fit` or :meth:`build`; the state is plain JSON (:meth:`to_dict`).

    Args:
        state: ``lengths`` ({words per value: count}), ``nulls``, ``rows``, ``dtype``, ``marker``,
            and per slot under ``slots``: ``frequent`` ({word: count}), ``rare`` (rows holding
            rarer words there), ``rare_lengths`` and ``rare_cases`` ({length or case: rows}); ``chars``
            ({character: rows}) and ``upper_share`` (mean share of uppercase letters in a row's mixed-case
            words) over the rarer words. Optional (absent from states written before them, which then generate as
            they did): ``max_length`` (the ``rare_threshold``-th longest training value's length, or with fewer
            values their mean length; no word-model value is longer),
            ``template`` for structured strings: ``shapes`` {frequent shape: count}, ``runs`` {shape: per
            run of :func:`class_runs`, ``frequent`` {run value seen ``rare_threshold`` times: count},
            ``rare`` (occurrences of the rarer run values) and ``positions`` (one {character: count} per
            position, characters frequent among the rarer run values)}, ``classes`` {key of
            :data:`CLASS_KEYS`: {character: values holding it} over the rarer run values}; states of the first form
            hold ``positions`` {shape: one {character: count} per position} instead of ``runs`` and still
            generate as they did; ``dates`` (optional) {shape: [[start, order of ``"ymd"``, ``"dmy"``,
            ``"mdy"``, ``"ymd8"``, ``"dby"``, ``"bdy"``, ``"ymd14"``, ``"time12"``, ``"time"``
            (:data:`_DATES`)], ...]}, the dates and times every training value of the shape held (generated ones
            are valid); a month-name date may add a third item, {month name seen ``rare_threshold`` times:
            count}, its month then drawn whole from them (states without it draw the name's runs apart); a date
            may end in its year bounds ``[low, high]`` (the ``rare_threshold``-th earliest and latest training
            years), generated years then staying within them (states without them: any year from 1).
            ``chars`` and ``classes`` keep only characters held by the rarer words or run values of
            ``rare_threshold`` rows; ``lengths``, ``rare_lengths``, ``rare_cases``, ``rare`` and ``upper_share``
            are aggregates of ``rare_threshold`` rows or more (empty or ``0`` otherwise). ``binary``
            ({byte length: count}) for a column of bytes.

    Raises:
        SerializationError: ``state`` lacks a field or is malformed.
    """

    def __init__(self, state: dict[str, Any]) -> None:
        missing = [key for key in _STATE_KEYS if key not in state]
        if missing:
            raise SerializationError(f"Text model state lacks {missing}; the checkpoint is corrupt or was "
                                     "written by an incompatible version: fit the model again.")
        _check_extras(state)
        try:
            self.state = _canonical(state)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SerializationError(f"Text model state is malformed ({type(exc).__name__}: {exc}); the "
                                     "checkpoint is corrupt or was written by an incompatible version: fit "
                                     "the model again.") from exc
        self.dtype = dtype_from_json(state["dtype"], "the text model's dtype", categories=False)
        self.marker = marker_from_json(state["marker"])

    @classmethod
    def build(cls, stats: TextStats, rare_threshold: int = DEFAULT_RARE_THRESHOLD, *,
              column: Any = None) -> "TextModel":
        """The model for reduced statistics: frequent words kept, rarer ones only aggregated.

        Args:
            stats: Statistics of the whole column (partitions merged).
            rare_threshold: Words (shapes, run values and characters of a template, byte lengths) seen fewer
                times than this are not kept; lengths and casings of the rarer words only as aggregates of
                this many of them (see the module docstring).
            column: The column's name, for messages.

        Returns:
            The fitted model.

        Raises:
            SchemaError: ``rare_threshold`` is below 1, or the partitions mixed bytes and text.
        """
        if not is_int(rare_threshold) or rare_threshold < 1:
            raise SchemaError(f"rare_threshold must be an integer >= 1, got {rare_threshold!r}.")
        rare_threshold = int(rare_threshold)
        if stats.binary and stats.lengths:
            raise SchemaError(f"Text column {column!r} holds bytes in some partitions and other values in others; "
                              "a column is generated either as text or as bytes: convert its values to one type.")
        # Per slot, {length or casing: {row: count}}: the rows holding it (a row key stands for count equal rows).
        slots: dict[str, dict[str, Any]] = {s: {"frequent": {}, "rare": 0, "rare_lengths": {},
                                                "rare_cases": {}} for s in SLOTS}
        holding: Counter[str] = Counter()  # rows holding each "<slot>|<word>"
        rows = sorted(stats.row_words.items())  # merges keep arrival order: sums run in one order
        for row, count in rows:
            holding.update(dict.fromkeys(row.split(), count))
        for key, count in sorted(holding.items(), key=lambda kv: (-kv[1], kv[0])):
            if count >= rare_threshold:
                slot, word = key.split("|", 1)
                slots[slot]["frequent"][word] = count
        # Every rare-word statistic counts rows: a row adds at most 1 to a slot's rare count and to each length,
        # casing and character, however many rare words hold it ("Xq Yq Zq Wq Vq Uq Tq" kept "2": 5, "q": 7).
        holders: Counter[str] = Counter()
        mixed, shares = 0, 0.0  # rows holding a mixed-case rare word, sum of their uppercase shares
        for row, count in rows:
            by_slot: dict[str, set[str]] = {}
            for key in row.split():
                if holding[key] < rare_threshold:
                    slot, word = key.split("|", 1)
                    by_slot.setdefault(slot, set()).add(word)
            for slot, words in by_slot.items():
                slots[slot]["rare"] += count
                for length in {str(len(word)) for word in words}:
                    slots[slot]["rare_lengths"].setdefault(length, {})[row] = count
                for case in {_case(word) for word in words}:
                    slots[slot]["rare_cases"].setdefault(case, {})[row] = count
            words = set().union(*by_slot.values())
            holders.update(dict.fromkeys({char.lower() for word in words for char in word}, count))
            if upper := [word for word in words if _case(word) == "mixed"]:
                mixed += count
                shares += count * sum(c.isupper() for w in upper for c in w) / sum(c.isalpha() for w in upper
                                                                                   for c in w)
        state = {
            "lengths": _binned(stats.lengths, rare_threshold), "nulls": stats.nulls,
            "rows": sum(stats.lengths.values()),
            "dtype": dtype_to_json(dtype_from_json(stats.dtype, "text statistics", categories=False),
                                   "text statistics", categories=False), "marker": stats.marker,
            "slots": {s: {"frequent": e["frequent"], "rare": e["rare"] if e["rare"] >= rare_threshold else 0,
                          "rare_lengths": _by_rows(_binned, e["rare_lengths"], rare_threshold),
                          "rare_cases": _by_rows(_pooled, e["rare_cases"], rare_threshold)}
                      for s, e in slots.items()},
            "chars": _held(holders, rare_threshold),
            "upper_share": shares / mixed if mixed >= rare_threshold else 0.0,
            # Statistics written before sizes only know the longest length.
            "max_length": _length_cap(stats.binary or stats.sizes, rare_threshold) if stats.binary or stats.sizes
            else int(stats.longest),
        }
        if stats.binary:
            state["rows"] = sum(stats.binary.values())
            # Fewer than rare_threshold values in all: their mean length (kept as max_length).
            state["binary"] = _binned(stats.binary, rare_threshold) or {str(state["max_length"]): state["rows"]}
        else:
            template = _template(stats, rare_threshold)
            if template is not None:
                state["template"] = template
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
        return cls.build(analyze_text(series), rare_threshold, column=series.name)

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
        if not is_int(n) or n < 0:
            raise GenerationError(f"Text model: the number of values must be an integer >= 0, got {n!r}.")
        n = int(n)
        state = self.state
        nulls = rng.random(n) < self.null_rate
        values = np.full(n, "", dtype=object)
        if state.get("binary") is not None:
            return self._bytes(n, rng), nulls
        if state.get("template") is not None and state["rows"]:
            return self._from_template(n, rng), nulls
        if state["rows"]:
            sizes, probs = _pool(state["lengths"] or {"1": 1})  # no count kept: fewer than rare_threshold rows
            per_row = sizes[rng.choice(sizes.size, size=n, p=probs)].astype(np.int64)
            values = self._sentences(per_row, rng)
            limit = state.get("max_length")
            if limit is not None:
                for _ in range(_REDRAWS):
                    too_long = np.flatnonzero([len(v) > limit for v in values])
                    if not too_long.size:
                        break
                    values[too_long] = self._sentences(per_row[too_long], rng)
                values = np.array([v if len(v) <= limit else v[:limit].rstrip() for v in values], dtype=object)
        return values, nulls

    def _sentences(self, per_row: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Values of ``per_row`` words each (an object array of strings)."""
        words = self._words(per_row, rng)
        ends = np.cumsum(per_row)
        return np.array([" ".join(words[end - size:end]) for end, size in zip(ends, per_row)] if per_row.size
                        else [], dtype=object)

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

    def _by_shape(self, n: int, rng: np.random.Generator) -> Iterator[tuple[str, np.ndarray, dict[str, Any]]]:
        """Each frequent shape some of ``n`` values take (drawn by count first), with those values' positions and
        each character class's pool with its probabilities."""
        shapes, picks, classes = self._shape_picks(n, rng)
        for index, shape in enumerate(shapes):
            at = np.flatnonzero(picks == index)
            if at.size:
                yield shape, at, classes

    def _shape_picks(self, n: int, rng: np.random.Generator) -> tuple[list[str], np.ndarray, dict[str, Any]]:
        """The frequent shapes, which one each of ``n`` values takes (drawn by count), and each character
        class's pool with its probabilities."""
        template = self.state["template"]
        shapes = list(template["shapes"])
        weights = np.asarray(list(template["shapes"].values()), dtype=np.float64)
        picks = rng.choice(len(shapes), size=n, p=weights / weights.sum())
        classes = {key: _pool(template["classes"].get(key) or dict.fromkeys(_ALPHABETS[key], 1))
                   for key in CLASS_KEYS}
        return shapes, picks, classes

    def _from_template(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` values from the frequent shapes, run by run (see the module docstring)."""
        template = self.state["template"]
        if "runs" not in template:
            return self._from_positions(n, rng)
        values = np.empty(n, dtype=object)
        for shape, at, classes in self._by_shape(n, rng):
            values[at] = self._from_runs(shape, at.size, classes, rng)
            dates = template.get("dates", {}).get(shape)
            if not dates:
                continue
            redo = at[_invalid_dates(shape, values[at].tolist(), dates)]
            for _ in range(_REDRAWS):
                if not redo.size:
                    break
                values[redo] = self._from_runs(shape, redo.size, classes, rng)
                redo = redo[_invalid_dates(shape, values[redo].tolist(), dates)]
            values[redo] = _valid_dates(shape, values[redo].tolist(), dates)  # still invalid after the redraws
        return values

    def _from_runs(self, shape: str, size: int, classes: dict[str, tuple[np.ndarray, np.ndarray]],
                   rng: np.random.Generator) -> np.ndarray:
        """``size`` values of one frequent ``shape``, run by run (literal characters copied)."""
        keys = class_keys(shape)
        # A month name's runs (the A and aa of Apr) are drawn as one, from the training's whole names by count.
        names = {span[0]: (span[1], counts) for date in self.state["template"].get("dates", {}).get(shape, [])
                 if (counts := _date_extras(date)[0]) and (span := _date_at(shape, date[0], date[1])["m"])}
        pieces: list[Any] = []
        done = 0
        for (start, end), run in zip(class_runs(shape), self.state["template"]["runs"][shape]):
            if start < done:  # in a month name drawn whole
                continue
            if start > done:
                pieces.append(shape[done:start])
            if start in names:
                done, counts = names[start]
                pool, probs = _pool(counts)
                pieces.append(pool[rng.choice(pool.size, size=size, p=probs)])
                continue
            pieces.append(_draw_run(run, keys[start:end], classes, size, rng))
            done = end
        if done < len(shape):
            pieces.append(shape[done:])
        columns = [np.full(size, piece, dtype=object) if isinstance(piece, str) else piece for piece in pieces]
        out = np.empty(size, dtype=object)
        out[:] = ["".join(row) for row in zip(*columns)]
        return out

    def _from_positions(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` values from a template state of the first form: every position drawn on its own."""
        template = self.state["template"]
        values = np.empty(n, dtype=object)
        for shape, at, classes in self._by_shape(n, rng):
            values[at] = _draw_positions(shape, class_keys(shape), template["positions"][shape],
                                         template["shapes"][shape], classes, at.size, rng)
        return values

    def _bytes(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` random ``bytes`` values with the kept byte lengths."""
        lengths = np.asarray([int(k) for k in self.state["binary"]], dtype=np.int64)
        weights = np.asarray(list(self.state["binary"].values()), dtype=np.float64)
        sizes = lengths[rng.choice(lengths.size, size=n, p=weights / weights.sum())]
        data = rng.integers(0, 256, size=int(sizes.sum()), dtype=np.uint8).tobytes()
        ends = np.cumsum(sizes)
        out = np.empty(n, dtype=object)
        out[:] = [data[end - size:end] for end, size in zip(ends.tolist(), sizes.tolist())]
        return out

    def _stand_ins(self) -> tuple[dict[str, int], dict[str, int]]:
        """Lengths and casing for the invented words of a slot whose rare words were too few to keep theirs
        (fewer than ``rare_threshold``): the frequent words' (of every slot, by count); with no frequent word,
        :data:`_STAND_IN_LENGTHS` uniformly and lower case."""
        lengths: Counter[str] = Counter()
        cases: Counter[str] = Counter()
        for entry in self.state["slots"].values():
            for word, count in entry["frequent"].items():
                lengths[str(len(word))] += count
                cases[_case(word)] += count
        return (_binned(lengths, 1) or dict.fromkeys(map(str, _STAND_IN_LENGTHS), 1),
                dict(sorted(cases.items())) or {"lower": 1})

    def _invent(self, entry: dict[str, Any], count: int, rng: np.random.Generator) -> list[str]:
        """``count`` new words with the slot's rare-word lengths and casing."""
        rare_lengths, rare_cases = entry["rare_lengths"], entry["rare_cases"]
        if not rare_lengths or not rare_cases:
            stand_in_lengths, stand_in_cases = self._stand_ins()
            rare_lengths, rare_cases = rare_lengths or stand_in_lengths, rare_cases or stand_in_cases
        lengths, weights = _pool(rare_lengths)
        sizes = lengths[rng.choice(lengths.size, size=count, p=weights)].astype(np.int64)
        cases, case_weights = _pool(rare_cases)
        drawn = rng.choice(cases.size, size=count, p=case_weights)
        pool, probs = _pool(self.state["chars"] or dict.fromkeys(_ALPHABETS["word"], 1))
        chars = pool[rng.choice(pool.size, size=int(sizes.sum()), p=probs)]
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
        """JSON-serialisable state (frequent words, shapes and aggregates only)."""
        return self.state

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TextModel":
        """Inverse of :meth:`to_dict`.

        Raises:
            SerializationError: ``data`` lacks a field.
        """
        return cls(dict(data))
