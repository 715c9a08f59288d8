"""Faker locales: validation, cached instances re-seeded from an explicit generator, provider word lists."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
from faker import Faker
from faker.config import AVAILABLE_LOCALES

from syntho_hive.exceptions import ConfigurationError

__all__ = ["resolve_locale", "faker_for", "provider_attr", "WordList", "word_list"]


def resolve_locale(locale: str) -> str:
    """Validate a Faker locale name.

    Args:
        locale: E.g. ``"de_DE"`` (``"de-DE"`` is accepted and normalised).

    Returns:
        The canonical locale name, e.g. ``"de_DE"``.

    Raises:
        ConfigurationError: If Faker has no such locale; the message lists close names.
    """
    if not isinstance(locale, str) or not locale.strip():
        raise ConfigurationError(f"locale must be a Faker locale name such as 'en_US', got {locale!r}.")
    candidate = locale.strip().replace("-", "_")
    if candidate in AVAILABLE_LOCALES:
        return candidate
    lowered = {name.lower(): name for name in AVAILABLE_LOCALES}
    if candidate.lower() in lowered:
        return lowered[candidate.lower()]
    close = difflib.get_close_matches(candidate, sorted(AVAILABLE_LOCALES), n=5, cutoff=0.5)
    prefix = candidate.split("_")[0].lower()
    close += [name for name in sorted(AVAILABLE_LOCALES) if name.lower().startswith(prefix + "_") and name not in close]
    hint = f" Close locales: {', '.join(close[:8])}." if close else ""
    raise ConfigurationError(
        f"Unknown locale {locale!r}: Faker has no such locale.{hint} Pass one of faker.config.AVAILABLE_LOCALES."
    )


@lru_cache(maxsize=256)
def _faker(locale: str) -> Faker:
    return Faker(locale)


def faker_for(locale: str, rng: np.random.Generator) -> Faker:
    """The cached Faker of ``locale``, re-seeded from ``rng`` (so its output depends only on ``rng``)."""
    fake = _faker(locale)
    fake.seed_instance(int(rng.integers(0, 2**62)))
    return fake


@lru_cache(maxsize=2048)
def provider_attr(locale: str, attr: str) -> Any:
    """An attribute of the first provider of ``locale`` that defines it (e.g. ``first_names``), else ``None``."""
    for provider in _faker(locale).get_providers():
        if hasattr(provider, attr):
            return getattr(provider, attr)
    return None


class WordList:
    """A weighted word list drawn from with numpy."""

    def __init__(self, words: Sequence[str], weights: Sequence[float] | None = None) -> None:
        self.words = np.asarray(list(words), dtype=object)
        if weights is None:
            self.p = None
        else:
            w = np.asarray(list(weights), dtype=float)
            self.p = w / w.sum()

    def __len__(self) -> int:
        return len(self.words)

    def draw(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` words drawn with replacement (by weight when the list has weights)."""
        return self.words[rng.choice(len(self.words), size=n, p=self.p)]


@lru_cache(maxsize=1024)
def word_list(locale: str, attr: str) -> WordList | None:
    """A provider list/dict attribute of ``locale`` as a :class:`WordList` (``None`` when absent or empty)."""
    value = provider_attr(locale, attr)
    if not value:
        return None
    if isinstance(value, dict):
        words = [str(k) for k in value]
        weights = [float(v) for v in value.values()]
        return WordList(words, weights)
    if isinstance(value, (list, tuple)):
        return WordList(sorted({str(v) for v in value}))
    return None
