"""Checkpoints written by an earlier release keep loading, and sample exactly as they did.

The fixtures under ``tests/fixtures/checkpoints_v1/`` were written by the code before the model
contract rewrite (see ``tests/fixtures/make_checkpoints_v1.py``), with the rows each sampled then.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from syntho_hive.core.models.ctgan import CTGAN
from syntho_hive.core.models.tabular_ar import TabularAR
from syntho_hive.core.models.tvae import TVAE
from syntho_hive.interface.synthesizer import Synthesizer

FIXTURES = Path(__file__).parents[1] / "fixtures" / "checkpoints_v1"


def _context() -> pd.DataFrame:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_v1", FIXTURES.parent / "make_checkpoints_v1.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.frame()[1]


@pytest.mark.parametrize(("cls", "folder", "with_context", "options"), [
    (CTGAN, "ctgan", True, {"progress_bar": False}),
    (TVAE, "tvae", False, {"progress_bar": False}),
    (TabularAR, "tabular_ar", False, {}),
])
def test_v1_model_checkpoint_loads_and_samples_as_before(cls, folder, with_context, options) -> None:
    model = cls(device="cpu").load(FIXTURES / folder) if cls is not TabularAR else cls().load(FIXTURES / folder)
    context = _context().iloc[:20] if with_context else None
    rows = model.sample(20, context, seed=3, **options)
    expected = (FIXTURES / f"expected_{folder}.csv").read_text(encoding="utf-8")
    assert rows.to_csv(index=False) == expected


def test_v1_synthesizer_directory_loads_and_samples_as_before() -> None:
    synth = Synthesizer.load(FIXTURES / "synthesizer")
    tables = synth.sample(seed=5)
    for name, table in tables.items():
        expected = (FIXTURES / f"expected_synthesizer_{name}.csv").read_text(encoding="utf-8")
        assert table.to_csv(index=False) == expected, name
