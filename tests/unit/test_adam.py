"""The models' Adam: the same updates as ``torch.optim.Adam``, fused kernel or not."""

from __future__ import annotations

import pytest
import torch

from syntho_hive.core.models._adam import Adam, PlateauHalving, _fused_kernel_runs
from syntho_hive.exceptions import TrainingError


def _network(seed: int) -> torch.nn.Module:
    generator = torch.Generator().manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(7, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=generator))
    return net


def _train(net: torch.nn.Module, optimiser, steps: int = 6) -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(99)
    for _ in range(steps):
        x = torch.randn(32, 7, generator=generator)
        optimiser.zero_grad()
        (net(x) ** 2).mean().backward()
        optimiser.step()
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_fused_path_is_bit_identical_to_torch_fused_adam(weight_decay: float) -> None:
    if not _fused_kernel_runs(torch.device("cpu")):
        pytest.skip("this PyTorch has no fused Adam kernel on CPU")
    ours, theirs = _network(1), _network(1)
    mine = Adam(ours.parameters(), lr=2e-3, betas=(0.5, 0.9), weight_decay=weight_decay)
    assert mine._fused
    reference = torch.optim.Adam(theirs.parameters(), lr=2e-3, betas=(0.5, 0.9), weight_decay=weight_decay,
                                 fused=True)
    for a, b in zip(_train(ours, mine), _train(theirs, reference)):
        assert torch.equal(a, b)


@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_per_tensor_path_matches_torch_adam(weight_decay: float) -> None:
    ours, theirs = _network(2), _network(2)
    mine = Adam(ours.parameters(), lr=2e-3, betas=(0.5, 0.9), weight_decay=weight_decay)
    mine._fused = False
    reference = torch.optim.Adam(theirs.parameters(), lr=2e-3, betas=(0.5, 0.9), weight_decay=weight_decay,
                                 foreach=False)
    for a, b in zip(_train(ours, mine), _train(theirs, reference)):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_parameters_without_gradient_stay_put_and_keep_their_step_count() -> None:
    used, unused = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(2))
    frozen = torch.nn.Parameter(torch.ones(2), requires_grad=False)
    optimiser = Adam([used, unused, frozen], lr=0.1)
    assert len(optimiser.params) == 2
    for _ in range(3):
        optimiser.zero_grad()
        (used ** 2).sum().backward()
        optimiser.step()
    assert torch.equal(unused.detach(), torch.ones(2))
    assert float(optimiser.steps[0]) == 3 and float(optimiser.steps[1]) == 0
    assert (used.detach() < 1).all()
    assert used.grad is not None
    optimiser.zero_grad()
    assert used.grad is None


@pytest.mark.parametrize("options", [{"lr": -1.0}, {"lr": 0.1, "betas": (1.0, 0.9)}, {"lr": 0.1, "eps": -1.0},
                                     {"lr": 0.1, "weight_decay": -0.5}])
def test_bad_hyper_parameters_are_refused(options: dict) -> None:
    with pytest.raises(TrainingError, match="Adam needs"):
        Adam([torch.nn.Parameter(torch.ones(1))], **options)


def test_decoupled_weight_decay_is_torch_adamw() -> None:
    ours, theirs = _network(3), _network(3)
    mine = Adam(ours.parameters(), lr=5e-3, weight_decay=0.05, decoupled_weight_decay=True)
    fused = _fused_kernel_runs(torch.device("cpu"))
    reference = torch.optim.AdamW(theirs.parameters(), lr=5e-3, weight_decay=0.05,
                                  **({"fused": True} if fused else {"foreach": False}))
    for a, b in zip(_train(ours, mine), _train(theirs, reference)):
        assert torch.equal(a, b) if fused else torch.allclose(a, b, rtol=1e-6, atol=1e-7)
    # The per-tensor update is the same AdamW.
    ours, theirs = _network(3), _network(3)
    mine = Adam(ours.parameters(), lr=5e-3, weight_decay=0.05, decoupled_weight_decay=True)
    mine._fused = False
    reference = torch.optim.AdamW(theirs.parameters(), lr=5e-3, weight_decay=0.05, foreach=False)
    for a, b in zip(_train(ours, mine), _train(theirs, reference)):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-7)


def test_plateau_halving_follows_reduce_lr_on_plateau() -> None:
    """The same validation losses lower the learning rate at the same epochs as ReduceLROnPlateau."""
    losses = [1.0, 0.9, 0.95, 0.96, 0.89, 0.8999, 0.88995, 0.97, 0.5, 0.6, 0.6, 0.6, 0.6, 0.6, 0.4, 0.41]
    mine = Adam([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    plateau = PlateauHalving(mine, factor=0.5, patience=1)
    reference = torch.optim.AdamW([torch.nn.Parameter(torch.ones(1))], lr=0.1)
    scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(reference, factor=0.5, patience=1)
    seen = []
    for loss in losses:
        plateau.step(loss)
        scheduler.step(loss)
        assert mine.lr == reference.param_groups[0]["lr"]
        seen.append(mine.lr)
    assert seen[-1] < seen[0] and len(set(seen)) > 2  # it did lower the rate, more than once
