"""Fit the models of a schema's tables, several at once.

A table's model learns from its own rows and their parent-context columns only, so the fits
are independent of each other. :func:`fit_models` runs them largest first, in a thread of
this process and in worker processes (joblib's loky executor: fresh interpreters, no fork of
a process holding torch threads) as soon as those have started.

Reproducibility: every fit trains with :data:`FIT_THREADS` torch thread(s), in this process
as in a worker, and with its own seed, so the fitted models are identical whatever ``n_jobs``
is (and on machines with a different number of cores). One thread is also the fastest
setting for these small per-step tensors: with two or more, torch's intra-op threads wait on
each other, and on a busy machine a fit was measured up to ten times slower.

Logging: the library never configures logging. The structlog events of a fit that ran in a
worker are recorded there and re-emitted here, through the caller's configuration, when the
table is done (so they arrive per table, not live).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import structlog

from syntho_hive.core.models.base import ConditionalGenerativeModel
from syntho_hive.events import get_logger, progress
from syntho_hive.exceptions import SynthoHiveError, TrainingError

__all__ = ["FIT_THREADS", "FittedModel", "ModelJob", "fit_models", "resolve_n_jobs", "torch_threads"]

_log = get_logger(__name__)

#: Torch intra-op threads of every table's fit (see the module docstring).
FIT_THREADS = 1

Event = tuple[str, str, dict[str, Any]]


@dataclass
class ModelJob:
    """One table's model to fit.

    Attributes:
        table: Table name.
        model: The unfitted model.
        data: The modelled columns of the table.
        context: Parent-context columns aligned with ``data``, or ``None``.
        seed: The fit's seed.
        checkpoint_dir: Where the model keeps its training checkpoints, or ``None``.
    """

    table: str
    model: ConditionalGenerativeModel
    data: pd.DataFrame
    context: pd.DataFrame | None
    seed: int
    checkpoint_dir: Path | None = None

    @property
    def cost(self) -> int:
        """Rough training cost (cells), to start the largest fits first."""
        width = self.data.shape[1] + (self.context.shape[1] if self.context is not None else 0)
        return len(self.data) * max(width, 1)


@dataclass
class FittedModel:
    """A fitted model, the seconds its fit took, and whether a worker process fitted it."""

    table: str
    model: ConditionalGenerativeModel
    seconds: float
    in_worker: bool = False


def resolve_n_jobs(n_jobs: int | None, n_fits: int) -> int:
    """Number of processes to fit ``n_fits`` models with (this one included).

    Args:
        n_jobs: Requested processes; ``None``: one per CPU core available to this process;
            ``-1`` likewise.
        n_fits: Models to fit.

    Returns:
        Between 1 and ``max(n_fits, 1)``.

    Raises:
        TrainingError: ``n_jobs`` is not a positive integer, ``-1`` or ``None``.
    """
    if n_jobs is None or n_jobs == -1:
        from joblib import cpu_count

        n_jobs = cpu_count()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs < 1:
        raise TrainingError(f"n_jobs must be a positive integer, -1 or None (one per CPU core), got {n_jobs!r}.")
    return max(1, min(n_jobs, n_fits))


@contextmanager
def torch_threads(count: int) -> Iterator[None]:
    """Run the block with ``count`` torch intra-op threads, then restore the previous number."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def fit_models(jobs: list[ModelJob], *, n_jobs: int | None = None,
               progress_bar: bool = False) -> Iterator[FittedModel]:
    """Fit every job's model, ``n_jobs`` at a time; yield each as it is done.

    Greedy, largest job first: a thread of this process fits one job after another from the
    start, and each of the ``n_jobs - 1`` worker processes takes the next job as soon as it is
    ready (started, torch imported: a few seconds) and free; no worker is ever handed a second
    job while busy. A small schema is therefore fitted here without waiting for any worker.

    Args:
        jobs: The fits.
        n_jobs: Processes, this one included (see :func:`resolve_n_jobs`); 1 fits every model
            in this thread, one after the other.
        progress_bar: Show a bar over tables (and, with one process, the models' own bars).

    Yields:
        One :class:`FittedModel` per job, in the order they finish.

    Raises:
        TrainingError: Bad ``n_jobs``; whatever a model's ``fit`` raises is re-raised as is.
    """
    workers = resolve_n_jobs(n_jobs, len(jobs)) - 1
    queue = deque(sorted(jobs, key=lambda job: -job.cost))
    bar = progress(range(len(jobs)), enabled=progress_bar, desc="Fitting tables", total=len(jobs), unit="table")
    here: Future[FittedModel] | None = None
    remote: set[Future[Any]] = set()
    warming: set[Future[Any]] = set()
    executor: Any = None
    try:
        if not workers:
            while queue:
                yield _fit_here(queue.popleft(), progress_bar)
                _advance(bar)
            return
        # A private pool, not loky's process-wide reusable one: joblib.Parallel(backend="loky")
        # (ours, scikit-learn's) reuses that singleton and fails on one it did not create.
        from joblib.externals.loky import ProcessPoolExecutor

        executor = ProcessPoolExecutor(max_workers=workers)
        warming = {executor.submit(_warm_up) for _ in range(workers)}
        ready = 0
        while queue or here is not None or remote:
            if here is None and queue:
                here = _in_thread(_fit_here, queue.popleft(), False)
            while queue and len(remote) < ready:
                remote.add(executor.submit(_fit_in_worker, queue.popleft()))
            done, _ = wait({f for f in (here, *remote, *warming) if f is not None}, return_when=FIRST_COMPLETED)
            for future in done:
                if future in warming:
                    warming.discard(future)
                    future.result()  # a worker that cannot even import torch fails the fit here
                    ready += 1
                    continue
                if future is here:
                    here = None
                    yield future.result()
                else:
                    remote.discard(future)
                    fitted, events = future.result()
                    _replay(events)
                    yield fitted
                _advance(bar)
    finally:
        for future in remote:
            future.cancel()
        if executor is not None:  # no fit (nor start-up) is left running in a worker when this returns or fails
            busy = bool(remote or warming)
            executor.shutdown(wait=not busy, kill_workers=busy)
        if hasattr(bar, "close"):
            bar.close()


