"""Keyed pseudonyms (HMAC-SHA256) and key fingerprints.

A pseudonym depends only on the secret and the value's canonical text, so the same real key gets
the same pseudonym in every table, every run and every process: a hashed foreign key still joins
its hashed primary key. Without the secret a pseudonym cannot be reversed or recomputed (a plain
hash of a phone number or an SSN can be reversed by trying them all; a keyed one cannot).

Output types:

- text values -> a 24-character lower-case hex token (96 bits of the HMAC);
- integers (Python, NumPy or a pandas integer column) -> a non-negative integer below ``2**62``
  (62 bits of the HMAC; the digit count is **not** kept: the pseudonym of ``42`` is a big number);
- floats with an integral value (a key column that became float because of nulls) -> as integers;
- booleans and other floats -> refused: a pseudonym of a measurement makes no sense.

Nulls stay null. Both text and integers hash the same canonical text, so ``"123"`` and ``123`` share
the HMAC but not the output type: hash a key with the same dtype in every table.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from typing import Any, overload

import numpy as np
import pandas as pd
from pandas.api import types as ptypes
from pydantic import SecretBytes, SecretStr

from syntho_hive.exceptions import ConfigurationError

__all__ = ["pseudonymize", "pseudonymize_series", "key_id", "secret_bytes", "TOKEN_LENGTH", "INT_BITS"]

#: Length of a text pseudonym (hex characters).
TOKEN_LENGTH = 24
#: Bits of an integer pseudonym.
INT_BITS = 62
_DOMAIN = b"synthohive/pseudonym/v1\x00"
_KEY_ID_DOMAIN = b"synthohive/key-id/v1"

Secret = str | bytes | SecretStr | SecretBytes


def secret_bytes(secret: Any) -> bytes:
    """The raw bytes of a secret given as ``str`` (UTF-8), ``bytes``, ``SecretStr`` or ``SecretBytes``.

    Raises:
        ConfigurationError: If the secret has another type or is empty.
    """
    if isinstance(secret, (SecretStr, SecretBytes)):
        secret = secret.get_secret_value()
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes):
        raise ConfigurationError(
            f"The pseudonym secret must be str, bytes, SecretStr or SecretBytes, got {type(secret).__name__}. "
            "Pass the secret from your key store, e.g. PrivacyConfig(secret=os.environ['SYNTHOHIVE_SECRET'])."
        )
    if not secret:
        raise ConfigurationError("The pseudonym secret is empty; pass a long random secret (e.g. 32 bytes).")
    return secret


def key_id(secret: Secret) -> str:
    """A 16-hex-character fingerprint of a secret, safe to store: it tells whether two runs used the same
    secret without revealing it (HMAC of a fixed label, not of the secret itself)."""
    return hmac.new(secret_bytes(secret), _KEY_ID_DOMAIN, hashlib.sha256).hexdigest()[:16]


def _canonical(value: Any) -> tuple[str, bool] | None:
    """``(text hashed, output is an integer)``, or ``None`` for a null."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (bool, np.bool_)):
        raise ConfigurationError(f"Cannot pseudonymize the boolean {value!r}: hash identifiers, not flags.")
    if isinstance(value, (int, np.integer)):
        return str(int(value)), True
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value)), True
        raise ConfigurationError(
            f"Cannot pseudonymize the float {value!r}: hash identifiers (text or integers), not measurements."
        )
    if isinstance(value, str):
        return value, False
    return str(value), False


def _digest(key: bytes, text: str) -> bytes:
    return hmac.new(key, _DOMAIN + text.encode("utf-8"), hashlib.sha256).digest()


def _one(key: bytes, value: Any) -> Any:
    canon = _canonical(value)
    if canon is None:
        return None
    digest = _digest(key, canon[0])
    if canon[1]:
        return int.from_bytes(digest[:8], "big") >> (64 - INT_BITS)
    return digest.hex()[:TOKEN_LENGTH]


def pseudonymize_series(series: pd.Series, secret: Secret) -> pd.Series:
    """Keyed pseudonyms of a column (see the module docstring for the output types).

    Args:
        series: The real values.
        secret: The HMAC secret.

    Returns:
        A Series with the same index and name: ``Int64`` for integer input (and integral floats),
        ``object`` strings otherwise; nulls stay null.

    Raises:
        ConfigurationError: If the secret is invalid, or the column holds booleans or non-integral floats.
    """
    key = secret_bytes(secret)
    if ptypes.is_bool_dtype(series.dtype):
        raise ConfigurationError(f"Cannot pseudonymize the boolean column {series.name!r}: hash identifiers only.")
    values = [_one(key, v) for v in series.tolist()]
    integer = ptypes.is_integer_dtype(series.dtype) or (
        ptypes.is_float_dtype(series.dtype) and series.dropna().map(float.is_integer).all())
    if integer:
        return pd.Series(pd.array(values, dtype="Int64"), index=series.index, name=series.name)
    return pd.Series(values, index=series.index, name=series.name, dtype=object)


@overload
def pseudonymize(value: pd.Series, secret: Secret) -> pd.Series: ...
@overload
def pseudonymize(value: Any, secret: Secret) -> Any: ...


def pseudonymize(value: Any, secret: Secret) -> Any:
    """The keyed pseudonym of a value or of every value of a Series.

    The same value and secret give the same pseudonym in every table, run and process; another secret
    gives an unrelated one. Text -> 24 hex characters; integers -> an integer below ``2**62``; null -> null.

    Args:
        value: A scalar (str, int, integral float, None) or a ``pd.Series``.
        secret: The HMAC secret (``str``, ``bytes``, ``SecretStr`` or ``SecretBytes``).

    Returns:
        The pseudonym (a Series for a Series, see :func:`pseudonymize_series`).

    Raises:
        ConfigurationError: If the secret is invalid or the value is a boolean or a non-integral float.
    """
    if isinstance(value, pd.Series):
        return pseudonymize_series(value, secret)
    return _one(secret_bytes(secret), value)
