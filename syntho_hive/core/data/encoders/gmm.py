"""Mode-specific normalisation on a bounded latent scale (the numeric core of CTGAN).

A value ``x`` observed in ``[lo, hi]`` is first mapped to an unbounded latent
``z = logit(eps + (1 - 2 eps) * (x - lo) / (hi - lo))``. A Bayesian Gaussian mixture
(Dirichlet-process prior, at most ``max_modes`` components, small weight concentration so
unneeded components die out, components lighter than ``weight_threshold`` pruned) is fitted
on ``z``. Each value is encoded as

* a one-hot mode indicator, the mode *sampled* from the value's posterior over modes
  (restricted to the modes whose ``±4 std`` window contains the value), and
* a scalar ``(z - mean_k) / (4 std_k)`` in ``[-1, 1]``.

Decoding inverts this. Two variants keep decoded values inside ``[lo, hi]`` *by
construction* (no clipping that piles values on a bound):

* columns with a known resolution ``r`` (integers, fixed decimals, time units) use the exact
  inverse ``x = lo + (hi - lo) * (sigmoid(z) - eps) / (1 - 2 eps)`` with
  ``eps = 0.5 r c / (hi - lo + r c)``, ``c`` just below 1: the squeeze is exactly the outer
  half of the two boundary rounding cells, so any latent value decodes to
  ``(lo - r/2, hi + r/2)`` and rounding to the resolution lands in ``[lo, hi]``. The round
  trip is exact and the extreme values are not latent outliers;
* full-precision columns use ``x = lo + (hi - lo) * sigmoid(z)`` (strictly inside; the round
  trip error ``eps * (hi - lo)`` with ``eps = 1e-8`` is below the float32 matrix precision).

The mixture is fitted on a random subsample of at most ``gmm_max_samples`` values, so the
fitting cost stops growing with the number of rows. After pruning, every training value
must lie inside some mode's ``±4 std`` window (otherwise the scalar would be clipped and the
value lost); values that are not (typically the extreme values, whose latent is far out
when ``eps`` is tiny) get extra narrow modes, one per gap between kept modes. Such a mode
decodes to (nearly) the value it covers, so ``[lo, hi]`` must not reach a value held by a
single row: with the rare-value protection the numeric encoders pass the inner range (the
``rare_threshold``-th smallest and largest values, :mod:`~syntho_hive.core.data.encoders.rare`)
and clip the rarer extremes onto it, so a narrow end mode stands for at least
``rare_threshold`` rows.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

from syntho_hive._random import numpy_generator

__all__ = ["Modes", "BoundedGMM", "fit_modes"]

MIN_STD = 1e-3
"""Smallest mode standard deviation on the latent scale (a spike still gets a window)."""
WINDOW = 4.0
"""Half-width of a mode's window in standard deviations (CTGAN's ``4 * std``)."""
CHUNK_ROWS = 65_536
"""Rows encoded at a time (bounds the posterior matrix's memory)."""


@dataclass(frozen=True)
class Modes:
    """The kept mixture components on the latent scale, sorted by mean."""

    means: np.ndarray
    stds: np.ndarray
    weights: np.ndarray


def fit_modes(z: np.ndarray, *, max_modes: int, weight_threshold: float, seed: int,
              silence_warnings: bool = True) -> Modes:
    """Fit a Bayesian Gaussian mixture on latent values and keep its non-negligible modes.

    Top-level function (not a method) so joblib can ship it to worker processes cheaply.

    Args:
        z: Latent values (the subsample), 1-D float array with at least one value.
        max_modes: Upper bound on the number of components.
        weight_threshold: Components whose weight is at or below this are pruned.
        seed: Seed of the mixture's initialisation.
        silence_warnings: Hide sklearn's ``ConvergenceWarning`` here; pass ``False`` from
            worker threads (``warnings.catch_warnings`` is not thread-safe) and silence it
            around the whole parallel call instead.

    Returns:
        The kept :class:`Modes`.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import BayesianGaussianMixture

    z = np.asarray(z, dtype=np.float64)
    n_components = int(min(max_modes, np.unique(z).size))
    if n_components <= 1:
        return Modes(np.array([float(z.mean())]), np.array([max(float(z.std()), MIN_STD)]),
                     np.array([1.0]))
    model = BayesianGaussianMixture(
        n_components=n_components,
        covariance_type="spherical",  # 1-D: identical to "full", cheaper
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=1e-3,
        max_iter=100,
        n_init=1,
        init_params="k-means++",
        random_state=int(seed) % (2**32),
    )
    if silence_warnings:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=ConvergenceWarning)
            model.fit(z.reshape(-1, 1))
    else:
        model.fit(z.reshape(-1, 1))
    weights = np.asarray(model.weights_, dtype=np.float64)
    keep = weights > weight_threshold
    if not keep.any():
        keep = weights == weights.max()
    means = np.asarray(model.means_, dtype=np.float64).ravel()[keep]
    stds = np.maximum(np.sqrt(np.asarray(model.covariances_, dtype=np.float64).ravel()[keep]), MIN_STD)
    weights = weights[keep] / weights[keep].sum()
    order = np.argsort(means, kind="stable")
    return Modes(means[order], stds[order], weights[order])


def _cover(modes: Modes, z: np.ndarray, covered: np.ndarray, min_weight: float) -> Modes:
    """Add one mode per gap (below, between, above the kept modes) holding uncovered values."""
    outside = np.sort(z[~covered])
    gap = np.searchsorted(modes.means, outside)
    starts = np.flatnonzero(np.r_[True, gap[1:] != gap[:-1]])
    ends = np.r_[starts[1:], outside.size]
    low, high = outside[starts], outside[ends - 1]
    extra_means = (low + high) / 2
    extra_stds = np.maximum((high - low) / (2 * WINDOW) * 1.01, MIN_STD)
    extra_weights = np.maximum((ends - starts) / z.size, min_weight)
    weights = np.concatenate([modes.weights * max(1 - extra_weights.sum(), 0.5), extra_weights])
    means = np.concatenate([modes.means, extra_means])
    stds = np.concatenate([modes.stds, extra_stds])
    order = np.argsort(means, kind="stable")
    return Modes(means[order], stds[order], weights[order] / weights.sum())


class BoundedGMM:
    """Bounded reparametrisation plus mode-specific normalisation of one numeric column.

    Args:
        lo: Smallest representable value.
        hi: Largest representable value (``hi > lo``).
        eps: Squeeze of the unit interval before the logit.
        exact_inverse: Undo the squeeze on decode (for columns rounded to a resolution, see
            the module docstring); otherwise decode with a plain sigmoid.
        max_modes: Upper bound on the number of mixture components.
        weight_threshold: Components at or below this weight are pruned.
        gmm_max_samples: Size of the random subsample the mixture is fitted on.
    """

    def __init__(self, lo: float, hi: float, eps: float, *, max_modes: int,
                 weight_threshold: float, gmm_max_samples: int, exact_inverse: bool = False) -> None:
        self.lo = float(lo)
        self.hi = float(hi)
        self.eps = float(eps)
        self.exact_inverse = bool(exact_inverse)
        self.max_modes = int(max_modes)
        self.weight_threshold = float(weight_threshold)
        self.gmm_max_samples = int(gmm_max_samples)
        self.modes: Modes | None = None
        self._z_fit: np.ndarray | None = None
        self._z_all: np.ndarray | None = None
        self._seed = 0

    # -- latent scale -------------------------------------------------------------------
    def to_latent(self, x: np.ndarray) -> np.ndarray:
        """Map values in ``[lo, hi]`` to the unbounded latent scale (values outside are
        treated as the nearest bound)."""
        unit = np.clip((np.asarray(x, dtype=np.float64) - self.lo) / (self.hi - self.lo), 0.0, 1.0)
        return logit(self.eps + (1.0 - 2.0 * self.eps) * unit)

    def from_latent(self, z: np.ndarray) -> np.ndarray:
        """Map latent values back: into ``[lo, hi]`` (plain sigmoid) or, with
        ``exact_inverse``, into the open rounding cells ``(lo - r/2, hi + r/2)``."""
        unit = expit(z)
        if self.exact_inverse:
            unit = (unit - self.eps) / (1.0 - 2.0 * self.eps)
        return self.lo + (self.hi - self.lo) * unit

    # -- fitting ------------------------------------------------------------------------
    def prepare(self, x: np.ndarray, *, seed: int) -> None:
        """Compute latent values and draw the fitting subsample (cheap, no mixture fit).

        Args:
            x: Non-null training values, all within ``[lo, hi]``.
            seed: Seed of the subsample and of the mixture initialisation.
        """
        z = self.to_latent(x)
        self._seed = int(seed)
        if z.size > self.gmm_max_samples:
            rng = numpy_generator(seed)
            self._z_fit = z[rng.choice(z.size, size=self.gmm_max_samples, replace=False)]
        else:
            self._z_fit = z
        self._z_all = z

    @property
    def needs_fit(self) -> bool:
        """Whether :meth:`prepare` was called and the mixture is still to be fitted."""
        return self.modes is None and self._z_fit is not None

    def fit_arguments(self) -> tuple[np.ndarray, dict]:
        """Positional and keyword arguments of :func:`fit_modes` for this column."""
        if self._z_fit is None:
            raise RuntimeError("BoundedGMM.prepare must run before fit_arguments")
        return self._z_fit, {"max_modes": self.max_modes,
                             "weight_threshold": self.weight_threshold, "seed": self._seed}

    def set_modes(self, modes: Modes) -> None:
        """Install fitted modes, adding one covering mode for training values outside every
        kept mode's window, and drop the training data and the seed."""
        z = self._z_all if self._z_all is not None else np.empty(0)
        covered = (np.abs(z[:, None] - modes.means) <= WINDOW * modes.stds * (1 - 1e-9)).any(axis=1)
        if not covered.all():
            modes = _cover(modes, z, covered, self.weight_threshold)
        self.modes = modes
        self._z_fit = None
        self._z_all = None
        self._seed = 0  # derived from the fit seed, the key of the noise under DP: not kept in a checkpoint

    def __setstate__(self, state: dict) -> None:
        """Unpickle; a fitted column drops the seed its fit used (files written before :meth:`set_modes`
        dropped it still hold it: loading and saving again removes it)."""
        self.__dict__.update(state)
        if state.get("modes") is not None:
            self._seed = 0

    def fit(self, x: np.ndarray, *, seed: int) -> "BoundedGMM":
        """Prepare and fit in one go (sequential). Returns ``self``."""
        self.prepare(x, seed=seed)
        z, kwargs = self.fit_arguments()
        self.set_modes(fit_modes(z, **kwargs))
        return self

    # -- encoding -----------------------------------------------------------------------
    @property
    def n_modes(self) -> int:
        """Number of modes (width of the softmax span)."""
        if self.modes is None:
            raise RuntimeError("BoundedGMM is not fitted")
        return int(self.modes.means.size)

    def encode(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Encode values as ``[scalar, one-hot mode]`` with the mode sampled from its posterior.

        Works in chunks of :data:`CHUNK_ROWS` rows so the ``(rows, modes)`` posterior matrix
        stays small whatever the table size.

        Args:
            x: Values (no nulls).
            rng: Source of the mode draws.

        Returns:
            Float32 array of shape ``(n, 1 + n_modes)`` (the matrix's precision).
        """
        if self.modes is None:
            raise RuntimeError("BoundedGMM is not fitted")
        z = self.to_latent(x)
        out = np.zeros((z.size, 1 + self.modes.means.size), dtype=np.float32)
        for start in range(0, z.size, CHUNK_ROWS):
            self._encode_chunk(z[start:start + CHUNK_ROWS], rng, out[start:start + CHUNK_ROWS])
        return out

    def _encode_chunk(self, z: np.ndarray, rng: np.random.Generator, out: np.ndarray) -> None:
        modes = self.modes
        assert modes is not None
        n, k = z.size, modes.means.size
        dist = (z[:, None] - modes.means) / modes.stds
        log_p = np.log(modes.weights) - np.log(modes.stds) - 0.5 * dist**2
        feasible = np.abs(dist) <= WINDOW
        # Restrict the posterior to modes that can represent the value (all of them for
        # training data, see set_modes); a value outside every window keeps the full posterior.
        log_p = np.where(feasible | ~feasible.any(axis=1, keepdims=True), log_p, -np.inf)
        prob = np.exp(log_p - log_p.max(axis=1, keepdims=True))
        cum = np.cumsum(prob, axis=1)
        # Inverse CDF: the first mode whose cumulative mass exceeds u * total.
        target = rng.random(n) * cum[:, -1]
        chosen = np.minimum((cum <= target[:, None]).sum(axis=1), k - 1)
        rows = np.arange(n)
        out[:, 0] = np.clip(dist[rows, chosen] / WINDOW, -1.0, 1.0)
        out[rows, 1 + chosen] = 1.0

    def decode(self, block: np.ndarray, chosen: np.ndarray | None = None) -> np.ndarray:
        """Decode ``[scalar, mode scores]`` (any scores: the arg-max is the mode).

        Args:
            block: Array of shape ``(n, 1 + n_modes)``, or ``(n, 1)`` (the scalar) with ``chosen``.
            chosen: Each row's mode when known (the scores are then not read); ``None``: the
                arg-max of the scores.

        Returns:
            Float64 values, all within ``[lo, hi]``.
        """
        modes = self.modes
        if modes is None:
            raise RuntimeError("BoundedGMM is not fitted")
        scalar = np.clip(np.asarray(block[:, 0], dtype=np.float64), -1.0, 1.0)
        if chosen is None:
            chosen = np.argmax(block[:, 1:], axis=1)
        z = scalar * WINDOW * modes.stds[chosen] + modes.means[chosen]
        return self.from_latent(z)
