"""Chunked generation: each chunk's rows depend on the seed and the chunk's position only; chunks run
in worker threads limited to one OpenMP thread each; errors stop the run; forked children work."""

from __future__ import annotations

import multiprocessing
import threading
import time

import pytest
import torch

from syntho_hive._random import child_seed, torch_generator
from syntho_hive.core.models import _chunks
from syntho_hive.core.models._chunks import CHUNK_ROWS, MIN_NETWORK_ROWS, generate_in_chunks, network_rows, pad_rows

CPU = torch.device("cpu")
COUNT = 5 * CHUNK_ROWS + 123  # six chunks, the last one short


def _random_rows(count: int, seed: int) -> tuple[torch.Tensor, list[tuple[str, int, int]]]:
    """Generate ``count`` rows of uniforms; also return (thread, start, torch threads) per chunk."""
    out = torch.full((count, 3), -1.0)
    seen: list[tuple[str, int, int]] = []

    def fill(start: int, rows: int, generator: torch.Generator) -> None:
        assert torch.is_inference_mode_enabled()
        out[start:start + rows] = torch.rand((rows, 3), generator=generator)
        seen.append((threading.current_thread().name, start, torch.get_num_threads()))

    generate_in_chunks(count, fill, rng=torch_generator(seed), device=CPU)
    return out, seen


def test_each_chunk_is_drawn_from_its_own_seeded_generator() -> None:
    out, seen = _random_rows(COUNT, seed=7)
    assert sorted(start for _, start, _ in seen) == list(range(0, COUNT, CHUNK_ROWS))
    base = int(torch.randint(0, 2 ** 62, (1,), generator=torch_generator(7)).item())
    for start in range(0, COUNT, CHUNK_ROWS):
        rows = min(CHUNK_ROWS, COUNT - start)
        expected = torch.rand((rows, 3), generator=torch_generator(child_seed(base, "chunk", start)))
        assert torch.equal(out[start:start + rows], expected), start
    assert not torch.equal(out, _random_rows(COUNT, seed=8)[0])


def test_rows_do_not_depend_on_the_number_of_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    parallel, _ = _random_rows(COUNT, seed=3)
    monkeypatch.setattr(_chunks, "_worker_count", lambda chunks, device: 1)
    sequential, seen = _random_rows(COUNT, seed=3)
    assert {thread for thread, _, _ in seen} == {threading.current_thread().name}
    assert torch.equal(parallel, sequential)


@pytest.mark.skipif(torch.get_num_threads() < 2, reason="needs two intra-op threads")
def test_chunks_run_in_workers_limited_to_one_openmp_thread() -> None:
    threads = torch.get_num_threads()
    _, seen = _random_rows(COUNT, seed=1)
    assert all(name.startswith("synthohive-chunks") and count == 1 for name, _, count in seen), seen
    assert torch.get_num_threads() == threads  # the calling thread keeps its own setting
    _, single = _random_rows(CHUNK_ROWS, seed=1)  # one chunk: no worker needed
    assert [name for name, _, _ in single] == [threading.current_thread().name]


def test_an_error_in_a_chunk_is_raised_and_stops_the_rest() -> None:
    count = 200 * CHUNK_ROWS
    started: list[int] = []
    finished: list[int] = []

    def fill(start: int, rows: int, generator: torch.Generator) -> None:
        started.append(start)
        if start == 2 * CHUNK_ROWS:
            raise ValueError("chunk failed")
        time.sleep(0.02)  # still running when the error is raised
        finished.append(start)

    with pytest.raises(ValueError, match="chunk failed"):
        generate_in_chunks(count, fill, rng=torch_generator(0), device=CPU)
    assert len(started) < 200  # queued chunks were cancelled
    assert len(finished) == len(started) - 1  # and none is still running


def _child(queue: multiprocessing.Queue) -> None:
    out, _ = _random_rows(COUNT, seed=5)
    queue.put(float(out.sum()))


def test_a_forked_child_generates_the_same_rows() -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    expected, _ = _random_rows(COUNT, seed=5)  # the parent's worker pool exists now
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(queue,))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0, "the forked child hung or failed"
    assert queue.get(timeout=5) == float(expected.sum())


def test_networks_run_on_few_row_counts() -> None:
    """A sample of several chunks runs every chunk on a full chunk's rows; a one-chunk sample on a
    power of two; so a process meets a handful of kernel shapes whatever sizes it samples."""
    sizes = {network_rows(rows, count, CPU)
             for count in (1, 2, 255, 257, 1000, CHUNK_ROWS, CHUNK_ROWS + 1, 50_000)
             for rows in {min(CHUNK_ROWS, count), count % CHUNK_ROWS or CHUNK_ROWS}}
    assert sizes == {MIN_NETWORK_ROWS, 512, 1024, CHUNK_ROWS}
    assert network_rows(300, 300, CPU) == 512 and network_rows(7, 50_000, CPU) == CHUNK_ROWS
    assert all(network_rows(rows, rows, CPU) >= rows for rows in range(1, CHUNK_ROWS + 1, 97))


def test_pad_rows_appends_zero_rows() -> None:
    x = torch.arange(6.0).reshape(3, 2)
    padded = pad_rows(x, 5)
    assert torch.equal(padded[:3], x) and torch.equal(padded[3:], torch.zeros(2, 2))
    assert pad_rows(x, 3) is x and pad_rows(None, 5) is None
    assert torch.equal(pad_rows(torch.tensor([4, 2]), 4), torch.tensor([4, 2, 0, 0]))


def test_a_sample_started_inside_a_chunk_runs_there_without_deadlock() -> None:
    """Every chunk samples: with the pool's threads all waiting on chunks queued behind them this
    would never finish; started in a worker, the inner sample runs in that thread."""
    inner: dict[int, torch.Tensor] = {}

    def fill(start: int, rows: int, generator: torch.Generator) -> None:
        inner[start] = _random_rows(3 * CHUNK_ROWS, seed=2)[0]

    runner = threading.Thread(target=generate_in_chunks, args=(COUNT, fill),
                              kwargs={"rng": torch_generator(0), "device": CPU}, daemon=True)
    runner.start()
    runner.join(timeout=60)
    assert not runner.is_alive(), "deadlock"
    expected = _random_rows(3 * CHUNK_ROWS, seed=2)[0]
    assert len(inner) == 6 and all(torch.equal(rows, expected) for rows in inner.values())
