"""TVAE (Xu et al., 2019): a variational autoencoder on the CTGAN data representation.

Pipeline (the preprocessing, context handling, decoding and resampling are shared with CTGAN
through :class:`~syntho_hive.core.models._tabular.TabularPipeline`)::

    fit:    data -> ConstraintEngine -> DataTransformer -> rows x (+ parent context c)
            -> encoder([x, c]) = (mu, logvar); z = mu + exp(logvar / 2) * eps
            -> decoder([z, c]) -> loss = loss_factor * reconstruction + KL
    sample: z ~ N(0, I) (+ context) -> decoder -> tanh(raw) + sigma * noise on scalars,
            a category drawn from each softmax span -> DataTransformer.inverse_transform
            -> ConstraintEngine.reverse_transform -> reject rows failing ``conditions`` /
            constraints, generate again -> exactly ``num_rows`` rows

All randomness (initial weights, batch order, reparametrisation noise, sampling) comes from
local generators derived from the seed: the same seed gives bit-identical output on the same
device. A checkpoint is a directory of :data:`TVAE_FILES` (see :mod:`syntho_hive.core.checkpoint`).
With ``fit(checkpoint_dir=...)`` a validation sample is held out and the best epoch by its
column-shape score is kept, as for CTGAN (see :mod:`syntho_hive.core.models._validation`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from syntho_hive._random import child_seed, numpy_generator, torch_generator
from syntho_hive.core.checkpoint import (
    CheckpointFiles,
    read_json,
    read_manifest,
    read_pickle,
    read_state_dict,
    verify_checkpoint,
    write_directory_atomically,
    write_manifest,
    write_json,
    write_pickle,
    write_state_dict,
)
from syntho_hive.core.metadata.schema import Metadata
from syntho_hive.core.models._adam import Adam
from syntho_hive.core.models._chunks import generate_in_chunks, network_rows, pad_rows
from syntho_hive.core.models._tabular import GeneratedRows, TabularPipeline, resolve_device
from syntho_hive.core.models._validation import FINAL_CHECKPOINT, EpochCheckpoints, Validation
from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.core.models.ctgan.activation import SpanActivation
from syntho_hive.core.models.ctgan.networks import build
from syntho_hive.core.models.tvae.losses import ReconstructionLoss, kl_divergence
from syntho_hive.core.models.tvae.networks import Decoder, Encoder
from syntho_hive.core.quality import MarginalProfile, SampleQuality
from syntho_hive.events import get_logger, progress
from syntho_hive.exceptions import SerializationError, TrainingError

__all__ = ["TVAE", "TVAE_FILES"]

_log = get_logger(__name__)

_ENCODER = "encoder.pt"
_DECODER = "decoder.pt"
_TRANSFORMER = "transformer.joblib"
_CONTEXT_TRANSFORMER = "context_transformer.joblib"
_DATA_COLUMN_INFO = "data_column_info.joblib"
#: Payload files of a TVAE checkpoint (``metadata.json`` holds their checksums).
_PROFILE = CheckpointFiles.REFERENCE_PROFILE

TVAE_FILES: tuple[str, ...] = (_ENCODER, _DECODER, _TRANSFORMER, _CONTEXT_TRANSFORMER, _DATA_COLUMN_INFO,
                               _PROFILE)

#: Constructor parameters saved in checkpoints (and restored by ``load``).
_HYPER_PARAMETERS = ("embedding_dim", "compress_dims", "decompress_dims", "l2scale", "batch_size", "epochs",
                     "loss_factor")
#: Adam learning rate (Xu et al.'s setting).
_LEARNING_RATE = 1e-3
#: Most GMM modes per numerical column (passed to the transformer).
_MAX_MODES = 10
#: Columns of ``training_metrics.csv`` (with ``checkpoint_dir``).
_METRICS_FIELDS = ("epoch", "loss", "reconstruction", "kl", "val_score", "seconds")


class TVAE(TabularPipeline, ConditionalGenerativeModel):
    """Tabular variational autoencoder, optionally conditioned on parent-context rows.

    Args:
        metadata: Schema of the data (the table to model is chosen by ``fit(table_name=...)``,
            or is the only table). ``None`` detects it from the data at ``fit``.
        embedding_dim: Width of the latent code.
        compress_dims: Hidden layer widths of the encoder.
        decompress_dims: Hidden layer widths of the decoder.
        l2scale: Adam weight decay.
        batch_size: Rows per training step.
        epochs: Training epochs (an epoch is one pass over the rows in a seeded random order).
        loss_factor: Weight of the reconstruction term against the KL term.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``, ...

    Example:
        >>> model = TVAE(metadata, epochs=100).fit(df, seed=0)
        >>> model.save("model_dir")
        >>> TVAE().load("model_dir").sample(1000, seed=1)
    """

    def __init__(self, metadata: Metadata | None = None, *, embedding_dim: int = 128,
                 compress_dims: Sequence[int] = (128, 128), decompress_dims: Sequence[int] = (128, 128),
                 l2scale: float = 1e-5, batch_size: int = 500, epochs: int = 300, loss_factor: float = 2,
                 device: str | torch.device = "auto") -> None:
        self.metadata = metadata
        self.embedding_dim = embedding_dim
        self.compress_dims = tuple(compress_dims)
        self.decompress_dims = tuple(decompress_dims)
        self.l2scale = l2scale
        self.batch_size = batch_size
        self.epochs = epochs
        self.loss_factor = loss_factor
        self.device = device
        self._reset_state()

    # ------------------------------------------------------------------ state
    def _reset_state(self) -> None:
        self.table_ = None
        self.reference_profile_: MarginalProfile | None = None
        self.constraint_engine_: Any = None
        self.transformer_: Any = None
        self.context_transformer_: Any = None
        self.context_columns_: list[str] = []
        self.output_info_ = []
        self.columns_: list[str] = []
        self.seed_: int | None = None
        self.encoder_: Encoder | None = None
        self.decoder_: Decoder | None = None
        self.device_: torch.device | None = None
        self.history_: list[dict[str, float]] = []
        self._activation: SpanActivation | None = None
        self._fitted = False

    @property
    def is_fitted(self) -> bool:
        """Whether the model can sample (fitted or loaded)."""
        return self._fitted

    def hyper_parameters(self) -> dict[str, Any]:
        """The constructor parameters that define training and the architecture."""
        params = {name: getattr(self, name) for name in _HYPER_PARAMETERS}
        params["compress_dims"] = [int(v) for v in self.compress_dims]
        params["decompress_dims"] = [int(v) for v in self.decompress_dims]
        return params

    def _check_parameters(self) -> None:
        problems: list[str] = []
        for name in ("embedding_dim", "batch_size", "epochs"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        for name in ("compress_dims", "decompress_dims"):
            values = getattr(self, name)
            if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) and v >= 1 for v in values):
                problems.append(f"{name} must be a sequence of positive integers, got {values!r}")
        if isinstance(self.l2scale, bool) or not isinstance(self.l2scale, (int, float)) or self.l2scale < 0:
            problems.append(f"l2scale must be a non-negative number, got {self.l2scale!r}")
        if isinstance(self.loss_factor, bool) or not isinstance(self.loss_factor, (int, float)) \
                or not self.loss_factor > 0:
            problems.append(f"loss_factor must be a positive number, got {self.loss_factor!r}")
        if problems:
            raise TrainingError("Invalid TVAE parameters: " + "; ".join(problems) + ".")

    def fit(self, data: pd.DataFrame, context: pd.DataFrame | None = None, *, table_name: str | None = None,
            seed: int | None = None, progress_bar: bool = True, checkpoint_dir: str | Path | None = None,
            checkpoint_every: int = 1, validation_fraction: float = 0.1, **kwargs: Any) -> "TVAE":
        """Learn the distribution of ``data``.

        Args:
            data: Training rows.
            context: Parent-context rows aligned with ``data`` (same length), fed to the encoder
                and the decoder.
            table_name: Table of ``metadata`` describing ``data`` (default: the only table).
            seed: Seed for every random choice (``None``: a fresh one, kept in ``seed_``).
            progress_bar: Show a tqdm bar over epochs.
            checkpoint_dir: When given, hold out a validation sample (with its context rows), train
                on the other rows, score the held-out sample every ``checkpoint_every`` epochs and
                at the last one (column-shape similarity, not the loss) and keep
                ``best_checkpoint/`` (the best-scoring epoch), ``final_checkpoint/`` and
                ``training_metrics.csv`` (epoch, loss, reconstruction, kl, val_score, seconds)
                there. Without it every row is used for training.
            checkpoint_every: Epochs between validations (with ``checkpoint_dir``).
            validation_fraction: Share of rows held out for validation (at most 5,000 rows).

        Returns:
            ``self``.

        Raises:
            TrainingError: Invalid parameters, empty data, misaligned context, unknown argument,
                bad ``checkpoint_every`` / ``validation_fraction``, too few rows to hold out a
                validation sample, an unwritable ``checkpoint_dir``, or a NaN/inf loss (the message
                names the epoch).
            SchemaError: The metadata does not describe ``data``.
            ConstraintViolationError: ``data`` violates a declared constraint.
        """
        seed = self._start_fit(data, context, kwargs, seed=seed, checkpoint_dir=checkpoint_dir,
                               checkpoint_every=checkpoint_every, validation_fraction=validation_fraction)
        device = self.device_
        prepared = self._fit_pipeline(data, context, table_name, seed, _MAX_MODES)
        matrix, ctx = prepared.tensors(device)
        validation: Validation | None = None
        if checkpoint_dir is not None:
            validation, train_rows = self._split_validation(data, context, seed, validation_fraction)
            matrix = matrix[train_rows]
            ctx = ctx[train_rows] if ctx is not None else None
        self._activation = SpanActivation(self.output_info_, device)
        self._build_networks(seed)
        directory = Path(checkpoint_dir) if checkpoint_dir is not None else None
        self._train(matrix, ctx, seed, progress_bar, directory, checkpoint_every, validation)
        self._fitted = True
        if directory is not None:
            self.save(directory / FINAL_CHECKPOINT, overwrite=True)
        return self

    def _build_networks(self, seed: int | None, *, initialise: bool = True) -> None:
        init = torch_generator(child_seed(seed or 0, "init")) if initialise else None
        self.encoder_ = build(Encoder, self._data_dim + self._context_dim, self.compress_dims,
                              self.embedding_dim, device=self.device_, generator=init)
        self.decoder_ = build(Decoder, self.embedding_dim + self._context_dim, self.decompress_dims,
                              self._data_dim, device=self.device_, generator=init)
        self.decoder_.reset_sigma()

    def _train(self, matrix: torch.Tensor, context: torch.Tensor | None, seed: int, progress_bar: bool,
               directory: Path | None, checkpoint_every: int, validation: Validation | None) -> None:
        """Train on ``matrix``; with ``directory``, validate on ``validation`` and keep the checkpoints."""
        encoder, decoder = self.encoder_, self.decoder_
        reconstruction = ReconstructionLoss(self.output_info_, self.device_)
        optimiser = Adam([*encoder.parameters(), *decoder.parameters()], lr=_LEARNING_RATE,
                         weight_decay=float(self.l2scale))
        rng = torch_generator(child_seed(seed, "train"), self.device_)
        n = matrix.shape[0]
        steps = math.ceil(n / self.batch_size)
        _log.info("training_start", model="TVAE", rows=int(n), columns=len(self.columns_),
                  data_dim=int(matrix.shape[1]), context_dim=self._context_dim, epochs=self.epochs,
                  steps_per_epoch=steps, batch_size=self.batch_size, device=str(self.device_), seed=seed)
        keeper = None
        if directory is not None and validation is not None:
            keeper = EpochCheckpoints(
                directory, _METRICS_FIELDS, epochs=self.epochs, every=checkpoint_every,
                score=lambda epoch: self._validation_score(validation, seed, epoch),
                save=lambda path: self._write_checkpoint(path, overwrite=True))
        started = time.perf_counter()
        encoder.train()
        decoder.train()
        bar = progress(range(1, self.epochs + 1), enabled=progress_bar, desc="Training TVAE",
                       total=self.epochs, unit="epoch")
        for epoch in bar:
            epoch_start = time.perf_counter()
            totals = torch.zeros(3, device=self.device_)
            order = torch.randperm(n, generator=rng, device=self.device_)
            for start in range(0, n, self.batch_size):
                rows = order[start:start + self.batch_size]
                x = matrix[rows]
                c = context[rows] if context is not None else x[:, :0]
                mu, logvar = encoder(torch.cat([x, c], dim=1))
                eps = torch.randn(mu.shape, generator=rng, device=self.device_, dtype=mu.dtype)
                z = mu + eps * torch.exp(0.5 * logvar)
                raw = decoder(torch.cat([z, c], dim=1))
                rec = reconstruction(raw, x, decoder.sigma)
                kl = kl_divergence(mu, logvar)
                loss = self.loss_factor * rec + kl
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
                decoder.clamp_sigma()
                totals += torch.stack([loss.detach(), rec.detach(), kl.detach()])
            loss_value, rec_value, kl_value = (float(v) / steps for v in totals.cpu())
            if not math.isfinite(loss_value):
                raise TrainingError(f"TVAE training diverged at epoch {epoch}: loss {loss_value} "
                                    f"(reconstruction {rec_value}, KL {kl_value}). Check the data for "
                                    "extreme values or lower loss_factor.")
            record = {"epoch": epoch, "loss": loss_value, "reconstruction": rec_value, "kl": kl_value}
            if keeper is not None:
                keeper.score(record)
            record["seconds"] = time.perf_counter() - epoch_start
            self.history_.append(record)
            if keeper is not None:
                keeper.write(record)
            elapsed = time.perf_counter() - started
            _log.info("epoch_end", model="TVAE", epoch=epoch, loss=loss_value, reconstruction=rec_value,
                      kl=kl_value, eta_seconds=round(elapsed / epoch * (self.epochs - epoch), 3),
                      **({"val_score": record["val_score"]} if "val_score" in record else {}))
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(loss=f"{loss_value:.3f}")
        encoder.eval()
        decoder.eval()
        _log.info("training_complete", model="TVAE", epochs=self.epochs,
                  seconds=round(time.perf_counter() - started, 3), loss=self.history_[-1]["loss"],
                  **({"best_val_score": keeper.best} if keeper is not None and keeper.best is not None else {}))

    # ------------------------------------------------------------------ sampling
    def sample(self, num_rows: int, context: pd.DataFrame | None = None, *, seed: int | None = None,
               conditions: Mapping[str, Any] | None = None, enforce_constraints: bool = False,
               progress_bar: bool = True, return_metrics: bool = False, quality_threshold: float | None = None,
               **kwargs: Any) -> pd.DataFrame | tuple[pd.DataFrame, SampleQuality]:
        """Generate ``num_rows`` synthetic rows.

        Every call scores each generated column against the training marginals kept at ``fit``
        and logs them as a ``sample_quality`` event (see :mod:`syntho_hive.core.quality`).

        Args:
            num_rows: Number of rows (positive).
            context: Parent-context rows, exactly ``num_rows`` of them (required, and only
                allowed, when the model was fitted with context); row ``i`` is generated for
                context row ``i``.
            seed: Seed (``None``: a fresh one); the same seed gives the same rows.
            conditions: ``{column: value}`` on discrete columns; rows are generated freely and
                only decoded rows matching every condition are kept (rejection sampling,
                bounded rounds).
            enforce_constraints: Raise :class:`ConstraintViolationError` when rows satisfying
                every constraint cannot be produced (otherwise such rows are resampled as far as
                possible and the rest kept).
            progress_bar: Show a tqdm bar over generation chunks (only for samples of more than
                200,000 rows).
            return_metrics: Return ``(data, metrics)`` with a
                :class:`~syntho_hive.core.quality.SampleQuality`.
            quality_threshold: Raise :class:`QualityError` (nothing is returned) when any column's
                shape score is below this value, e.g. ``0.85``.

        Returns:
            A DataFrame with the training columns, in order, and a fresh ``RangeIndex``; with
            ``return_metrics``, the tuple ``(data, metrics)``.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            GenerationError: ``num_rows <= 0``, bad seed, wrong context, unknown condition
                column/value or a non-discrete condition column, conditions not met within the
                bounded number of rounds, or an unknown argument.
            ConstraintViolationError: With ``enforce_constraints`` when constraints cannot be met.
            QualityError: A column scored below ``quality_threshold`` (``failures``: ``{column: score}``).
        """
        num_rows, seed = self._start_sample(num_rows, seed, kwargs, return_metrics=return_metrics,
                                            quality_threshold=quality_threshold)
        started = time.perf_counter()
        frame = self._sample_frame(num_rows, context, seed=seed, conditions=conditions,
                                   enforce_constraints=enforce_constraints, progress_bar=progress_bar)
        return self._finish_sample(frame, time.perf_counter() - started, return_metrics=return_metrics,
                                   quality_threshold=quality_threshold)

    def _sample_frame(self, num_rows: int, context: pd.DataFrame | None, *, seed: int,
                      conditions: Mapping[str, Any] | None, enforce_constraints: bool,
                      progress_bar: bool) -> pd.DataFrame:
        """Generate, decode and filter until ``num_rows`` rows satisfy conditions and constraints."""
        self._check_context(num_rows, context)
        resolved = self._resolve_conditions(conditions)  # validates columns and values before any work
        rng = torch_generator(child_seed(seed, "sample", "torch"), self.device_)
        np_rng = numpy_generator(child_seed(seed, "sample", "numpy"))
        ctx_all = self._encode_context(context, seed) if context is not None else None

        def generate(count: int, ctx: torch.Tensor | None) -> GeneratedRows:
            return self._generate(count, ctx, rng, progress_bar)

        # Conditions are checked on the generated categories (display labels such as "True" or "2"
        # resolved to them), as CTGAN does, not by comparing decoded values with the raw condition.
        return self._generate_until(num_rows, ctx_all, generate, np_rng=np_rng, conditions=conditions,
                                    enforce_constraints=enforce_constraints,
                                    draw_filter=self._matching_rows(resolved) if resolved else None)

    def _generate(self, count: int, context: torch.Tensor | None, rng: torch.Generator,
                  progress_bar: bool) -> GeneratedRows:
        """Draws for ``count`` rows from ``p(x | z, c)`` with ``z ~ N(0, I)``: tanh scalars (with the
        decoder's noise) and the entry drawn in each softmax span."""
        decoder, activation = self.decoder_, self._activation
        scalar = activation.tanh_index
        scalars = torch.empty((count, scalar.numel()), device=self.device_)
        codes = torch.empty((count, activation.n_softmax_spans), dtype=torch.int64, device=self.device_)
        with torch.inference_mode():
            sigma = decoder.sigma[scalar]

        def fill(start: int, batch: int, generator: torch.Generator) -> None:
            z = torch.randn((batch, self.embedding_dim), generator=generator, device=self.device_)
            ctx = context[start:start + batch] if context is not None else z[:, :0]
            rows = network_rows(batch, count, self.device_)  # padded: few kernel shapes per process
            raw = decoder(pad_rows(torch.cat([z, ctx], dim=1), rows))[:batch]
            values, _ = activation.draw(raw.index_select(1, activation.gather_index), generator,
                                        scalars=scalars[start:start + batch], codes=codes[start:start + batch])
            if scalar.numel():
                noise = torch.randn((batch, scalar.numel()), generator=generator, device=self.device_)
                values.add_(noise * sigma).clamp_(-1.0, 1.0)

        generate_in_chunks(count, fill, rng=rng, device=self.device_, progress_bar=progress_bar)
        return GeneratedRows(scalars, codes)

    # ------------------------------------------------------------------ persistence
    def save(self, path: str | Path, *, overwrite: bool = False) -> Path:
        """Write a checkpoint directory of :data:`TVAE_FILES` plus ``metadata.json``.

        Args:
            path: Target directory.
            overwrite: Atomically replace an existing checkpoint at ``path``.

        Returns:
            The checkpoint directory.

        Raises:
            NotFittedError: Before ``fit``/``load``.
            SerializationError: ``path`` exists and ``overwrite`` is false, or writing failed (a
                previous checkpoint at ``path`` is then left intact).
        """
        self._require_fitted("save")
        return self._write_checkpoint(path, overwrite=overwrite)

    def _write_checkpoint(self, path: str | Path, *, overwrite: bool) -> Path:
        """Write the checkpoint (also mid-training, for ``best_checkpoint/``); see :meth:`save`."""
        hyper = self.hyper_parameters()
        hyper["architecture"] = {"data_dim": self._data_dim, "context_dim": self._context_dim}

        def fill(directory: Path) -> dict[str, Any]:
            write_state_dict(self.encoder_.state_dict(), directory / _ENCODER)
            write_state_dict(self.decoder_.state_dict(), directory / _DECODER)
            write_pickle({"data_transformer": self.transformer_, "constraint_engine": self.constraint_engine_},
                         directory / _TRANSFORMER)
            write_pickle(self.context_transformer_, directory / _CONTEXT_TRANSFORMER)
            write_pickle(self.output_info_, directory / _DATA_COLUMN_INFO)
            write_json(self.reference_profile_.to_dict() if self.reference_profile_ is not None else None,
                       directory / _PROFILE)
            return write_manifest(directory, TVAE_FILES, model=type(self).__name__, seed=self.seed_,
                                  hyper_parameters=hyper, column_schema=self._column_schema(),
                                  extra={"history": self.history_})

        target, manifest = write_directory_atomically(path, fill, overwrite=overwrite)
        _log.info("checkpoint_saved", path=str(target), model=type(self).__name__, version=manifest["version"])
        return target

    def load(self, path: str | Path) -> "TVAE":
        """Restore a checkpoint written by :meth:`save`, replacing any state of this object.

        The architecture and hyper-parameters come from the checkpoint, whatever this object
        was constructed with (only ``device`` is kept).

        Warning:
            ``.joblib`` files are pickles, which can run code when loaded: load only trusted
            checkpoints (checksums detect corruption, not tampering).

        Args:
            path: A checkpoint directory.

        Returns:
            ``self``.

        Raises:
            SerializationError: Missing path or file, checksum mismatch, truncated or corrupt file,
                or a checkpoint of another model.
        """
        directory = Path(path).expanduser()
        device = resolve_device(self.device, SerializationError)
        manifest = read_manifest(directory)
        if manifest.get("model") != type(self).__name__:
            raise SerializationError(f"Checkpoint {directory} holds a {manifest.get('model')} model, not "
                                     f"{type(self).__name__}; load it with that class.")
        verify_checkpoint(directory, TVAE_FILES)
        encoder_state = read_state_dict(directory / _ENCODER, map_location=device)
        decoder_state = read_state_dict(directory / _DECODER, map_location=device)
        pipeline = read_pickle(directory / _TRANSFORMER)
        context_transformer = read_pickle(directory / _CONTEXT_TRANSFORMER)
        output_info = read_pickle(directory / _DATA_COLUMN_INFO)
        profile = read_json(directory / _PROFILE)
        try:
            hyper = dict(manifest["hyper_parameters"])
            values = {name: hyper[name] for name in _HYPER_PARAMETERS}
            self._reset_state()
            for name, value in values.items():
                setattr(self, name, tuple(value) if name.endswith("_dims") else value)
            self._restore_pipeline(manifest["column_schema"], transformer=pipeline["data_transformer"],
                                   constraint_engine=pipeline["constraint_engine"],
                                   context_transformer=context_transformer, context_columns=None,
                                   output_info=list(output_info), seed=manifest.get("seed"), device=device)
            self.history_ = list((manifest.get("extra") or {}).get("history", []))
            self.reference_profile_ = MarginalProfile.from_dict(profile) if profile is not None else None
        except (KeyError, TypeError, ValueError) as exc:
            self._reset_state()
            raise SerializationError(f"Checkpoint {directory} is corrupt: its content does not match the TVAE "
                                     f"format ({type(exc).__name__}: {exc}); save the model again.") from exc
        self._build_networks(None, initialise=False)
        try:
            self.encoder_.load_state_dict(encoder_state)
            self.decoder_.load_state_dict(decoder_state)
        except RuntimeError as exc:
            self._reset_state()
            raise SerializationError(f"Checkpoint {directory}: the network weights do not match the saved "
                                     f"architecture ({exc}); the checkpoint is corrupt.") from exc
        self.encoder_.eval()
        self.decoder_.eval()
        self._activation = SpanActivation(self.output_info_, device)
        self._fitted = True
        _log.info("checkpoint_loaded", path=str(directory), model=type(self).__name__)
        return self
