"""Generation in fixed chunks of rows, each chunk with its own random generator, on every CPU core.

A model's ``sample()`` produces its rows in chunks of :data:`CHUNK_ROWS` (:data:`DEVICE_CHUNK_ROWS`
on a GPU). The chunk starting at row ``start`` draws all its randomness (noise, conditions,
categories) from a generator seeded with ``child_seed(base, "chunk", start)``, ``base`` being one
draw from the sample's own generator, so a chunk's rows depend on the seed and its position only:
not on the order in which chunks run, nor on how many run at once.

That lets the chunks of a CPU sample run side by side, one per worker thread, each worker limited
to one OpenMP thread (:mod:`threadpoolctl`, for that thread only). Generation is a chain of small
operations (a few matrix products, then element-wise passes over a few megabytes): split across
cores inside each operation, as PyTorch does by default, much of the time goes to synchronising
and to the single-threaded steps (random numbers, dispatch) during which the other cores wait. A
chunk per core keeps every core busy (measured in ``benchmarks/RESULTS.md``, "Design measurements").

Workers: ``min(torch.get_num_threads(), chunks)`` of the calling thread, so
``torch.set_num_threads(1)`` (or ``OMP_NUM_THREADS=1``) makes generation sequential; CUDA samples
run sequentially (the GPU parallelises each operation). The worker threads live in a small pool
kept for the process (dropped in a forked child, where threads do not survive).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Any

import torch

from syntho_hive._random import child_seed, torch_generator
from syntho_hive.events import get_logger, progress

__all__ = ["CHUNK_ROWS", "DEVICE_CHUNK_ROWS", "MIN_NETWORK_ROWS", "PROGRESS_ROWS", "ChunkFill", "generate_in_chunks",
           "network_rows", "pad_rows"]

#: Rows per generation chunk on CPU: a chunk's buffers stay in a core's cache (the sizes compared are in
#: ``benchmarks/RESULTS.md``, "Design measurements").
CHUNK_ROWS = 2_048
#: Rows per chunk on other devices (sequential there; larger chunks mean fewer kernel launches).
DEVICE_CHUNK_ROWS = 4_096
#: Samples larger than this show a progress bar over chunks (when asked for).
PROGRESS_ROWS = 200_000

#: Smallest row count a network runs on (see :func:`network_rows`).
MIN_NETWORK_ROWS = 256

#: ``fill(start, rows, generator)`` generates rows ``start .. start + rows`` of the output from
#: ``generator`` only (it runs under ``torch.inference_mode()``, possibly in a worker thread).
ChunkFill = Callable[[int, int, torch.Generator], None]

_log = get_logger(__name__)
_lock = threading.Lock()
_pools: dict[int, ThreadPoolExecutor] = {}
#: False once a worker thread could not be limited to one OpenMP thread (workers would then
#: compete for the cores, so later samples run their chunks sequentially).
_limits_work = True


def generate_in_chunks(count: int, fill: ChunkFill, *, rng: torch.Generator, device: torch.device,
                       progress_bar: bool = False, desc: str = "Sampling") -> None:
    """Run ``fill`` over the chunks of ``count`` rows, in parallel on CPU.

    Args:
        count: Rows to generate (> 0).
        fill: Generates one chunk (see :data:`ChunkFill`); it must touch only its own rows of
            the output and read shared state only.
        rng: The sample's generator: one draw from it seeds every chunk.
        device: Device of the chunks' generators (and of the work).
        progress_bar: Show a tqdm bar over chunks for samples of more than :data:`PROGRESS_ROWS` rows.
        desc: The bar's label.

    Raises:
        Exception: The first error raised by ``fill`` (the remaining chunks are cancelled).
    """
    base = int(torch.randint(0, 2 ** 62, (1,), generator=rng, device=rng.device).item())
    rows = CHUNK_ROWS if device.type == "cpu" else DEVICE_CHUNK_ROWS
    starts = range(0, count, rows)

    def run(start: int) -> None:
        generator = torch_generator(child_seed(base, "chunk", start), device)
        with torch.inference_mode():
            fill(start, min(rows, count - start), generator)

    shown = progress_bar and count > PROGRESS_ROWS
    workers = _worker_count(len(starts), device)
    if workers <= 1:
        for start in progress(starts, enabled=shown, desc=desc, total=len(starts), unit="chunk"):
            run(start)
        return
    pool = _pool(workers)
    futures = [pool.submit(run, start) for start in starts]
    try:
        for future in progress(futures, enabled=shown, desc=desc, total=len(futures), unit="chunk"):
            future.result()
    finally:  # on an error, stop the queued chunks and let the running ones finish
        for future in futures:
            future.cancel()
        wait(futures)


def network_rows(rows: int, count: int, device: torch.device) -> int:
    """Rows to run a row-wise network on for a chunk of ``rows`` rows of a ``count``-row sample.

    oneDNN compiles a matrix-product kernel per shape the first time it sees it in a process
    (milliseconds per shape, see ``benchmarks/RESULTS.md``), so a chunk runs its network on a padded
    batch (zero rows appended, their outputs dropped, see :func:`pad_rows`): the last chunk of a
    sample of several chunks on a full chunk's rows, a sample of one chunk on a power of two of at
    least :data:`MIN_NETWORK_ROWS` rows. A process then meets at most four shapes whatever the
    sizes it samples (the relational layer samples a table in many differently sized calls), and
    a sample of several chunks only one.

    Args:
        rows: Rows of the chunk.
        count: Rows of the whole sample.
        device: Where the chunk runs.

    Returns:
        A row count >= ``rows``.
    """
    full = CHUNK_ROWS if device.type == "cpu" else DEVICE_CHUNK_ROWS
    if count > full:
        return full
    return min(full, max(MIN_NETWORK_ROWS, 1 << max(0, rows - 1).bit_length()))


def pad_rows(tensor: torch.Tensor | None, rows: int) -> torch.Tensor | None:
    """``tensor`` with zero rows appended up to ``rows`` rows (``None`` stays ``None``)."""
    if tensor is None or len(tensor) >= rows:
        return tensor
    return torch.cat([tensor, tensor.new_zeros((rows - len(tensor), *tensor.shape[1:]))])


def _worker_count(chunks: int, device: torch.device) -> int:
    # In a worker thread torch.get_num_threads() is 1: a sample started inside a chunk runs there,
    # instead of waiting on the pool its own thread belongs to.
    if device.type != "cpu" or chunks < 2 or not _limits_work:
        return 1
    return min(torch.get_num_threads(), chunks)


def _pool(workers: int) -> ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(workers)
        if pool is None:
            from threadpoolctl import ThreadpoolController

            # Inspecting the loaded libraries takes milliseconds: once, not in every worker.
            controller = ThreadpoolController().select(user_api="openmp")
            pool = ThreadPoolExecutor(workers, thread_name_prefix="synthohive-chunks",
                                      initializer=_one_openmp_thread, initargs=(controller,))
            _pools[workers] = pool
        return pool


def _one_openmp_thread(controller: Any) -> None:
    """Worker initialiser: limit this thread (only) to one OpenMP thread.

    Args:
        controller: A ``threadpoolctl.ThreadpoolController`` of the process's OpenMP libraries.
    """
    global _limits_work
    torch.get_num_threads()  # let torch set up this thread first, so the limit below is not overridden
    controller.limit(limits=1)
    threads = torch.get_num_threads()
    if threads != 1 and _limits_work:
        _limits_work = False
        _log.warning("chunk_workers_unlimited", threads=threads,
                     detail="could not limit a worker thread to one OpenMP thread; later samples "
                            "generate their chunks sequentially")


def _forget_pools() -> None:
    """In a forked child: the parent's worker threads do not exist there."""
    global _lock
    _lock = threading.Lock()
    _pools.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)

