"""A checkpoint whose weights are tagged for a CUDA device loads on a CPU-only machine.

This machine has no GPU, so the GPU-side file is produced the way ``torch.save`` writes one on a
GPU: every tensor storage recorded with the location ``cuda:0``. ``torch.load`` without a
``map_location`` refuses such a file on a CPU-only machine; every model's ``load`` must not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from syntho_hive.core.models import CTGAN, TVAE, TabularAR

TINY = {
    CTGAN: dict(embedding_dim=8, generator_dim=(16,), discriminator_dim=(16,), batch_size=50, epochs=1,
                max_modes=2, device="cpu"),
    TVAE: dict(embedding_dim=8, compress_dims=(16,), decompress_dims=(16,), batch_size=50, epochs=1, device="cpu"),
    TabularAR: dict(epochs=1),  # CPU only: it has no device option
}


def make_visits(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "ward": rng.choice(["A", "B", "C"], n, p=[0.5, 0.3, 0.2]),
        "minutes": np.round(rng.gamma(3.0, 12.0, n), 1),
        "follow_up": rng.random(n) < 0.3,
    })


@pytest.mark.parametrize("model_class", [CTGAN, TVAE, TabularAR], ids=lambda c: c.__name__)
def test_cuda_tagged_checkpoint_loads_on_cpu(model_class: type, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    model = model_class(**TINY[model_class]).fit(make_visits(), seed=1, progress_bar=False)
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        model.save(tmp_path / "gpu")
    weights = sorted((tmp_path / "gpu").glob("*.pt"))
    assert weights, "the checkpoint holds no torch state dict"
    if not torch.cuda.is_available():  # the file really is CUDA-tagged
        with pytest.raises(RuntimeError, match="CUDA"):
            torch.load(weights[0], weights_only=True)
    loaded = model_class(**{k: v for k, v in TINY[model_class].items() if k == "device"}).load(tmp_path / "gpu")
    networks = [value for value in vars(loaded).values() if isinstance(value, torch.nn.Module)]
    assert networks
    assert all(t.device.type == "cpu" for net in networks for t in [*net.parameters(), *net.buffers()])
    pd.testing.assert_frame_equal(model.sample(100, seed=5), loaded.sample(100, seed=5))
