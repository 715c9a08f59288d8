"""Plumbing shared by the neural single-table models (CTGAN, TVAE).

Every such model runs the same pipeline around its networks::

    fit:    resolve the table -> ConstraintEngine.fit/transform -> DataTransformer.fit/transform
            (+ a DataTransformer for the parent context) -> the training matrix
    sample: check + encode the context -> network rows -> DataTransformer.inverse_transform
            -> ConstraintEngine.reverse_transform -> reject rows failing conditions / constraints
            and generate again (bounded rounds) -> exactly ``num_rows`` rows in slot order

:class:`TabularPipeline` holds that pipeline as a mixin; a model supplies the networks (a
``generate`` callable for :meth:`TabularPipeline._generate_until`) and its own persistence
format, and keeps the pipeline state in the attributes listed on the class. It also holds the
held-out validation of ``fit(checkpoint_dir=...)`` (see :mod:`syntho_hive.core.models._validation`),
which samples through the model's ``_sample_frame``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
import torch

from syntho_hive._random import child_seed, numpy_generator
from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.data import DataTransformer
from syntho_hive.core.data.spans import ColumnSpans, softmax_span_ranks
from syntho_hive.core.metadata.schema import Metadata, TableConfig
from syntho_hive.core.models._validation import (
    Validation,
    check_checkpoint_arguments,
    column_shape_score,
    split_validation,
)
from syntho_hive.core.quality import (
    MarginalProfile,
    SampleQuality,
    apply_quality_gate,
    check_gate_arguments,
    profile_sdtypes,
)
from syntho_hive.events import get_logger
from syntho_hive.exceptions import ConstraintViolationError, GenerationError, TrainingError

__all__ = ["MAX_ROUNDS", "GenerateFn", "GeneratedRows", "DrawFilter", "PreparedData", "TabularPipeline",
           "resolve_device"]

#: Rounds of generate-and-reject before giving up on conditions / constraints.
MAX_ROUNDS = 25


class GeneratedRows(NamedTuple):
    """A generator's draws for ``n`` rows (see :meth:`DataTransformer.decode_draws`).

    Attributes:
        scalars: The tanh spans' values, ``(n, tanh spans)`` in matrix order.
        codes: The entry drawn in each softmax span, int64 ``(n, softmax spans)`` in matrix order.
    """

    scalars: torch.Tensor
    codes: torch.Tensor


#: ``generate(count, context_rows_or_None) -> GeneratedRows`` (on the model device).
GenerateFn = Callable[[int, "torch.Tensor | None"], GeneratedRows]
#: Row filter on generated rows' drawn entries (``GeneratedRows.codes``) -> boolean tensor.
DrawFilter = Callable[[torch.Tensor], torch.Tensor]


_log = get_logger(__name__)


def resolve_device(device: str | torch.device, error: type[Exception]) -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; a CUDA device must be available.

    Args:
        device: ``"auto"``, ``"cpu"``, ``"cuda[:N]"`` or a :class:`torch.device`.
        error: Exception class raised for a bad or unavailable device.

    Returns:
        The resolved device.

    Raises:
        error: Invalid device string, or CUDA requested but unavailable.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise error(f"Invalid device {device!r}: use 'auto', 'cpu' or 'cuda[:N]'.") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise error(f"device={device!r} was requested but CUDA is not available here; pass "
                    "device='cpu' or device='auto'.")
    return resolved


@dataclass
class PreparedData:
    """The transformed training data (numpy, float32).

    Attributes:
        matrix: Transformed rows, shape ``(n_rows, data_dim)``.
        context: Transformed parent context aligned with ``matrix``, or ``None``.
    """

    matrix: np.ndarray
    context: np.ndarray | None

    def tensors(self, device: torch.device) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(matrix, context)`` as float32 tensors on ``device``."""
        matrix = torch.as_tensor(np.ascontiguousarray(self.matrix, dtype=np.float32), device=device)
        ctx = None if self.context is None else torch.as_tensor(
            np.ascontiguousarray(self.context, dtype=np.float32), device=device)
        return matrix, ctx


