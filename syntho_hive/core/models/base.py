"""The one model contract: public verbs here, private hooks in each engine.

:class:`ConditionalGenerativeModel` owns ``fit``, ``sample``, ``impute``, ``save``, ``load``,
``to_bytes`` and ``from_bytes``: argument checks (before any work), seeds, parent context,
condition checks, the quality gate, the ``checkpoint_dir`` lifecycle (held-out validation,
``best_checkpoint/``, ``final_checkpoint/``, ``training_metrics.csv``) and the checkpoint format
(:mod:`syntho_hive.core.checkpoint`). An engine supplies only:

- its hyper-parameters, declared once as class attributes (:mod:`syntho_hive.core.models.params`);
- ``checkpoint_layout`` (its files) and ``metrics_fields`` (its per-epoch record);
- ``_prepare(data, context, table, seed)``: fitted preprocessing, returning the training payload;
- ``_modelled_sdtypes()``: the semantic types its preprocessing settled on;
- ``_train(prepared, seed, progress_bar)``: the network fit, calling :meth:`_end_epoch` per epoch;
- ``_draw(num_rows, context, seed, conditions, enforce_constraints, progress_bar, **options)``:
  exactly ``num_rows`` rows with the training columns;
- ``_state()`` / ``_restore(state, device)``: what goes into its checkpoint files and back;
- optionally ``_impute(...)``, ``_check_combination(values)``, ``_setup(...)``, ``_map_location()``.

Contract (scikit-learn style): ``__init__`` only stores parameters; ``fit`` returns ``self``;
learned state lives in attributes ending in ``_``; the verbs that need a fitted model raise
:class:`~syntho_hive.exceptions.NotFittedError` before ``fit`` or ``load``.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import hashlib
import inspect
import math
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch

from syntho_hive._checks import is_int
from syntho_hive._random import child_seed, resolve_seed
from syntho_hive.core.time_of_day import (
    duration_of,
    hhmm_columns,
    minutes_of,
    time_columns,
    to_durations,
    to_hhmm,
    to_minutes,
    to_times,
)
from syntho_hive.core.checkpoint import (
    REFERENCE_PROFILE,
    CheckpointContent,
    CheckpointLayout,
    check_format,
    decode_json,
    decode_pickle,
    decode_state_dict,
    encode_json,
    encode_pickle,
    encode_state_dict,
    running_version,
)
from syntho_hive.core.metadata.schema import Metadata, TableConfig
from syntho_hive.core.metadata.validate import check_table_data
from syntho_hive.core.models._validation import (
    FINAL_CHECKPOINT,
    EpochCheckpoints,
    Validation,
    check_checkpoint_arguments,
    column_shape_score,
    split_validation,
)
from syntho_hive.core.models._dp_state import privacy_event_fields, privacy_extra, restored_privacy
from syntho_hive.core.models._privacy import (
    apply_privacy,
    check_personal_conditions,
    model_frame,
    plan_from_extra,
    restore_personal,
)
from syntho_hive.core.models.params import Param, problems_of
from syntho_hive.core.privacy import TablePrivacyPlan
from syntho_hive.core.privacy.schema import fit_config
from syntho_hive.core.models.registry import model_class
from syntho_hive.core.quality import MarginalProfile, SampleQuality, apply_quality_gate, check_gate_arguments
from syntho_hive.core.quality import profile_sdtypes
from syntho_hive.events import get_logger, progress
from syntho_hive.exceptions import (
    ConfigurationError,
    GenerationError,
    NotFittedError,
    PrivacyError,
    SchemaError,
    SerializationError,
    SynthoHiveError,
    TrainingError,
)

__all__ = ["ConditionalGenerativeModel", "EngineState", "encoding_context", "load_model"]

_log = get_logger(__name__)

#: Errors that corrupt checkpoint content raises while an engine restores it.
_CORRUPT = (KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError, OverflowError,
            RuntimeError)
#: Bytes a generated row takes at least per column (a float64, or a pointer to an object).
_BYTES_PER_CELL = 8
#: Values a condition cannot be (several values: sample once per value instead).
_COLLECTIONS = (list, tuple, set, frozenset, dict, np.ndarray, pd.Series, pd.Index, pd.DataFrame)


@dataclass
class EngineState:
    """An engine's checkpoint files, decoded: what ``_state`` returns and ``_restore`` receives.

    Attributes:
        weights: ``{file: state dict}`` for the layout's ``weights``.
        objects: ``{file: object}`` for its ``pickles``.
        documents: ``{file: JSON value}`` for its ``documents``.
        extra: Engine entries of the manifest's ``extra`` (JSON).
    """

    weights: dict[str, Mapping[str, torch.Tensor]] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)
    documents: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def blank_scarce_columns(data: pd.DataFrame, rare_threshold: int,
                         sdtypes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """``data`` with the numbers and dates of a partly missing column that holds fewer than
    ``rare_threshold`` of them made missing too (a number or date column by its dtype, or by its sdtype in
    ``sdtypes``: dates held as text are dates too).

    Every value of such a column is rare, and any range or mean made of fewer than ``rare_threshold``
    values gives them away (one value: itself), so the column is generated missing. A column without
    missing values (a table of fewer than ``rare_threshold`` rows) is left to the engines, which
    generate it at its mean.

    Args:
        data: Training rows.
        rare_threshold: Fewest values a column needs.
        sdtypes: The table's sdtype per column (``numerical`` and ``datetime`` columns count whatever their dtype).

    Returns:
        ``data`` (a copy when a column is blanked).
    """
    sdtypes = sdtypes or {}
    types = pd.api.types
    blanked = [str(c) for c in data.columns
               if (types.is_numeric_dtype(data[c].dtype) or types.is_datetime64_any_dtype(data[c].dtype)
                   or types.is_timedelta64_dtype(data[c].dtype) or sdtypes.get(str(c)) in ("numerical", "datetime"))
               and not types.is_bool_dtype(data[c].dtype)
               and data[c].isna().any() and 0 < data[c].notna().sum() < rare_threshold]
    if not blanked:
        return data
    _log.info("scarce_columns_generated_missing", columns=blanked, rare_threshold=rare_threshold,
              reason="fewer values than rare_threshold: every one is rare")
    data = data.copy()
    for column in blanked:
        data[column] = data[column].where(pd.Series(False, index=data.index))
    return data


def _durations(context: pd.DataFrame | None, columns: list[str], call: str) -> pd.DataFrame | None:
    """Parent-context rows with their time-of-day ``columns`` (those of the fit) as durations, as the model
    was fitted with; ``call`` names the method, for messages."""
    return to_durations(context, columns, where=f"{call}() context") if context is not None else None


@contextlib.contextmanager
def encoding_context(columns: list[str]) -> Iterator[None]:
    """Around an engine's encoding of the parent-context rows of ``sample`` / ``impute``: what the encoders
    raise for values unlike the fit's (text in a number, a list, a time of day in a duration) becomes the
    :class:`GenerationError` those verbs promise.

    Args:
        columns: The context columns, for the message.

    Raises:
        GenerationError: The context rows cannot be encoded.
    """
    try:
        yield
    except GenerationError:
        raise
    except (SynthoHiveError, TypeError, ValueError) as exc:
        raise GenerationError(f"The parent context (columns {columns}) cannot be encoded as at fit "
                              f"({type(exc).__name__}: {exc}); pass context rows whose columns hold values of the "
                              "types they held at fit.") from exc


@functools.lru_cache(maxsize=1)  # read once per process: sample() runs it on every call
def _memory_limit() -> int | None:
    """The memory this process may use: physical memory, or less under an address-space limit
    (``RLIMIT_AS``) or a cgroup v2 ``memory.max``; ``None`` where none can be read (not POSIX)."""
    limits: list[int] = []
    try:
        limits.append(int(os.sysconf("SC_PAGE_SIZE")) * int(os.sysconf("SC_PHYS_PAGES")))
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft != resource.RLIM_INFINITY:
            limits.append(int(soft))
    except (AttributeError, OSError, ValueError, ImportError):  # not POSIX
        pass
    try:
        cgroup = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()
        if cgroup.isdigit():
            limits.append(int(cgroup))
    except OSError:  # no cgroup v2 limit here
        pass
    return min(limits) if limits else None


def _digest(frame: pd.DataFrame | None) -> Any:
    """What a fit's preprocessing reads of ``frame`` (``None`` for none): its column labels, dtypes (with a
    categorical's categories and order) and a hash of every index label and cell, object cells with their type
    (``1``, ``True`` and ``"1"`` differ)."""
    if frame is None:
        return None
    dtypes = [(t, list(t.categories), t.ordered) if isinstance(t, pd.CategoricalDtype) else t for t in frame.dtypes]
    kinds = pd.DataFrame({i: frame.iloc[:, i].map(lambda v: type(v).__qualname__)
                          for i, t in enumerate(frame.dtypes) if t == object}, index=frame.index)
    try:
        cells = [pd.util.hash_pandas_object(part, index=True).to_numpy() for part in (frame, kinds)]
    except (TypeError, ValueError):  # cells pandas cannot hash: never matched, so fit prepares again
        return object()
    return list(frame.columns), dtypes, hashlib.sha256(b"".join(c.tobytes() for c in cells)).digest()


class ConditionalGenerativeModel(ABC):
    """A tabular generative model, optionally conditioned on parent-context rows.

    Args:
        metadata: Schema of the data (the table to model is chosen by ``fit(table_name=...)``, or
            is the only table). ``None`` detects it from the data at ``fit``.
        **params: The engine's hyper-parameters (see its class; unknown names are refused).

    Raises:
        ConfigurationError: An unknown hyper-parameter name (values are checked at ``fit``).
    """

    #: Name in the model registry and in checkpoints (default: the class name).
    model_name: ClassVar[str] = ""
    #: The engine's checkpoint files (the reference profile and manifest are added by the base).
    checkpoint_layout: ClassVar[CheckpointLayout] = CheckpointLayout()
    #: Columns of ``training_metrics.csv`` (``fit(checkpoint_dir=...)``).
    metrics_fields: ClassVar[tuple[str, ...]] = ("epoch", "val_score", "seconds")
    #: Extra ``sample()`` / ``impute()`` keyword options of the engine, declared like hyper-parameters.
    sample_options: ClassVar[Mapping[str, Param]] = {}
    #: Why the engine refuses ``dp=`` (engines that honour it declare a ``dp`` hyper-parameter instead).
    dp_refusal: ClassVar[str] = "it has no differentially private training."
    #: Every declared hyper-parameter by name, inherited ones first (collected by ``__init_subclass__``).
    _parameters: ClassVar[dict[str, Param]] = {}

    metadata: Metadata | None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        params: dict[str, Param] = {}
        for klass in reversed(cls.__mro__):
            params.update({name: value for name, value in vars(klass).items() if isinstance(value, Param)})
        cls._parameters = params
        for name, option in cls.sample_options.items():
            option.name = name
        if not cls.__dict__.get("model_name"):
            cls.model_name = cls.__name__
        signature = [inspect.Parameter("metadata", inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None,
                                       annotation="Metadata | None")]
        signature += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=param.default)
                      for name, param in params.items()]
        cls.__signature__ = inspect.Signature(signature)  # type: ignore[attr-defined]

    def __init__(self, metadata: Metadata | None = None, **params: Any) -> None:
        if "dp" in params and "dp" not in self._parameters:
            if params["dp"] is not None:
                raise PrivacyError(f"{type(self).__name__} cannot train under differential privacy: "
                                   f"{self.dp_refusal} Use TabularAR(dp=DPConfig(...)) or TVAE(dp=...), which can.")
            params = {name: value for name, value in params.items() if name != "dp"}
        unknown = sorted(set(params) - set(self._parameters))
        if unknown:
            raise ConfigurationError(f"Unknown {type(self).__name__} parameter(s) {unknown}; its parameters are "
                                     f"{list(self._parameters)}.")
        self.metadata = metadata
        for name, value in params.items():
            setattr(self, name, value)
        self._keeper: EpochCheckpoints | None = None  # the running fit's checkpoint_dir keeper
        self._release: tuple | None = None  # check_dp_release's prepared copy, for the next fit
        self._reset_state()

    # ------------------------------------------------------------------ parameters
    @classmethod
    def parameter_names(cls) -> tuple[str, ...]:
        """The constructor's keyword options (besides ``metadata``)."""
        return tuple(cls._parameters)

    def get_params(self) -> dict[str, Any]:
        """Every hyper-parameter's current value, by name."""
        return {name: getattr(self, name) for name in self._parameters}

    def hyper_parameters(self) -> dict[str, Any]:
        """The saved hyper-parameters in JSON form (sequences as lists)."""
        values = self.get_params()
        return {name: param.to_json(param.normalise(values[name]) if param.problem(values[name]) is None
                                    else values[name]) for name, param in self._parameters.items() if param.saved}

    def _checked_parameters(self, values: Mapping[str, Any], error: type[SynthoHiveError], where: str) -> dict[str, Any]:
        """``values`` normalised, or ``error`` listing every problem at once."""
        problems = problems_of(self._parameters, values)
        normalised: dict[str, Any] = {}
        if not problems:
            normalised = {name: self._parameters[name].normalise(value) for name, value in values.items()}
            problems = self._check_combination(normalised)
        if problems:
            raise error(f"Invalid {type(self).__name__} parameters{where}: " + "; ".join(problems) + ".")
        return normalised

    def _check_combination(self, values: Mapping[str, Any]) -> list[str]:
        """Problems between parameters (each valid alone); engines override."""
        return []

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self.table_: TableConfig | None = None
        self.columns_: list[str] = []
        self.context_columns_: list[str] = []
        self.seed_: int | None = None
        self.history_: list[dict[str, Any]] = []
        self.reference_profile_: MarginalProfile | None = None
        self.privacy_plan_: TablePrivacyPlan | None = None
        self.time_columns_: list[str] = []
        self.context_time_columns_: list[str] = []
        self.hhmm_columns_: list[str] = []
        self._fitted = False
        self._reset_engine()

    @abstractmethod
    def _reset_engine(self) -> None:
        """Clear the engine's learned attributes."""

    @property
    def is_fitted(self) -> bool:
        """Whether the model can sample (fitted or loaded)."""
        return self._fitted

    def _require_fitted(self, action: str) -> None:
        """Raise :class:`NotFittedError` naming ``action`` unless the model is fitted or loaded."""
        if not self._fitted:
            raise NotFittedError(f"Cannot {action}: this {type(self).__name__} is not fitted. Call fit(data) "
                                 "or load(path) first.")

    # ------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, context: pd.DataFrame | None = None, *, table_name: str | None = None,
            seed: int | None = None, progress_bar: bool = True, checkpoint_dir: str | Path | None = None,
            checkpoint_every: int = 1, validation_fraction: float = 0.1, privacy_config: Any = None,
            **kwargs: Any) -> "ConditionalGenerativeModel":
        """Learn the distribution of ``data`` (rows aligned with ``context`` when given).

        Args:
            data: Training rows.
            context: Parent-context rows aligned with ``data`` (same length).
            table_name: Table of ``metadata`` describing ``data`` (default: the only table).
            seed: Seed for every random choice (``None``: a fresh one, kept in ``seed_``). Under ``dp``
                it is the key of the noise, a secret: whoever knows it (and the other rows) can remove
                the noise. It is then used by this fit only: ``seed_`` is ``None`` after it, and no
                checkpoint or event holds it (``None``: a fresh seed from OS entropy, known to nobody).
            progress_bar: Show a tqdm bar over epochs.
            checkpoint_dir: When given, hold out a seeded validation sample (with its context rows),
                train on the other rows, score a fresh sample against the held-out rows every
                ``checkpoint_every`` epochs and at the last one (column-shape similarity, not the
                loss), and keep ``best_checkpoint/`` (best-scoring epoch), ``final_checkpoint/`` (the
                fitted model) and ``training_metrics.csv`` there.
            checkpoint_every: Epochs between validations (with ``checkpoint_dir``).
            validation_fraction: Share of rows held out for validation (at most 5,000 rows).
            privacy_config: A :class:`~syntho_hive.privacy.PrivacyConfig`: the personal columns of
                ``data`` (configured, declared or detected) are removed or pseudonymised before the
                model's preprocessing sees them and generated back by :meth:`sample`; they cannot be
                conditions. The decisions are in ``privacy_plan_`` and the checkpoint (no real value,
                no secret). ``None`` where the metadata declares personal columns (``pii_cols``) of
                ``data``: ``PrivacyConfig(detect=False)`` (declared personal columns and semantic types get
                their default actions).

        Returns:
            ``self``.

        Raises:
            TrainingError: Invalid parameters or arguments, empty data, misaligned context, bad seed,
                an unwritable ``checkpoint_dir``, or a diverging loss (the message names the epoch).
            SchemaError: The metadata does not describe ``data``; column names not unique strings.
            ConstraintViolationError: ``data`` violates a declared constraint.
            ConfigurationError: The personal columns' actions cannot apply (every problem listed), e.g. a
                declared personal column with no action and no personal semantic type.
        """
        release, self._release = self._release, None  # a check's release serves the next fit only
        if kwargs:
            raise TrainingError(f"Unknown fit() argument(s): {', '.join(sorted(kwargs))}.")
        if release is not None and checkpoint_dir is None and privacy_config is None and release[0] is data \
                and release[1] is context and release[2] == self._release_key(data, context, table_name, seed):
            self.__dict__.update({**release[3].__dict__, "metadata": self.metadata})
            return self._train_prepared(*release[4], progress_bar=progress_bar, checkpoint_dir=None)
        prepared = self._fit(data, context, table_name=table_name, seed=seed, checkpoint_dir=checkpoint_dir,
                             checkpoint_every=checkpoint_every, validation_fraction=validation_fraction,
                             privacy_config=privacy_config)
        return self._train_prepared(*prepared, progress_bar=progress_bar, checkpoint_dir=checkpoint_dir)

    def check_dp_release(self, data: pd.DataFrame, context: pd.DataFrame | None = None, *,
                         table_name: str | None = None, seed: int) -> None:
        """Raise what :meth:`fit` with these arguments would raise before training (its argument checks and,
        under ``dp``, the noisy-count release of its preprocessing), without changing this model.

        The preprocessing runs on a copy of this unfitted model, with the noise ``seed`` gives it: the
        release is the very one ``fit(data, context, table_name=table_name, seed=seed)`` then makes again
        (the same noise on the same rows), so checking first spends no extra privacy budget. A
        ``Synthesizer`` under DP calls it for every table before training any. The prepared copy is kept
        for the next :meth:`fit`: given the same (unchanged) frames, table, seed, parameters and metadata, and
        neither ``checkpoint_dir`` nor ``privacy_config``, it trains that copy instead of preparing again.

        Args:
            data: The training rows ``fit`` will get.
            context: Their parent-context rows, or ``None``.
            table_name: Table of ``metadata`` describing ``data``.
            seed: The seed ``fit`` will get (required: another seed is another release).

        Raises:
            PrivacyError: What the model cannot honour under DP (e.g. a categorical column none of whose
                values, or a numerical column none of whose histogram buckets, passes the noisy-count
                threshold).
            TrainingError / SchemaError / ConstraintViolationError: As :meth:`fit`.
        """
        self._release = None
        checked = copy.deepcopy(self)
        prepared = checked._fit(data, context, table_name=table_name, seed=seed, checkpoint_dir=None,
                                checkpoint_every=1, validation_fraction=0.1, privacy_config=None)
        self._release = (data, context, self._release_key(data, context, table_name, seed), checked, prepared)

    def _release_key(self, data: pd.DataFrame, context: pd.DataFrame | None, table_name: str | None,
                     seed: Any) -> tuple:
        """What a fit's preprocessing depends on besides the frames' identity (their content by
        :func:`_digest`), to match a fit with :meth:`check_dp_release`'s."""
        metadata = self.metadata.model_dump(mode="json") if self.metadata is not None else None
        values = self._checked_parameters(self.get_params(), TrainingError, "")
        return _digest(data), _digest(context), table_name, seed, metadata, values

    def _fit(self, data: pd.DataFrame, context: pd.DataFrame | None, *, table_name: str | None, seed: int | None,
             checkpoint_dir: str | Path | None, checkpoint_every: int, validation_fraction: float,
             privacy_config: Any) -> tuple[Any, pd.DataFrame, TableConfig, EpochCheckpoints | None]:
        """:meth:`fit`'s checks and preprocessing: the model reset and prepared (half-fitted) and what
        :meth:`_train_prepared` needs."""
        values = self._checked_parameters(self.get_params(), TrainingError, "")
        self._check_training_input(data, context)
        if checkpoint_dir is not None:
            check_checkpoint_arguments(checkpoint_every, validation_fraction)
        seed = self._resolved_seed(seed, "fit", TrainingError)
        if values.get("dp") is not None and checkpoint_dir is not None:
            raise PrivacyError(f"fit(checkpoint_dir=...) holds out real rows and picks the best epoch by their "
                               f"score, outside the privacy budget; {type(self).__name__}(dp=...) trains without "
                               "it: drop checkpoint_dir and save() the fitted model.")
        table = self._resolve_table(data, table_name)  # still checks: a fitted model is kept until they pass
        privacy_plan = None
        privacy_config = fit_config(privacy_config, table, data.columns)  # declared personal columns: defaults
        if privacy_config is not None:  # before anything learns from data: no personal value reaches the model
            privacy_plan, data, table = apply_privacy(privacy_config, data, table, seed=seed,
                                                      rare_threshold=int(getattr(self, "rare_threshold", 5)),
                                                      names_only=values.get("dp") is not None)
        times = time_columns(data)  # modelled as durations since midnight, given back as times of day
        context_times = time_columns(context)
        data, context = to_durations(data, times), _durations(context, context_times, "fit")
        clocks = hhmm_columns(data, table, detect=values.get("dp") is None)  # numbers hhmm: modelled as minutes
        if clocks:
            _log.info("clock_times_modelled_as_minutes", columns=clocks)
        data = to_minutes(data, clocks)
        if values.get("dp") is None:  # under DP the column's noisy counts decide
            data = blank_scarce_columns(data, int(getattr(self, "rare_threshold", 5)), table.columns)
        columns = [str(c) for c in data.columns]
        context_columns = [str(c) for c in context.columns] if context is not None else []
        validation: Validation | None = None
        if checkpoint_dir is not None:
            (val_data, val_ctx), train_rows = split_validation(data, context, seed, validation_fraction)
            data = data.iloc[train_rows].reset_index(drop=True)
            context = context.iloc[train_rows].reset_index(drop=True) if context is not None else None
            validation = (val_data, val_ctx)
        for name, value in values.items():
            setattr(self, name, value)
        self._reset_state()
        self.table_, self.seed_, self.columns_, self.context_columns_ = table, seed, columns, context_columns
        self.privacy_plan_, self.time_columns_, self.context_time_columns_ = privacy_plan, times, context_times
        self.hhmm_columns_ = clocks
        self._setup(TrainingError)
        keeper = None
        if checkpoint_dir is not None and validation is not None:
            held_out: Validation = validation
            keeper = EpochCheckpoints(
                Path(checkpoint_dir), self.metrics_fields, epochs=int(getattr(self, "epochs", 1)),
                every=checkpoint_every, score=lambda epoch: self._validation_score(held_out, seed, epoch),
                save=lambda path: self._write_checkpoint(path, overwrite=True))
        return self._prepare(data, context, table, seed), data, table, keeper

    def _train_prepared(self, prepared: Any, data: pd.DataFrame, table: TableConfig, keeper: EpochCheckpoints | None,
                        *, progress_bar: bool, checkpoint_dir: str | Path | None) -> "ConditionalGenerativeModel":
        """The rest of :meth:`fit` once :meth:`_fit` has prepared the model; returns ``self``."""
        if getattr(self, "dp", None) is None:  # under DP no statistic of the real rows is kept outside the budget
            self.reference_profile_ = MarginalProfile.from_frame(
                data, profile_sdtypes(data, table, self._modelled_sdtypes()), **self._profile_options())
        self._keeper = keeper
        try:
            self._train(prepared, seed=self.seed_, progress_bar=progress_bar)
            if keeper is not None and self.history_:
                keeper.finish(self.history_[-1])  # an engine that stopped early: its last epoch is scored too
        finally:
            self._keeper = None
            if getattr(self, "dp", None) is not None:  # the key of the DP noise: not kept, saved or logged
                self.seed_ = None
        self._fitted = True
        if checkpoint_dir is not None:
            self._write_checkpoint(Path(checkpoint_dir) / FINAL_CHECKPOINT, overwrite=True)
        return self

    def _profile_options(self) -> dict[str, Any]:
        """Keyword options of :meth:`MarginalProfile.from_frame` (engines with rare-value protection
        pass their threshold)."""
        return {}

    def _end_epoch(self, record: dict[str, Any]) -> None:
        """Called by the engine's training loop after each epoch with that epoch's record.

        With ``checkpoint_dir`` it scores the epoch when due (``val_score``), keeps the best
        checkpoint and appends the record to ``training_metrics.csv``; it always appends the
        record to ``history_``.
        """
        self.history_.append(record)  # before scoring: a best checkpoint holds its own epoch too
        if self._keeper is not None:
            self._keeper.score(record)
            self._keeper.write(record)

    def _epoch_bar(self, progress_bar: bool) -> Iterable[int]:
        """Epochs ``1..epochs`` for an engine's training loop, under a tqdm bar when asked."""
        epochs = int(getattr(self, "epochs", 1))
        return progress(range(1, epochs + 1), enabled=progress_bar, desc=f"Training {type(self).__name__}",
                        total=epochs, unit="epoch")

    def _epoch_loop(self, run_epoch: Callable[[], dict[str, float]], *, progress_bar: bool, diverged: str,
                    **event: Any) -> None:
        """The training loop of an engine that trains by whole epochs: ``run_epoch`` trains one and returns
        its mean losses; each epoch is recorded (:meth:`_end_epoch`) and logged (``epoch_end``, with
        ``event``'s fields, the losses, an ETA and any ``val_score``), then ``training_complete``.

        Raises:
            TrainingError: A loss is not finite (the message names the epoch and losses, then ``diverged``).
        """
        started = time.perf_counter()
        bar = self._epoch_bar(progress_bar)
        epochs = int(getattr(self, "epochs", 1))
        for epoch in bar:
            epoch_start = time.perf_counter()
            losses = run_epoch()
            if not all(math.isfinite(value) for value in losses.values()):
                raise TrainingError(f"{self.model_name} training diverged at epoch {epoch}: "
                                    f"{', '.join(f'{k} {v}' for k, v in losses.items())}. {diverged}")
            record: dict[str, Any] = {"epoch": epoch, **losses, "seconds": time.perf_counter() - epoch_start}
            self._end_epoch(record)
            eta = (time.perf_counter() - started) / epoch * (epochs - epoch)
            _log.info("epoch_end", **event, epoch=epoch, **losses, eta_seconds=round(eta, 3),
                      **({"val_score": record["val_score"]} if "val_score" in record else {}))
            if hasattr(bar, "set_postfix"):
                bar.set_postfix({name: f"{value:.3f}" for name, value in losses.items()})
        _log.info("training_complete", **event, epochs=epochs, seconds=round(time.perf_counter() - started, 3),
                  **{name: self.history_[-1][name] for name in losses})

    def _validation_score(self, validation: Validation, seed: int, epoch: int) -> float:
        """Column-shape score of a fresh sample (seeded by ``seed`` and ``epoch``) against the held-out rows."""
        real, ctx = validation
        synthetic = self._draw(len(real), ctx, seed=child_seed(seed, "validation", epoch), conditions={},
                               enforce_constraints=False, progress_bar=False, **self._check_options({}, "sample"))
        declared = {**(self.table_.columns if self.table_ is not None else {}), **self._modelled_sdtypes()}
        return column_shape_score(real, synthetic, declared)

    @staticmethod
    def _resolved_seed(seed: Any, call: str, error: type[Exception]) -> int:
        """``resolve_seed(seed)``, a bad seed raising ``error`` that names ``call``."""
        try:
            return resolve_seed(seed)
        except ValueError as exc:
            raise error(f"Invalid {call}() seed: {exc}.") from exc

    def _check_training_input(self, data: Any, context: Any) -> None:
        """Raise :class:`TrainingError` unless ``data``/``context`` are usable training frames
        (:class:`SchemaError` for column names that are not unique strings)."""
        if not isinstance(data, pd.DataFrame):
            raise TrainingError(f"fit() expects a pandas DataFrame, got {type(data).__name__}.")
        if len(data) == 0 or data.shape[1] == 0:
            raise TrainingError(f"Cannot fit {type(self).__name__} on an empty table ({data.shape[0]} rows, "
                                f"{data.shape[1]} columns); pass the training rows.")
        if context is not None and not isinstance(context, pd.DataFrame):
            raise TrainingError(f"context must be a pandas DataFrame, got {type(context).__name__}.")
        for frame, what in ((data, "data"), (context, "context")):
            if frame is None:
                continue
            odd = [c for c in frame.columns if not isinstance(c, str)]
            if odd:  # checkpoints, metadata and outputs name columns by text
                raise SchemaError(f"Column names of {what} must be strings, got {odd[:5]} "
                                  f"({type(odd[0]).__name__}); rename them, e.g. "
                                  "data.columns = [str(c) for c in data.columns].")
            if not frame.columns.is_unique:
                dupes = sorted({str(c) for c in frame.columns[frame.columns.duplicated()]})
                raise SchemaError(f"Column names of {what} repeat: {dupes}; rename them.")
        if context is not None:
            if len(context) != len(data):
                raise TrainingError(f"context has {len(context)} rows but data has {len(data)}; pass one "
                                    "parent-context row per training row.")
            if context.shape[1] == 0:
                raise TrainingError("context has no columns; pass context=None instead.")

    def _resolve_table(self, data: pd.DataFrame, table_name: str | None) -> TableConfig:
        """The table of ``metadata`` describing ``data`` (detected when there is no metadata), checked
        against ``data`` (see :func:`~syntho_hive.core.metadata.validate.check_table_data`).

        Raises:
            SchemaError: Unknown ``table_name``, or several tables and no ``table_name``.
            SchemaValidationError: Null or duplicated primary keys, or values that do not fit a
                column's declared sdtype (all listed at once).
        """
        if self.metadata is None or not self.metadata.tables:
            detected = Metadata.detect(data, table_name or "table")
            return next(iter(detected.tables.values()))
        if table_name is not None:
            table = self.metadata.get_table(table_name)
        elif len(self.metadata.tables) == 1:
            table = next(iter(self.metadata.tables.values()))
        else:
            raise SchemaError(f"The metadata has {len(self.metadata.tables)} tables "
                              f"({', '.join(sorted(self.metadata.tables))}); pass fit(..., table_name=...).")
        check_table_data(table, data)
        return table

    # ------------------------------------------------------------------ sample
    def sample(self, num_rows: int, context: pd.DataFrame | None = None, *, seed: int | None = None,
               conditions: Mapping[str, Any] | None = None, enforce_constraints: bool = False,
               progress_bar: bool = True, return_metrics: bool = False, quality_threshold: float | None = None,
               **options: Any) -> pd.DataFrame | tuple[pd.DataFrame, SampleQuality]:
        """Generate ``num_rows`` synthetic rows.

        Every call scores each generated column against the training marginals kept at ``fit``
        (column shapes: ``1 - KS`` / ``1 - TVD`` with nulls, see :mod:`syntho_hive.core.quality`)
        and logs them as a ``sample_quality`` event.

        Args:
            num_rows: Number of rows (positive, and small enough to hold in memory).
            context: Parent-context rows, exactly ``num_rows`` of them (required, and only allowed,
                when the model was fitted with context); row ``i`` is generated for context row ``i``.
            seed: Seed (``None``: a fresh one); the same seed gives the same rows.
            conditions: ``{column: value}``, one value per column: every row has these values.
            enforce_constraints: Raise :class:`ConstraintViolationError` when rows satisfying every
                declared constraint cannot be produced (otherwise failing rows are resampled as far
                as possible and the rest kept).
            progress_bar: Show a tqdm bar where the engine generates in many chunks.
            return_metrics: Return ``(data, metrics)`` with a :class:`~syntho_hive.core.quality.SampleQuality`.
            quality_threshold: Raise :class:`QualityError` (nothing is returned) when any column's
                shape score is below this value, e.g. ``0.85``.
            **options: The engine's ``sample_options`` (e.g. TabularAR's ``temperature``).

        Returns:
            A DataFrame with the training columns, in order, with a fresh ``RangeIndex``; with
            ``return_metrics``, the tuple ``(data, metrics)``.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: Unknown option, bad ``num_rows`` (including more rows than memory can
                hold), seed, context or gate arguments, an unknown condition column or value, or
                conditions that cannot be met.
            ConstraintViolationError: With ``enforce_constraints`` when constraints cannot be met.
            QualityError: A column scored below ``quality_threshold`` (``failures``: ``{column: score}``).
        """
        values = self._check_options(options, "sample")
        self._require_fitted("sample")
        num_rows = self._check_num_rows(num_rows)
        seed = self._resolved_seed(seed, "sample", GenerationError)
        if getattr(self, "dp", None) is not None and (return_metrics or quality_threshold is not None):
            raise GenerationError(
                f"This {type(self).__name__} was trained with differential privacy, so it keeps no profile of "
                "its training data to score samples against (that profile would spend privacy budget): "
                "return_metrics and quality_threshold are unavailable. Score samples against the real data "
                "with syntho_hive.validation instead, where the real data may be used.")
        check_gate_arguments(return_metrics, quality_threshold, self.reference_profile_, model=type(self).__name__)
        self._check_context(num_rows, context)
        checked = {column: duration_of(value, column) if column in self.time_columns_
                   else minutes_of(value, column) if column in self.hhmm_columns_ else value
                   for column, value in self._check_conditions(conditions).items()}
        started = time.perf_counter()
        try:
            frame = self._draw(num_rows, _durations(context, self.context_time_columns_, "sample"), seed=seed,
                               conditions=checked, enforce_constraints=bool(enforce_constraints),
                               progress_bar=bool(progress_bar), **values)
        except (MemoryError, RuntimeError) as exc:  # the estimate above is a floor: generation needs more
            if isinstance(exc, RuntimeError) and "allocate" not in str(exc):  # torch's allocator says so
                raise
            raise GenerationError(f"Ran out of memory generating {num_rows:,} rows; sample fewer rows per call "
                                  "(Synthesizer.sample(output_path=...) writes chunk by chunk).") from exc
        _log.info("sampling_complete", model=type(self).__name__, rows=len(frame),
                  seconds=round(time.perf_counter() - started, 3), **self._sample_event_fields())
        result = apply_quality_gate(frame, self.reference_profile_, return_metrics=bool(return_metrics),
                                    quality_threshold=quality_threshold, model=type(self).__name__,
                                    table=self.table_.name if self.table_ is not None else None)
        rows = to_hhmm(to_times(result[0] if isinstance(result, tuple) else result, self.time_columns_),
                       self.hhmm_columns_)
        if self.privacy_plan_ is not None:  # the gate scored the modelled columns; personal ones are generated
            rows = restore_personal(self.privacy_plan_, rows, seed)
        return (rows, result[1]) if isinstance(result, tuple) else rows

    def _check_options(self, options: Mapping[str, Any], call: str) -> dict[str, Any]:
        """The engine's ``sample_options`` with their defaults filled in, checked.

        Raises:
            GenerationError: An unknown option or an invalid value.
        """
        unknown = sorted(set(options) - set(self.sample_options))
        if unknown:
            raise GenerationError(f"Unknown {call}() argument(s): {', '.join(unknown)}.")
        values = {name: options.get(name, param.default) for name, param in self.sample_options.items()}
        problems = problems_of(self.sample_options, values)
        if problems:
            raise GenerationError(f"Invalid {call}() argument(s): " + "; ".join(problems) + ".")
        return {name: self.sample_options[name].normalise(value) for name, value in values.items()}

    def _check_num_rows(self, num_rows: Any) -> int:
        """``num_rows`` as an ``int`` when it is positive and its output fits in this machine's memory.

        Raises:
            GenerationError: Not a positive integer, or more rows than memory can hold.
        """
        if not is_int(num_rows) or num_rows <= 0:
            raise GenerationError(f"num_rows must be a positive integer, got {num_rows!r}.")
        need = int(num_rows) * max(1, len(self.columns_)) * _BYTES_PER_CELL
        memory = _memory_limit()
        if memory is not None and need > memory:
            raise GenerationError(
                f"num_rows={int(num_rows):,} is too large: the output alone would take at least "
                f"{need / 2**30:,.1f} GiB ({len(self.columns_)} columns), more than this machine's "
                f"{memory / 2**30:,.1f} GiB of memory available to it. Sample in several calls, or use "
                "Synthesizer.sample(output_path=...), which writes chunk by chunk.")
        return int(num_rows)

    def _check_context(self, num_rows: int, context: Any) -> None:
        """Raise :class:`GenerationError` unless ``context`` matches how the model was fitted."""
        columns = list(self.context_columns_)
        if not columns:
            if context is not None:
                raise GenerationError("This model was fitted without parent context; call sample() "
                                      "without context.")
            return
        if context is None:
            raise GenerationError(f"This model was fitted with parent context (columns {columns}); pass "
                                  "context with one row per sampled row.")
        if not isinstance(context, pd.DataFrame):
            raise GenerationError(f"context must be a pandas DataFrame, got {type(context).__name__}.")
        if len(context) != num_rows:
            raise GenerationError(f"context has {len(context)} rows but num_rows is {num_rows}; pass "
                                  "exactly one context row per sampled row.")
        missing = [c for c in columns if c not in context.columns]
        if missing:
            raise GenerationError(f"context is missing column(s) {missing}; the model was fitted with "
                                  f"context columns {columns}.")

    def _check_conditions(self, conditions: Any) -> dict[str, Any]:
        """``conditions`` as a dict after the checks every engine shares (values are the engine's).

        Raises:
            GenerationError: Not a mapping, a column that is not a training column, or a value
                that is a collection rather than one value.
        """
        if conditions is None:
            return {}
        if not isinstance(conditions, Mapping):
            raise GenerationError(f"conditions must be a mapping {{column: value}}, got {type(conditions).__name__}.")
        check_personal_conditions(self.privacy_plan_, conditions)
        for column, value in conditions.items():
            if column not in self.columns_:
                raise GenerationError(f"Unknown condition column {column!r}; columns: {self.columns_}.")
            if isinstance(value, _COLLECTIONS):
                raise GenerationError(
                    f"conditions[{column!r}] must be one value, got {type(value).__name__} {value!r}; to get "
                    "rows with any of several values, sample once per value and concatenate.")
        return dict(conditions)

    # ------------------------------------------------------------------ impute
    def impute(self, data: pd.DataFrame, context: pd.DataFrame | None = None, *, seed: int | None = None,
               **options: Any) -> pd.DataFrame:
        """Fill the missing cells of ``data`` given its observed cells (engines that support it).

        Args:
            data: Rows with the training columns (missing cells as NaN/None/NA).
            context: Parent-context rows aligned with ``data`` (models fitted with context).
            seed: Seed (``None``: a fresh one).
            **options: The engine's ``sample_options``.

        Returns:
            A copy of ``data`` (same index) with the missing cells filled.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: The engine cannot impute, missing columns, bad context or options, or
                observed values the model cannot represent.
        """
        values = self._check_options(options, "impute")
        self._require_fitted("impute")
        if type(self)._impute is ConditionalGenerativeModel._impute:
            raise GenerationError(f"{type(self).__name__} cannot impute missing values; use TabularAR.")
        seed = self._resolved_seed(seed, "impute", GenerationError)
        if not isinstance(data, pd.DataFrame):
            raise GenerationError(f"impute() expects a pandas DataFrame, got {type(data).__name__}.")
        missing = [c for c in self.columns_ if c not in data.columns]
        if missing:
            raise GenerationError(f"impute() data is missing column(s) {missing}; pass every training column.")
        self._check_context(len(data), context)
        context = _durations(context, self.context_time_columns_, "impute")
        if self.privacy_plan_ is not None:  # the model knows pseudonyms, not the real values
            filled = self._impute_modelled(model_frame(self.privacy_plan_, data), context, seed=seed, **values)
            result = data.copy()
            for column in self.columns_:
                if column not in self.privacy_plan_.decisions:  # decided columns stay as the caller gave them
                    result[column] = filled[column].to_numpy()
            return result
        return self._impute_modelled(data, context, seed=seed, **values)

    def _impute_modelled(self, data: pd.DataFrame, context: pd.DataFrame | None, *, seed: int,
                         **options: Any) -> pd.DataFrame:
        """:meth:`_impute` of ``data`` in the model's form (times of day as durations, clock times as minutes),
        its result given back in the caller's."""
        where = "impute() data"
        modelled = to_minutes(to_durations(data, self.time_columns_, where=where), self.hhmm_columns_, where=where)
        return to_hhmm(to_times(self._impute(modelled, context, seed=seed, **options), self.time_columns_),
                       self.hhmm_columns_)

    def _impute(self, data: pd.DataFrame, context: pd.DataFrame | None, *, seed: int, **options: Any) -> pd.DataFrame:
        """The engine's imputation (arguments checked); engines that can impute override it (:meth:`impute`
        refuses the others before calling it)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write a checkpoint directory (see :mod:`syntho_hive.core.checkpoint`).

        Args:
            path: Target directory.
            overwrite: Atomically replace an existing checkpoint at ``path`` (only a directory that
                is recognisably a SynthoHive checkpoint is ever replaced).

        Returns:
            The checkpoint directory.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            SerializationError: ``path`` exists and ``overwrite`` is false, ``path`` is not a
                checkpoint, or writing failed (a previous checkpoint at ``path`` is left intact).
        """
        self._require_fitted("save")
        return self._write_checkpoint(path, overwrite=overwrite)

    def to_bytes(self) -> bytes:
        """The checkpoint as bytes: the same files as :meth:`save` writes, in one archive.

        Raises:
            NotFittedError: Before ``fit``/``load``.
        """
        self._require_fitted("serialise")
        return self.checkpoint_content().to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes, **params: Any) -> "ConditionalGenerativeModel":
        """A model restored from :meth:`to_bytes` (checked like a directory; nothing touches the disk).

        Called on the base class, the engine is the one the checkpoint names (from the registry).

        Args:
            data: What :meth:`to_bytes` returned.
            **params: Run-time options of the engine (e.g. ``device="cpu"``).

        Raises:
            SerializationError: As :meth:`load`.
        """
        return cls._from_content(CheckpointContent.from_bytes(data), **params)

    def load(self, path: str | Path) -> "ConditionalGenerativeModel":
        """Restore a checkpoint written by :meth:`save`, replacing any state of this object.

        The hyper-parameters come from the checkpoint, whatever this object was constructed with
        (run-time options such as ``device`` are kept). Everything is verified (format, version,
        file list, sizes, SHA-256) before any file is unpickled or handed to ``torch.load``.

        Warning:
            ``.joblib`` files (CTGAN, TVAE) are pickles, which can run code when loaded: load only
            trusted checkpoints (checksums detect corruption, not tampering).

        Returns:
            ``self``.

        Raises:
            SerializationError: Missing path or file, unknown or newer format, checksum mismatch,
                truncated or corrupt content, or a checkpoint of another model.
        """
        return self._load_content(CheckpointContent.read(path))

    def checkpoint_content(self) -> CheckpointContent:
        """The checkpoint's files in memory (what :meth:`save` and :meth:`to_bytes` write).

        Raises:
            SerializationError: The state cannot be encoded (nothing is written).
        """
        try:
            return self._encode_checkpoint()
        except SerializationError:
            raise
        except Exception as exc:  # encoding runs torch.save / joblib / json, which raise many types
            raise SerializationError(f"Encoding the {self.model_name} checkpoint failed ({type(exc).__name__}: "
                                     f"{exc}); nothing was written, any previous checkpoint is unchanged.") from exc

    def _encode_checkpoint(self) -> CheckpointContent:
        state = self._state()
        layout = self.checkpoint_layout
        payload = {name: encode_state_dict(state.weights[name]) for name in layout.weights}
        payload.update({name: encode_pickle(state.objects[name]) for name in layout.pickles})
        payload.update({name: encode_json(state.documents[name]) for name in layout.documents})
        profile = self.reference_profile_.to_dict() if self.reference_profile_ is not None else None
        payload[REFERENCE_PROFILE] = encode_json(profile)
        schema = {"table": self.table_.model_dump(mode="json") if self.table_ is not None else None,
                  "columns": self.columns_, "sdtypes": {str(c): str(t) for c, t in self._modelled_sdtypes().items()},
                  "context_columns": self.context_columns_}
        manifest = CheckpointContent.manifest_fields(
            model=self.model_name, seed=self.seed_, hyper_parameters=self.hyper_parameters(), column_schema=schema,
            extra={"history": self.history_, **state.extra, **privacy_extra(getattr(self, "privacy_spent_", None)),
                   **({"privacy": self.privacy_plan_.to_dict()} if self.privacy_plan_ is not None else {}),
                   **({"time_of_day": self.time_columns_} if self.time_columns_ else {}),
                   **({"context_time_of_day": self.context_time_columns_} if self.context_time_columns_ else {}),
                   **({"hhmm": self.hhmm_columns_} if self.hhmm_columns_ else {})})
        return CheckpointContent.build(payload, manifest)

    def _write_checkpoint(self, path: str | Path, *, overwrite: bool) -> Path:
        """Write the checkpoint (also mid-training, for ``best_checkpoint/``); see :meth:`save`."""
        target = self.checkpoint_content().write(path, overwrite=overwrite)
        _log.info("checkpoint_saved", path=str(target), model=self.model_name, version=running_version())
        return target

    def _load_content(self, content: CheckpointContent) -> "ConditionalGenerativeModel":
        """Verify ``content`` and restore this model from it; returns ``self``."""
        where = content.origin
        manifest = content.manifest()
        check_format(manifest, where)
        held = manifest.get("model", "CTGAN")  # the first checkpoints (CTGAN only) did not name it
        if held != self.model_name:
            raise SerializationError(f"Checkpoint {where} holds a {held} model, not {self.model_name}; load it with "
                                     "that class (or ConditionalGenerativeModel.from_bytes / load_model).")
        layout = self.checkpoint_layout
        optional = {*layout.optional, REFERENCE_PROFILE}
        content.verify(manifest, allowed={*layout.files, REFERENCE_PROFILE},
                       required=[name for name in layout.files if name not in optional])
        saved = str(manifest.get("version"))
        if saved != running_version():
            _log.warning("checkpoint_version_mismatch", path=where, saved_version=saved,
                         running_version=running_version())
        hyper = manifest.get("hyper_parameters")
        schema, extra = manifest.get("column_schema"), manifest.get("extra") or {}
        if not isinstance(hyper, dict) or not isinstance(schema, dict) or not isinstance(extra, dict):
            raise SerializationError(f"Checkpoint {where} is corrupt: hyper_parameters, column_schema and extra "
                                     "must be JSON objects; save the model again.")
        values = {name: hyper[name] if name in hyper else param.default
                  for name, param in self._parameters.items() if param.saved}
        missing = [name for name in values if name not in hyper and name not in self._optional_in_checkpoint()]
        if missing:
            raise SerializationError(f"Checkpoint {where} is corrupt: hyper-parameter(s) {missing} missing; save "
                                     "the model again.")
        values = self._checked_parameters(values, SerializationError, f" in checkpoint {where}")
        seed = manifest.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64):
            raise SerializationError(f"Checkpoint {where} has an invalid seed {seed!r}; save the model again.")
        device = self._map_location()
        listed = manifest["files"]
        state = EngineState(
            weights={n: decode_state_dict(content.files[n], f"{where}/{n}", device) for n in layout.weights if n in listed},
            objects={n: decode_pickle(content.files[n], f"{where}/{n}") for n in layout.pickles if n in listed},
            documents={n: decode_json(content.files[n], f"{where}/{n}") for n in layout.documents if n in listed},
            extra=dict(extra))
        profile = decode_json(content.files[REFERENCE_PROFILE], where) if REFERENCE_PROFILE in listed else None
        before = dict(self.__dict__)  # a failed load leaves the object exactly as it was
        try:
            for name, value in values.items():
                setattr(self, name, value)
            self._reset_state()
            # Under DP the fit seed is the key of the noise; an older DP checkpoint may hold it: dropped here.
            self.seed_ = None if values.get("dp") is not None or extra.get("dp") is not None else seed
            table = schema.get("table")
            self.table_ = TableConfig.model_validate(table) if table is not None else None
            if not isinstance(schema["columns"], list) or not isinstance(schema.get("context_columns") or [], list):
                raise TypeError("columns and context_columns must be lists of names")
            self.columns_ = [str(c) for c in schema["columns"]]
            self.context_columns_ = [str(c) for c in schema.get("context_columns") or []]
            history = extra.get("history", [])
            self.history_ = [dict(record) for record in history] if isinstance(history, list) else []
            self.reference_profile_ = MarginalProfile.from_dict(profile) if profile is not None else None
            self.privacy_plan_ = plan_from_extra(extra)
            for key, attribute, within, what in (("time_of_day", "time_columns_", self.columns_, "training"),
                                                 ("context_time_of_day", "context_time_columns_",
                                                  self.context_columns_, "context"),
                                                 ("hhmm", "hhmm_columns_", self.columns_, "training")):
                times = extra.get(key, [])  # absent: none, or saved before it was kept
                if not isinstance(times, list) or not set(times) <= set(within):
                    raise ValueError(f"{key} must list {what} columns, got {times!r}")
                setattr(self, attribute, [str(c) for c in times])
            self._setup(SerializationError)
            if "dp" in values:  # engines that honour dp keep what their fit spent
                self.privacy_spent_ = restored_privacy(extra, values["dp"])
            self._restore(state)
            decoded = self._decoded_columns()
            if sorted(decoded) != sorted(self.columns_):
                raise ValueError(f"the saved columns {self.columns_} are not the columns the model decodes "
                                 f"({list(decoded)})")
            encoded = self._encoded_context_columns()
            if sorted(encoded) != sorted(self.context_columns_):
                raise ValueError(f"the saved context columns {self.context_columns_} are not the columns the "
                                 f"model encodes as context ({encoded})")
        except (SerializationError, *_CORRUPT) as exc:
            self.__dict__.clear()
            self.__dict__.update(before)
            if isinstance(exc, SerializationError):
                raise SerializationError(f"Checkpoint {where}: {exc}") from exc
            raise SerializationError(f"Checkpoint {where} is corrupt: its content does not match the "
                                     f"{self.model_name} format ({type(exc).__name__}: {exc}); save the model "
                                     "again.") from exc
        self._fitted = True
        _log.info("checkpoint_loaded", path=where, model=self.model_name)
        return self

    @classmethod
    def _from_content(cls, content: CheckpointContent, **params: Any) -> "ConditionalGenerativeModel":
        """A model restored from ``content``: of ``cls``, or (called on the base class) of the engine the
        manifest names."""
        engine = model_class(content.manifest().get("model", "CTGAN")) if cls is ConditionalGenerativeModel else cls
        return engine(**params)._load_content(content)

    @classmethod
    def _optional_in_checkpoint(cls) -> tuple[str, ...]:
        """Saved hyper-parameters that checkpoints of older versions may lack (their default applies):
        ``dp`` for every engine (checkpoints before differential privacy were trained without it)."""
        return ("dp",)

    # ------------------------------------------------------------------ engine hooks
    def _setup(self, error: type[SynthoHiveError]) -> None:
        """Run-time setup before preprocessing or restoring (e.g. the device); ``error`` for failures."""

    def _sample_event_fields(self) -> dict[str, Any]:
        """Extra fields of the ``sampling_complete`` event: the privacy spent (``privacy_spent_``) of
        engines that honour ``dp``."""
        return privacy_event_fields(getattr(self, "privacy_spent_", None))

    def _record_privacy_spent(self, plan: Any, steps: int) -> None:
        """After a DP fit of ``steps`` steps under ``plan`` (a :class:`~syntho_hive.core.dp.accounting.DPPlan`):
        keep what it spent in ``privacy_spent_``, drop the fit's DP state and log ``dp_privacy_spent``."""
        self.privacy_spent_ = plan.spent(steps)
        self._dp_fit = None
        _log.info("dp_privacy_spent", model=self.model_name, **self.privacy_spent_.to_dict())

    def _map_location(self) -> torch.device | str:
        """Where checkpoint weights are loaded (the engine's device)."""
        return "cpu"

    def _decoded_columns(self) -> list[str]:
        """The columns the restored engine decodes (checked against the saved column list on load);
        engines override it with a decode of zero rows."""
        return list(self.columns_)

    def _encoded_context_columns(self) -> list[str]:
        """The parent-context columns the restored engine encodes (checked against the saved context
        columns on load); engines that encode context override it."""
        return list(self.context_columns_)

    @abstractmethod
    def _prepare(self, data: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig, seed: int) -> Any:
        """Fit the preprocessing on ``data`` (and ``context``); return what :meth:`_train` needs."""

    @abstractmethod
    def _modelled_sdtypes(self) -> Mapping[str, str]:
        """The semantic type of each column as the fitted preprocessing treats it."""

    @abstractmethod
    def _train(self, prepared: Any, *, seed: int, progress_bar: bool) -> None:
        """Fit the network on ``prepared``, calling :meth:`_end_epoch` after each epoch."""

    @abstractmethod
    def _draw(self, num_rows: int, context: pd.DataFrame | None, *, seed: int, conditions: Mapping[str, Any],
              enforce_constraints: bool, progress_bar: bool, **options: Any) -> pd.DataFrame:
        """Exactly ``num_rows`` rows with the training columns (arguments already checked)."""

    @abstractmethod
    def _state(self) -> EngineState:
        """The engine's checkpoint files (keys exactly its ``checkpoint_layout``)."""

    @abstractmethod
    def _restore(self, state: EngineState) -> None:
        """Restore the engine from its decoded files (the base attributes are already set)."""


def load_model(path: str | Path, **params: Any) -> ConditionalGenerativeModel:
    """The model saved at ``path``, of the engine its manifest names (looked up in the registry).

    Args:
        path: A checkpoint directory written by ``save``.
        **params: Run-time options of the engine (e.g. ``device="cpu"``).

    Raises:
        SerializationError: As :meth:`ConditionalGenerativeModel.load`, or an unknown engine name.
    """
    return ConditionalGenerativeModel._from_content(CheckpointContent.read(path), **params)
