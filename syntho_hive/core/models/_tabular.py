"""The neural engines' shared pipeline (CTGAN, TVAE).

Every such engine runs the same pipeline around its networks::

    fit:    ConstraintEngine.fit/transform -> DataTransformer.fit/transform
            (+ a DataTransformer for the parent context) -> the training matrix
    sample: encode the context -> network draws -> DataTransformer.decode_draws
            -> ConstraintEngine.reverse_transform -> reject rows failing conditions / constraints
            and generate again (bounded rounds) -> exactly ``num_rows`` rows in slot order

:class:`TabularPipeline` is that pipeline as an abstract engine of the model contract
(:class:`~syntho_hive.core.models.base.ConditionalGenerativeModel`); a concrete engine supplies its
networks: their training, a ``generate`` callable for :meth:`TabularPipeline._generate_until` and
their checkpoint files.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals
import torch

from syntho_hive._random import child_seed, numpy_generator, torch_generator
from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.data import DataTransformer
from syntho_hive.core.data._dtypes import is_null_value
from syntho_hive.core.data.encoders.nulls import NULL_SUFFIX
from syntho_hive.core.data.spans import ColumnSpans, softmax_span_ranks
from syntho_hive.core.metadata.schema import TableConfig
from syntho_hive.core.models.base import ConditionalGenerativeModel, EngineState, encoding_context
from syntho_hive.core.data.text_model import DEFAULT_RARE_THRESHOLD
from syntho_hive.core.models.params import Integer, Text
from syntho_hive.events import get_logger
from syntho_hive.exceptions import (
    ConstraintViolationError,
    GenerationError,
    SerializationError,
    SynthoHiveError,
    TrainingError,
)

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


class TabularPipeline(ConditionalGenerativeModel):
    """The neural engines' shared half (CTGAN, TVAE): preprocessing, context, conditions, decoding,
    resampling and the pipeline's checkpoint files.

    An engine adds its networks: ``_build(seed, initialise)``, ``_train``, ``_generate_fn``, and its
    network files in ``_network_state`` / ``_restore_networks``.
    """

    device = Text("auto", "'auto' (CUDA when available), 'cpu', 'cuda', ...", saved=False)
    rare_threshold = Integer(DEFAULT_RARE_THRESHOLD, "Values seen fewer times are never reproduced verbatim "
                             "(1: no protection).")
    #: The engine's span activation (set by the engine once its spans are known).
    _activation: Any
    #: Most GMM modes per numerical column (the engine's ``max_modes``, or this fixed value).
    _max_modes: ClassVar[int] = 10
    #: The pipeline's pickled files.
    TRANSFORMER: ClassVar[str] = "transformer.joblib"
    CONTEXT_TRANSFORMER: ClassVar[str] = "context_transformer.joblib"
    DATA_COLUMN_INFO: ClassVar[str] = "data_column_info.joblib"

    def _reset_engine(self) -> None:
        self.constraint_engine_: Any = None
        self.transformer_: Any = None
        self.context_transformer_: Any = None
        self.output_info_: list[ColumnSpans] = []
        self.device_: torch.device | None = None

    def _check_combination(self, values: Mapping[str, Any]) -> list[str]:
        try:
            resolve_device(values.get("device", self.device), TrainingError)
        except TrainingError as exc:
            return [str(exc).rstrip(".")]
        return []

    def _setup(self, error: type[SynthoHiveError]) -> None:
        self.device_ = resolve_device(self.device, error)

    @classmethod
    def _optional_in_checkpoint(cls) -> tuple[str, ...]:
        # Checkpoints before the rare-value protection lack it; their pickled transformers pool nothing.
        return (*super()._optional_in_checkpoint(), "rare_threshold")

    def _profile_options(self) -> dict[str, Any]:
        return {"min_category_count": int(self.rare_threshold)}

    def _map_location(self) -> torch.device | str:
        return resolve_device(self.device, SerializationError)

    def _modelled_sdtypes(self) -> Mapping[str, str]:
        return dict(self.transformer_.sdtypes_) if self.transformer_ is not None else {}

    # ------------------------------------------------------------------ fit
    def _prepare(self, data: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig,
                 seed: int) -> PreparedData:
        """Fit the constraint engine and transformers (setting the pipeline attributes).

        Returns:
            The transformed training data.

        Raises:
            ConstraintViolationError: ``data`` violates a declared constraint.
            TrainingError: Every column is an id or text (generated, nothing to model).
        """
        engine = ConstraintEngine(table).fit(data)
        reparam = engine.transform_training(data, int(self.rare_threshold))
        sdtypes: dict[str, Any] = {c: t for c, t in table.columns.items() if c in reparam.columns}
        sdtypes.update(engine.derived_sdtypes)
        sdtypes.update({c: "id" for c in table.key_columns if c in reparam.columns})
        bounds = {**engine.bounds, **getattr(engine, "datetime_bounds", {})}
        formats = {c: f for c, f in table.datetime_formats.items() if c in reparam.columns}
        max_modes = int(getattr(self, "max_modes", self._max_modes))
        rare = int(self.rare_threshold)
        transformer = DataTransformer(max_modes=max_modes, rare_threshold=rare).fit(
            reparam, sdtypes, bounds=bounds, seed=child_seed(seed, "transformer"), datetime_formats=formats)
        if transformer.output_dim_ == 0:
            kinds = {str(c): ("constant" if data[c].nunique(dropna=False) <= 1 else t)
                     for c, t in transformer.sdtypes_.items()}
            raise TrainingError(f"Table {table.name!r} has nothing to model: every column is an id, text or a "
                                f"single repeated value ({kinds}), so there is nothing for a network to learn; "
                                "fit this table with TabularAR (or, for text, inside a Synthesizer, which "
                                "generates text-only tables with word models), or add varying columns.")
        matrix = transformer.transform(reparam, rng=numpy_generator(child_seed(seed, "transform")))
        self.constraint_engine_ = engine
        self.transformer_ = transformer
        self.output_info_ = list(transformer.output_info_)
        ctx = None
        if context is not None:
            self.context_transformer_ = DataTransformer(max_modes=max_modes, rare_threshold=rare).fit(
                context.reset_index(drop=True), seed=child_seed(seed, "context_transformer"))
            ctx = self.context_transformer_.transform(
                context.reset_index(drop=True), rng=numpy_generator(child_seed(seed, "context_transform")))
        return PreparedData(matrix, ctx)

    @property
    def _context_dim(self) -> int:
        return int(self.context_transformer_.output_dim_) if self.context_transformer_ is not None else 0

    @property
    def _data_dim(self) -> int:
        return int(sum(column.dim for column in self.output_info_))

    # ------------------------------------------------------------------ sampling
    def _draw(self, num_rows: int, context: pd.DataFrame | None, *, seed: int, conditions: Mapping[str, Any],
              enforce_constraints: bool, progress_bar: bool, **options: Any) -> pd.DataFrame:
        """Generate, decode and filter until ``num_rows`` rows satisfy conditions and constraints.

        Conditions are checked on the generated categories (display labels such as "True" or "2"
        resolved to them), not by comparing decoded values with the raw condition.
        """
        resolved = self._resolve_conditions(conditions)  # validates values before any work
        rng = torch_generator(child_seed(seed, "sample", "torch"), self.device_)
        np_rng = numpy_generator(child_seed(seed, "sample", "numpy"))
        ctx_all = self._encode_context(context, seed) if context is not None else None
        generate = self._generate_fn(resolved, rng, progress_bar)
        return self._generate_until(num_rows, ctx_all, generate, np_rng=np_rng, conditions=conditions,
                                    enforce_constraints=enforce_constraints,
                                    draw_filter=self._matching_rows(resolved) if resolved else None)

    @abstractmethod
    def _generate_fn(self, resolved: list[tuple[int, list[int]]], rng: torch.Generator,
                     progress_bar: bool) -> GenerateFn:
        """The engine's ``generate(count, context_rows) -> GeneratedRows`` for one ``sample()`` call."""

    def _encode_context(self, context: pd.DataFrame, seed: int) -> torch.Tensor:
        """The transformed context rows as a float32 tensor on the model device."""
        with encoding_context(self.context_columns_):
            encoded = self.context_transformer_.transform(
                context[self.context_columns_].reset_index(drop=True),
                rng=numpy_generator(child_seed(seed, "sample", "context")))
        return torch.as_tensor(np.ascontiguousarray(encoded, dtype=np.float32), device=self.device_)

    # ------------------------------------------------------------------ persistence
    def _state(self) -> EngineState:
        state = self._network_state()
        state.objects.update({
            self.TRANSFORMER: {"data_transformer": self.transformer_, "constraint_engine": self.constraint_engine_},
            self.CONTEXT_TRANSFORMER: self.context_transformer_,
            self.DATA_COLUMN_INFO: self.output_info_,
        })
        return state

    def _restore(self, state: EngineState) -> None:
        pipeline = state.objects[self.TRANSFORMER]
        self.transformer_ = pipeline["data_transformer"]
        self.constraint_engine_ = pipeline["constraint_engine"]
        self.context_transformer_ = state.objects[self.CONTEXT_TRANSFORMER]
        self.output_info_ = list(state.objects[self.DATA_COLUMN_INFO])
        if not all(isinstance(spans, ColumnSpans) for spans in self.output_info_) or \
                not isinstance(self.transformer_, DataTransformer):
            raise TypeError("the pickled preprocessing is not a DataTransformer with its output spans")
        self._restore_networks(state)

    def _encoded_context_columns(self) -> list[str]:
        transformer = self.context_transformer_
        return [str(c) for c in transformer.columns_] if transformer is not None else []

    def _decoded_columns(self) -> list[str]:
        activation = self._activation
        frame = self._decode(np.zeros((0, activation.piece_widths[0]), dtype=np.float32),
                             np.zeros((0, activation.n_softmax_spans), dtype=np.int64), numpy_generator(0))
        return [str(c) for c in frame.columns]

    @abstractmethod
    def _network_state(self) -> EngineState:
        """The engine's network files (and any pickled layout of its own)."""

    @abstractmethod
    def _restore_networks(self, state: EngineState) -> None:
        """Rebuild the networks from ``state`` (the pipeline attributes are set)."""

    def _resolve_conditions(self, conditions: Mapping[str, Any] | None) -> list[tuple[int, list[int]]]:
        """Turn ``{column: value}`` into ``(discrete column, allowed categories)`` pairs.

        Discrete columns are indexed in ``transformer_.discrete_column_names_`` (matrix order).
        A column merged into a fixed-combination joint column is conditioned through the
        joint column's categories that contain the value; several conditions on columns of one
        fixed combination become one pair, allowing the categories that satisfy them all.

        Raises:
            GenerationError: Unknown value, a non-discrete column, or conditions on one fixed
                combination that no training combination satisfies (the base class checked the
                mapping and its columns).
        """
        if not conditions:
            return []
        discrete = list(self.transformer_.discrete_column_names_)
        resolved: list[tuple[int, list[int]]] = []
        allowed: dict[int, set[int]] = {}  # joint column -> categories allowed by its conditions
        joint_conditions: dict[int, dict[str, Any]] = {}
        for column, value in conditions.items():
            if column in discrete:
                _, category = self.transformer_.condition_index(column, value)
                resolved.append((discrete.index(column), [int(category)]))
                continue
            indicator = f"{column}{NULL_SUFFIX}"
            if indicator in discrete and is_null_value(value):  # a partly-null number or datetime: its null flag
                _, category = self.transformer_.condition_index(indicator, "null")
                resolved.append((discrete.index(indicator), [int(category)]))
                continue
            if self.transformer_.holds_only(column, value):  # a constant column: every row has the value
                continue
            joint = self._joint_column(column)
            if joint is not None and joint in discrete:
                labels = self.constraint_engine_.joint_labels_for(column, value)
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
            shown = [name for name in discrete if not name.endswith(NULL_SUFFIX)]
            nullable = [name[:-len(NULL_SUFFIX)] for name in discrete if name.endswith(NULL_SUFFIX)]
            raise GenerationError(
                f"Cannot condition on column {column!r} = {value!r}: only discrete columns can be conditioned "
                f"on ({', '.join(map(repr, shown)) or 'none in this model'})"
                + (f", and partly missing ones on a missing value ({', '.join(map(repr, nullable))}: None)"
                   if nullable else "") + ".")
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
        return self.constraint_engine_.joint_column_of(column) if self.constraint_engine_ is not None else None

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
