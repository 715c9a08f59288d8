"""National identity / tax / social-security numbers: validation (``python-stdnum``) and generation.

Each :class:`IdScheme` validates with the checks of its country (check digits, date parts, number
ranges) and draws fresh numbers that pass the same checks (a random body, check digits computed;
drawn again until :meth:`IdScheme.is_valid` agrees). The UK National Insurance number has no check
digit and no ``stdnum`` module: its published letter rules are checked here.

A scheme is ``strong`` when a random digit string of its shape passes at most about one time in ten
(a check digit or a letter key): only strong schemes, and the US SSN written ``AAA-GG-SSSS``, are
recognised from values alone. A bare 9-digit number is no SSN evidence (most 9-digit integers pass
the SSN range rules).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from stdnum import ean, luhn, verhoeff
from stdnum.br import cpf
from stdnum.ca import sin
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.in_ import aadhaar
from stdnum.it import codicefiscale
from stdnum.iso7064 import mod_11_10
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.se import personnummer
from stdnum.us import ssn

from syntho_hive.exceptions import GenerationError

__all__ = ["IdScheme", "ID_SCHEMES", "id_schemes_of", "is_national_id", "scheme_for_country", "draw_national_id",
           "learn_id_spec"]

_NINO = re.compile(r"^([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])(\d{6})([A-D])$")
_NINO_BAD_PREFIX = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})
_SSN_DASHED = re.compile(r"^\d{3}-\d{2}-\d{4}$")
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NINO_FIRST = "ABCEGHJKLMNOPRSTWXYZ"
_NINO_SECOND = "ABCEGHJKLMNPRSTWXYZ"
_CF_MONTHS = "ABCDEHLMPRST"
_RETRIES = 200


def _digits(rng: np.random.Generator, n: int, first_min: int = 0) -> str:
    out = [int(rng.integers(first_min, 10))] + [int(d) for d in rng.integers(0, 10, n - 1)]
    return "".join(map(str, out))


def _valid_nino(value: str) -> bool:
    compact = re.sub(r"[\s-]", "", value).upper()
    match = _NINO.match(compact)
    return match is not None and match.group(1) not in _NINO_BAD_PREFIX


def _draw_nino(rng: np.random.Generator) -> str:
    prefix = _NINO_FIRST[int(rng.integers(len(_NINO_FIRST)))] + _NINO_SECOND[int(rng.integers(len(_NINO_SECOND)))]
    return prefix + _digits(rng, 6) + "ABCD"[int(rng.integers(4))]


def _format_nino(value: str) -> str:
    return f"{value[:2]} {value[2:4]} {value[4:6]} {value[6:8]} {value[8]}"


def _draw_ssn(rng: np.random.Generator) -> str:
    area = int(rng.integers(1, 900))
    area = 667 if area == 666 else area
    return f"{area:03d}{int(rng.integers(1, 100)):02d}{int(rng.integers(1, 10_000)):04d}"


def _draw_nir(rng: np.random.Generator) -> str:
    dept = int(rng.integers(1, 96))
    dept = 21 if dept == 20 else dept  # Corsica is written 2A / 2B
    body = (f"{int(rng.integers(1, 3))}{int(rng.integers(0, 100)):02d}{int(rng.integers(1, 13)):02d}{dept:02d}"
            f"{int(rng.integers(1, 990)):03d}{int(rng.integers(1, 1000)):03d}")
    return body + nir.calc_check_digits(body)


def _draw_idnr(rng: np.random.Generator) -> str:
    # Ten digits, the first non-zero, exactly one digit written twice (the German rule), then the check digit.
    pool = [int(d) for d in rng.permutation(10)[:9]]
    if pool[0] == 0:
        pool[0], pool[1] = pool[1], pool[0]
    twice = pool[int(rng.integers(9))]
    pool.insert(int(rng.integers(1, 10)), twice)
    body = "".join(map(str, pool))
    return body + mod_11_10.calc_check_digit(body)


def _draw_dni(rng: np.random.Generator) -> str:
    body = f"{int(rng.integers(0, 100_000_000)):08d}"
    return body + dni.calc_check_digit(body)


def _draw_nie(rng: np.random.Generator) -> str:
    body = "XYZ"[int(rng.integers(3))] + f"{int(rng.integers(0, 10_000_000)):07d}"
    return body + nie.calc_check_digit(body)


def _draw_codice_fiscale(rng: np.random.Generator) -> str:
    letters = "".join(_LETTERS[int(i)] for i in rng.integers(0, 26, 6))
    day = int(rng.integers(1, 29)) + (40 if rng.random() < 0.5 else 0)
    body = (f"{letters}{int(rng.integers(0, 100)):02d}{_CF_MONTHS[int(rng.integers(12))]}{day:02d}"
            f"{_LETTERS[int(rng.integers(0, 13))]}{int(rng.integers(1, 1000)):03d}")
    return body + codicefiscale.calc_check_digit(body)


def _draw_bsn(rng: np.random.Generator) -> str:
    body = _digits(rng, 8, first_min=1)
    check = sum((9 - i) * int(d) for i, d in enumerate(body)) % 11
    return body + str(check % 10) if check < 10 else body + "0"  # an invalid draw is drawn again


def _draw_cpf(rng: np.random.Generator) -> str:
    body = _digits(rng, 9)
    return body + cpf._calc_check_digits(body)


def _draw_pesel(rng: np.random.Generator) -> str:
    year = int(rng.integers(1930, 2010))
    month = int(rng.integers(1, 13)) + (20 if year >= 2000 else 0)
    body = f"{year % 100:02d}{month:02d}{int(rng.integers(1, 29)):02d}{int(rng.integers(0, 10_000)):04d}"
    return body + pesel.calc_check_digit(body)


def _draw_personnummer(rng: np.random.Generator) -> str:
    body = f"{int(rng.integers(30, 100)):02d}{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}" \
           f"{int(rng.integers(0, 1000)):03d}"
    return f"{body[:6]}-{body[6:]}{luhn.calc_check_digit(body)}"


def _draw_sin(rng: np.random.Generator) -> str:
    body = str(int(rng.integers(1, 8))) + _digits(rng, 7)
    return body + luhn.calc_check_digit(body)


def _draw_aadhaar(rng: np.random.Generator) -> str:
    body = _digits(rng, 11, first_min=2)
    return body + verhoeff.calc_check_digit(body)


def _draw_ahv(rng: np.random.Generator) -> str:
    body = "756" + _digits(rng, 9)
    return body + ean.calc_check_digit(body)


def _format_ahv(value: str) -> str:
    return f"{value[:3]}.{value[3:7]}.{value[7:11]}.{value[11:]}"


@dataclass(frozen=True)
class IdScheme:
    """One country's identity-number scheme.

    Attributes:
        name: Short key, e.g. ``"us.ssn"`` (stored in fitted plans).
        country: ISO 3166 alpha-2 code of the issuing country.
        is_valid: Whether a string passes the scheme's checks (separators allowed).
        draw: A fresh valid number in compact form, from a generator.
        format: Compact -> the usual written form (``123-45-6789``).
        strong: Whether values alone (without a telling column name) may be taken as this scheme.
        shape: The written forms accepted (a full-match pattern: compact or the usual separators), so
            that ``000-12-3456`` is not read as a Dutch BSN.
    """

    name: str
    country: str
    is_valid: Callable[[str], bool]
    draw: Callable[[np.random.Generator], str]
    format: Callable[[str], str]
    strong: bool = True
    shape: str = r"\d+"

    def accepts(self, text: str) -> bool:
        """Whether ``text`` is written in one of the scheme's forms and passes its checks."""
        return re.fullmatch(self.shape, text, re.IGNORECASE) is not None and self.is_valid(text)


