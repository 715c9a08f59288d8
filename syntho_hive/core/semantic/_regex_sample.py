"""Draw a random string that matches a (simple) regular expression, e.g. a postal-code pattern."""

from __future__ import annotations

import string
from functools import lru_cache
from typing import Any

import numpy as np

try:  # Python >= 3.11
    import re._parser as _sre_parse  # type: ignore[import-not-found]
    from re import _constants as _c  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

from syntho_hive.exceptions import GenerationError

__all__ = ["sample_regex"]

_ALPHABET = string.ascii_uppercase + string.digits
_MAX_REPEAT = 3
_CATEGORY_CHARS = {
    _c.CATEGORY_DIGIT: string.digits,
    _c.CATEGORY_WORD: string.ascii_letters + string.digits,
    _c.CATEGORY_SPACE: " ",
    _c.CATEGORY_NOT_DIGIT: string.ascii_uppercase,
}


@lru_cache(maxsize=512)
def _parse(pattern: str) -> Any:
    return _sre_parse.parse(pattern)


def _set_chars(items: list[tuple[Any, Any]]) -> str:
    chars: list[str] = []
    negate = False
    for op, arg in items:
        if op == _c.NEGATE:
            negate = True
        elif op == _c.LITERAL:
            chars.append(chr(arg))
        elif op == _c.RANGE:
            chars.extend(chr(c) for c in range(arg[0], arg[1] + 1))
        elif op == _c.CATEGORY:
            chars.extend(_CATEGORY_CHARS.get(arg, ""))
    if negate:
        excluded = set(chars)
        return "".join(ch for ch in _ALPHABET if ch not in excluded)
    # Prefer upper case: postal codes are written in upper case even where the pattern allows both.
    upper = [ch for ch in chars if not ch.islower()]
    return "".join(upper or chars)


def _emit(parsed: Any, rng: np.random.Generator, out: list[str]) -> None:
    for op, arg in parsed:
        if op == _c.LITERAL:
            out.append(chr(arg))
        elif op == _c.NOT_LITERAL:
            out.append(str(rng.choice([ch for ch in _ALPHABET if ord(ch) != arg])))
        elif op == _c.ANY:
            out.append(_ALPHABET[int(rng.integers(len(_ALPHABET)))])
        elif op == _c.IN:
            chars = _set_chars(list(arg))
            out.append(chars[int(rng.integers(len(chars)))])
        elif op == _c.BRANCH:
            branches = arg[1]
            _emit(branches[int(rng.integers(len(branches)))], rng, out)
        elif op == _c.SUBPATTERN:
            _emit(arg[-1], rng, out)
        elif op in (_c.MAX_REPEAT, _c.MIN_REPEAT) or op.name == "POSSESSIVE_REPEAT":
            low, high, sub = arg
            high = min(high, max(low, _MAX_REPEAT)) if high != _c.MAXREPEAT else max(low, 1)
            for _ in range(int(rng.integers(low, high + 1))):
                _emit(sub, rng, out)
        elif op == _c.AT:
            continue
        else:
            raise GenerationError(f"Cannot generate a value for the pattern element {op} (pattern too complex); "
                                  "declare the column without a semantic type or use a simpler pattern.")


def sample_regex(pattern: str, rng: np.random.Generator) -> str:
    """A random string matching ``pattern`` (anchors ignored, unbounded repeats drawn 0/1 times).

    Args:
        pattern: A regular expression made of literals, character classes, groups, alternations and repeats.
        rng: Source of randomness.

    Returns:
        A string that ``re.fullmatch(pattern, ...)`` accepts.

    Raises:
        GenerationError: If the pattern uses constructs (look-arounds, back references) this sampler lacks.
    """
    out: list[str] = []
    _emit(_parse(pattern), rng, out)
    return "".join(out)
