"""TabularAR: an any-order autoregressive model of a table's discrete sub-columns.

Pipeline::

    fit:    data -> ConstraintEngine (when the table declares constraints) -> TableCodec
            (analyze -> reduce -> build; every column -> discrete sub-columns) -> tokens
            -> ARNetwork trained with random orders, early stopping on validation loss
    sample: conditions -> known / restricted tokens -> sub-column-by-sub-column sampling
            -> TableCodec.decode -> ConstraintEngine.reverse_transform -> rows

Checkpoints hold no pickles: weights as a state dict (``torch.load(weights_only=True)``) and
``model.json``: the codecs and (only for tables with constraints) what the constraint engine learned
(:meth:`ConstraintEngine.to_dict`: kinds, steps, dtypes, bounds, the seen fixed combinations; no
training rows). The public verbs are the model contract's
(:class:`~syntho_hive.core.models.base.ConditionalGenerativeModel`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import torch

from syntho_hive._random import child_seed, numpy_generator, torch_generator
from syntho_hive.core.checkpoint import CheckpointLayout
from syntho_hive.core.constraints import ConstraintEngine
from syntho_hive.core.metadata.schema import TableConfig
from syntho_hive.core.models.base import ConditionalGenerativeModel, EngineState, encoding_context
from syntho_hive.core.models.params import DPSetting, Integer, Number
from syntho_hive.core.models.registry import register_model
from syntho_hive.core.models.tabular_ar.encoders import CodecConfig, TableCodec
from syntho_hive.core.models.tabular_ar.encoders.bin_copula import COPULA_BELOW_BINS
from syntho_hive.core.models.tabular_ar.network import ARNetwork
from syntho_hive.core.models.tabular_ar.sampling import generate_tokens
from syntho_hive.core.models.tabular_ar.dp_fit import DPFit, fill_unmodelled_nulls, prepare_dp
from syntho_hive.core.models.tabular_ar.dp_marginals import start_at_marginals
from syntho_hive.core.models.tabular_ar.dp_training import DP_EPOCHS, train_network_dp
from syntho_hive.core.models.tabular_ar.training import TrainingConfig, train_network
from syntho_hive.core.dp.accounting import PrivacySpent
from syntho_hive.exceptions import ConstraintViolationError, GenerationError

__all__ = ["TabularAR", "auto_max_bins"]


_WEIGHTS = "weights.pt"
_STATE = "model.json"
_MAX_ROUNDS = 10
#: Redraws of imputed rows that contradict their observed cells (only those rows are redrawn; a row
#: whose observed ``high`` sits low in its range accepts few draws of ``low``).
_MAX_IMPUTE_ROUNDS = 50


def auto_max_bins(n_rows: int) -> int:
    """Value tokens per numerical column for a table of ``n_rows`` rows:
    ``round(max(sqrt(n_rows) / 2.5, n_rows / 50))``, between 5 and 100.

    Each interval token of a numerical column is a class every conditional of the network must
    learn from the rows in it. With the former fixed 100 bins a 500-row table has 5 rows per bin:
    its validation loss rises after a few epochs (training stopped after 5-9 epochs), and the
    columns' correlations were barely learned (SDMetrics Column Pair Trends 0.59-0.65 where a
    Gaussian copula gets 0.82-0.93). Measured with ``benchmarks/bench_small_tables.py``
    (QualityReport, 3 seeds), the best bin count grows like the square root of the rows on small
    tables: 5 at 150-180 rows, 7-10 at 276-569 (about ``2.5 * sqrt(n)`` rows per bin). Above 400
    rows the rule keeps at least 50 rows per bin and reaches the former 100 bins at 5,000 rows, so
    tables from 5,000 rows (Adult samples and larger) are coded, trained and sampled as before.
    More epochs, patience, dropout, weight decay or a narrower network changed the small-table
    scores by less than the seed-to-seed noise (0.005) once the bins fit the table, so they keep
    their defaults.

    Args:
        n_rows: Rows of the table (training and validation rows together).

    Returns:
        The bin count, 5 to 100.
    """
    n_rows = max(int(n_rows), 0)
    return int(min(100, max(5, round(max(math.sqrt(n_rows) / 2.5, n_rows / 50)))))


def _redraw(frame: pd.DataFrame, failing: Callable[[pd.DataFrame], np.ndarray],
            again: Callable[[torch.Tensor], pd.DataFrame], rounds: int) -> np.ndarray:
    """Replace, up to ``rounds`` times, the rows of ``frame`` that ``failing`` marks with ``again(their positions)``;
    returns the mask of the rows still failing."""
    for _ in range(rounds):
        bad = failing(frame)
        if not bad.any():
            break
        rows = torch.from_numpy(np.flatnonzero(bad))
        fresh = again(rows)
        for column in frame.columns:
            frame.loc[rows.numpy(), column] = fresh[column].to_numpy()
    return failing(frame)


@register_model
class TabularAR(ConditionalGenerativeModel):
    """Any-order autoregressive tabular model (TabularARGN-style), CPU.

    Args:
        metadata: Schema (the table is chosen by ``fit(table_name=...)`` or is the only one);
            ``None`` detects it at ``fit``.
        hidden_dim: Width of embeddings and hidden layers.
        n_layers: Per-target residual blocks.
        dropout: Dropout rate while training.
        learning_rate: Initial AdamW learning rate (halved on validation plateaus); ``None``:
            5e-4, scaled up with the automatic batch size on small tables (1e-3 up to about
            10,000 rows; see :func:`~syntho_hive.core.models.tabular_ar.training.auto_learning_rate`);
            under ``dp``, 2e-4 (``dp_training.DP_LEARNING_RATE``).
        weight_decay: AdamW weight decay.
        batch_size: Rows per step (``None``: about a tenth of the rows, 32 to 1024).
        epochs: Most epochs (training stops earlier on a validation plateau); named like
            CTGAN's so ``Synthesizer.fit(epochs=...)`` reaches it.
        patience: Epochs without validation improvement before stopping.
        validation_fraction: Share of rows held out for early stopping.
        max_training_time: Training budget in seconds (``None``: unbounded).
        fixed_order_share: Share of training rows in the canonical order (generation order).
        rare_threshold: Values seen fewer times are never reproduced verbatim (nor kept in the
            checkpoint's reference profile): a row whose category would be rare gets a frequent
            one drawn given its other values, and a column without any frequent value is
            generated as text (strings) or numbers instead of as categories.
        max_bins: Most value tokens per numerical column (also: a column with at most this many
            distinct values keeps each frequent one exactly); ``None``: :func:`auto_max_bins` of
            the table's rows (5 up to 180 rows, 7 at 300, 11 at 570, 20 at 1,000, 60 at 3,000, the
            former 100 from 5,000 rows).
        tail_quantile: Share of interval-coded numeric mass cut at each end.
        dp: Differential privacy (:class:`~syntho_hive.core.dp.DPConfig`; ``None``: off). The
            preprocessing is fitted from noisy counts and the network trained with DP-SGD, within
            ``max_epsilon`` at ``delta`` for the whole fit; the spent budget is ``privacy_spent_``,
            kept in checkpoints and in every ``sampling_complete`` event. Under DP there is no
            validation split or early stopping, no reference profile (no quality gates), and
            tables with declared constraints or text columns are refused (``docs/privacy.md``).

    ``sample()`` and ``impute()`` also take ``temperature`` (softmax temperature, default 1.0).

    Example:
        >>> model = TabularAR(max_training_time=60).fit(df, seed=0)
        >>> model.sample(1000, seed=1, conditions={"sex": "Female"})
    """

    hidden_dim = Integer(64, "Width of embeddings and hidden layers.")
    n_layers = Integer(1, "Per-target residual blocks.")
    dropout = Number(0.0, "Dropout rate while training.", maximum=0.99)
    learning_rate = Number(None, "Initial AdamW learning rate (None: automatic).", optional=True)
    weight_decay = Number(1e-5, "AdamW weight decay.")
    batch_size = Integer(None, "Rows per step (None: automatic).", optional=True)
    epochs = Integer(100, "Most epochs.")
    patience = Integer(4, "Epochs without validation improvement before stopping.")
    validation_fraction = Number(0.1, "Share of rows held out for early stopping.", maximum=0.9)
    max_training_time = Number(None, "Training budget in seconds.", optional=True, positive=True)
    fixed_order_share = Number(0.8, "Share of training rows in the canonical order.", maximum=1.0)
    rare_threshold = Integer(5, "Values seen fewer times are never reproduced verbatim.")
    max_bins = Integer(None, "Most value tokens per numerical column (None: by table size).", optional=True)
    tail_quantile = Number(0.001, "Share of interval-coded numeric mass cut at each end.", maximum=0.49)
    dp = DPSetting(None, "Differential privacy settings (None: off).", optional=True)

    sample_options = {"temperature": Number(1.0, "Softmax temperature.", positive=True)}
    checkpoint_layout = CheckpointLayout(weights=(_WEIGHTS,), documents=(_STATE,))
    metrics_fields = ("epoch", "train_loss", "val_loss", "val_score", "lr", "seconds")

    # ------------------------------------------------------------------ state
    def _reset_engine(self) -> None:
        self.constraint_engine_: ConstraintEngine | None = None
        self.codec_: TableCodec | None = None
        self.context_codec_: TableCodec | None = None
        self.network_: ARNetwork | None = None
        self.privacy_spent_: PrivacySpent | None = None
        self._dp_fit: DPFit | None = None

    def _modelled_sdtypes(self) -> Mapping[str, str]:
        return dict(self.codec_.sdtypes) if self.codec_ is not None else {}

    def _profile_options(self) -> dict[str, Any]:
        return {"min_category_count": int(self.rare_threshold)}

    def _codec_config(self, n_rows: int) -> CodecConfig:
        """The codec settings for a table of ``n_rows`` rows (automatic ``max_bins`` by size)."""
        max_bins = self.max_bins if self.max_bins is not None else auto_max_bins(n_rows)
        return CodecConfig(rare_threshold=self.rare_threshold, max_bins=max_bins, tail_quantile=self.tail_quantile)

    def _training_config(self) -> TrainingConfig:
        return TrainingConfig(learning_rate=self.learning_rate, weight_decay=self.weight_decay,
                              batch_size=self.batch_size, max_epochs=self.epochs, patience=self.patience,
                              validation_fraction=self.validation_fraction,
                              max_training_time=self.max_training_time, fixed_order_share=self.fixed_order_share,
                              dropout=self.dropout)

    # ------------------------------------------------------------------ fit
    def _prepare(self, data: pd.DataFrame, context: pd.DataFrame | None, table: TableConfig,
                 seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """Fit the constraints and codecs; return the tokens of ``data`` and of ``context``."""
        ctx = context.reset_index(drop=True).set_axis(self.context_columns_, axis=1) if context is not None else None
        if self.dp is not None:
            return self._prepare_dp(data, ctx, table, seed)
        frame = self._fit_constraints(table, data)
        formats = {c: f for c, f in table.datetime_formats.items() if c in frame.columns}
        config = self._codec_config(len(frame))
        self.codec_ = TableCodec.fit(frame, self._sdtypes(table, frame), config=config, datetime_formats=formats)
        codes = self.codec_.encode(frame)
        if config.max_bins < COPULA_BELOW_BINS:  # see bin_copula.COPULA_BELOW_BINS
            self.codec_.fit_copula(frame, codes)
        ctx_codes = None
        if ctx is not None:
            self.context_codec_ = TableCodec.fit(ctx, config=config)
            ctx_codes = self.context_codec_.encode(ctx)
        return codes, ctx_codes

    def _prepare_dp(self, data: pd.DataFrame, ctx: pd.DataFrame | None, table: TableConfig,
                    seed: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The DP preprocessing (:mod:`~syntho_hive.core.models.tabular_ar.dp_fit`) of ``data`` and its context
        rows ``ctx`` (named as at fit): plan the budget (refusing what cannot be honoured before any work),
        build the codecs from noisy counts, encode."""
        frame = data.reset_index(drop=True)
        fitted = prepare_dp(frame, ctx, table, self._sdtypes(table, frame), self.dp, seed=seed,
                            codec_config=self._codec_config(len(frame)), batch_size=self.batch_size,
                            epochs=self.dp.training_epochs(int(self.epochs), DP_EPOCHS),
                            rare_threshold=int(self.rare_threshold), constrained=table.declares_constraints,
                            times=self.time_columns_, context_times=self.context_time_columns_)
        self.codec_, self.context_codec_, self._dp_fit = fitted.codec, fitted.context_codec, fitted
        rng = numpy_generator(child_seed(seed, "dp", "fill"))
        codes = self.codec_.encode(fill_unmodelled_nulls(frame, self.codec_, rng))
        ctx_codes = self.context_codec_.encode(fill_unmodelled_nulls(ctx, self.context_codec_, rng)) \
            if ctx is not None and self.context_codec_ is not None else None
        return codes, ctx_codes

    def _train(self, prepared: tuple[np.ndarray, np.ndarray | None], *, seed: int, progress_bar: bool) -> None:
        """Train the network (under ``dp``: from the noisy marginals, with DP-SGD, then record the privacy spent)."""
        codes, ctx_codes = prepared
        fitted, steps = self._dp_fit, 0
        if self.codec_.sub_columns:  # otherwise only ids: nothing to learn
            self.network_ = self._build_network(torch_generator(child_seed(seed, "init")))
            if fitted is None:
                train_network(self.network_, codes, ctx_codes, self._training_config(), seed=seed,
                              progress_bar=progress_bar, on_epoch_end=self._end_epoch)
            else:
                start_at_marginals(self.network_, fitted.marginals)
                steps = train_network_dp(self.network_, codes, ctx_codes, self._training_config(), fitted.plan,
                                         epochs=fitted.epochs, batch_size=fitted.batch_size, seed=seed,
                                         progress_bar=progress_bar, on_epoch_end=self._end_epoch)
        if fitted is not None:
            self._record_privacy_spent(fitted.plan, steps)

    def _fit_constraints(self, table: TableConfig, data: pd.DataFrame) -> pd.DataFrame:
        if not table.declares_constraints:
            return data.reset_index(drop=True)
        # Raises on violations, with counts over all rows; keeps only what it learned (to_dict).
        self.constraint_engine_ = ConstraintEngine(table).fit(data)
        return self.constraint_engine_.transform_training(data.reset_index(drop=True), int(self.rare_threshold))

    def _sdtypes(self, table: TableConfig, frame: pd.DataFrame) -> dict[str, str]:
        sdtypes: dict[str, str] = {c: t for c, t in table.columns.items() if c in frame.columns}
        if self.constraint_engine_ is not None:
            sdtypes.update(self.constraint_engine_.derived_sdtypes)
        sdtypes.update({c: "id" for c in table.key_columns if c in frame.columns})
        return sdtypes

    def _build_network(self, generator: torch.Generator | None, *, ordinal: bool = True) -> ARNetwork:
        ctx_cards = self.context_codec_.cardinalities if self.context_codec_ is not None else []
        return ARNetwork(self.codec_.cardinalities, ctx_cards, hidden_dim=self.hidden_dim, n_layers=self.n_layers,
                         generator=generator, positions=self.codec_.positions if ordinal else None)

    # ------------------------------------------------------------------ sampling
    def _draw(self, num_rows: int, context: pd.DataFrame | None, *, seed: int, conditions: Mapping[str, Any],
              enforce_constraints: bool, progress_bar: bool, temperature: float = 1.0) -> pd.DataFrame:
        ctx_codes = self._context_codes(context)
        known, allowed, overrides = self._resolve_conditions(conditions)
        generator = torch_generator(child_seed(seed, "sample", "torch"))
        rng = numpy_generator(child_seed(seed, "sample", "numpy"))
        frame = self._generate(num_rows, ctx_codes, known, allowed, overrides, generator, rng, temperature)
        if self.constraint_engine_ is not None:
            bad = _redraw(frame, lambda drawn: ~np.asarray(self.constraint_engine_.is_valid(drawn), dtype=bool),
                          lambda rows: self._generate(len(rows), ctx_codes[rows] if ctx_codes is not None else None,
                                                      known, allowed, overrides, generator, rng, temperature),
                          _MAX_ROUNDS)
            if bad.any() and enforce_constraints:
                raise ConstraintViolationError(
                    f"Could not generate {num_rows} rows of table {self.table_.name!r} satisfying its constraints "
                    f"after {_MAX_ROUNDS} rounds ({int(bad.sum())} rows still violate them). Train longer or "
                    "check that the constraints match the data.", count=int(bad.sum()))
            for codec in self.codec_.codecs:  # ids stay unique across resampling rounds
                if codec.kind == "id" and codec.column in frame.columns:
                    frame[codec.column] = codec.decode(np.zeros((num_rows, 0), dtype=np.int64), rng).to_numpy()
        return frame

    def _generate(self, rows: int, ctx_codes: torch.Tensor | None, known: dict[int, int],
                  allowed: dict[int, torch.Tensor], overrides: dict[str, Any], generator: torch.Generator,
                  rng: np.random.Generator, temperature: float) -> pd.DataFrame:
        n_sub = len(self.codec_.sub_columns)
        if n_sub:
            known_codes = known_mask = None
            if known:
                known_codes = torch.zeros((rows, n_sub), dtype=torch.long)
                known_mask = torch.zeros((rows, n_sub), dtype=torch.bool)
                for t, token in known.items():
                    known_codes[:, t] = token
                    known_mask[:, t] = True
            tokens = generate_tokens(self.network_, rows, generator, context_codes=ctx_codes,
                                     known_codes=known_codes, known_mask=known_mask, allowed=allowed,
                                     temperature=temperature, masker=self.codec_.token_masker()).numpy()
        else:
            tokens = np.zeros((rows, 0), dtype=np.int64)
        frame = self.codec_.decode(tokens, rng)
        if self.constraint_engine_ is not None:
            frame = self.constraint_engine_.reverse_transform(frame)
        for column, value in overrides.items():
            frame[column] = pd.Series([value] * rows, dtype=object).astype(frame[column].dtype)
        return frame[self.columns_].reset_index(drop=True)

    def _context_codes(self, context: pd.DataFrame | None) -> torch.Tensor | None:
        """The context rows' tokens (``context`` already checked), or ``None``."""
        if context is None:
            return None
        with encoding_context(self.context_columns_):
            codes = self.context_codec_.encode(context[self.context_columns_].reset_index(drop=True))
        return torch.as_tensor(codes, dtype=torch.long)

    def _resolve_conditions(self, conditions: Mapping[str, Any] | None
                            ) -> tuple[dict[int, int], dict[int, torch.Tensor], dict[str, Any]]:
        """``{sub_column: token}`` fixed, ``{sub_column: allowed mask}`` restricted, exact overrides."""
        known: dict[int, int] = {}
        allowed: dict[int, torch.Tensor] = {}
        overrides: dict[str, Any] = {}
        if not conditions:
            return known, allowed, overrides
        codec = self.codec_
        for column, value in conditions.items():
            if column in codec.columns:
                column_codec = codec.codec(column)
                start = codec.slices[column].start
                for offset, tokens in enumerate(column_codec.allowed_tokens(value)):
                    if len(tokens) == 1:
                        known[start + offset] = int(tokens[0])
                    else:
                        mask = torch.zeros(codec.sub_columns[start + offset].cardinality, dtype=torch.bool)
                        mask[torch.as_tensor(tokens)] = True
                        allowed[start + offset] = mask
                if column_codec.kind == "numerical":
                    overrides[column] = value
                continue
            joint = self.constraint_engine_.joint_column_of(column) if self.constraint_engine_ else None
            if joint is not None and joint in codec.columns:
                labels = self.constraint_engine_.joint_labels_for(column, value)
                index = codec.slices[joint].start
                tokens = sorted({int(t) for label in labels for t in codec.codec(joint).allowed_tokens(label)[0]})
                mask = allowed.get(index, torch.ones(codec.sub_columns[index].cardinality, dtype=torch.bool))
                restricted = torch.zeros_like(mask)
                restricted[torch.as_tensor(tokens)] = True
                allowed[index] = mask & restricted
                if not bool(allowed[index].any()):
                    raise GenerationError(f"Conditions {dict(conditions)} are incompatible: no allowed combination "
                                          f"of {joint!r} satisfies all of them.")
                continue
            raise GenerationError(f"Cannot condition on column {column!r}: it is derived by a declared "
                                  "inequality constraint; condition on the columns it depends on.")
        return known, allowed, overrides

    # ------------------------------------------------------------------ imputation
    def _impute(self, data: pd.DataFrame, context: pd.DataFrame | None, *, seed: int,
                temperature: float = 1.0) -> pd.DataFrame:
        """Observed cells are fixed first; missing ones are sampled (never as "missing") given them.
        Id columns are left as they are."""
        rows = len(data)
        original = data[self.columns_].reset_index(drop=True)
        if rows == 0 or self.network_ is None:  # nothing modelled: only id columns, left as they are
            return data.copy()
        ctx_codes = self._context_codes(context)
        frame = original
        if self.constraint_engine_ is not None:
            # A fixed-combination group with a missing member is imputed as a whole: stand a seen
            # combination in for it so the engine accepts the row, then blank the joint column.
            holed = original.copy()
            partial: dict[str, np.ndarray] = {}
            for group in self.table_.fixed_combinations:
                missing = original[group.columns].isna().any(axis=1).to_numpy()
                if missing.any():
                    seen = self.constraint_engine_.combinations(group.columns[0]).iloc[0]
                    for member in group.columns:
                        holed.loc[missing, member] = seen[member]
                    partial[self.constraint_engine_.joint_column_of(group.columns[0])] = missing
            frame = self.constraint_engine_.transform(holed)
            for joint, missing in partial.items():
                frame[joint] = frame[joint].where(~missing)
        codec = self.codec_
        n_sub = len(codec.sub_columns)
        known_codes = torch.zeros((rows, n_sub), dtype=torch.long)
        known_mask = torch.zeros((rows, n_sub), dtype=torch.bool)
        excluded: dict[int, int] = {}
        for column_codec in codec.codecs:
            span = codec.slices[column_codec.column]
            if span.stop == span.start:
                continue
            series = frame[column_codec.column]
            present = series.notna().to_numpy()
            if present.any():
                encoded = column_codec.encode(series[present].reset_index(drop=True))
                known_codes[torch.as_tensor(np.flatnonzero(present)), span.start:span.stop] = torch.as_tensor(encoded)
                known_mask[torch.from_numpy(present.copy()), span.start:span.stop] = True
            null_token = codec.sub_columns[span.start].null_token
            if null_token is not None:
                excluded[span.start] = null_token
        generator = torch_generator(child_seed(seed, "impute", "torch"))
        rng = numpy_generator(child_seed(seed, "impute", "numpy"))
        tokens = generate_tokens(self.network_, rows, generator, context_codes=ctx_codes, known_codes=known_codes,
                                 known_mask=known_mask, excluded=excluded, temperature=temperature,
                                 masker=self.codec_.token_masker()).numpy()
        decoded = self._decode_imputed(tokens, frame, rng)
        if self.constraint_engine_ is not None:  # redraw rows contradicting a known member or a constraint

            def again(rows: torch.Tensor) -> pd.DataFrame:
                tokens = generate_tokens(self.network_, len(rows), generator,
                                         context_codes=ctx_codes[rows] if ctx_codes is not None else None,
                                         known_codes=known_codes[rows], known_mask=known_mask[rows],
                                         excluded=excluded, temperature=temperature,
                                         masker=self.codec_.token_masker()).numpy()
                return self._decode_imputed(tokens, frame.iloc[rows.numpy()].reset_index(drop=True), rng)

            clash = _redraw(decoded, lambda drawn: self._contradicts_known_members(original, drawn), again,
                            _MAX_IMPUTE_ROUNDS)
            if clash.any():
                raise GenerationError(
                    f"Could not impute {int(clash.sum())} row(s) of table {self.table_.name!r} consistently with "
                    f"their known values (fixed-combination members, inequalities) after {_MAX_IMPUTE_ROUNDS} rounds "
                    f"(first rows: {np.flatnonzero(clash)[:5].tolist()}); check that those values occur together "
                    "in training.")
        result = data.copy()
        for column, values in self._filled(original, decoded).items():
            result[column] = values
        return result

    def _filled(self, original: pd.DataFrame, decoded: pd.DataFrame) -> dict[str, Any]:
        """The columns of ``original`` with holes, each filled from ``decoded`` (ids left as they are),
        as arrays to assign to a frame with any index."""
        ids = {c.column for c in self.codec_.codecs if c.kind == "id"}
        out: dict[str, Any] = {}
        for column in self.columns_:
            nulls = original[column].isna().to_numpy()
            if column in ids or not nulls.any():
                continue
            filled = original[column].astype(object).where(~nulls, decoded[column].astype(object))
            target = decoded[column].dtype
            try:
                filled = filled.astype(target)
            except (TypeError, ValueError):
                pass  # a value the training dtype cannot hold stays an object, as observed
            out[column] = filled.array if isinstance(filled.dtype, pd.api.extensions.ExtensionDtype) \
                else filled.to_numpy()
        return out

    def _decode_imputed(self, tokens: np.ndarray, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Decode imputed tokens, keeping the observed cells of ``frame`` exactly (so derived columns,
        e.g. an inequality's ``high`` = ``low`` + gap, are rebuilt from the observed values)."""
        decoded = self.codec_.decode(tokens, rng)
        for codec in self.codec_.codecs:
            if codec.kind != "id":
                known = frame[codec.column].notna().to_numpy()
                if known.any():
                    column = decoded[codec.column].astype(object)
                    column[known] = frame[codec.column].to_numpy(dtype=object)[known]
                    decoded[codec.column] = column.astype(decoded[codec.column].dtype)
        if self.constraint_engine_ is not None:
            decoded = self.constraint_engine_.reverse_transform(decoded)
        return decoded

    def _contradicts_known_members(self, original: pd.DataFrame, decoded: pd.DataFrame) -> np.ndarray:
        """Rows whose decoded fixed-combination members differ from a known (observed) member, or
        whose observed cells with the imputed ones break a constraint (``low`` imputed above an
        observed ``high``)."""
        engine = self.constraint_engine_
        holed = original.isna().any(axis=1).to_numpy()
        merged = original.copy()
        for column, values in self._filled(original, decoded).items():
            merged[column] = values
        # Rows whose observed cells already break a constraint are the caller's, not the imputation's.
        clash = holed & np.asarray(engine.is_valid(original), dtype=bool) & ~np.asarray(engine.is_valid(merged),
                                                                                        dtype=bool)
        for group in self.table_.fixed_combinations:
            for member in group.columns:
                known = original[member].notna().to_numpy()
                given, drawn = original[member].astype(object).to_numpy(), decoded[member].astype(object).to_numpy()
                compared = known & ~pd.isna(drawn)  # pd.NA == x is NA, which no mask can hold
                same = np.zeros(len(known), dtype=bool)
                same[compared] = (given[compared] == drawn[compared]).astype(bool)
                clash |= known & ~same & original[group.columns].isna().any(axis=1).to_numpy()
        return clash

    # ------------------------------------------------------------------ persistence
    def _state(self) -> EngineState:
        document = {
            "codec": self.codec_.to_dict(),
            "context_codec": self.context_codec_.to_dict() if self.context_codec_ is not None else None,
            "constraints": self.constraint_engine_.to_dict() if self.constraint_engine_ is not None else None,
        }
        weights = self.network_.state_dict() if self.network_ is not None else {}
        return EngineState(weights={_WEIGHTS: weights}, documents={_STATE: document})

    def _decoded_columns(self) -> list[str]:
        frame = self.codec_.decode(np.zeros((0, len(self.codec_.sub_columns)), dtype=np.int64), numpy_generator(0))
        if self.constraint_engine_ is not None:
            frame = self.constraint_engine_.reverse_transform(frame)
        return [str(c) for c in frame.columns]

    def _encoded_context_columns(self) -> list[str]:
        return [str(c) for c in self.context_codec_.columns] if self.context_codec_ is not None else []

    def _restore(self, state: EngineState) -> None:
        document = state.documents[_STATE]
        if self.table_ is None and document.get("table") is not None:  # version-1 checkpoints kept it here
            self.table_ = TableConfig.model_validate(document["table"])
        if not self.history_ and isinstance(document.get("history"), list):
            self.history_ = [dict(record) for record in document["history"]]
        self.codec_ = TableCodec.from_dict(document["codec"])
        self.context_codec_ = TableCodec.from_dict(document["context_codec"]) if document["context_codec"] else None
        constraints = document.get("constraints")
        declared = self.table_ is not None and self.table_.declares_constraints
        if (constraints is not None) != declared or not isinstance(constraints, (dict, type(None))):
            raise ValueError("the constraint state does not match the table's declared constraints "
                             "(checkpoints that kept constraints.parquet predate this version)")
        self.constraint_engine_ = ConstraintEngine.from_dict(self.table_, constraints) if constraints else None
        if self.codec_.sub_columns:
            weights = state.weights[_WEIGHTS]
            # Networks saved before the ordinal terms existed have no ordinal weights.
            self.network_ = self._build_network(None, ordinal="ordinal_in" in weights)
            self.network_.load_state_dict(weights)
            self.network_.eval()
