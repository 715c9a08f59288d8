"""What a schema fitted under differential privacy refuses, all at once, before any row is learned from.

Every step of a fit that reads real rows is either differentially private and charged to the
schema's budget, switched off (or replaced by a data-independent default), or refused here with a
:class:`~syntho_hive.exceptions.PrivacyError` naming the table and what to change:

* a table whose engine cannot honour ``dp`` (CTGAN; any engine without a ``dp`` parameter);
* a declared reference table (its real rows would be copied verbatim);
* declared functional dependencies (their value maps are learned from the real rows), declared
  constraints, inequalities or fixed combinations (the constraint engine learns bounds and the seen
  combinations), columns whose real values may be sampled (``sample_real_values``);
* free-text columns and text-only tables (their word statistics are not noised), once the personal
  columns are removed (:func:`check_dp_columns`);
* ``dp`` passed as a model option (each table would spend the whole budget), a ``checkpoint_dir``
  (checkpoints keep validation scores), and declared bounds naming no table column;
* then, before any model is trained, what every table's noisy-count release refuses (a categorical
  column none of whose values, or a numerical column none of whose histogram buckets, passes the
  threshold): :func:`check_dp_releases`, all tables at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from syntho_hive.core.dp.config import DPConfig
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.exceptions import PrivacyError
from syntho_hive.relational.fitting import ModelJob

__all__ = ["check_dp_columns", "check_dp_releases", "check_dp_schema", "refuse_dp_model_option"]


def refuse_dp_model_option(model_kwargs: Mapping[str, object]) -> None:
    """Refuse ``dp`` among the model options of a multi-table synthesizer.

    Raises:
        PrivacyError: ``dp`` is one of them.
    """
    if model_kwargs.get("dp") is not None:
        raise PrivacyError("dp= is not a Synthesizer model option: every table's model would spend the whole "
                           "budget and the schema would spend their sum. Pass Synthesizer(metadata, privacy_config="
                           "PrivacyConfig(dp=DPConfig(max_epsilon=..., delta=...))), which splits one budget "
                           "between the tables and reports the total (docs/privacy.md, 'Multi-table').")


def check_dp_schema(metadata: Metadata, models: Mapping[str, type[ConditionalGenerativeModel]],
                    data: Mapping[str, pd.DataFrame], config: DPConfig, *, checkpoint_dir: object = None) -> None:
    """Refuse, all at once, what the declared schema and engines cannot do under DP (reads no value).

    Args:
        metadata: The schema.
        models: Engine of every table.
        data: The real tables (only their column names are read).
        config: The schema's DP settings.
        checkpoint_dir: The fit's checkpoint folder (refused when given).

    Raises:
        PrivacyError: Listing every problem.
    """
    problems: list[str] = []
    if checkpoint_dir is not None:
        problems.append("checkpoint_dir: training checkpoints keep validation scores of the real rows outside "
                        "the budget; fit without checkpoint_dir")
    columns = {name: [str(c) for c in frame.columns] for name, frame in data.items()}
    for name, table in metadata.tables.items():
        content = [c for c in columns.get(name, []) if c not in table.key_columns]
        model = models[name]
        if content and "dp" not in model.parameter_names():
            problems.append(f"table {name!r}: {model.__name__} cannot honour dp ({model.dp_refusal.rstrip('.')}); "
                            f"use model={{{name!r}: TabularAR}}")
        if table.reference:
            problems.append(f"table {name!r} is declared a reference table, whose real rows are copied verbatim; "
                            "declare reference=False to synthesize it")
        if table.dependencies:
            problems.append(f"table {name!r} declares functional dependencies, whose value maps are learned from "
                            "the real rows; drop them (dependencies=[])")
        if table.declares_constraints:
            problems.append(f"table {name!r} declares constraints, inequalities or fixed combinations, whose engine "
                            "learns bounds and seen combinations from the real rows; drop them")
        if table.sample_real_values:
            problems.append(f"table {name!r}: sample_real_values {list(table.sample_real_values)} would store real "
                            "values; drop it")
    known = {c for cols in columns.values() for c in cols} | {f"{t}.{c}" for t, cols in columns.items() for c in cols}
    unknown = sorted(c for c in config.bounds if c not in known)
    if unknown:
        problems.append(f"DPConfig.bounds names {unknown}, which are no table's columns (use 'table.column' or "
                        "'column')")
    if problems:
        raise PrivacyError("Cannot fit this schema under differential privacy:\n"
                           + "\n".join(f"  - {p}" for p in problems))


def check_dp_columns(sdtypes: Mapping[str, Mapping[str, str]]) -> None:
    """Refuse the text columns the models would learn once personal columns are removed.

    Args:
        sdtypes: ``{table: {modelled column: sdtype}}``.

    Raises:
        PrivacyError: Listing every table with text columns.
    """
    problems = []
    for name, types in sdtypes.items():
        text = sorted(c for c, t in types.items() if t == "text")
        if text:
            problems.append(f"table {name!r}: {text}")
    if problems:
        raise PrivacyError("Free-text columns cannot be modelled under differential privacy (their word statistics "
                           "are not noised): " + "; ".join(problems) + ". Drop them, give them a privacy action "
                           "('drop', or 'fake' with a semantic type), or declare them 'categorical' (then only "
                           "values held by many rows are kept, from noisy counts).")


def check_dp_releases(jobs: Sequence[ModelJob]) -> None:
    """Refuse, all at once and before any model is trained, what the tables' noisy-count releases cannot give.

    Each job's model makes its DP preprocessing release on a throwaway copy
    (:meth:`~syntho_hive.core.models.base.ConditionalGenerativeModel.check_dp_release`) with the job's own
    seed: the same noise on the same rows as its fit, so the fit later makes the very same release and no
    budget is spent twice.

    Args:
        jobs: Every table's model fit (under DP).

    Raises:
        PrivacyError: Listing every table's refusal (e.g. a categorical column none of whose values, or a
            numerical column none of whose histogram buckets, passes the noisy-count threshold).
    """
    problems = []
    for job in jobs:
        try:
            job.model.check_dp_release(job.data, job.context, table_name=job.table, seed=job.seed)
        except PrivacyError as exc:
            message = str(exc.args[0]) if exc.args else str(exc)
            problems.append(message if f"{job.table!r}" in message else f"table {job.table!r}: {message}")
    if problems:
        raise PrivacyError("Cannot fit this schema under differential privacy (no model was trained):\n"
                           + "\n".join(f"  - {p}" for p in problems))
