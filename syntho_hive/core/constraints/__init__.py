"""Declared constraints: checked on training data, satisfied by construction when sampling.

:class:`ConstraintEngine` sits between the raw table and the
:class:`~syntho_hive.core.data.transformer.DataTransformer`:

* ``fit`` checks the training data against every declared constraint and raises
  :class:`~syntho_hive.exceptions.ConstraintViolationError` (column, bound, count, examples)
  when it is violated; it learns the allowed value combinations of each
  :class:`~syntho_hive.core.metadata.schema.FixedCombinations` group.
* ``transform`` reparametrises the table so that *any* model output maps back to valid rows:

  - a fixed-combination group becomes one joint categorical column (``"city#country"``) whose
    categories are exactly the combinations seen in the data;
  - an inequality ``low <= high`` replaces ``high`` by a non-negative log-gap column
    (``"end#gap"`` = ``log1p(high - low)``; datetimes (datetime64, tz-aware, or date strings
    with a fixed format) in steps of the data's granularity, e.g. whole seconds or days; a
    strict inequality on integers/datetimes stores ``log1p(gap - 1 step)`` so every decoded
    gap is at least one step). The transformer is told (``bounds``) that the gap column is
    ``>= 0`` and reparametrises it, so the decoded ``high`` can never fall below ``low``.
    A null on either side gives a null gap (nulls never violate). When ``low`` is null but
    ``high`` is not, the value of ``high`` travels in an extra column (``"end#unpaired"``);
    a pair whose ranges do not overlap (every ``low`` at most every ``high`` at fit, ``low`` not
    itself decoded from a gap) keeps ``high`` as it is: the models keep each column within its
    training range, so the order holds, and ``low`` + gap would lose ``high``'s range; rows
    breaking it are resampled (``is_valid``);
  - per-column ``min``/``max`` bounds are published in ``bounds`` (floats for numbers,
    timestamps for datetimes) for the transformer to enforce by reparametrisation.

* ``reverse_transform`` is the exact inverse on valid data (integers and datetimes exactly,
  floats exactly when they have at most 12 decimals, otherwise to float rounding).
* ``is_valid`` gives the row mask used to resample the rows that reparametrisation cannot
  guarantee (a bound on a column replaced by a gap, a zero gap under a strict float
  inequality, a bound on a non-numeric-modelled column), never clipping onto a bound.
* ``to_dict`` / ``from_dict`` keep what ``fit`` learned as strict JSON (kinds, steps, dtypes,
  formats, bounds, the seen fixed combinations) and nothing else of the training rows.

Modules: :mod:`.plans` (per-declaration plans), :mod:`.fitting` (what ``fit`` learns),
:mod:`.reparametrise` (transform / reverse_transform), :mod:`.state` (to_dict / from_dict),
:mod:`.engine` (the engine). The structural rules and violation checks of the declarations live
with them, in :mod:`syntho_hive.core.metadata` (``constraint_rules``, ``constraint_checks``).
"""

from syntho_hive.core.constraints.engine import ConstraintEngine
from syntho_hive.core.constraints.plans import GAP_SUFFIX, JOINT_SEPARATOR, UNPAIRED_SUFFIX, _ComboPlan, _InequalityPlan

__all__ = ["ConstraintEngine", "GAP_SUFFIX", "UNPAIRED_SUFFIX", "JOINT_SEPARATOR"]

# CTGAN/TVAE checkpoints pickle the engine with its plans: the classes keep the pickle path they
# had as syntho_hive/core/constraints.py, so checkpoints stay the same bytes and load both ways.
for _cls in (ConstraintEngine, _InequalityPlan, _ComboPlan):
    _cls.__module__ = __name__
del _cls
