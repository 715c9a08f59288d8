"""Value checkers shared by detection, declared-type checks and tests of generated data.

Each ``is_*`` function takes one value and answers whether it looks like a valid value of the type.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

__all__ = [
    "EMAIL_RE", "is_email", "is_url", "is_ip", "is_iban", "is_luhn", "is_card_number",
    "digits_of", "iban_check_digits",
]

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


def digits_of(text: str) -> str:
    """The digits of ``text``, in order."""
    return "".join(ch for ch in text if ch.isdigit())


def _iban_number(iban: str) -> int:
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged))


def iban_check_digits(country: str, bban: str) -> str:
    """The two ISO 13616 check digits for ``country`` (alpha-2) and ``bban``.

    Args:
        country: Two upper-case letters.
        bban: The basic bank account number (upper-case letters and digits).

    Returns:
        Two digits, e.g. ``"82"``.
    """
    remainder = _iban_number(f"{country}00{bban}") % 97
    return f"{98 - remainder:02d}"


def is_iban(value: Any) -> bool:
    """Whether ``value`` is an IBAN (spaces allowed) whose mod-97 check holds."""
    if not isinstance(value, str):
        return False
    compact = value.replace(" ", "").upper()
    if _IBAN_RE.match(compact) is None:
        return False
    return _iban_number(compact) % 97 == 1


def is_luhn(number: str) -> bool:
    """Whether the digit string ``number`` passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def is_card_number(value: Any) -> bool:
    """Whether ``value`` is a 13-19 digit card number (spaces/hyphens allowed) passing Luhn."""
    if isinstance(value, (int,)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or _CARD_RE.match(value.strip()) is None:
        return False
    return is_luhn(digits_of(value))
