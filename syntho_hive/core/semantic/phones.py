"""Phone numbers: learning a column's format and generating numbers valid for a region.

Validity is ``phonenumbers.is_valid_number_for_region``. Numbers are drawn by picking a national
prefix known to produce valid numbers (found once per region by probing the libphonenumber
metadata with a fixed-seed generator) and random remaining digits, retried until valid.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import phonenumbers
from phonenumbers import PhoneMetadata, PhoneNumberFormat, PhoneNumberType
# libphonenumber's type test against one region's metadata: the public ``number_type`` first searches
# every region of the calling code (25 for +1), which made generation several times slower.
from phonenumbers.phonenumberutil import _number_type_helper

from syntho_hive.core.semantic.context import draw_weighted

__all__ = ["learn_phone_style", "generate_phones", "phone_region"]

_FORMATS = {"E164": PhoneNumberFormat.E164, "INTERNATIONAL": PhoneNumberFormat.INTERNATIONAL,
            "NATIONAL": PhoneNumberFormat.NATIONAL}
_TYPES = (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE)
_RETRIES = 60
_DIGIT = re.compile(r"\d")


def phone_region(code: str | None, default: str) -> str:
    """``code`` when libphonenumber knows the region, else ``default`` (else ``"US"``)."""
    for region in (code, default):
        if region and phonenumbers.country_code_for_region(region):
            return region
    return "US"


def _mask(text: str) -> str:
    return _DIGIT.sub("#", text)


def learn_phone_style(values: Sequence[str], regions: Sequence[str], *, rare_threshold: int) -> dict[str, Any]:
    """Learn how a column writes phone numbers.

    Args:
        values: Non-null phone strings.
        regions: The region (alpha-2) to parse each value with when it has no ``+`` prefix.
        rare_threshold: A mask is kept only when at least this many values are written with it (a
            calling code or layout held by one person would single that person out).

    Returns:
        ``{"style": "E164"|"INTERNATIONAL"|"NATIONAL"|"TEMPLATE", "plus_share": float, "masks": {...}}``;
        ``masks`` maps ``"+<calling code>"`` or ``"national"`` to ``{digit mask: count}`` (no digits kept),
        frequent masks only. A number with no kept mask for its length is written in the
        international (``+``) or national format of libphonenumber.
    """
    exact: Counter[str] = Counter()
    masks: dict[str, Counter[str]] = {}
    plus = 0
    for value, region in zip(values, regions):
        text = str(value).strip()
        plus += text.startswith("+")
        try:
            num = phonenumbers.parse(text, region)
        except phonenumbers.NumberParseException:
            continue
        for name, fmt in _FORMATS.items():
            if phonenumbers.format_number(num, fmt) == text:
                exact[name] += 1
                break
        if text.startswith("+"):
            cc = str(num.country_code)
            rest = text[1 + len(cc):] if text[1:].startswith(cc) else None
            nsn = phonenumbers.national_significant_number(num)
            if rest is not None and sum(ch.isdigit() for ch in rest) == len(nsn):
                masks.setdefault(f"+{cc}", Counter())[_mask(rest)] += 1
        else:
            masks.setdefault("national", Counter())[_mask(text)] += 1
    total = max(len(values), 1)
    best, count = exact.most_common(1)[0] if exact else ("INTERNATIONAL", 0)
    style = best if count >= 0.5 * total else "TEMPLATE"
    return {"style": style, "plus_share": plus / total,
            "masks": {k: kept for k, v in sorted(masks.items())
                      if (kept := {m: c for m, c in sorted(v.items()) if c >= rare_threshold})}}


@lru_cache(maxsize=512)
def _prefixes(region: str) -> tuple[tuple[int, str, tuple[str, ...]], ...]:
    """Per number type: (national length, type name, valid prefixes) for ``region``."""
    rng = np.random.default_rng(zlib.crc32(region.encode()))  # fixed: a property of the metadata
    out = []
    for ntype in _TYPES:
        example = phonenumbers.example_number_for_type(region, ntype)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        length = len(nsn)
        k = max(1, min(3, length - 4))
        valid = []
        for p in range(10 ** k):
            prefix = f"{p:0{k}d}"
            for _ in range(3):
                tail = f"{int(rng.integers(0, 10 ** (length - k))):0{length - k}d}"
                num = _number(example.country_code, prefix + tail)
                if _ok(num, region):
                    valid.append(prefix)
                    break
        out.append((length, str(ntype), tuple(valid) or (nsn[:k],)))
    return tuple(out)


_GOOD_TYPES = frozenset({PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE})


def _ok(num: phonenumbers.PhoneNumber, region: str) -> bool:
    """Valid for the region and, by the region's own metadata, a fixed or mobile line (no toll-free,
    shared-cost or VoIP numbers that a numbering plan shares between regions)."""
    if not phonenumbers.is_valid_number_for_region(num, region):
        return False
    metadata = PhoneMetadata.metadata_for_region(region)
    nsn = phonenumbers.national_significant_number(num)
    return _number_type_helper(nsn, metadata) in _GOOD_TYPES


def _number(cc: int, digits: str) -> phonenumbers.PhoneNumber:
    num = phonenumbers.PhoneNumber(country_code=cc, national_number=int(digits))
    zeros = len(digits) - len(digits.lstrip("0"))
    if zeros:
        num.italian_leading_zero = True
        num.number_of_leading_zeros = zeros if zeros > 1 else None
    return num


def _draw_numbers(region: str, n: int, rng: np.random.Generator) -> list[phonenumbers.PhoneNumber]:
    """``n`` numbers valid for ``region`` (vectorised candidates, retried in rounds)."""
    options = _prefixes(region)
    cc = phonenumbers.country_code_for_region(region)
    fallback = (phonenumbers.example_number_for_type(region, PhoneNumberType.FIXED_LINE)
                or phonenumbers.example_number(region) or phonenumbers.example_number("US"))
    out: list[phonenumbers.PhoneNumber | None] = [None] * n
    if not options:
        return [fallback] * n
    todo = np.arange(n)
    for _ in range(_RETRIES):
        if not len(todo):
            break
        kinds = rng.integers(len(options), size=len(todo))
        picks = rng.random(len(todo))
        tails = rng.random(len(todo))
        still = []
        for i, kind, pick, tail in zip(todo, kinds, picks, tails):
            length, _name, prefixes = options[kind]
            prefix = prefixes[int(pick * len(prefixes))]
            width = length - len(prefix)
            digits = prefix + f"{int(tail * 10 ** width):0{width}d}"
            num = _number(cc, digits)
            if _ok(num, region):
                out[i] = num
            else:
                still.append(i)
        todo = np.asarray(still, dtype=int)
    return [num if num is not None else fallback for num in out]


def _fill(mask: str, digits: str) -> str:
    it = iter(digits)
    return "".join(next(it) if ch == "#" else ch for ch in mask)


def _format(num: phonenumbers.PhoneNumber, style: dict[str, Any], rng: np.random.Generator) -> str:
    name = style["style"]
    if name != "TEMPLATE":
        return phonenumbers.format_number(num, _FORMATS[name])
    masks = style.get("masks", {})
    plus = rng.random() < float(style.get("plus_share", 1.0))
    if plus:
        nsn = phonenumbers.national_significant_number(num)
        fitting = {m: c for m, c in masks.get(f"+{num.country_code}", {}).items() if m.count("#") == len(nsn)}
        if fitting:
            return f"+{num.country_code}" + _fill(draw_weighted(fitting, rng), nsn)
        return phonenumbers.format_number(num, PhoneNumberFormat.INTERNATIONAL)
    national = phonenumbers.format_number(num, PhoneNumberFormat.NATIONAL)
    digits = "".join(ch for ch in national if ch.isdigit())
    fitting = {m: c for m, c in masks.get("national", {}).items() if m.count("#") == len(digits)}
    if fitting:
        return _fill(draw_weighted(fitting, rng), digits)
    return national


def generate_phones(regions: Sequence[str], style: dict[str, Any], rng: np.random.Generator) -> list[str]:
    """One valid phone number per row for the row's region, written in the learned ``style``.

    Args:
        regions: A libphonenumber region (alpha-2) per row.
        style: The output of :func:`learn_phone_style`.
        rng: Source of randomness.

    Returns:
        The formatted numbers, one per row.
    """
    region_arr = np.asarray(list(regions), dtype=object)
    numbers: list[Any] = [None] * len(region_arr)
    for region in sorted(set(region_arr.tolist())):
        idx = np.flatnonzero(region_arr == region)
        for i, num in zip(idx, _draw_numbers(region, len(idx), rng)):
            numbers[i] = num
    return [_format(num, style, rng) for num in numbers]