def _in_thread(function: Callable[..., Any], *args: Any) -> Future[Any]:
    """``function(*args)`` in a daemon thread (an interrupted fit does not hold up the exit)."""
    future: Future[Any] = Future()

    def run() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(function(*args))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller through the future
            future.set_exception(exc)

    threading.Thread(target=run, name="syntho_hive-fit", daemon=True).start()
    return future


def _warm_up() -> None:
    """Runs in a worker: import what a fit needs (torch and the models)."""
    import syntho_hive.core.models  # noqa: F401


def _advance(bar: Any) -> None:
    if hasattr(bar, "update"):
        bar.update(1)


def _fit_here(job: ModelJob, progress_bar: bool) -> FittedModel:
    started = time.perf_counter()
    with torch_threads(FIT_THREADS):
        try:
            job.model.fit(job.data, job.context, table_name=job.table, seed=job.seed, progress_bar=progress_bar,
                          checkpoint_dir=job.checkpoint_dir)
        except SynthoHiveError as exc:
            # Same error type and fields; its message now says which table's model failed.
            if exc.args and isinstance(exc.args[0], str) and f"{job.table!r}" not in exc.args[0]:
                exc.args = (f"Table {job.table!r}: {exc.args[0]}", *exc.args[1:])
            raise
    return FittedModel(job.table, job.model, time.perf_counter() - started)


def _fit_in_worker(job: ModelJob) -> tuple[FittedModel, list[Event]]:
    """Runs in a worker process: the fit, with its structlog events recorded instead of shown."""
    events: list[Event] = []
    with _recording(events):
        fitted = _fit_here(job, False)
    fitted.in_worker = True
    return fitted, events


class _Recorder:
    """A structlog logger keeping ``(logger name, method, fields)`` of every event it gets."""

    def __init__(self, name: str, events: list[Event]) -> None:
        self._name = name
        self._events = events

    def __getattr__(self, method: str) -> Any:
        def record(**fields: Any) -> None:
            self._events.append((self._name, method, {k: _plain(v) for k, v in fields.items()}))

        return record


def _plain(value: Any) -> Any:
    """``value`` as plain Python data (NumPy scalars unwrapped), else its ``repr``: events cross processes."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return repr(value)


@contextmanager
def _recording(events: list[Event]) -> Iterator[None]:
    """Route this process's structlog events into ``events``, then restore its configuration."""
    previous = structlog.get_config()
    structlog.configure(processors=[lambda _logger, _method, fields: fields],
                        logger_factory=lambda *args: _Recorder(str(args[0]) if args else "", events),
                        wrapper_class=structlog.make_filtering_bound_logger(0), cache_logger_on_first_use=False)
    try:
        yield
    finally:
        structlog.configure(**previous)


def _replay(events: list[Event]) -> None:
    """Emit recorded events through this process's structlog configuration."""
    for name, method, fields in events:
        logger = structlog.get_logger(name) if name else _log
        emit = getattr(logger, method, None) or logger.info
        emit(**fields)
