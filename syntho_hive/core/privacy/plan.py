"""``TablePrivacyPlan``: one table's resolved privacy decisions, applied before training and after sampling.

Use from a model (the order matters)::

    plan = resolve_privacy(config, real, table="customers")   # every error before any work
    plan.fit(real)                                             # aggregates of the generated columns only
    model.fit(plan.prepare(real))                              # no removed column, hashes instead of keys
    ...
    synthetic = plan.restore(model.sample(n), seed=seed)       # generated columns back, in order
    state = plan.to_dict()                                     # strict JSON, no real value, no secret
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from syntho_hive._random import child_seed, numpy_generator, resolve_seed
from syntho_hive.core.privacy.keys import key_id, pseudonymize_series, secret_bytes
from syntho_hive.core.privacy.masking import mask_series
from syntho_hive.core.privacy.types import ACTIONS, GENERATED_ACTIONS, PROTECTED_ACTIONS, REMOVED_ACTIONS
from syntho_hive.core.semantic import SEMANTIC_TYPES, SemanticPlan
from syntho_hive.exceptions import ConfigurationError, NotFittedError, PrivacyError, SerializationError

__all__ = ["ColumnDecision", "TablePrivacyPlan", "PLAN_FORMAT", "PLAN_VERSION"]

PLAN_FORMAT = "syntho_hive.privacy_plan"
PLAN_VERSION = 1
_SOURCES = ("config", "declared", "detected")


@dataclass(frozen=True)
class ColumnDecision:
    """What happens to one column, and why.

    Attributes:
        column: The column.
        action: ``drop | mask | hash | fake | keep | custom``.
        semantic_type: Its semantic type (``None`` when unknown; required by ``fake`` and ``mask``).
        source: ``"config"`` (named in the config), ``"declared"`` (a declared personal semantic type)
            or ``"detected"`` (found by :func:`detect_pii`).
        reason: A short human-readable why (detection reason and share; never a value).
    """

    column: str
    action: str
    semantic_type: str | None
    source: str
    reason: str = ""


@dataclass
class TablePrivacyPlan:
    """One table's privacy decisions (build it with :func:`~syntho_hive.core.privacy.resolve.resolve_privacy`).

    Attributes:
        table: The table (``None`` for a lone frame).
        columns: The real table's columns, in order.
        decisions: Per decided column (every action but plain modelling, plus personal columns kept).
        semantic_types: Semantic type of every column that generation may read or writes.
        locale: Faker locale for rows without a known country.
        mask_char: Replacement character of ``mask``.
        mask_keep: Characters shown per run of ``mask``.
        key_id: Fingerprint of the hashing secret (``None`` without one).
        rare_threshold: Aggregates seen fewer times are not kept (see :class:`SemanticPlan`).
        semantic: The fitted generation plan of the ``fake``/``mask`` columns (``None`` before :meth:`fit`).
    """

    table: str | None
    columns: list[str]
    decisions: dict[str, ColumnDecision] = field(default_factory=dict)
    semantic_types: dict[str, str] = field(default_factory=dict)
    locale: str = "en_US"
    mask_char: str = "*"
    mask_keep: int = 1
    key_id: str | None = None
    rare_threshold: int = 5
    semantic: SemanticPlan | None = None
    _secret: bytes | None = field(default=None, repr=False, compare=False)
    _custom: dict[str, Callable[[pd.Series], Any]] = field(default_factory=dict, repr=False, compare=False)

    # -- what the plan does ---------------------------------------------------------------------------
    def _with(self, actions: frozenset[str] | set[str]) -> list[str]:
        return [c for c in self.columns if c in self.decisions and self.decisions[c].action in actions]

    @property
    def pii_columns(self) -> list[str]:
        """Columns whose real values never reach the model as they are (``drop``, ``fake``, ``mask``,
        ``hash``): they may not be parent context nor sampling conditions."""
        return self._with(PROTECTED_ACTIONS)

    @property
    def removed_columns(self) -> list[str]:
        """Columns :meth:`prepare` removes (``drop``, ``fake``, ``mask``)."""
        return self._with(REMOVED_ACTIONS)

    @property
    def generated_columns(self) -> list[str]:
        """Columns :meth:`restore` generates (``fake``, ``mask``)."""
        return self._with(GENERATED_ACTIONS)

    @property
    def dropped_columns(self) -> list[str]:
        """Columns absent from the output (``drop``)."""
        return self._with({"drop"})

    @property
    def hashed_columns(self) -> list[str]:
        """Columns modelled as keyed pseudonyms (``hash``)."""
        return self._with({"hash"})

    @property
    def custom_columns(self) -> list[str]:
        """Columns modelled after the user's transform (``custom``)."""
        return self._with({"custom"})

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`restore` can run (fitted, or nothing to generate)."""
        return self.semantic is not None or not self.generated_columns

    # -- before training ------------------------------------------------------------------------------
    def _check_frame(self, frame: pd.DataFrame, needed: list[str], what: str) -> None:
        if not isinstance(frame, pd.DataFrame):
            raise ConfigurationError(f"{what} expects a pandas DataFrame, got {type(frame).__name__}.")
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise ConfigurationError(
                f"{what}: the frame of table {self.table!r} lacks the columns {missing} that the privacy plan "
                "decided on; pass the same table the plan was resolved with."
            )

    def fit(self, frame: pd.DataFrame) -> "TablePrivacyPlan":
        """Learn how to generate the ``fake``/``mask`` columns: aggregates only (null rate, formats, frequent
        e-mail domains, five-year birth spans), never a real value.

        Args:
            frame: The real table (before :meth:`prepare`).

        Returns:
            ``self``.

        Raises:
            ConfigurationError: If the frame lacks a decided column.
        """
        generated = self.generated_columns
        self._check_frame(frame, generated, "TablePrivacyPlan.fit")
        if not generated:
            self.semantic = None
            return self
        context = {c: t for c, t in self.semantic_types.items() if c in frame.columns
                   and (c in generated or self.decisions.get(c, _KEEP).action == "keep")}
        self.semantic = SemanticPlan.fit(frame, context, generated=generated, locale=self.locale,
                                         rare_threshold=self.rare_threshold)
        return self

    def prepare(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame the model trains on: ``drop``/``fake``/``mask`` columns removed, ``hash`` columns replaced
        by keyed pseudonyms, ``custom`` columns transformed; other columns untouched.

        Raises:
            ConfigurationError: If a decided column is missing, or a custom transform fails or returns
                something that is not one value per row.
            PrivacyError: If the plan hashes columns but holds no secret (loaded without it).
        """
        self._check_frame(frame, [c for c in self.columns if c in self.decisions], "TablePrivacyPlan.prepare")
        hashed, custom = self.hashed_columns, self.custom_columns
        if hashed and self._secret is None:
            raise PrivacyError(
                f"Table {self.table!r} hashes {hashed} but this privacy plan holds no secret (it was loaded); "
                "pass secret= to TablePrivacyPlan.from_dict."
            )
        out = frame.drop(columns=self.removed_columns)
        for column in hashed:
            out[column] = pseudonymize_series(frame[column], self._secret)  # type: ignore[arg-type]
        for column in custom:
            out[column] = self._apply_custom(column, frame[column])
        return out

    def _apply_custom(self, column: str, series: pd.Series) -> pd.Series:
        function = self._custom.get(column)
        if function is None:
            raise ConfigurationError(
                f"Column {column!r} of table {self.table!r} has the action 'custom' but no transform; "
                "pass PrivacyConfig(custom={column: function})."
            )
        try:
            result = function(series.copy())
        except Exception as exc:  # the user's code: name the column, keep the cause
            raise ConfigurationError(
                f"The custom privacy transform of column {column!r} of table {self.table!r} failed: {exc!r}."
            ) from exc
        values = pd.Series(result) if not isinstance(result, pd.Series) else result
        if len(values) != len(series):
            raise ConfigurationError(
                f"The custom privacy transform of column {column!r} of table {self.table!r} returned "
                f"{len(values)} values for {len(series)} rows; it must return one value per row."
            )
        return pd.Series(values.to_numpy(), index=series.index, name=series.name, dtype=values.dtype)

    # -- after sampling -------------------------------------------------------------------------------
    def restore(self, model_output: pd.DataFrame, seed: int | None, *,
                max_lengths: Mapping[str, int] | None = None) -> pd.DataFrame:
        """Generate the ``fake``/``mask`` columns for the model's rows and put every column back in the real
        table's order (``drop`` columns stay absent; columns unknown to the plan follow at the end).

        Args:
            model_output: The rows the model sampled (what :meth:`prepare` kept, synthetic).
            seed: Generation seed: the same seed and rows give identical output (``None``: a fresh one).
            max_lengths: ``{column: most characters}`` generated values must fit (a ``VARCHAR(n)``; see
                :meth:`~syntho_hive.core.semantic.SemanticPlan.generate`).

        Returns:
            The synthetic table with ``model_output.index``.

        Raises:
            NotFittedError: If columns are to be generated and :meth:`fit` was not called.
            ConfigurationError: If ``seed`` is not a non-negative integer or ``None``.
        """
        if not isinstance(model_output, pd.DataFrame):
            raise ConfigurationError(f"restore expects a pandas DataFrame, got {type(model_output).__name__}.")
        try:
            seed = resolve_seed(seed)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        generated = self.generated_columns
        parts: dict[str, pd.Series] = {}
        if generated:
            if self.semantic is None:
                raise NotFittedError(f"The privacy plan of table {self.table!r} is not fitted; call fit(real) first.")
            rng = numpy_generator(child_seed(seed, "privacy", self.table or ""))
            made = self.semantic.generate(model_output, rng, max_lengths=max_lengths)
            for column in generated:
                values = made[column]
                if self.decisions[column].action == "mask":
                    values = mask_series(values, char=self.mask_char, keep=self.mask_keep)
                parts[column] = values
        order = [c for c in self.columns if c in parts or (c in model_output.columns and c not in self.removed_columns)]
        order += [c for c in model_output.columns if c not in set(self.columns)]
        return pd.DataFrame({c: parts[c] if c in parts else model_output[c] for c in order},
                            index=model_output.index, columns=order)

    # -- persistence ----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON form: decisions, types, aggregates; no real value and no secret (its key id only)."""
        return {"format": PLAN_FORMAT, "version": PLAN_VERSION, "table": self.table, "columns": list(self.columns),
                "decisions": [asdict(d) for d in self.decisions.values()],
                "semantic_types": dict(self.semantic_types), "locale": self.locale, "mask_char": self.mask_char,
                "mask_keep": self.mask_keep, "key_id": self.key_id, "rare_threshold": self.rare_threshold,
                "semantic": None if self.semantic is None else self.semantic.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, secret: Any = None,
                  custom: Mapping[str, Callable[[pd.Series], Any]] | None = None) -> "TablePrivacyPlan":
        """Rebuild a plan from :meth:`to_dict` output.

        Args:
            data: The stored form.
            secret: The hashing secret; needed only to :meth:`prepare` again (sampling needs none).
            custom: ``{column: transform}``; needed only to :meth:`prepare` again.

        Raises:
            SerializationError: If the data is not a privacy plan of this version or is corrupt.
            ConfigurationError: If ``secret`` is not the one the plan was made with.
        """
        try:
            if not isinstance(data, Mapping) or data.get("format") != PLAN_FORMAT:
                raise ValueError("missing or wrong 'format' marker")
            if data.get("version") != PLAN_VERSION:
                raise ValueError(f"unsupported version {data.get('version')!r} (this SynthoHive reads {PLAN_VERSION})")
            columns = [str(c) for c in data["columns"]]
            decisions = {}
            for raw in data["decisions"]:
                fields = ("column", "action", "semantic_type", "source", "reason")
                decision = ColumnDecision(**{k: raw[k] for k in fields})
                if decision.column not in columns or decision.action not in ACTIONS or decision.source not in _SOURCES:
                    raise ValueError(f"invalid decision {raw!r}")
                if decision.semantic_type is not None and decision.semantic_type not in SEMANTIC_TYPES:
                    raise ValueError(f"unknown semantic type {decision.semantic_type!r}")
                decisions[decision.column] = decision
            types = {str(c): str(t) for c, t in dict(data["semantic_types"]).items()}
            mask_char, counts = data["mask_char"], (data["mask_keep"], data["rare_threshold"])
            if not isinstance(data["table"], str) or not isinstance(mask_char, str) or len(mask_char) != 1 \
                    or mask_char.isalnum() or any(type(n) is not int or n < 0 for n in counts) or counts[1] < 1:
                raise ValueError("table must be a name, mask_char one character that is not a letter or digit, "
                                 "mask_keep an integer >= 0 and rare_threshold an integer >= 1")
            semantic = None if data["semantic"] is None else SemanticPlan.from_dict(data["semantic"])
            plan = cls(table=data["table"], columns=columns, decisions=decisions, semantic_types=types,
                       locale=str(data["locale"]), mask_char=mask_char, mask_keep=counts[0],
                       key_id=data["key_id"], rare_threshold=counts[1], semantic=semantic)
        except (KeyError, TypeError, ValueError) as exc:
            raise SerializationError(
                f"Cannot load the privacy plan: {exc!r}. The saved model is corrupt or from an incompatible version; "
                "re-fit and save it again."
            ) from exc
        if plan.generated_columns and plan.semantic is None:
            raise SerializationError("Cannot load the privacy plan: it generates columns but holds no fitted "
                                     "generation plan; re-fit and save it again.")
        if secret is not None:
            if plan.key_id is not None and key_id(secret) != plan.key_id:
                raise ConfigurationError(
                    f"The secret given does not match the one the privacy plan of table {plan.table!r} was made with "
                    f"(key id {plan.key_id}); pass the same secret."
                )
            plan._secret = secret_bytes(secret)
        plan._custom = dict(custom or {})
        return plan


_KEEP = ColumnDecision(column="", action="keep", semantic_type=None, source="config")
