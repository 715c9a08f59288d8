"""Fixtures shared by every test folder (the unit tests' own: ``tests/unit/conftest.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pandas as pd
import pytest

TESTS = Path(__file__).resolve().parent


def run_python(code: str, *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
               timeout: float = 300) -> str:
    """Run ``code`` (dedented) in a fresh interpreter that imports this checkout's package, the unit
    tests' ``conftest`` (builders) and the unit test modules.

    Returns:
        The last line it printed ("" when none; the library's own events are printed to stdout before it).

    Raises:
        AssertionError: It failed (its stderr's end is the message).
    """
    folders = (str(TESTS / "unit"), str(TESTS.parent), os.environ.get("PYTHONPATH", ""))
    path = os.pathsep.join(folder for folder in folders if folder)
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                            timeout=timeout, cwd=cwd, env={**os.environ, **(env or {}), "PYTHONPATH": path})
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    return lines[-1] if lines else ""


def sample_in_a_fresh_process(saved: Path, *, seed: int, output: Path,
                              timeout: float = 300) -> dict[str, pd.DataFrame]:
    """What the Synthesizer saved at ``saved``, loaded cold in a fresh interpreter, samples with ``seed``.

    Returns:
        ``{table: frame}``, written there as Parquet files in ``output`` and read back here.
    """
    run_python(f"""
        from syntho_hive import Synthesizer
        Synthesizer.load({str(saved)!r}).sample(seed={seed}, output_path={str(output)!r})
    """, timeout=timeout)
    return {path.stem: pd.read_parquet(path) for path in sorted(output.glob("*.parquet"))}


@pytest.fixture(scope="session", name="run_python")
def run_python_fixture() -> Callable[..., str]:
    """``run_python(code, cwd=..., env=..., timeout=...)``: :func:`run_python`."""
    return run_python


@pytest.fixture(scope="session", name="sample_in_a_fresh_process")
def sample_in_a_fresh_process_fixture() -> Callable[..., dict[str, pd.DataFrame]]:
    """``sample_in_a_fresh_process(saved, seed=..., output=..., timeout=...)``: :func:`sample_in_a_fresh_process`."""
    return sample_in_a_fresh_process
