"""The privacy budget of one fit: preprocessing queries and DP-SGD steps, composed in Rényi DP.

Both parts are Gaussian mechanisms, so their Rényi-DP curves ``eps(alpha)`` add up:

* the preprocessing makes ``queries`` histogram queries, each of L2 sensitivity 1 (a row adds 1
  to one bucket of each), with noise ``N(0, sigma_pre^2)``: ``queries * alpha / (2 sigma_pre^2)``
  (Mironov 2017, Proposition 7, composed over the queries);
* DP-SGD with Poisson sampling rate ``q``, noise multiplier ``sigma`` and ``steps`` steps: the
  sampled Gaussian mechanism's curve, computed by Opacus' RDP analysis (``compute_rdp``; Mironov,
  Talwar & Zhang 2019).

The sum is converted to ``(epsilon, delta_rdp)`` by the conversion of Opacus' ``get_privacy_spent``, as
Opacus' ``RDPAccountant`` does (a test pins the equality). Category sets come from
noisy counts of the values present, kept above a threshold: a value held by one row alone is
released with probability at most ``delta_threshold`` over all such columns, which adds to the
delta (``delta = delta_rdp + delta_threshold``). The reported epsilon is therefore an upper
bound on the whole fit's privacy loss at the configured delta.

Opacus is imported lazily (extra ``dp``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace
from statistics import NormalDist
from typing import Any

import numpy as np

from syntho_hive._optional import import_or_raise
from syntho_hive.core.dp.config import DPConfig
from syntho_hive.exceptions import PrivacyError

__all__ = ["ALPHAS", "DPPlan", "PrivacySpent", "epsilon_of", "gaussian_noise_for", "gaussian_rdp", "plan_budget",
           "sgd_rdp"]

#: Rényi orders: Opacus' ``RDPAccountant.DEFAULT_ALPHAS`` and larger ones (small budgets with
#: strong preprocessing noise have their optimum beyond 63).
ALPHAS: tuple[float, ...] = (*(1 + x / 10.0 for x in range(1, 100)), *range(12, 64),
                             80, 96, 128, 192, 256, 384, 512, 1024)
#: Share of ``delta`` given to the category thresholds (when the table has categories).
THRESHOLD_DELTA_SHARE = 0.1
#: Noise multipliers the automatic calibration may choose (beyond: the budget is too small).
MAX_AUTO_NOISE = 50.0
#: The least noise multiplier the calibration chooses (a larger budget is then left unspent).
MIN_AUTO_NOISE = 0.4
#: Buckets of a fixed grid count only above this many noise standard deviations (utility: a
#: noisy empty bucket of 145 almost never passes).
COUNT_THRESHOLD_SIGMAS = 4.0


def _analysis() -> Any:
    return import_or_raise("opacus.accountants.analysis.rdp", "dp")


def gaussian_rdp(noise: float, queries: float) -> np.ndarray:
    """Rényi DP at :data:`ALPHAS` of ``queries`` Gaussian queries of sensitivity 1 and noise ``noise`` (equally:
    one query of squared L2 sensitivity ``queries``)."""
    return queries * np.asarray(ALPHAS, dtype=np.float64) / (2.0 * noise**2)


def sgd_rdp(noise: float, sample_rate: float, steps: int) -> np.ndarray:
    """Rényi DP at :data:`ALPHAS` of ``steps`` DP-SGD steps (Opacus' sampled-Gaussian analysis)."""
    if steps <= 0:
        return np.zeros(len(ALPHAS))
    return np.asarray(_analysis().compute_rdp(q=sample_rate, noise_multiplier=noise, steps=int(steps),
                                              orders=list(ALPHAS)), dtype=np.float64)


def epsilon_of(rdp: np.ndarray, delta: float) -> float:
    """The epsilon of a Rényi-DP curve at ``delta``: the best order of Balle et al. (2020), Theorem 21,
    ``rdp + log((a - 1) / a) - (log(delta) + log(a)) / (a - 1)``, the conversion of Opacus'
    ``get_privacy_spent`` (without its warning at the last order)."""
    curve = np.asarray(rdp, dtype=np.float64)
    if not np.any(curve > 0):
        return 0.0
    alphas = np.asarray(ALPHAS, dtype=np.float64)
    eps = curve - (math.log(delta) + np.log(alphas)) / (alphas - 1) + np.log((alphas - 1) / alphas)
    return float(np.nanmin(eps))


def _preprocessing_rdp(noise: float | None, queries: int) -> np.ndarray:
    """:func:`gaussian_rdp` of the preprocessing's counts (zero without any: ``noise`` is ``None``)."""
    return gaussian_rdp(noise, queries) if noise is not None else np.zeros(len(ALPHAS))


def _bisect(function: Any, low: float, high: float, target: float) -> float:
    """The smallest ``x`` in ``[low, high]`` (log scale, to a relative 1e-6) with ``function(x) <= target``,
    ``function`` decreasing."""
    while high / low > 1.0 + 1e-6:
        middle = math.sqrt(low * high)
        if function(middle) <= target:
            high = middle
        else:
            low = middle
    return high


@dataclass(frozen=True)
class PrivacySpent:
    """What a fit spent: the number to report, and how it was made up.

    Attributes:
        epsilon: Total epsilon at ``delta`` (preprocessing and training composed in Rényi DP).
        delta: Total delta (the configured one).
        max_epsilon: The budget.
        epsilon_preprocessing: Epsilon of the preprocessing alone (at the same delta).
        epsilon_training: Epsilon of the DP-SGD steps alone.
        preprocessing_queries: Histogram queries of the preprocessing.
        preprocessing_noise: Their noise standard deviation (in rows).
        noise_multiplier / max_grad_norm / sample_rate: DP-SGD settings.
        steps: DP-SGD steps taken; epochs: ``steps * sample_rate``.
        accountant: ``"rdp"``.
    """

    epsilon: float
    delta: float
    max_epsilon: float
    epsilon_preprocessing: float
    epsilon_training: float
    preprocessing_queries: int
    preprocessing_noise: float | None
    noise_multiplier: float
    max_grad_norm: float
    sample_rate: float
    steps: int
    epochs: float
    accountant: str = "rdp"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON (for checkpoints and events)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PrivacySpent":
        """Inverse of :meth:`to_dict` (``TypeError`` / ``ValueError`` on a corrupt record)."""
        fields = {name: data[name] for name in cls.__dataclass_fields__}
        return cls(**fields)


@dataclass(frozen=True)
class DPPlan:
    """The calibrated mechanisms of one fit, decided from public quantities (rows, columns, settings).

    Attributes:
        config: The user's settings.
        rows: Training rows (public, as in DP-SGD's accounting).
        queries: Preprocessing histogram queries; category_queries: those over the values present.
        preprocessing_noise: Noise standard deviation of every preprocessing count (``None``: no query).
        category_threshold: Noisy count a category needs to be kept.
        count_threshold: Noisy count a bucket of a fixed grid (or the missing values) needs to count.
        noise_multiplier / sample_rate / steps_per_epoch / max_steps: DP-SGD.
        delta_rdp / delta_threshold: The two parts of ``delta``.
    """

    config: DPConfig
    rows: int
    queries: int
    category_queries: int
    preprocessing_noise: float | None
    category_threshold: float
    count_threshold: float
    noise_multiplier: float
    sample_rate: float
    steps_per_epoch: int
    max_steps: int
    delta_rdp: float
    delta_threshold: float

    def spent(self, steps: int) -> PrivacySpent:
        """The privacy spent after the preprocessing and ``steps`` DP-SGD steps."""
        pre = _preprocessing_rdp(self.preprocessing_noise, self.queries)
        train = sgd_rdp(self.noise_multiplier, self.sample_rate, steps)
        return PrivacySpent(
            epsilon=epsilon_of(pre + train, self.delta_rdp), delta=self.config.delta,
            max_epsilon=self.config.max_epsilon, epsilon_preprocessing=epsilon_of(pre, self.delta_rdp),
            epsilon_training=epsilon_of(train, self.delta_rdp), preprocessing_queries=self.queries,
            preprocessing_noise=self.preprocessing_noise, noise_multiplier=self.noise_multiplier,
            max_grad_norm=self.config.max_grad_norm, sample_rate=self.sample_rate, steps=int(steps),
            epochs=float(steps * self.sample_rate))


def gaussian_noise_for(epsilon: float, delta: float, queries: float) -> float:
    """The least noise standard deviation (to a relative 1e-6, rounded up) for which ``queries`` Gaussian
    queries of L2 sensitivity 1 (or one query of squared sensitivity ``queries``) spend at most
    ``epsilon`` at ``delta``.

    Args:
        epsilon: The target epsilon (> 0).
        delta: The delta of the conversion (0 < delta < 1).
        queries: Number of sensitivity-1 queries, or the squared L2 sensitivity of one query (> 0).

    Returns:
        The noise standard deviation.
    """
    return _bisect(lambda noise: epsilon_of(gaussian_rdp(noise, queries), delta), 1e-3, 1e9, epsilon)


#: The preprocessing shares :func:`auto_preprocessing_share` tries, smallest first.
AUTO_SHARES = (0.1, 0.2, 0.3)
#: ... and the largest category threshold it accepts, as a share of the rows.
AUTO_THRESHOLD_ROWS = 0.01


def _category_threshold(noise: float, delta_threshold: float, category_queries: int, rare_threshold: int) -> float:
    """Least noisy count of a released category (a value held by one row passes with probability at most
    ``delta_threshold / category_queries``)."""
    z = NormalDist().inv_cdf(1.0 - delta_threshold / category_queries)
    return max(float(rare_threshold), 1.0 + noise * z)


def auto_preprocessing_share(config: DPConfig, *, rows: int, queries: int, category_queries: int,
                             rare_threshold: int) -> float:
    """The preprocessing share of ``DPConfig(preprocessing_share=None)``: the smallest of :data:`AUTO_SHARES`
    whose thresholds (category counts, or bucket counts without categories) are at most
    :data:`AUTO_THRESHOLD_ROWS` of the rows, else the largest. Reads only public numbers (rows, columns,
    epsilon, delta): on Adult's 39k rows it gives training 90% of the budget at epsilon 4 and 10 (better
    accuracy, ``benchmarks/RESULTS.md``), while a 4,000-row table keeps 0.3 and its categories."""
    delta_threshold = config.delta * THRESHOLD_DELTA_SHARE if category_queries else 0.0
    for share in AUTO_SHARES:
        noise = gaussian_noise_for(share * config.max_epsilon, config.delta - delta_threshold, queries)
        threshold = (_category_threshold(noise, delta_threshold, category_queries, rare_threshold)
                     if category_queries else COUNT_THRESHOLD_SIGMAS * noise)
        if threshold <= AUTO_THRESHOLD_ROWS * rows:
            return share
    return AUTO_SHARES[-1]


def _preprocessing_noise(config: DPConfig, queries: int, delta_rdp: float) -> float | None:
    """The noise of ``queries`` counts whose epsilon alone is ``preprocessing_share * max_epsilon``."""
    if queries == 0:
        return None
    return gaussian_noise_for(config.preprocessing_share * config.max_epsilon, delta_rdp, queries)


def _max_steps(pre: np.ndarray, one_step: np.ndarray, limit: float, delta: float, planned: int) -> int:
    """The most steps (up to ``planned``) whose composed epsilon stays within ``limit``."""
    low, high = 0, planned
    if epsilon_of(pre + planned * one_step, delta) <= limit:
        return planned
    while low < high:
        middle = (low + high + 1) // 2
        if epsilon_of(pre + middle * one_step, delta) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def plan_budget(config: DPConfig, *, rows: int, queries: int, category_queries: int, batch_size: int,
                epochs: int, rare_threshold: int, where: str = "the model") -> DPPlan:
    """Calibrate the preprocessing noise and DP-SGD for a fit, before any work on the data.

    Args:
        config: The settings.
        rows: Training rows.
        queries: Preprocessing histogram queries (each of sensitivity 1).
        category_queries: How many of them count the values present (thresholded).
        batch_size: Expected rows per DP-SGD step (Poisson sampling rate ``batch_size / rows``).
        epochs: Planned epochs.
        rare_threshold: The model's own minimum count of a kept value.
        where: The model, for messages.

    Returns:
        The plan.

    Raises:
        PrivacyError: The budget cannot pay for one epoch with the given ``noise_multiplier``, or
            needs noise beyond :data:`MAX_AUTO_NOISE` for the planned epochs.
        MissingDependencyError: Opacus is not installed (``pip install 'synthohive[dp]'``).
    """
    if config.preprocessing_share is None:
        share = auto_preprocessing_share(config, rows=rows, queries=queries, category_queries=category_queries,
                                         rare_threshold=rare_threshold) if queries else AUTO_SHARES[-1]
        config = replace(config, preprocessing_share=share)
    delta_threshold = config.delta * THRESHOLD_DELTA_SHARE if category_queries else 0.0
    delta_rdp = config.delta - delta_threshold
    pre_noise = _preprocessing_noise(config, queries, delta_rdp)
    pre = _preprocessing_rdp(pre_noise, queries)
    sample_rate = min(1.0, batch_size / max(rows, 1))
    steps_per_epoch = max(1, round(1.0 / sample_rate))
    planned = steps_per_epoch * epochs
    if config.noise_multiplier is None:
        def total(noise: float) -> float:
            return epsilon_of(pre + sgd_rdp(noise, sample_rate, planned), delta_rdp)

        if total(MAX_AUTO_NOISE) > config.max_epsilon:
            raise PrivacyError(
                f"max_epsilon={config.max_epsilon} is too small to train {where} on {rows} rows for {epochs} "
                f"epochs: even noise_multiplier={MAX_AUTO_NOISE} would spend more. Raise max_epsilon, train fewer "
                "epochs (DPConfig(epochs=...)) or use larger batches.")
        noise = _bisect(total, MIN_AUTO_NOISE, MAX_AUTO_NOISE, config.max_epsilon)
        max_steps = planned
    else:
        noise = config.noise_multiplier
        max_steps = _max_steps(pre, sgd_rdp(noise, sample_rate, 1), config.max_epsilon, delta_rdp, planned)
        if max_steps < steps_per_epoch:
            raise PrivacyError(
                f"With noise_multiplier={noise}, batches of {batch_size} of {rows} rows and "
                f"{config.preprocessing_share:.0%} of the budget for preprocessing, max_epsilon={config.max_epsilon} "
                f"pays for {max_steps} DP-SGD steps, less than one epoch ({steps_per_epoch} steps): training "
                f"{where} would stop before seeing the data once. Raise noise_multiplier or max_epsilon, or leave "
                "noise_multiplier=None to calibrate it.")
    category_threshold = float(rare_threshold)
    count_threshold = float(rare_threshold)
    if pre_noise is not None:
        count_threshold = max(count_threshold, COUNT_THRESHOLD_SIGMAS * pre_noise)
        if category_queries:
            category_threshold = _category_threshold(pre_noise, delta_threshold, category_queries, rare_threshold)
    return DPPlan(config=config, rows=int(rows), queries=int(queries), category_queries=int(category_queries),
                  preprocessing_noise=pre_noise, category_threshold=category_threshold,
                  count_threshold=count_threshold, noise_multiplier=float(noise), sample_rate=float(sample_rate),
                  steps_per_epoch=int(steps_per_epoch), max_steps=int(max_steps), delta_rdp=float(delta_rdp),
                  delta_threshold=float(delta_threshold))