def _default_indexed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` indexed ``0..n-1``: itself when it already is (``reset_index`` would copy, and merge,
    every column)."""
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return frame
    return frame.reset_index(drop=True)


def _concat_rounds(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Stack the rows of several generation rounds, keeping ``category`` columns ``category``.

    ``pd.concat`` turns a categorical column into ``object`` when the rounds' categories differ,
    which is the rule for generated ``text`` columns (their categories are the values drawn).
    """
    frame = pd.concat(frames, ignore_index=True)
    for column in frame.columns:
        parts = [f[column] for f in frames]
        if frame[column].dtype == object and all(isinstance(p.dtype, pd.CategoricalDtype) for p in parts):
            frame[column] = union_categoricals(parts, ignore_order=True)
    return frame


class TabularPipeline:
    """Mixin: table resolution, preprocessing, context, conditions, decoding and resampling.

    The model class sets ``metadata`` in its constructor and owns these attributes (reset by
    its ``_reset_state``): ``table_``, ``constraint_engine_``, ``transformer_``,
    ``context_transformer_``, ``context_columns_``, ``output_info_``, ``columns_``,
    ``seed_``, ``device_``.
    """

    metadata: Metadata | None
    table_: TableConfig | None
    constraint_engine_: Any
    transformer_: Any
    context_transformer_: Any
    context_columns_: list[str]
    output_info_: list[ColumnSpans]
    columns_: list[str]
    seed_: int | None
    device_: torch.device | None
    reference_profile_: MarginalProfile | None

    # ------------------------------------------------------------------ fit
    def _fit_pipeline(self, data: pd.DataFrame, context: pd.DataFrame | None, table_name: str | None,
                      seed: int, max_modes: int) -> PreparedData:
        """Fit the constraint engine and transformers (setting the pipeline attributes).

        Returns:
            The transformed training data.

        Raises:
            SchemaError: The metadata does not describe ``data``.
            ConstraintViolationError: ``data`` violates a declared constraint.
            TrainingError: Every column is an id or text (generated, nothing to model).
        """
        table = self._resolve_table(data, table_name)
        engine = ConstraintEngine(table).fit(data)
        reparam = engine.transform(data)
        sdtypes: dict[str, Any] = {c: t for c, t in table.columns.items() if c in reparam.columns}
        sdtypes.update(engine.derived_sdtypes)
        sdtypes.update({c: "id" for c in table.key_columns if c in reparam.columns})
        bounds = {**engine.bounds, **getattr(engine, "datetime_bounds", {})}
        formats = {c: f for c, f in table.datetime_formats.items() if c in reparam.columns}
        transformer = DataTransformer(max_modes=max_modes).fit(
            reparam, sdtypes, bounds=bounds, seed=child_seed(seed, "transformer"), datetime_formats=formats)
        if transformer.output_dim_ == 0:
            kinds = {str(c): ("constant" if data[c].nunique(dropna=False) <= 1 else t)
                     for c, t in transformer.sdtypes_.items()}
            raise TrainingError(f"Table {table.name!r} has nothing to model: every column is an id, text or a "
                                f"single repeated value ({kinds}), so there is nothing for a network to learn; "
                                "fit this table with TabularAR (or, for text, inside a Synthesizer, which "
                                "generates text-only tables with word models), or add varying columns.")
        matrix = transformer.transform(reparam, rng=numpy_generator(child_seed(seed, "transform")))
        self.table_ = table
        self.constraint_engine_ = engine
        self.transformer_ = transformer
        self.output_info_ = list(transformer.output_info_)
        self.columns_ = [str(c) for c in data.columns]
        self.reference_profile_ = MarginalProfile.from_frame(
            data, profile_sdtypes(data, table, transformer.sdtypes_))
        ctx = None
        if context is not None:
            self.context_columns_ = [str(c) for c in context.columns]
            self.context_transformer_ = DataTransformer(max_modes=max_modes).fit(
                context.reset_index(drop=True), seed=child_seed(seed, "context_transformer"))
            ctx = self.context_transformer_.transform(
                context.reset_index(drop=True), rng=numpy_generator(child_seed(seed, "context_transform")))
        return PreparedData(matrix, ctx)

    def _split_validation(self, data: pd.DataFrame, context: pd.DataFrame | None, seed: int,
                          fraction: float) -> tuple[Validation, torch.Tensor]:
        """Hold out a seeded validation sample (see :func:`~syntho_hive.core.models._validation.split_validation`).

        Returns:
            ``((held-out rows, their context rows or None), positions of the training rows)``, the
            positions as a tensor on the model device (to index the training matrix).

        Raises:
            TrainingError: Holding out leaves no row to train on.
        """
        validation, train_rows = split_validation(data, context, seed, fraction)
        return validation, torch.as_tensor(train_rows, device=self.device_)

    def _validation_score(self, validation: Validation, seed: int, epoch: int) -> float:
        """Column-shape score of a fresh sample (seeded by ``seed`` and ``epoch``) against the held-out rows.

        Samples through the model's ``_sample_frame(num_rows, context, *, seed, conditions,
        enforce_constraints, progress_bar)``, one row per held-out row (with its context row).
        """
        real, ctx = validation
        synthetic = self._sample_frame(  # type: ignore[attr-defined]  # supplied by the model
            len(real), ctx, seed=child_seed(seed, "validation", epoch), conditions=None,
            enforce_constraints=False, progress_bar=False)
        declared = {**(self.table_.columns if self.table_ is not None else {}), **self.transformer_.sdtypes_}
        return column_shape_score(real, synthetic, declared)

    @property
    def _context_dim(self) -> int:
        return int(self.context_transformer_.output_dim_) if self.context_transformer_ is not None else 0

    @property
    def _data_dim(self) -> int:
        return int(sum(column.dim for column in self.output_info_))

    # ------------------------------------------------------------------ sampling
    # ------------------------------------------------------------------ sampling
    def _start_fit(self, data: pd.DataFrame, context: pd.DataFrame | None, unknown: Mapping[str, Any], *,
                   seed: Any, checkpoint_dir: Any, checkpoint_every: Any, validation_fraction: Any) -> int:
        """Validate a ``fit()`` call before any work, reset the state; return the resolved seed.

        Sets ``seed_`` and ``device_``.

        Raises:
            TrainingError: Unknown argument, invalid parameters, empty data, misaligned context,
                bad checkpoint arguments (with ``checkpoint_dir``), bad seed or unavailable device.
        """
        resolved = self._begin_fit(data, context, unknown, seed)  # type: ignore[attr-defined]
        if checkpoint_dir is not None:
            check_checkpoint_arguments(checkpoint_every, validation_fraction)
        device = resolve_device(self.device, TrainingError)  # type: ignore[attr-defined]
        self._reset_state()  # type: ignore[attr-defined]
        self.seed_ = resolved
        self.device_ = device
        return resolved

    def _start_sample(self, num_rows: Any, seed: Any, unknown: Mapping[str, Any], *,
                      return_metrics: bool, quality_threshold: float | None) -> tuple[int, int]:
        """Validate a ``sample()`` call before any work; return ``(num_rows, seed)``.

        Raises:
            GenerationError: Unknown argument, ``num_rows <= 0``, bad seed, or a bad quality gate.
            NotFittedError: Before ``fit``/``load``.
        """
        count = self._begin_sample(num_rows, unknown)  # type: ignore[attr-defined]  # ConditionalGenerativeModel
        resolved = self._resolved_seed(seed, "sample", GenerationError)  # type: ignore[attr-defined]
        check_gate_arguments(return_metrics, quality_threshold, self.reference_profile_, model=type(self).__name__)
        return count, resolved

    def _finish_sample(self, frame: pd.DataFrame, seconds: float, *, return_metrics: bool,
                       quality_threshold: float | None) -> pd.DataFrame | tuple[pd.DataFrame, SampleQuality]:
        """Log the sample, score it against the training marginals and apply the quality gate.

        Raises:
            QualityError: A column scored below ``quality_threshold``.
        """
        _log.info("sampling_complete", model=type(self).__name__, rows=len(frame), seconds=round(seconds, 3))
        return apply_quality_gate(frame, self.reference_profile_, return_metrics=bool(return_metrics),
                                  quality_threshold=quality_threshold, model=type(self).__name__,
                                  table=self.table_.name if self.table_ is not None else None)

    def _check_context(self, num_rows: int, context: pd.DataFrame | None) -> None:
        """Raise :class:`GenerationError` unless ``context`` matches how the model was fitted."""
        self._validate_sample_context(num_rows, context,  # type: ignore[attr-defined]
                                      fitted_with_context=self.context_transformer_ is not None)

    def _encode_context(self, context: pd.DataFrame, seed: int) -> torch.Tensor:
        """The transformed context rows as a float32 tensor on the model device."""
        encoded = self.context_transformer_.transform(
            context[self.context_columns_].reset_index(drop=True),
            rng=numpy_generator(child_seed(seed, "sample", "context")))
        return torch.as_tensor(np.ascontiguousarray(encoded, dtype=np.float32), device=self.device_)

    def _resolve_conditions(self, conditions: Mapping[str, Any] | None) -> list[tuple[int, list[int]]]:
        """Turn ``{column: value}`` into ``(discrete column, allowed categories)`` pairs.

        Discrete columns are indexed in ``transformer_.discrete_column_names_`` (matrix order).
        A column merged into a fixed-combination joint column is conditioned through the
        joint column's categories that contain the value; several conditions on columns of one
        fixed combination become one pair, allowing the categories that satisfy them all.

        Raises:
            GenerationError: Not a mapping, unknown column or value, a non-discrete column, or
                conditions on one fixed combination that no training combination satisfies.
        """
        if not conditions:
            return []
        if not isinstance(conditions, Mapping):
            raise GenerationError(f"conditions must be a mapping {{column: value}}, got "
                                  f"{type(conditions).__name__}.")
        discrete = list(self.transformer_.discrete_column_names_)
        resolved: list[tuple[int, list[int]]] = []
        allowed: dict[int, set[int]] = {}  # joint column -> categories allowed by its conditions
        joint_conditions: dict[int, dict[str, Any]] = {}
        for column, value in conditions.items():
            if column in discrete:
                _, category = self.transformer_.condition_index(column, value)
                resolved.append((discrete.index(column), [int(category)]))
                continue
            joint = self._joint_column(column)
            if joint is not None and joint in discrete:
                labels = self.constraint_engine_.joint_labels_for(column, value)
                if not labels:
                    raise GenerationError(f"Unknown value {value!r} for condition column {column!r}: it never "
                                          "occurs in the training data.")
                categories = {int(self.transformer_.condition_index(joint, label)[1]) for label in labels}
                index = discrete.index(joint)
                joint_conditions.setdefault(index, {})[column] = value
                allowed[index] = categories if index not in allowed else allowed[index] & categories
                if not allowed[index]:
                    seen = dict(joint_conditions[index])
                    raise GenerationError(
                        f"Conditions {seen} contradict a fixed-combination constraint of table "
                        f"{self.table_.name!r}: no training row has these values together, so no "
                        "generated row can. Condition on a combination that occurs in the data.")
                continue
            if column in self.columns_:
                raise GenerationError(
                    f"Cannot condition on column {column!r}: only discrete columns can be conditioned "
                    f"on ({', '.join(map(repr, discrete)) or 'none in this model'}).")
            raise GenerationError(f"Unknown condition column {column!r}; columns: {self.columns_}.")
        return resolved + [(index, sorted(categories)) for index, categories in allowed.items()]

    def _matching_rows(self, resolved: list[tuple[int, list[int]]]) -> DrawFilter:
        """Keep-mask of generated rows whose discrete columns hold the allowed categories of
        ``resolved`` (see :meth:`_resolve_conditions`), read from the entries drawn in their spans."""
        discrete = list(self.transformer_.discrete_column_names_)
        ranks = softmax_span_ranks(self.output_info_)
        checks = [(ranks[discrete[index]], categories) for index, categories in resolved]

        def matching(codes: torch.Tensor) -> torch.Tensor:
            keep = torch.ones(len(codes), dtype=torch.bool, device=codes.device)
            for rank, categories in checks:
                keep &= torch.isin(codes[:, rank], torch.as_tensor(categories, device=codes.device))
            return keep

        return matching

    def _joint_column(self, column: str) -> str | None:
        finder = getattr(self.constraint_engine_, "joint_column_of", None)
        return finder(column) if finder is not None else None

    def _generate_until(self, num_rows: int, ctx_all: torch.Tensor | None, generate: GenerateFn, *,
                        np_rng: np.random.Generator, conditions: Mapping[str, Any] | None,
                        enforce_constraints: bool, draw_filter: DrawFilter | None = None) -> pd.DataFrame:
        """Generate, decode and reject until ``num_rows`` rows pass the filters and constraints.

        Each round generates candidates for the unfilled slots (several per slot with context,
        scaled by the last round's acceptance rate), drops those failing ``draw_filter``
        (on their drawn entries) and the constraints, and fills slots in order. In the last round rows violating constraints are kept unless
        ``enforce_constraints``.

        Args:
            num_rows: Rows wanted.
            ctx_all: Encoded context, one row per slot, or ``None``.
            generate: Draws ``count`` candidates (given their context rows).
            np_rng: Generator for decoding.
            conditions: The user's conditions (for the error message only).
            enforce_constraints: Raise when constraints cannot be met.
            draw_filter: Keep-mask on the candidates' drawn entries (``GeneratedRows.codes``).

        Returns:
            ``num_rows`` rows with the training columns.

        Raises:
            GenerationError: Conditions not met after :data:`MAX_ROUNDS` rounds.
            ConstraintViolationError: Constraints not met with ``enforce_constraints``.
        """
        slot_rows: list[np.ndarray] = []   # slots filled per round
        frames: list[pd.DataFrame] = []
        draws: list[tuple[np.ndarray, np.ndarray]] = []  # (scalars, codes) of the filled slots
        pending = np.arange(num_rows)
        acceptance = 1.0
        for attempt in range(1, MAX_ROUNDS + 1):
            last = attempt == MAX_ROUNDS
            if ctx_all is not None:
                repeat = int(min(16, math.ceil(1.0 / max(acceptance, 1e-3))))
                candidates = np.tile(pending, repeat)
                ctx = ctx_all[torch.as_tensor(candidates, device=self.device_)]
            else:
                size = len(pending) if acceptance >= 1.0 else \
                    int(math.ceil(len(pending) / max(acceptance, 1e-3) * 1.1)) + 8
                candidates = np.full(min(size, max(len(pending), 2_000_000)), -1)
                ctx = None
            scalars_t, codes_t = generate(len(candidates), ctx)
            generated = len(candidates)
            if draw_filter is not None:
                keep = draw_filter(codes_t)
                keep_np = keep.cpu().numpy()
                if not keep_np.any():
                    acceptance = 0.0
                    continue
                scalars_t, codes_t, candidates = scalars_t[keep], codes_t[keep], candidates[keep_np]
            scalars, codes = scalars_t.cpu().numpy(), codes_t.cpu().numpy()
            frame = self._decode(scalars, codes, np_rng)
            if self.constraint_engine_ is not None and len(frame) and not (last and not enforce_constraints):
                valid = np.asarray(self.constraint_engine_.is_valid(frame), dtype=bool)
                if not valid.all():  # (a mask keeping every row would still copy the frame)
                    frame, scalars, codes, candidates = frame[valid], scalars[valid], codes[valid], candidates[valid]
            acceptance = len(frame) / generated
            if ctx_all is not None:
                _, first = np.unique(candidates, return_index=True)
                first = np.sort(first)
                filled = candidates[first]
                chosen = first
            else:
                take = min(len(pending), len(frame))
                filled = pending[:take]
                chosen = slice(0, take)  # a slice, not a copy of the round's rows
            if len(filled):
                frames.append(frame if len(filled) == len(frame) else frame.iloc[chosen])
                draws.append((scalars[chosen], codes[chosen]))
                slot_rows.append(filled)
                pending = np.setdiff1d(pending, filled, assume_unique=True)
            if not len(pending):
                break
        if len(pending):
            self._raise_unmet(num_rows, len(pending), conditions, enforce_constraints)
        return self._assemble(frames, draws, slot_rows, num_rows, np_rng)

    def _raise_unmet(self, num_rows: int, missing: int, conditions: Mapping[str, Any] | None,
                     enforce_constraints: bool) -> None:
        if conditions:
            raise GenerationError(
                f"Could not generate {num_rows} rows matching conditions {dict(conditions)} after "
                f"{MAX_ROUNDS} rounds ({missing} still missing); the combination may be too rare for "
                "the model. Relax the conditions or train longer.")
        if enforce_constraints and self.constraint_engine_ is not None:
            raise ConstraintViolationError(
                f"Could not generate {num_rows} rows of table {self.table_.name!r} satisfying its "
                f"constraints after {MAX_ROUNDS} rounds ({missing} rows still violate them). Train longer "
                "or check that the constraints match the data.", count=missing)
        raise GenerationError(f"Could not generate {num_rows} rows ({missing} missing).")

    def _decode(self, scalars: np.ndarray, codes: np.ndarray, np_rng: np.random.Generator) -> pd.DataFrame:
        """A generator's draws -> rows in the training columns' format (constraints reversed)."""
        frame = self.transformer_.decode_draws(scalars, codes, rng=np_rng)
        if self.constraint_engine_ is not None:
            frame = self.constraint_engine_.reverse_transform(frame, copy=False)  # ours: fresh
        return frame  # indexed 0..n-1 by decode_draws; reverse_transform keeps the index

    def _assemble(self, frames: list[pd.DataFrame], draws: list[tuple[np.ndarray, np.ndarray]],
                  slot_rows: list[np.ndarray], num_rows: int, np_rng: np.random.Generator) -> pd.DataFrame:
        slots = np.concatenate(slot_rows)
        frame = _concat_rounds(frames) if len(frames) > 1 else _default_indexed(frames[0])
        in_order = bool(np.all(slots[1:] > slots[:-1]))
        order = np.arange(len(slots)) if in_order else np.argsort(slots, kind="stable")
        if not in_order:
            frame = frame.iloc[order].reset_index(drop=True)
        id_columns = [c for c, t in self.transformer_.sdtypes_.items() if t == "id" and c in frame.columns]
        if len(frames) > 1 and id_columns:
            # Ids are generated per decode call: regenerate them once for the final rows so they
            # stay unique across rounds (id columns are not modelled, nothing else depends on them).
            scalars = np.concatenate([s for s, _ in draws])[order]
            codes = np.concatenate([c for _, c in draws])[order]
            ids = self.transformer_.decode_draws(scalars, codes, rng=np_rng)
            for column in id_columns:
                frame[column] = ids[column].to_numpy()
        if list(frame.columns) != list(self.columns_):
            frame = frame[self.columns_]
        return frame.iloc[:num_rows] if len(frame) > num_rows else frame

    # ------------------------------------------------------------------ persistence
    def _column_schema(self) -> dict[str, Any]:
        """JSON description of the modelled table (saved in the checkpoint manifest)."""
        return {
            "table": self.table_.model_dump(mode="json") if self.table_ is not None else None,
            "columns": self.columns_,
            "sdtypes": {str(c): str(t) for c, t in self.transformer_.sdtypes_.items()},
            "context_columns": self.context_columns_,
        }

    def _restore_pipeline(self, column_schema: Mapping[str, Any], *, transformer: Any, constraint_engine: Any,
                          context_transformer: Any, context_columns: list[str] | None,
                          output_info: list[ColumnSpans], seed: int | None, device: torch.device) -> None:
        """Set the pipeline attributes from a checkpoint (after the model reset its state).

        Raises:
            KeyError, TypeError, ValueError: Malformed ``column_schema`` (callers turn these into
                :class:`SerializationError`).
        """
        table = column_schema.get("table")
        self.device_ = device
        self.table_ = TableConfig.model_validate(table) if table is not None else None
        self.constraint_engine_ = constraint_engine
        self.transformer_ = transformer
        self.context_transformer_ = context_transformer
        self.context_columns_ = list(context_columns if context_columns is not None
                                     else column_schema.get("context_columns", []))
        self.output_info_ = list(output_info)
        self.columns_ = list(column_schema["columns"])
        self.seed_ = seed
