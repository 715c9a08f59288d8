"""``PrivacyConfig``: what to do with personal data, in one immutable, validated object."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretBytes, ValidationError, field_validator, model_validator

from syntho_hive.core.dp.config import DPConfig
from syntho_hive.core.privacy.keys import key_id, secret_bytes
from syntho_hive.core.privacy.types import ACTIONS, Action
from syntho_hive.exceptions import ConfigurationError, SerializationError

__all__ = ["PrivacyConfig", "CONFIG_FORMAT", "CONFIG_VERSION"]

CONFIG_FORMAT = "syntho_hive.privacy_config"
CONFIG_VERSION = 1

CustomTransform = Callable[[Any], Any]


class PrivacyConfig(BaseModel):
    """What happens to personal data before training and at sample time.

    Keys of ``actions`` and ``custom`` are ``"table.column"`` or a bare ``"column"`` (applies in every
    table that has the column); ``"table.column"`` wins over ``"column"``.

    Attributes:
        actions: Per column: ``drop | mask | hash | fake | keep | custom`` (see
            :data:`~syntho_hive.core.privacy.types.Action`). Columns not listed follow detection.
        detect: Detect personal-data columns by name and values (:func:`detect_pii`) and apply the
            default action of their type (``fake`` for direct identifiers and dates of birth, ``keep``
            for cities); ``False``: only the listed columns are touched.
        locale: Faker locale of generated values for rows without a known country (``None``:
            ``en_US``); a country column of the table sets each row's locale.
        secret: The HMAC secret of ``hash`` (``str`` or ``bytes``; stored as ``SecretBytes``, never
            printed nor written: :meth:`to_dict` keeps only :attr:`key_id`). Required by ``hash``.
        custom: Per column, a function ``pd.Series -> pd.Series`` applied to the real column before
            training (the action ``custom`` is implied); its output is modelled, so its privacy is
            the user's (a generalisation such as birth date -> year keeps the year distribution).
        mask_char: The one character that replaces hidden characters of ``mask``.
        mask_keep: How many leading characters of each run of letters/digits ``mask`` shows.
        dp: Differential privacy of a whole schema (:class:`~syntho_hive.core.dp.DPConfig`; ``None``: off):
            ``Synthesizer(metadata, privacy_config=PrivacyConfig(dp=DPConfig(max_epsilon=...)))`` spends at most
            ``max_epsilon`` at ``delta`` over every table (see ``docs/privacy.md``, "Multi-table"). A mapping
            is read with :meth:`DPConfig.from_dict`.

    Raises:
        ConfigurationError: On construction: an unknown action, ``hash`` without a secret, a
            ``custom`` entry that is not callable or that contradicts ``actions``, an unknown locale,
            a bad mask option, a ``dp`` that is not a DPConfig (or its ``to_dict()`` form).
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid", arbitrary_types_allowed=True)

    actions: dict[str, Action] = Field(default_factory=dict)
    detect: bool = True
    locale: str | None = None
    secret: SecretBytes | None = Field(default=None, exclude=True, repr=False)
    custom: dict[str, CustomTransform] = Field(default_factory=dict, exclude=True, repr=False)
    mask_char: str = "*"
    mask_keep: int = Field(default=1, ge=0)
    dp: DPConfig | None = None

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
            raise ConfigurationError(f"Invalid PrivacyConfig: {problems}.") from None

    @field_validator("secret", mode="before")
    @classmethod
    def _secret(cls, value: Any) -> Any:
        return None if value is None else SecretBytes(secret_bytes(value))

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str | None) -> str | None:
        if value is None:
            return None
        from syntho_hive.core.semantic import resolve_locale

        return resolve_locale(value)

    @field_validator("dp", mode="before")
    @classmethod
    def _dp(cls, value: Any) -> Any:
        if value is None or isinstance(value, DPConfig):
            return value
        if isinstance(value, Mapping):
            return DPConfig.from_dict(value)
        raise ValueError(f"must be a syntho_hive DPConfig(max_epsilon=...) or None, got {type(value).__name__}")

    @field_validator("mask_char")
    @classmethod
    def _mask_char(cls, value: str) -> str:
        if len(value) != 1 or value.isalnum():
            raise ValueError(f"must be one character that is not a letter or digit (such as '*'), got {value!r}")
        return value

    @field_validator("actions", "custom", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            bad = [k for k in value if not isinstance(k, str) or not k.strip()]
            if bad:
                raise ValueError(f"keys must be 'table.column' or 'column' strings, got {bad!r}")
            return dict(value)
        return value

    @model_validator(mode="after")
    def _consistent(self) -> "PrivacyConfig":
        hashed = sorted(k for k, a in self.actions.items() if a == "hash")
        if hashed and self.secret is None:
            raise ValueError(
                f"the action 'hash' of {hashed} needs a secret (no secret, no hash): pass "
                "PrivacyConfig(secret=...) from your key store, or choose 'fake' or 'drop' for these columns"
            )
        not_callable = sorted(k for k, f in self.custom.items() if not callable(f))
        if not_callable:
            raise ValueError(f"custom transforms of {not_callable} are not callable")
        clash = sorted(k for k in self.custom if self.actions.get(k, "custom") != "custom")
        if clash:
            raise ValueError(f"{clash} have a custom transform but the action {[self.actions[k] for k in clash]}; "
                             "remove one of the two")
        return self

    def action_for(self, column: str, table: str | None = None) -> Action | None:
        """The action given for ``column`` of ``table`` (``"table.column"`` first, then ``"column"``), or ``None``."""
        effective = {**{k: "custom" for k in self.custom}, **self.actions}
        if table is not None and f"{table}.{column}" in effective:
            return effective[f"{table}.{column}"]  # type: ignore[return-value]
        return effective.get(column)  # type: ignore[return-value]

    def custom_for(self, column: str, table: str | None = None) -> CustomTransform | None:
        """The custom transform of ``column`` of ``table``, or ``None``."""
        if table is not None and f"{table}.{column}" in self.custom:
            return self.custom[f"{table}.{column}"]
        return self.custom.get(column)

    @property
    def key_id(self) -> str | None:
        """The fingerprint of the secret (:func:`~syntho_hive.core.privacy.keys.key_id`), ``None`` without one."""
        return None if self.secret is None else key_id(self.secret)

    @property
    def keys(self) -> list[str]:
        """Every column key named by ``actions`` or ``custom``."""
        return sorted({*self.actions, *self.custom})

    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON form **without** the secret (its :attr:`key_id` instead) and without the custom
        functions (their column keys only); ``dp`` as :meth:`DPConfig.to_dict`."""
        dp = self.dp.to_dict() if self.dp is not None else None
        return {"format": CONFIG_FORMAT, "version": CONFIG_VERSION, "actions": dict(sorted(self.actions.items())),
                "detect": self.detect, "locale": self.locale, "key_id": self.key_id,
                "custom_columns": sorted(self.custom), "mask_char": self.mask_char, "mask_keep": self.mask_keep,
                "dp": dp}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, secret: Any = None,
                  custom: Mapping[str, CustomTransform] | None = None) -> "PrivacyConfig":
        """Rebuild a config from :meth:`to_dict` output.

        Args:
            data: The stored form.
            secret: The secret, needed when the stored config hashes columns; it must have the stored key id.
            custom: The custom transforms of the stored ``custom_columns`` (``None``: those columns keep the
                action ``custom`` without a function: fine for sampling, refused by
                :func:`~syntho_hive.core.privacy.resolve.resolve_privacy`).

        Raises:
            SerializationError: If the data is not a privacy config of this version or is corrupt.
            ConfigurationError: If the secret is missing or is not the one the config was made with.
        """
        if not isinstance(data, Mapping) or data.get("format") != CONFIG_FORMAT:
            raise SerializationError("Cannot load the privacy config: missing or wrong 'format' marker; "
                                     "pass the output of PrivacyConfig.to_dict().")
        if data.get("version") != CONFIG_VERSION:
            raise SerializationError(f"Cannot load the privacy config: unsupported version {data.get('version')!r} "
                                     f"(this SynthoHive reads {CONFIG_VERSION}).")
        stored_key = data.get("key_id")
        if secret is not None and stored_key is not None and key_id(secret) != stored_key:
            raise ConfigurationError(
                f"The secret given does not match the one this privacy config was made with (key id {stored_key}); "
                "pass the same secret, or pseudonyms will not match those already produced."
            )
        custom_columns = data.get("custom_columns", [])
        if not isinstance(custom_columns, list) or not all(isinstance(c, str) for c in custom_columns):
            raise SerializationError("Cannot load the privacy config: 'custom_columns' must be a list of strings.")
        actions = data.get("actions")
        if not isinstance(actions, Mapping) or any(a not in ACTIONS for a in actions.values()):
            raise SerializationError(f"Cannot load the privacy config: invalid 'actions' {actions!r}.")
        given = dict(custom or {})
        actions = {**{c: "custom" for c in custom_columns if c not in given}, **dict(actions)}
        try:
            return cls(actions=actions, detect=data["detect"], locale=data["locale"], secret=secret, custom=given,
                       mask_char=data["mask_char"], mask_keep=data["mask_keep"], dp=data.get("dp"))
        except KeyError as exc:
            raise SerializationError(f"Cannot load the privacy config: missing field {exc}.") from exc
