"""Personal data across a schema: one :class:`~syntho_hive.core.privacy.TablePrivacyPlan` per table.

:func:`fit_privacy` runs before anything else of a fit learns from the tables: it decides every
table's columns (the config's actions, declared semantic types, detection), learns what generation
needs (aggregates only), and returns the tables as the models may see them — ``drop``, ``fake`` and
``mask`` columns removed, ``hash`` columns pseudonymised, ``custom`` columns transformed — with a
metadata that matches them. So no personal value reaches a model, a cardinality model, a context
column, a dependency map or a saved file, and a removed column cannot be a parent context or a
condition. Generation puts the removed columns back, chunk by chunk (:meth:`TablePrivacyPlan.restore`).

Key columns are never touched: the synthetic keys are generated, never copied, so an action on a key
is refused.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from syntho_hive._random import child_seed
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.privacy import PrivacyConfig, TablePrivacyPlan, check_privacy_config
from syntho_hive.core.privacy.schema import fit_config, key_actions, plan_table, table_for_model
from syntho_hive.exceptions import ConfigurationError

__all__ = ["fit_privacy", "privacy_metadata"]


def fit_privacy(config: PrivacyConfig | None, metadata: Metadata, data: Mapping[str, pd.DataFrame], *, seed: int,
                rare_threshold: int) -> tuple[dict[str, TablePrivacyPlan], dict[str, pd.DataFrame]]:
    """Decide and learn every table's privacy plan; return the plans and the tables the models may see.

    Under differential privacy (``config.dp`` set) no value is read here: personal columns are detected
    by their names alone, and the generated ones get data-independent defaults (no learned null rate,
    format or e-mail domain).

    Args:
        config: The privacy config; ``None``: ``PrivacyConfig(detect=False)`` for each table that declares
            personal columns (``pii_cols``), the other tables left as they are (:func:`fit_config`).
        metadata: The schema.
        data: ``{table: real rows}`` for every table.
        seed: Master seed (detection samples rows with a child seed per table).
        rare_threshold: Aggregates seen fewer times are not kept.

    Returns:
        ``({table: fitted plan}, {table: prepared rows})`` (no plan for a table left as it is).

    Raises:
        ConfigurationError: ``config`` is not a PrivacyConfig, names columns no table has, sets an action
            on a key column, or a table's decisions are impossible (every problem listed).
    """
    if config is not None:
        if not isinstance(config, PrivacyConfig):
            raise ConfigurationError(f"privacy_config must be a syntho_hive.privacy.PrivacyConfig, got "
                                     f"{type(config).__name__}.")
        check_privacy_config(config, {name: [str(c) for c in frame.columns] for name, frame in data.items()})
        on_keys = [problem for table in metadata.tables.values() for problem in key_actions(config, table)]
        if on_keys:
            raise ConfigurationError(f"The privacy config sets actions on key columns: {on_keys}. Synthetic keys "
                                     "are generated, never copied from the real ones; remove these actions (hash a "
                                     "column that is not a declared key, e.g. an external reference, instead).")
    plans: dict[str, TablePrivacyPlan] = {}
    prepared: dict[str, pd.DataFrame] = {}
    for name, table in metadata.tables.items():
        table_config = fit_config(config, table, data[name].columns)
        if table_config is None:
            prepared[name] = data[name]
            continue
        plans[name], prepared[name] = plan_table(table_config, data[name], table, seed=child_seed(seed, name, "pii"),
                                                 rare_threshold=rare_threshold,
                                                 names_only=table_config.dp is not None)
    return plans, prepared


def privacy_metadata(metadata: Metadata, plans: Mapping[str, TablePrivacyPlan]) -> Metadata:
    """``metadata`` as the models see it: removed columns gone, decided columns modelled as they are.

    Raises:
        ConfigurationError: A declared parent-context column or copy names a removed (personal) column.
    """
    problems = []
    for name, table in metadata.tables.items():
        parents = {parent.partition(".")[0] for parent in table.fk.values()}
        for column in table.parent_context_cols:
            if any(column in plans[parent].removed_columns for parent in parents if parent in plans):
                problems.append(f"{name}: parent context column {column!r}")
        for column, source in table.copied_from.items():
            parent_table, _, parent_column = (source or "").partition(".")
            if parent_table in plans and parent_column in plans[parent_table].removed_columns \
                    and (name not in plans or column not in plans[name].removed_columns):
                problems.append(f"{name}.{column}: copied from {source!r}")
    if problems:
        raise ConfigurationError(f"Personal columns cannot feed other tables: {problems} name columns the privacy "
                                 "config removes before training; drop these declarations or keep those columns.")
    tables = {name: table_for_model(table, plans[name]) if name in plans else table
              for name, table in metadata.tables.items()}
    return metadata.model_copy(update={"tables": tables})