#: Every supported scheme, by name.
ID_SCHEMES: dict[str, IdScheme] = {s.name: s for s in (
    IdScheme("us.ssn", "US", ssn.is_valid, _draw_ssn, ssn.format, False, r"\d{3}([- ]?)\d{2}\1\d{4}"),
    IdScheme("gb.nino", "GB", _valid_nino, _draw_nino, _format_nino, True, r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]"),
    IdScheme("fr.nir", "FR", nir.is_valid, _draw_nir, nir.format, True,
             r"[12] ?\d{2} ?\d{2} ?(\d{2}|2[AB]) ?\d{3} ?\d{3} ?\d{2}"),
    IdScheme("de.idnr", "DE", idnr.is_valid, _draw_idnr, idnr.format, True, r"\d{11}|\d{2} \d{3} \d{3} \d{3}"),
    IdScheme("es.dni", "ES", dni.is_valid, _draw_dni, lambda v: v, True, r"\d{8}-?[A-Z]"),
    IdScheme("es.nie", "ES", nie.is_valid, _draw_nie, lambda v: v, True, r"[XYZ]-?\d{7}-?[A-Z]"),
    IdScheme("it.codicefiscale", "IT", codicefiscale.is_valid, _draw_codice_fiscale, lambda v: v, True,
             r"[A-Z0-9]{16}"),
    IdScheme("nl.bsn", "NL", bsn.is_valid, _draw_bsn, bsn.format, True, r"\d{9}|\d{4}\.\d{2}\.\d{3}"),
    IdScheme("br.cpf", "BR", cpf.is_valid, _draw_cpf, cpf.format, True, r"\d{11}|\d{3}\.\d{3}\.\d{3}-\d{2}"),
    IdScheme("pl.pesel", "PL", pesel.is_valid, _draw_pesel, lambda v: v, True, r"\d{11}"),
    IdScheme("se.personnummer", "SE", personnummer.is_valid, _draw_personnummer, lambda v: v, True,
             r"(\d{2})?\d{6}[-+]\d{4}"),
    IdScheme("ca.sin", "CA", sin.is_valid, _draw_sin, sin.format, True, r"\d{9}|\d{3}([ -])\d{3}\1\d{3}"),
    IdScheme("in.aadhaar", "IN", aadhaar.is_valid, _draw_aadhaar, aadhaar.format, True, r"\d{12}|\d{4} \d{4} \d{4}"),
    IdScheme("ch.ahv", "CH", lambda v: _ahv_valid(v), _draw_ahv, _format_ahv, True, r"756(\.?)\d{4}\1\d{4}\1\d{2}"),
)}


