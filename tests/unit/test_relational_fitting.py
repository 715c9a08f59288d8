"""Fitting the tables' models in worker processes: same models as here, events reach the caller."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import structlog
import torch

from syntho_hive.core.models import TabularAR
from syntho_hive.exceptions import TrainingError
from syntho_hive.relational.fitting import ModelJob, fit_models, resolve_n_jobs


def _job(table: str = "orders", rows: int = 300) -> ModelJob:
    rng = np.random.default_rng(0)
    data = pd.DataFrame({"channel": rng.choice(["web", "app", "store"], rows),
                         "amount": rng.gamma(2.0, 30.0, rows).round(2),
                         "qty": rng.integers(1, 5, rows)})
    return ModelJob(table, TabularAR(epochs=3, hidden_dim=16), data, None, seed=5)


def test_a_fit_here_restores_the_torch_threads_and_is_timed() -> None:
    threads = torch.get_num_threads()
    [here] = list(fit_models([_job()], n_jobs=1))
    assert torch.get_num_threads() == threads  # one thread while fitting, then restored
    assert here.table == "orders" and here.seconds > 0 and not here.in_worker
    assert here.model.is_fitted


def test_every_job_is_fitted_once_whatever_n_jobs() -> None:
    jobs = [_job(f"t{i}", rows=60 + 40 * i) for i in range(3)]
    done = sorted(f.table for f in fit_models(jobs, n_jobs=2))
    assert done == ["t0", "t1", "t2"]


def test_a_busy_thread_here_hands_the_next_jobs_to_a_worker(tmp_path: Path) -> None:
    """The scheduler itself: while this process's thread is busy (held until a worker has
    finished a job), the worker takes the next jobs; their models equal fits here and their
    events are replayed here."""
    flag = tmp_path / "t1" / "final_checkpoint"

    class HeldUntilAWorkerIsDone(TabularAR):
        def fit(self, *args: Any, **kwargs: Any) -> Any:
            deadline = time.monotonic() + 60
            while not flag.exists():  # written by the worker's fit of t1
                assert time.monotonic() < deadline, "no job was handed to the worker process"
                time.sleep(0.05)
            return super().fit(*args, **kwargs)

    held = _job("t0", rows=400)
    held.model = HeldUntilAWorkerIsDone(epochs=3, hidden_dim=16)  # the largest job: the thread here takes it
    remote = [_job("t1", rows=200), _job("t2", rows=100)]
    remote[0].checkpoint_dir = tmp_path / "t1"
    with structlog.testing.capture_logs() as logs:
        done = {f.table: f for f in fit_models([remote[1], held, remote[0]], n_jobs=2)}
    assert sorted(done) == ["t0", "t1", "t2"]
    assert not done["t0"].in_worker and done["t1"].in_worker
    # Every fit's events, t1's (at least) recorded in the worker and replayed here, at their own level.
    fits = {name: [e for e in logs if e["event"] == name]
            for name in ("training_start", "epoch_end", "training_complete")}
    assert len(fits["training_start"]) == len(fits["training_complete"]) == 3
    assert len(fits["epoch_end"]) == sum(e["epochs"] for e in fits["training_complete"])
    assert all(e["log_level"] == "info" for events in fits.values() for e in events)
    assert done["t1"].seconds > 0
    for job in remote:
        fitted = done[job.table]
        again = _job(job.table, rows=len(job.data))
        if job.checkpoint_dir is not None:  # the same held-out validation rows
            again.checkpoint_dir = tmp_path / "here" / job.table
        [here] = list(fit_models([again], n_jobs=1))
        assert not here.in_worker
        pd.testing.assert_frame_equal(fitted.model.sample(100, seed=2), here.model.sample(100, seed=2),
                                      check_exact=True)


def test_joblib_loky_parallel_still_works_after_a_parallel_fit() -> None:
    """Regression: the parallel fit used loky's process-wide reusable executor, and a later
    ``joblib.Parallel(backend="loky")`` in the same process (scikit-learn's, or the
    DataTransformer's) failed on it with ``AttributeError: ... '_temp_folder_manager'``."""
    from joblib import Parallel, delayed

    list(fit_models([_job("a", rows=80), _job("b", rows=120)], n_jobs=2))
    assert Parallel(n_jobs=2, backend="loky")(delayed(abs)(-i) for i in range(4)) == [0, 1, 2, 3]


def test_n_jobs_is_checked() -> None:
    assert resolve_n_jobs(8, 3) == 3 and resolve_n_jobs(1, 5) == 1 and resolve_n_jobs(None, 0) == 1
    assert 1 <= resolve_n_jobs(-1, 100) <= 100
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(TrainingError, match="n_jobs must be"):
            resolve_n_jobs(bad, 3)  # type: ignore[arg-type]


def test_a_models_error_names_its_table() -> None:
    job = _job("orders")
    job.data = job.data.iloc[:0]
    with pytest.raises(TrainingError, match=r"^Table 'orders': .*empty"):
        list(fit_models([job], n_jobs=1))
