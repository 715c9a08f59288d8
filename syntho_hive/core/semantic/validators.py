"""Value checkers shared by detection, declared-type checks and tests of generated data.

Each ``is_*`` function takes one value and answers whether it looks like a valid value of the type.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from stdnum import luhn
from stdnum.iso7064 import mod_97_10

__all__ = ["EMAIL_RE", "is_email", "is_url", "is_ip", "is_iban", "is_card_number", "has_card_iin"]

#: RFC 5322 common subset: dot-atom local part, domain of letter/digit/hyphen labels and an alphabetic TLD.
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9%+_-]+(?:\.[A-Za-z0-9%+_-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}$"
)
_URL_RE = re.compile(
    r"^(?:(?:https?|ftp)://|www\.)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
    r"(?::\d{1,5})?(?:[/?#][^\s]*)?$",
    re.IGNORECASE,
)
_IBAN_RE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")
_CARD_RE = re.compile(r"^\d(?:[ -]?\d){12,18}$")


def is_email(value: Any) -> bool:
    """Whether ``value`` is a string e-mail address of the common RFC 5322 subset."""
    return isinstance(value, str) and len(value) <= 254 and EMAIL_RE.match(value) is not None


def is_url(value: Any) -> bool:
    """Whether ``value`` is an http(s)/ftp URL or a ``www.`` host name."""
    return isinstance(value, str) and _URL_RE.match(value.strip()) is not None


def is_ip(value: Any) -> bool:
    """Whether ``value`` is a string IPv4 or IPv6 address."""
    if not isinstance(value, str) or not (":" in value or "." in value):
        return False
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return False
    return True


def is_iban(value: Any) -> bool:
    """Whether ``value`` is an IBAN (spaces allowed) whose ISO 7064 mod-97 check holds."""
    if not isinstance(value, str):
        return False
    compact = value.replace(" ", "").upper()
    return _IBAN_RE.match(compact) is not None and mod_97_10.checksum(compact[4:] + compact[:4]) == 1


#: Issuer identification number ranges of the card networks in use (prefix ranges, inclusive) and the
#: lengths each issues: Visa, Mastercard, American Express, Discover, JCB, Diners Club, UnionPay, Maestro.
_IIN_RANGES: tuple[tuple[int, int, frozenset[int]], ...] = (
    (4, 4, frozenset({13, 16, 19})),
    (51, 55, frozenset({16})), (2221, 2720, frozenset({16})),
    (34, 34, frozenset({15})), (37, 37, frozenset({15})),
    (6011, 6011, frozenset({16, 19})), (644, 649, frozenset({16, 19})), (65, 65, frozenset({16, 19})),
    (3528, 3589, frozenset({16, 19})),
    (300, 305, frozenset({14, 16})), (36, 36, frozenset({14, 16})), (38, 39, frozenset({14, 16})),
    (62, 62, frozenset({16, 17, 18, 19})),
    (50, 50, frozenset(range(12, 20))), (56, 58, frozenset(range(12, 20))), (63, 63, frozenset(range(12, 20))),
    (67, 67, frozenset(range(12, 20))),
)


def has_card_iin(number: str) -> bool:
    """Whether the digit string ``number`` starts with a card network's IIN and has a length it issues."""
    for low, high, lengths in _IIN_RANGES:
        width = len(str(low))
        if len(number) in lengths and low <= int(number[:width]) <= high:
            return True
    return False


def is_card_number(value: Any) -> bool:
    """Whether ``value`` is a card number (spaces/hyphens allowed): a network's IIN prefix and length,
    and the Luhn checksum."""
    if isinstance(value, (int,)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or _CARD_RE.match(value.strip()) is None:
        return False
    digits = "".join(ch for ch in value if ch.isdigit())
    return has_card_iin(digits) and luhn.is_valid(digits)