def _ahv_valid(value: str) -> bool:
    compact = re.sub(r"[\s.]", "", value)
    return len(compact) == 13 and compact.isdigit() and compact.startswith("756") and ean.is_valid(compact)


_SCHEME_OF_COUNTRY = {s.country: s for s in reversed(list(ID_SCHEMES.values()))}  # first scheme of a country wins


def scheme_for_country(country: str | None) -> IdScheme | None:
    """The main identity scheme of a country (alpha-2), or ``None`` when none is supported."""
    return _SCHEME_OF_COUNTRY.get(country.upper()) if isinstance(country, str) else None


@lru_cache(maxsize=65536)
def id_schemes_of(value: str, *, strong_only: bool = False) -> tuple[str, ...]:
    """The names of the schemes ``value`` is valid in (a 9-digit number may pass two), possibly none.

    Args:
        value: A written number (separators allowed).
        strong_only: Consider only schemes recognisable from values alone; the US SSN then counts only
            when written ``AAA-GG-SSSS``.
    """
    text = value.strip()
    if not 8 <= len(text) <= 24 or sum(ch.isdigit() for ch in text) < 6:
        return ()
    return tuple(
        scheme.name for scheme in ID_SCHEMES.values()
        if (not strong_only or scheme.strong or (scheme.name == "us.ssn" and _SSN_DASHED.match(text)))
        and scheme.accepts(text)
    )


def is_national_id(value: object) -> bool:
    """Whether ``value`` is a valid identity number of a supported scheme (any country)."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        value = str(value)
    return isinstance(value, str) and bool(id_schemes_of(value))


def draw_national_id(scheme: str, rng: np.random.Generator, *, formatted: bool) -> str:
    """A fresh valid number of ``scheme``, written compact or in the scheme's usual format.

    Raises:
        KeyError: If ``scheme`` is not in :data:`ID_SCHEMES`.
    """
    spec = ID_SCHEMES[scheme]
    for _ in range(_RETRIES):
        value = spec.draw(rng)
        if spec.accepts(value) and spec.accepts(spec.format(value)):
            return spec.format(value) if formatted else value
    raise GenerationError(f"Could not draw a valid {scheme} number in {_RETRIES} tries; "  # pragma: no cover
                          "this is a bug in its generator, please report it.")


def learn_id_spec(values: Sequence[str], *, rare_threshold: int) -> dict[str, Any]:
    """How a column writes identity numbers: the share of each scheme and of formatted (separated) values.

    Args:
        values: The column's non-null values as strings.
        rare_threshold: A scheme is kept only when at least this many values are valid in it (one
            foreign id among local ones would single its holder out).

    Returns:
        ``{"schemes": {scheme: share}, "formatted_share": float}`` (no value is kept), the shares over
        the kept schemes. A value valid in two schemes counts for the scheme most of the column is valid
        in. No kept scheme: ``schemes`` is empty and each row gets its country's scheme (else US SSN).
    """
    matches = [id_schemes_of(v.strip()) for v in values]
    totals = Counter(name for m in matches for name in m)
    chosen = Counter(max(m, key=lambda name: totals[name]) for m in matches if m)
    total = sum(chosen.values())
    formatted = sum(1 for v, m in zip(values, matches) if m and not v.strip().isalnum())
    kept = {k: c for k, c in sorted(chosen.items()) if c >= rare_threshold}
    if not kept:  # the generator's defaults: nothing learned from fewer than rare_threshold values
        return {"schemes": {}}
    return {"schemes": {k: c / sum(kept.values()) for k, c in kept.items()}, "formatted_share": formatted / total}
