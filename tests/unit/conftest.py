"""Fixtures shared by several unit-test modules (``tests/conftest.py`` has those of every test folder).

The builders are plain functions too (``customers_table``, ``customers_metadata``, ``frame_digest``), so
that a script run by ``run_python`` can ``import conftest`` (this module) and the test modules.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from syntho_hive.core.metadata.schema import Constraint, Metadata

sys.path.insert(0, str(Path(__file__).resolve().parent))  # shared test data modules (semantic_customers)


def customers_table(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """``n`` customers: unique ids, ages, log-normal incomes, a city (one rare), a plan and an active flag."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + n),
        "age": rng.integers(18, 80, n),
        "income": np.round(rng.lognormal(10.5, 0.4, n), 2),
        "city": rng.choice(["Boston", "Denver", "Austin", "Seattle"], n, p=[0.5, 0.25, 0.2, 0.05]),
        "plan": rng.choice(["basic", "premium"], n, p=[0.7, 0.3]),
        "active": rng.random(n) < 0.8,
    })


def customers_metadata() -> Metadata:
    """The ``customers`` table of :func:`customers_table`: keyed by ``customer_id``, ages within 18-90."""
    return Metadata().add_table(
        "customers", pk="customer_id",
        columns={"customer_id": "id", "age": "numerical", "income": "numerical", "city": "categorical",
                 "plan": "categorical", "active": "boolean"},
        constraints={"age": Constraint(dtype="int", min=18, max=90)},
    )


def frame_digest(frame: pd.DataFrame) -> str:
    """SHA-256 of a frame's values and index: equal digests, bit-identical frames."""
    return hashlib.sha256(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes()).hexdigest()


def one_error_line(stderr: str, *fragments: str) -> str:
    """The one ``error: ...`` line a ``synthohive`` command printed (no traceback), holding every fragment."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ") and "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def edit_manifest(checkpoint: Path, change: Callable[[dict[str, Any]], object] = lambda manifest: None, *,
                  rehash: Iterable[str] = ()) -> dict[str, Any]:
    """Rewrite a checkpoint's manifest (``metadata.json``): record the SHA-256 and size of the files named
    in ``rehash`` (rewritten by the test), then apply ``change`` to it in place.

    Returns:
        The manifest as written.
    """
    path = checkpoint / "metadata.json"
    manifest = json.loads(path.read_text())
    for name in rehash:
        raw = (checkpoint / name).read_bytes()
        manifest["files"][name] = {"sha256": hashlib.sha256(raw).hexdigest(), "bytes": len(raw)}
    change(manifest)
    path.write_text(json.dumps(manifest))
    return manifest


@pytest.fixture(scope="session")
def make_customers() -> Callable[..., pd.DataFrame]:
    """``make_customers(n=300, seed=0)``: :func:`customers_table`."""
    return customers_table


@pytest.fixture(scope="session")
def make_metadata() -> Callable[[], Metadata]:
    """``make_metadata()``: a fresh :func:`customers_metadata`."""
    return customers_metadata


@pytest.fixture(scope="session")
def digest() -> Callable[[pd.DataFrame], str]:
    """``digest(frame)``: :func:`frame_digest`."""
    return frame_digest


@pytest.fixture(scope="session", name="edit_manifest")
def edit_manifest_fixture() -> Callable[..., dict[str, Any]]:
    """``edit_manifest(checkpoint, change, rehash=...)``: :func:`edit_manifest`."""
    return edit_manifest


@pytest.fixture(scope="module")
def parents(customers: pd.DataFrame) -> pd.DataFrame:
    """Parent-context rows (segment, employees), one per row of the module's ``customers``."""
    rng = np.random.default_rng(5)
    return pd.DataFrame({"segment": rng.choice(["smb", "enterprise"], len(customers)),
                         "employees": rng.integers(1, 500, len(customers))})


@pytest.fixture(params=["uint64", "UInt64"])
def huge_uint64(request: pytest.FixtureRequest) -> pd.Series:
    """300 unsigned integers up to ~1.4e19 (past 2**63), one missing in the nullable dtype."""
    values = pd.Series(np.random.default_rng(0).integers(0, 2**62, 300).astype(np.uint64) * np.uint64(3),
                       dtype=request.param)
    if request.param == "UInt64":
        values[3] = pd.NA
    return values
