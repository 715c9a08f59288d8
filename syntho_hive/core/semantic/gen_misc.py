"""Generators of identifiers and prose: IP addresses, IBANs, card numbers, titles and free text."""

from __future__ import annotations

import ipaddress
from typing import Any

import numpy as np

from syntho_hive.core.semantic.context import RowContext, by_locale, draw_weighted
from syntho_hive.core.semantic.locales import word_list
from syntho_hive.core.semantic.style import word_slot

__all__ = ["gen_ip", "gen_iban", "gen_card", "gen_title", "gen_text"]

_CARD_PREFIXES = {15: ("34", "37"), 16: ("4", "51", "52", "53", "54", "55"), 14: ("36", "38"),
                  13: ("4",), 19: ("4",)}


def gen_ip(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Public-looking (globally routable) IPv4 addresses, IPv6 for the learned IPv6 share."""
    out = np.empty(ctx.n, dtype=object)
    v6 = rng.random(ctx.n) < float(spec.get("v6_share", 0.0))
    for i in range(ctx.n):
        while True:
            if v6[i]:
                groups = rng.integers(0, 0x10000, 8)
                groups[0] = 0x2000 + int(rng.integers(0, 0x1000))
                addr: Any = ipaddress.IPv6Address(":".join(f"{g:x}" for g in groups))
            else:
                addr = ipaddress.IPv4Address(bytes(int(b) for b in rng.integers([1, 0, 0, 1], [224, 256, 256, 255])))
            if addr.is_global and not addr.is_multicast:
                out[i] = str(addr)
                break
    return out


def gen_iban(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Mod-97-valid IBANs from the Faker of each row's locale (its country where Faker supports it)."""
    ibans = by_locale(ctx.locales(spec.get("country_col")), rng, lambda fake, _i: str(fake.iban()))
    if spec.get("spaced"):
        return np.asarray([" ".join(v[j:j + 4] for j in range(0, len(v), 4)) for v in ibans], dtype=object)
    return ibans


def _luhn_digit(body: np.ndarray) -> np.ndarray:
    """Luhn check digits for a 2-D array of digit rows (check digit appended at the right)."""
    rev = body[:, ::-1].copy()
    doubled = rev[:, 0::2] * 2
    doubled -= 9 * (doubled > 9)
    total = doubled.sum(axis=1) + rev[:, 1::2].sum(axis=1)
    return (10 - total % 10) % 10


def gen_card(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Luhn-valid card numbers with the learned lengths and separator."""
    lengths = draw_weighted(spec.get("lengths") or {"16": 1}, rng, ctx.n).astype(int)
    out = np.empty(ctx.n, dtype=object)
    sep = str(spec.get("separator", ""))
    for length in sorted(set(lengths.tolist())):
        idx = np.flatnonzero(lengths == length)
        prefixes = _CARD_PREFIXES.get(length, ("4",))
        chosen = rng.integers(len(prefixes), size=len(idx))
        body = rng.integers(0, 10, size=(len(idx), length - 1))
        for row, c in enumerate(chosen):
            pre = prefixes[c]
            body[row, : len(pre)] = [int(ch) for ch in pre]
        check = _luhn_digit(body)
        for row, i in enumerate(idx):
            digits = "".join(map(str, body[row])) + str(int(check[row]))
            out[i] = sep.join(digits[j:j + 4] for j in range(0, len(digits), 4)) if sep else digits
    return out


def _words(locale: str):  # type: ignore[no-untyped-def]
    return word_list(locale, "word_list") or word_list("en_US", "word_list")


def _sample_real(spec: dict[str, Any], rng: np.random.Generator, n: int) -> np.ndarray | None:
    real = spec.get("real_values")
    if not real:
        return None
    return np.asarray(real, dtype=object)[rng.integers(len(real), size=n)]


def gen_title(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Short title-cased phrases (learned word counts), or sampled real titles when allowed.

    Each word position keeps the column's frequent words of its slot in their share (``Airport`` as
    the last word of airport names, ``The`` as the first of titles); the other words are real words
    of the locale's dictionary, title-cased.
    """
    sampled = _sample_real(spec, rng, ctx.n)
    if sampled is not None:
        return sampled
    words = _words(ctx.locale)
    counts = draw_weighted(spec.get("word_counts") or {"3": 1}, rng, ctx.n).astype(int)
    drawn = words.draw(rng, int(counts.sum()))
    slots = spec.get("slot_words") or {}
    uniforms = rng.random(int(counts.sum()))
    out = np.empty(ctx.n, dtype=object)
    pos = 0
    for i, k in enumerate(counts):
        phrase = []
        for position in range(k):
            slot = slots.get(word_slot(position, k))
            if slot is not None and uniforms[pos + position] < float(slot["share"]):
                phrase.append(str(draw_weighted(slot["words"], rng)))
            else:
                word = str(drawn[pos + position])
                phrase.append(word[:1].upper() + word[1:])
        out[i] = " ".join(phrase)
        pos += k
    return out


def gen_text(spec: dict[str, Any], ctx: RowContext, rng: np.random.Generator) -> np.ndarray:
    """Sentences of real words with the learned word-count distribution, or sampled real texts when allowed."""
    sampled = _sample_real(spec, rng, ctx.n)
    if sampled is not None:
        return sampled
    words = _words(ctx.locale)
    counts = draw_weighted(spec.get("word_counts") or {"20": 1}, rng, ctx.n).astype(int)
    out = np.empty(ctx.n, dtype=object)
    for i, k in enumerate(counts):
        drawn = words.draw(rng, int(max(k, 1)))
        sentences, pos = [], 0
        while pos < len(drawn):
            size = int(rng.integers(5, 16))
            chunk = list(drawn[pos:pos + size])
            pos += size
            chunk[0] = chunk[0][:1].upper() + chunk[0][1:]
            sentences.append(" ".join(chunk) + ".")
        out[i] = " ".join(sentences)
    return out
