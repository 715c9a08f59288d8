"""The table-level reversible transformer: DataFrame <-> float32 matrix described by spans.

Per column, by sdtype (declared, else :func:`~syntho_hive.core.metadata.detect.detect_sdtype`):

==============  =========================================================================
sdtype          encoder
==============  =========================================================================
numerical       :class:`NumericalEncoder` (bounded Bayesian-GMM mode-specific normalisation,
                spans ``[tanh 1, softmax K]`` + ``"<col>#null"`` indicator when partly null);
                integer-valued columns with at most ``low_cardinality`` (10) distinct values
                and ``bool`` columns go to :class:`OneHotEncoder` instead (exact, conditionable)
datetime        :class:`DatetimeEncoder` (numbers in the coarsest exact time unit)
boolean         :class:`BooleanEncoder` (one-hot ``False``/``True``/missing)
categorical     :class:`OneHotEncoder` up to ``max_onehot`` (50) categories, else
                :class:`FrequencyEncoder` (one ``tanh`` span, no one-hot blow-up)
text            :class:`TextGenerator` (no spans; new text word by word from word statistics,
                never a training value, nulls at the training rate:
                :mod:`~syntho_hive.core.data.text_model`)
id              :class:`IdGenerator` (no spans; unique ids in the training format)
==============  =========================================================================

Mixtures are fitted in parallel (joblib, one task per numeric/datetime column, a seed per
column derived with :func:`~syntho_hive._random.child_seed`), each on at most
``gmm_max_samples`` rows.

Rare values (``rare_threshold``, default 5 as TabularAR's; :mod:`~syntho_hive.core.data.encoders.rare`):
categories seen fewer times share one rare slot that decodes to a frequent category drawn by
training frequency; numbers and timestamps are modelled between the ``rare_threshold``-th smallest
and largest values, so the more extreme ones are never decoded; text keeps only words seen that
often. A categorical column none of whose categories is frequent has nothing a category model may
show: it is modelled as numbers when its values are numbers, else as text (as TabularAR does).
Booleans are not pooled (their two values are the domain, not a row's data). The fitted encoders
(pickled in checkpoints) hold no rare category and no value beyond the modelled range.
``rare_threshold=1`` switches the protection off.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

from syntho_hive._random import child_seed
from syntho_hive.core.data._dtypes import is_null_value
from syntho_hive.core.data.encoders.base import ColumnEncoder
from syntho_hive.core.data.encoders.boolean import BooleanEncoder
from syntho_hive.core.data.encoders.categorical import OneHotEncoder, all_rare_sdtype, category_counts
from syntho_hive.core.data.encoders.datetime import DatetimeEncoder
from syntho_hive.core.data.encoders.frequency import DEFAULT_MAX_ONEHOT, FrequencyEncoder
from syntho_hive.core.data.encoders.gmm import fit_modes
from syntho_hive.core.data.encoders.ids import IdGenerator
from syntho_hive.core.data.encoders.numerical import CoreEncoder, NumericalEncoder
from syntho_hive.core.data.encoders.rare import check_rare_threshold
from syntho_hive.core.data.encoders.text import TextGenerator
from syntho_hive.core.data.spans import ColumnSpans, span_counts
from syntho_hive.core.data.text_model import DEFAULT_RARE_THRESHOLD
from syntho_hive.core.metadata.detect import detect_sdtype
from syntho_hive.core.metadata.schema import SDTYPES, SDType
from syntho_hive.events import get_logger
from syntho_hive.exceptions import GenerationError, NotFittedError, SchemaError

__all__ = ["DataTransformer", "DEFAULT_LOW_CARDINALITY"]

DEFAULT_LOW_CARDINALITY = 10
"""Integer-valued numerical columns with at most this many distinct values are one-hot
categoricals: exact, conditionable, and cheaper than a mixture for e.g. ratings or counts."""

_LEARNED = frozenset({"output_info_", "output_dim_", "columns_", "sdtypes_",
                      "discrete_column_names_", "encoders_"})
#: Decoded frames with at most this many columns keep one block per column (see ``_frame``).
_UNMERGED_COLUMNS = 64

_log = get_logger(__name__)


class DataTransformer:
    """Reversible column-wise encoding of a table for CTGAN-style networks.

    Args:
        max_modes: Upper bound on mixture components per numeric column.
        weight_threshold: Mixture components at or below this weight are pruned.
        gmm_max_samples: Rows of the random subsample each mixture is fitted on.
        max_onehot: Categoricals with more categories (missing value included) use the
            frequency encoder instead of one-hot.
        low_cardinality: Integer-valued numerical columns with at most this many distinct
            values are encoded as categoricals.
        n_jobs: Parallel mixture fits (``-1``: all cores, ``1``: sequential).
        backend: joblib backend for the parallel fits: ``"threading"`` (default; no process
            start-up, measured as fast as processes here) or ``"loky"`` (processes).
        rare_threshold: Values seen fewer times are never reproduced nor kept (see the module
            docstring): rare categories share a slot decoded to frequent ones, numbers and timestamps
            are modelled between the ``rare_threshold``-th smallest and largest values, and in
            ``text`` columns rarer words are replaced by invented ones. ``1``: no protection.

    Attributes:
        output_info_: Spans of every modelled column, in matrix order.
        output_dim_: Width of the transformed matrix.
        columns_: Fitted columns in input order.
        sdtypes_: Sdtype of every fitted column.
        discrete_column_names_: Names of the discrete ``ColumnSpans`` in matrix order.
    """

    def __init__(self, *, max_modes: int = 10, weight_threshold: float = 0.005,
                 gmm_max_samples: int = 10_000, max_onehot: int = DEFAULT_MAX_ONEHOT,
                 low_cardinality: int = DEFAULT_LOW_CARDINALITY, n_jobs: int = -1,
                 backend: str = "threading", rare_threshold: int = DEFAULT_RARE_THRESHOLD) -> None:
        if max_modes < 1:
            raise SchemaError(f"max_modes must be >= 1, got {max_modes}.")
        if not 0 <= weight_threshold < 1:
            raise SchemaError(f"weight_threshold must be in [0, 1), got {weight_threshold}.")
        if gmm_max_samples < 2:
            raise SchemaError(f"gmm_max_samples must be >= 2, got {gmm_max_samples}.")
        if max_onehot < 1:
            raise SchemaError(f"max_onehot must be >= 1, got {max_onehot}.")
        if backend not in {"loky", "threading"}:
            raise SchemaError(f"backend must be 'loky' or 'threading', got {backend!r}.")
        rare_threshold = check_rare_threshold(rare_threshold, "DataTransformer rare_threshold")
        self.max_modes = max_modes
        self.weight_threshold = weight_threshold
        self.gmm_max_samples = gmm_max_samples
        self.max_onehot = max_onehot
        self.low_cardinality = low_cardinality
        self.n_jobs = n_jobs
        self.backend = backend
        self.rare_threshold = rare_threshold

    def __getattr__(self, name: str) -> Any:
        if name in _LEARNED:
            raise NotFittedError(
                f"DataTransformer.{name} is only available after fit(); call fit(data) first."
            )
        raise AttributeError(name)

    # ------------------------------------------------------------------------------ fit
    def fit(self, data: pd.DataFrame, sdtypes: Mapping[str, SDType] | None = None, *,
            bounds: Mapping[str, tuple[Any, Any]] | None = None, seed: int = 0,
            datetime_formats: Mapping[str, str] | None = None) -> "DataTransformer":
        """Learn the encoding of every column of ``data``.

        Args:
            data: The training table (at least one row).
            sdtypes: Sdtype per column; columns left out are detected.
            bounds: Declared ``(min, max)`` per numerical/datetime column (``None`` sides use
                the observed extremes); decoded values respect them by construction.
            seed: Seed of the mixtures' subsamples and initialisations.
            datetime_formats: ``strftime`` format per string datetime column (else detected).

        Returns:
            ``self``.

        Raises:
            SchemaError: On an empty table, duplicate column names, unknown columns or
                sdtypes, bounds on a non-numeric column, undetectable datetime formats.
            ConstraintViolationError: If data lies outside declared bounds.
        """
        started = time.perf_counter()
        sdtypes = dict(sdtypes or {})
        bounds = dict(bounds or {})
        datetime_formats = dict(datetime_formats or {})
        self._validate_fit_input(data, sdtypes, bounds, datetime_formats)
        resolved: dict[str, SDType] = {}
        encoders: list[ColumnEncoder] = []
        for column in data.columns:
            series = data[column].reset_index(drop=True)
            sdtype = sdtypes.get(column) or detect_sdtype(series, str(column))
            resolved[column] = sdtype
            if column in bounds and sdtype not in {"numerical", "datetime"}:
                raise SchemaError(
                    f"Bounds were given for column {column!r} whose sdtype is {sdtype!r}; bounds "
                    "apply to numerical and datetime columns only."
                )
            if sdtype == "categorical":
                sdtype = resolved[column] = self._all_rare_sdtype(column, series)
            encoder = self._make_encoder(column, series, sdtype, bounds.get(column),
                                         datetime_formats.get(column))
            column_seed = child_seed(seed, "transformer", column)
            try:
                encoder.prepare(series, seed=column_seed)
            except SchemaError as exc:
                if sdtype != "datetime" or column in sdtypes or column in datetime_formats:
                    raise
                # Detected (not declared) as datetime, but no exact format fits: model the
                # strings as categories instead, and say so.
                _log.warning("datetime_format_undetected", column=str(column), reason=str(exc),
                             fallback="categorical")
                resolved[column] = sdtype = self._all_rare_sdtype(column, series)
                encoder = self._make_encoder(column, series, sdtype, None, None)
                encoder.prepare(series, seed=column_seed)
            encoders.append(encoder)
        self._fit_mixtures(encoders)
        self.encoders_ = encoders
        self.columns_ = list(data.columns)
        self.sdtypes_ = resolved
        self.output_info_: list[ColumnSpans] = [info for encoder in encoders
                                                for info in encoder.output_info]
        self.output_dim_ = int(sum(info.dim for info in self.output_info_))
        self.discrete_column_names_ = [info.column for info in self.output_info_ if info.discrete]
        self._owner = {info.column: encoder for encoder in encoders for info in encoder.output_info}
        _log.debug("transformer_fitted", columns=len(self.columns_), output_dim=self.output_dim_,
                   rows=len(data), seconds=round(time.perf_counter() - started, 3))
        return self

    @staticmethod
    def _validate_fit_input(data: Any, sdtypes: Mapping[str, Any], bounds: Mapping[str, Any],
                            datetime_formats: Mapping[str, Any]) -> None:
        if not isinstance(data, pd.DataFrame):
            raise SchemaError(f"DataTransformer.fit expects a pandas DataFrame, got {type(data).__name__}.")
        if len(data) == 0:
            raise SchemaError("Cannot fit the transformer on a table with no rows.")
        if data.columns.has_duplicates:
            dupes = data.columns[data.columns.duplicated()].unique().tolist()
            raise SchemaError(f"Duplicate column names {dupes}; rename them before fitting.")
        known = set(data.columns)
        for label, mapping in (("sdtypes", sdtypes), ("bounds", bounds),
                               ("datetime_formats", datetime_formats)):
            unknown = [column for column in mapping if column not in known]
            if unknown:
                raise SchemaError(
                    f"{label} names column(s) {unknown} that are not in the data; "
                    f"data columns: {list(data.columns)}."
                )
        for column, sdtype in sdtypes.items():
            if sdtype not in SDTYPES:
                raise SchemaError(
                    f"Unknown sdtype {sdtype!r} for column {column!r}; use one of {list(SDTYPES)}."
                )

    def _all_rare_sdtype(self, column: Any, series: pd.Series) -> SDType:
        """``"categorical"``, unless none of the column's categories is seen ``rare_threshold`` times:
        then nothing of it may be shown as a category, and it is modelled as what it holds, numbers
        as ``"numerical"`` and anything else as ``"text"`` (new values from its frequent words); a
        ``bool`` column is ``"boolean"`` (see :func:`all_rare_sdtype`)."""
        modelled = all_rare_sdtype(series, self.rare_threshold)
        if modelled not in ("categorical", "boolean"):
            _log.info("transformer_all_values_rare", column=str(column), values=int(category_counts(series).size),
                      rare_threshold=self.rare_threshold, modelled_as=modelled)
        return modelled  # type: ignore[return-value]

    def _make_encoder(self, column: Any, series: pd.Series, sdtype: SDType, bounds: Any,
                      datetime_format: str | None) -> ColumnEncoder:
        mixture = {"max_modes": self.max_modes, "weight_threshold": self.weight_threshold,
                   "gmm_max_samples": self.gmm_max_samples, "rare_threshold": self.rare_threshold}
        if sdtype == "id":
            return IdGenerator(column)
        if sdtype == "datetime":
            return DatetimeEncoder(column, bounds=bounds, datetime_format=datetime_format, **mixture)
        if sdtype == "boolean":
            return BooleanEncoder(column)
        if sdtype == "text":
            return TextGenerator(column, rare_threshold=self.rare_threshold)
        if sdtype == "categorical":
            counts = category_counts(series)
            frequent = int((counts >= self.rare_threshold).sum())
            n_categories = frequent + int(frequent < counts.size) + int(series.isna().any())
            if n_categories > self.max_onehot:
                return FrequencyEncoder(column, rare_threshold=self.rare_threshold)
            return OneHotEncoder(column, rare_threshold=self.rare_threshold)
        # numerical
        if pd.api.types.is_bool_dtype(series.dtype):
            return BooleanEncoder(column)
        if bounds is None and self._is_low_cardinality_integer(series):
            return OneHotEncoder(column, order="sorted", rare_threshold=self.rare_threshold)
        return NumericalEncoder(column, bounds=bounds, **mixture)

    def _is_low_cardinality_integer(self, series: pd.Series) -> bool:
        """Integer values, at most ``low_cardinality`` distinct ones, one of them seen at least
        ``rare_threshold`` times (a column of only rare values is modelled as numbers)."""
        if not pd.api.types.is_numeric_dtype(series.dtype):
            return False
        present = series.dropna()
        if present.nunique() > self.low_cardinality:
            return False
        if present.empty or int(present.value_counts().max()) < self.rare_threshold:
            return False
        values = present.to_numpy(dtype=np.float64)
        return bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))

    def _fit_mixtures(self, encoders: list[ColumnEncoder]) -> None:
        models = [model for encoder in encoders for model in encoder.pending_models()]
        if not models:
            return
        jobs = [model.fit_arguments() for model in models]
        n_jobs = self.n_jobs if self.n_jobs != 0 else 1
        if n_jobs == 1 or len(models) == 1:
            results = [fit_modes(z, **kwargs) for z, kwargs in jobs]
        else:
            from sklearn.exceptions import ConvergenceWarning

            workers = min(len(models), n_jobs) if n_jobs > 0 else n_jobs
            threads = self.backend == "threading"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", category=ConvergenceWarning)
                results = Parallel(n_jobs=workers, backend=self.backend)(
                    delayed(fit_modes)(z, **kwargs, silence_warnings=not threads)
                    for z, kwargs in jobs
                )
        for model, modes in zip(models, results):
            model.set_modes(modes)

    # ------------------------------------------------------------------------ transform
    def _check_fitted(self, method: str) -> None:
        if "encoders_" not in self.__dict__:
            raise NotFittedError(
                f"DataTransformer.{method}() called before fit(); call fit(data) first."
            )

    @staticmethod
    def _check_rng(rng: Any, method: str, error: type[Exception]) -> None:
        if not isinstance(rng, np.random.Generator):
            raise error(
                f"DataTransformer.{method}() needs rng=np.random.Generator (e.g. "
                f"syntho_hive._random.numpy_generator(seed)), got {type(rng).__name__}."
            )

    def transform(self, data: pd.DataFrame, *, rng: np.random.Generator) -> np.ndarray:
        """Encode ``data`` (must hold every fitted column; extra columns are ignored).

        Args:
            data: A table with the fitted columns.
            rng: Source of the mode and interval draws.

        Returns:
            Float32 array of shape ``(len(data), output_dim_)``.

        Raises:
            NotFittedError: Before :meth:`fit`.
            SchemaError: On missing columns, values/nulls unseen at fit, or a bad ``rng``.
        """
        self._check_fitted("transform")
        self._check_rng(rng, "transform", SchemaError)
        if not isinstance(data, pd.DataFrame):
            raise SchemaError(f"transform expects a pandas DataFrame, got {type(data).__name__}.")
        missing = [column for column in self.columns_ if column not in data.columns]
        if missing:
            raise SchemaError(
                f"transform: data lacks the fitted column(s) {missing}; pass a table with "
                f"columns {self.columns_}."
            )
        out = np.empty((len(data), self.output_dim_), dtype=np.float32)
        start = 0
        for encoder in self.encoders_:
            width = encoder.dim
            if width == 0:
                continue
            block = encoder.transform(data[encoder.column].reset_index(drop=True), rng)
            out[:, start:start + width] = block
            start += width
        return out

    def inverse_transform(self, matrix: np.ndarray, *, rng: np.random.Generator) -> pd.DataFrame:
        """Decode a matrix (e.g. a generator's output) into a table.

        Softmax spans are read by arg-max (raw scores are fine), tanh spans are clipped to
        ``[-1, 1]``; ids are generated unique; text is generated word by word (never a
        training value; the same ``rng`` state gives the same values).

        Args:
            matrix: Array of shape ``(n, output_dim_)``.
            rng: Source of generated ids and text (and of the decoders' draws).

        Returns:
            A DataFrame with ``columns_`` in order and the training dtypes.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: If ``matrix`` has the wrong shape or ``rng`` is not a Generator.
        """
        self._check_fitted("inverse_transform")
        self._check_rng(rng, "inverse_transform", GenerationError)
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[1] != self.output_dim_:
            raise GenerationError(
                f"inverse_transform expects a 2-D matrix with {self.output_dim_} columns, "
                f"got shape {matrix.shape}."
            )
        columns: dict[Any, pd.Series] = {}
        start = 0
        for encoder in self.encoders_:
            block = matrix[:, start:start + encoder.dim]
            start += encoder.dim
            columns[encoder.column] = encoder.inverse_transform(block, rng)
        return self._frame(columns, len(matrix))

    def decode_draws(self, scalars: np.ndarray, codes: np.ndarray, *, rng: np.random.Generator) -> pd.DataFrame:
        """Decode a generator's draws into a table: what :meth:`inverse_transform` gives for the
        matrix whose tanh spans hold ``scalars`` and whose softmax spans are one-hot at ``codes``,
        without that matrix (a generator that drew the entries knows them: building one-hot blocks
        only to read them back by arg-max was a third of sampling's decoding and activation).

        Args:
            scalars: The tanh spans' values, shape ``(n, tanh spans)``, in matrix order.
            codes: The entry drawn in each softmax span, integers of shape ``(n, softmax spans)``,
                in matrix order.
            rng: Source of generated ids and text (and of the decoders' draws).

        Returns:
            A DataFrame with ``columns_`` in order and the training dtypes.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: On arrays of the wrong shape or an ``rng`` that is not a Generator.
        """
        self._check_fitted("decode_draws")
        self._check_rng(rng, "decode_draws", GenerationError)
        scalars, codes = np.asarray(scalars), np.asarray(codes)
        n_tanh, n_softmax = span_counts(self.output_info_)
        if scalars.ndim != 2 or codes.ndim != 2 or scalars.shape != (len(scalars), n_tanh) or \
                codes.shape != (len(scalars), n_softmax):
            raise GenerationError(
                f"decode_draws expects scalars of shape (n, {n_tanh}) and codes of shape (n, {n_softmax}) "
                f"(one column per tanh / softmax span), got {scalars.shape} and {codes.shape}.")
        columns: dict[Any, pd.Series] = {}
        tanh = softmax = 0
        for encoder in self.encoders_:
            width, spans = span_counts(encoder.output_info)
            block, drawn = scalars[:, tanh:tanh + width], codes[:, softmax:softmax + spans]
            tanh, softmax = tanh + width, softmax + spans
            columns[encoder.column] = encoder.inverse_transform(block, rng, drawn)
        return self._frame(columns, len(scalars))

    def _frame(self, columns: dict[Any, pd.Series], rows: int) -> pd.DataFrame:
        """The decoded columns as a frame indexed ``0..rows-1``, in ``columns_`` order.

        The decoders' arrays are fresh, so they are taken as they are: no copy, and no merging of
        same-dtype columns into one block (which cost a quarter of decoding). A frame of more than
        :data:`_UNMERGED_COLUMNS` columns is merged anyway: pandas warns about fragmented frames
        from 100 blocks on when a column is added.
        """
        for name, series in columns.items():
            index = series.index
            if not (isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1 and len(index) == rows):
                columns[name] = series.reset_index(drop=True)
        return pd.DataFrame(columns, columns=self.columns_, copy=len(columns) > _UNMERGED_COLUMNS)

    # --------------------------------------------------------------------- conditioning
    def condition_index(self, column: str, value: Any) -> tuple[int, int]:
        """Locate ``column == value`` among the discrete spans (for conditional sampling).

        Args:
            column: A discrete span name (a one-hot column, or ``"<col>#null"``).
            value: A category value (real value, missing value, or its display label).

        Returns:
            ``(index among discrete_column_names_, category index within that span)``.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: Unknown or non-discrete column, or unknown value (the message
                lists the valid ones).
        """
        self._check_fitted("condition_index")
        if column not in self.discrete_column_names_:
            if column in self.columns_:
                reason = (f"column {column!r} (sdtype {self.sdtypes_[column]!r}) is not encoded "
                          "as a discrete one-hot span")
            else:
                reason = f"unknown column {column!r}"
            raise GenerationError(
                f"Cannot condition on {reason}; conditionable columns: "
                f"{self.discrete_column_names_}."
            )
        encoder = self._owner[column]
        return self.discrete_column_names_.index(column), encoder.category_index(column, value)

    def holds_only(self, column: str, value: Any) -> bool:
        """Whether every decoded row holds ``value`` in ``column``, which has no span: a constant column's one
        category, or a missing value of a column missing in every training row. Such a condition is met as drawn.

        Returns:
            ``False`` for a column with spans, or of another kind.

        Raises:
            NotFittedError: Before :meth:`fit`.
            GenerationError: ``column`` is constant (or all missing) and ``value`` is not its value.
        """
        self._check_fitted("holds_only")
        for encoder in self.encoders_:
            if encoder.column != column or encoder.output_info:
                continue
            if isinstance(encoder, OneHotEncoder):
                encoder.codec.index_of(value)  # raises, naming the column's one value, for any other
                return True
            if isinstance(encoder, CoreEncoder) and encoder.core.all_null:
                if not is_null_value(value):
                    raise GenerationError(f"Unknown value {value!r} for column {column!r}: it is missing in every "
                                          "training row, so the only condition it takes is a missing value (None).")
                return True
        return False

    def __repr__(self) -> str:
        if "encoders_" not in self.__dict__:
            return "DataTransformer(unfitted)"
        return f"DataTransformer(columns={len(self.columns_)}, output_dim={self.output_dim_})"
