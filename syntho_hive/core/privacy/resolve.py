"""From a :class:`PrivacyConfig` and a real table to a :class:`TablePrivacyPlan`, checking everything first.

Per column, in this order of precedence:

1. the config's action (``"table.column"``, then ``"column"``; a ``custom`` transform implies ``custom``);
2. a column declared personal (``pii_cols``) -> the default action of its personal semantic type,
   declared or detected (whatever ``detect`` says), except that ``keep`` (a city) becomes ``fake``: the
   declaration says its real values must not be modelled (every personal type has a generator); one
   without such a type has nothing to generate and is refused: its action must be given;
3. a personal semantic type declared in the metadata -> the default action of that type;
4. with ``detect`` on, a column :func:`detect_pii` reports -> the default action of its type;
5. otherwise the column is modelled as is.

A column declared with the semantic type ``None`` is never detected (the declaration says it is not a
semantic column); name it in ``actions`` to protect it anyway. ``fake`` and ``mask`` need the column's
semantic type (declared or detected) to know what to generate.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

import pandas as pd
from pandas.api import types as ptypes

from syntho_hive.core.privacy.config import PrivacyConfig
from syntho_hive.core.privacy.detection import DEFAULT_SAMPLE_ROWS, PIIReport, detect_pii
from syntho_hive.core.privacy.keys import secret_bytes
from syntho_hive.core.privacy.plan import ColumnDecision, TablePrivacyPlan
from syntho_hive.core.privacy.types import DEFAULT_ACTIONS, GENERATED_ACTIONS, PII_TYPES
from syntho_hive.core.semantic.checks import validate_type_name
from syntho_hive.exceptions import ConfigurationError

__all__ = ["resolve_privacy", "check_privacy_config"]


def check_privacy_config(config: PrivacyConfig, columns_by_table: Mapping[str, Collection[str]]) -> None:
    """Check that every column the config names exists in some table (call it once, before any work,
    with every table of a dataset).

    Args:
        config: The privacy config.
        columns_by_table: ``{table: its columns}``.

    Raises:
        ConfigurationError: Listing every key that names no column (``"table.column"`` of a missing table
            or column, or a bare ``"column"`` that no table has).
    """
    if not isinstance(config, PrivacyConfig):
        raise ConfigurationError(f"privacy must be a PrivacyConfig, got {type(config).__name__}.")
    unknown = [key for key in config.keys
               if not any(key in cols or any(key == f"{t}.{c}" for c in cols) for t, cols in columns_by_table.items())]
    if unknown:
        tables = {t: sorted(map(str, cols)) for t, cols in columns_by_table.items()}
        raise ConfigurationError(
            f"The privacy config names columns that no table has: {unknown}. Use 'table.column' or 'column' "
            f"with existing names (tables and columns: {tables})."
        )


def _key_matches(key: str, column: str, table: str | None) -> bool:
    return key == column or (table is not None and key == f"{table}.{column}")


def _unknown_keys(config: PrivacyConfig, columns: list[str], table: str | None) -> list[str]:
    """Keys meant for this table that name none of its columns (a bare key may be meant for another table)."""
    out = []
    for key in config.keys:
        if any(_key_matches(key, c, table) for c in columns):
            continue
        if table is None or key.startswith(f"{table}."):
            out.append(key)
    return out


def _decide(column: str, config: PrivacyConfig, table: str | None, declared: Mapping[str, str | None],
            report: PIIReport, personal: Collection[str]) -> ColumnDecision | None:
    action = config.action_for(column, table)
    finding = next((f for f in report.findings if f.column == column), None)
    declared_type = declared.get(column) if column in declared else None
    sem = declared_type if column in declared else report.semantic_types.get(column)
    why = ""
    if finding is not None:
        share = "no values" if finding.share is None else f"{finding.share:.0%} of {finding.sample_size} values"
        why = f"{finding.reason}, {share}"
    if action is not None:
        return ColumnDecision(column, action, sem, "config", why)
    if column in personal and sem in PII_TYPES:  # declared personal: never kept (every personal type generates)
        default = DEFAULT_ACTIONS[sem]
        return ColumnDecision(column, "fake" if default == "keep" else default, sem, "declared",
                              "declared in pii_cols" + (f"; {why}" if why else ""))
    if declared_type in PII_TYPES:
        return ColumnDecision(column, DEFAULT_ACTIONS[declared_type], declared_type, "declared",
                              "declared semantic type")
    if config.detect and finding is not None and column not in declared:
        return ColumnDecision(column, finding.default_action, finding.semantic_type, "detected", why)
    return None


def _problems(decision: ColumnDecision, frame: pd.DataFrame, config: PrivacyConfig, table: str | None) -> list[str]:
    where = f"column {decision.column!r}" + (f" of table {table!r}" if table else "")
    if decision.action in GENERATED_ACTIONS and decision.semantic_type is None:
        return [f"{where} has the action {decision.action!r} but no semantic type was declared or detected, so "
                "there is nothing to generate: declare its semantic type (e.g. 'email') or use 'drop' or 'hash'"]
    if decision.action == "custom" and config.custom_for(decision.column, table) is None:
        return [f"{where} has the action 'custom' but no transform: pass PrivacyConfig(custom={{...: function}})"]
    if decision.action == "hash":
        dtype = frame[decision.column].dtype
        if ptypes.is_bool_dtype(dtype) or (ptypes.is_float_dtype(dtype)
                                           and not frame[decision.column].dropna().map(float.is_integer).all()):
            return [f"{where} has the action 'hash' but holds {dtype} values; hash identifiers (text or integers)"]
    return []


def resolve_privacy(config: PrivacyConfig, frame: pd.DataFrame, table: str | None = None,
                    declared_semantic_types: Mapping[str, str | None] | None = None, *,
                    sample_rows: int = DEFAULT_SAMPLE_ROWS, seed: int = 0, rare_threshold: int = 5,
                    report: PIIReport | None = None, personal_columns: Collection[str] = ()) -> TablePrivacyPlan:
    """Decide what happens to each column of one table; every problem is reported before any work.

    Args:
        config: The privacy config.
        frame: The real table.
        table: Its name (``"table.column"`` keys apply to it; ``None``: a lone frame, where every key must
            name a column).
        declared_semantic_types: ``{column: semantic type or None}`` from the metadata.
        sample_rows: Rows inspected by detection.
        seed: Seed of detection's row sample.
        rare_threshold: Aggregates seen fewer times are not kept by :meth:`TablePrivacyPlan.fit`.
        report: A detection report already made for this frame (``None``: detect here).
        personal_columns: Columns declared personal (the metadata's ``pii_cols``): each gets the default
            action of its personal semantic type, declared or detected (``fake`` for a city), unless the
            config names it.

    Returns:
        The unfitted :class:`TablePrivacyPlan` (call ``fit(frame)`` next).

    Raises:
        ConfigurationError: Listing every problem: a key naming a missing column, an unknown declared type,
            ``fake``/``mask`` without a semantic type, ``custom`` without a transform, ``hash`` of
            booleans or measurements, a declared personal column without an action or a personal
            semantic type.
    """
    if not isinstance(config, PrivacyConfig):
        raise ConfigurationError(f"privacy must be a PrivacyConfig, got {type(config).__name__}.")
    if not isinstance(frame, pd.DataFrame):
        raise ConfigurationError(f"resolve_privacy expects a pandas DataFrame, got {type(frame).__name__}.")
    if isinstance(rare_threshold, bool) or not isinstance(rare_threshold, int) or rare_threshold < 1:
        raise ConfigurationError(f"rare_threshold must be a positive integer, got {rare_threshold!r}.")
    columns = [str(c) for c in frame.columns]
    declared = dict(declared_semantic_types or {})
    problems = [f"the privacy config names {key!r}, which is not a column of "
                f"{'table ' + repr(table) if table else 'the frame'} (columns: {columns})"
                for key in _unknown_keys(config, columns, table)]
    for column, sem in declared.items():
        if column not in columns:
            problems.append(f"a semantic type is declared for {column!r}, which is not a column (columns: {columns})")
        elif sem is not None:
            validate_type_name(sem, column=column, table=table or "<frame>")
    if problems:
        raise ConfigurationError("Invalid privacy settings:\n" + "\n".join(f"  - {p}" for p in problems))
    if report is None:
        report = detect_pii(frame, table, sample_rows=sample_rows, seed=seed, locale=config.locale)
    decisions = {}
    personal = set(map(str, personal_columns))
    for column in columns:
        decision = _decide(column, config, table, declared, report, personal)
        if decision is not None:
            decisions[column] = decision
            problems += _problems(decision, frame, config, table)
    undecided = [f"{table or '<frame>'}.{c}" for c in columns if c in personal and c not in decisions]
    if undecided:
        problems.append(f"{sorted(undecided)} are declared personal (pii_cols) but have no personal semantic type "
                        "(declared or detected) to generate them by, and their real values must not reach a model: "
                        "give each an action in PrivacyConfig(actions={'table.column': action}) ('drop', 'hash', "
                        "'custom', or 'keep' to model the real values anyway), or declare its semantic type (e.g. "
                        "'email'; then 'fake' or 'mask' generate it)")
    if problems:
        raise ConfigurationError("Invalid privacy settings:\n" + "\n".join(f"  - {p}" for p in problems))
    types = {c: t for c, t in report.semantic_types.items() if c not in declared}
    types.update({c: t for c, t in declared.items() if t is not None})
    types.update({c: d.semantic_type for c, d in decisions.items() if d.semantic_type is not None})
    plan = TablePrivacyPlan(table=table, columns=columns, decisions=decisions, semantic_types=types,
                            locale=config.locale or "en_US", mask_char=config.mask_char, mask_keep=config.mask_keep,
                            key_id=config.key_id, rare_threshold=rare_threshold)
    plan._secret = None if config.secret is None else secret_bytes(config.secret)
    plan._custom = {c: f for c in plan.custom_columns if (f := config.custom_for(c, table)) is not None}
    return plan
