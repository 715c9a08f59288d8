"""CTGAN building blocks: conditional sampling, activations, losses, networks."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from syntho_hive.core.data.spans import ColumnSpans, SpanInfo
from syntho_hive.core.models.ctgan.activation import SpanActivation
from syntho_hive.core.models.ctgan.conditional import ConditionalLayout, ConditionalSampler
from syntho_hive.core.models.ctgan.losses import condition_loss, gradient_penalty
from syntho_hive.core.models.ctgan.networks import Discriminator, Generator, build

CPU = torch.device("cpu")
# age: scalar + 3 modes; city: 4 categories (discrete); plan: 2 categories (discrete); a 9-wide mode block.
OUTPUT_INFO = [
    ColumnSpans("age", (SpanInfo(1, "tanh"), SpanInfo(3, "softmax"))),
    ColumnSpans("city", (SpanInfo(4, "softmax"),), discrete=True, categories=("a", "b", "c", "d")),
    ColumnSpans("plan", (SpanInfo(2, "softmax"),), discrete=True, categories=("x", "y")),
    ColumnSpans("income", (SpanInfo(1, "tanh"), SpanInfo(9, "softmax"))),
]
DATA_DIM = 20


def _matrix(n: int = 1000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    city = rng.choice(4, n, p=[0.7, 0.2, 0.09, 0.01])
    plan = rng.choice(2, n, p=[0.5, 0.5])
    m = np.zeros((n, DATA_DIM), dtype=np.float32)
    m[:, 0] = rng.uniform(-1, 1, n)
    m[np.arange(n), 1 + rng.integers(0, 3, n)] = 1
    m[np.arange(n), 4 + city] = 1
    m[np.arange(n), 8 + plan] = 1
    m[:, 10] = rng.uniform(-1, 1, n)
    m[np.arange(n), 11 + rng.integers(0, 9, n)] = 1
    return m


def test_layout_counts_and_log_frequency() -> None:
    matrix = _matrix()
    layout = ConditionalLayout.from_output_info(OUTPUT_INFO, matrix)
    assert layout.columns == ["city", "plan"]
    assert layout.data_starts.tolist() == [4, 8]
    assert layout.cond_dim == 6
    assert layout.counts[0].sum() == 1000
    logp = layout.probabilities(log_frequency=True)
    raw = layout.probabilities(log_frequency=False)
    np.testing.assert_allclose(logp.sum(axis=1), 1.0)
    np.testing.assert_allclose(raw[0, :4], layout.counts[0] / 1000)
    assert logp[0, 3] > raw[0, 3]  # log-frequency boosts the rare category
    np.testing.assert_allclose(logp[0, :4], np.log1p(layout.counts[0]) / np.log1p(layout.counts[0]).sum())


def test_sampled_rows_match_their_condition() -> None:
    matrix = torch.as_tensor(_matrix())
    layout = ConditionalLayout.from_output_info(OUTPUT_INFO, matrix.numpy())
    sampler = ConditionalSampler(layout, CPU, matrix=matrix)
    gen = torch.Generator().manual_seed(0)
    column, category = sampler.sample_train(5000, gen)
    rows = sampler.sample_rows(column, category, 5000, gen)
    starts = torch.as_tensor(layout.data_starts)[column]
    assert torch.all(matrix[rows, starts + category] == 1)
    # The hot entry of the conditional vector: the category's place in the concatenated blocks.
    hot = sampler.positions(column, category)
    assert torch.all(hot == torch.as_tensor(layout.cond_starts)[column] + category)
    assert int(hot.max()) < layout.cond_dim and torch.all(hot[column == 1] >= 4)
    # Columns are uniform, categories follow the log-frequency: the rare city gets >> 1%.
    city = category[column == 0]
    assert 0.4 < (column == 0).float().mean() < 0.6
    assert (city == 3).float().mean() > 0.1


def test_restricted_conditions() -> None:
    layout = ConditionalLayout.from_output_info(OUTPUT_INFO, _matrix())
    sampler = ConditionalSampler(layout, CPU)
    gen = torch.Generator().manual_seed(1)
    column, category = sampler.restricted(2000, 0, [1, 3], gen)
    assert torch.all(column == 0) and set(category.tolist()) == {1, 3}
    assert (category == 1).float().mean() > 0.8  # empirical frequencies 20% vs 1%
    _, single = sampler.restricted(10, 1, [1], gen)
    assert torch.all(single == 1)


def test_activation_soft_and_hard() -> None:
    act = SpanActivation(OUTPUT_INFO, CPU)
    raw = torch.randn(64, DATA_DIM, generator=torch.Generator().manual_seed(0)) * 3
    soft = act(raw, torch.Generator().manual_seed(1))
    hard = act(raw, torch.Generator().manual_seed(1), hard=True)
    for out in (soft, hard):
        assert out.shape == raw.shape
        assert torch.equal(out[:, [0, 10]], torch.tanh(raw[:, [0, 10]]))
        for start, width in [(1, 3), (4, 4), (8, 2), (11, 9)]:
            torch.testing.assert_close(out[:, start:start + width].sum(dim=1), torch.ones(64))
    assert set(hard[:, 1:4].unique().tolist()) == {0.0, 1.0}
    assert set(hard[:, 11:20].unique().tolist()) == {0.0, 1.0}
    # Gradients flow to the raw logits through the relaxed softmax.
    raw.requires_grad_(True)
    act(raw, torch.Generator().manual_seed(2))[:, 11:20].pow(2).sum().backward()
    assert raw.grad[:, 11:20].abs().sum() > 0 and raw.grad[:, 4:8].abs().sum() == 0


def test_hard_activation_from_ordered_columns_is_the_same_draw() -> None:
    """Columns delivered in the bucketed order (with -inf padding) give the very same draw as ``hard=True``."""
    act = SpanActivation(OUTPUT_INFO, CPU)
    raw = torch.randn(256, DATA_DIM, generator=torch.Generator().manual_seed(0)) * 3
    expected = act(raw, torch.Generator().manual_seed(1), hard=True)
    ordered = raw.index_select(1, act.gather_index)
    assert act.padding_slots.shape == act.gather_index.shape and act.padding_slots.any()
    assert torch.equal(act.hard_from_ordered(ordered, torch.Generator().manual_seed(1)), expected)
    masked = ordered.masked_fill(act.padding_slots, float("-inf"))
    got = act.hard_from_ordered(masked, torch.Generator().manual_seed(1), padding_is_masked=True)
    assert torch.equal(got, expected)


def test_draw_gives_the_scalars_and_the_entries_of_the_hard_activation() -> None:
    """``draw`` is ``hard=True`` without the one-hot blocks: same scalars, entries where the ones are."""
    act = SpanActivation(OUTPUT_INFO, CPU)
    assert act.n_softmax_spans == 4
    raw = torch.randn(300, DATA_DIM, generator=torch.Generator().manual_seed(4)) * 3
    hard = act(raw, torch.Generator().manual_seed(1), hard=True)
    ordered = raw.index_select(1, act.gather_index)
    scalars, codes = act.draw(ordered, torch.Generator().manual_seed(1))
    assert torch.equal(scalars, hard[:, [0, 10]])
    spans = [(1, 3), (4, 4), (8, 2), (11, 9)]
    assert torch.equal(codes, torch.stack([hard[:, a:a + w].argmax(dim=1) for a, w in spans], dim=1))
    # Written into views of larger buffers (a chunk of a sample), from masked bucketed columns.
    masked = ordered.masked_fill(act.padding_slots, float("-inf"))
    all_scalars, all_codes = torch.zeros(600, 2), torch.full((600, 4), -1, dtype=torch.int64)
    act.draw(masked, torch.Generator().manual_seed(1), padding_is_masked=True, scalars=all_scalars[300:],
             codes=all_codes[300:])
    assert torch.equal(all_scalars[300:], scalars) and torch.equal(all_codes[300:], codes)
    assert bool((all_codes[:300] == -1).all()) and not all_scalars[:300].any()


@pytest.mark.parametrize("width", [3, 20])  # the unnormalised narrow-span path, and softmax (padded to 32)
@pytest.mark.parametrize("shift", [0.0, 300.0, -300.0])  # far beyond exp's float32 range
def test_hard_activation_samples_the_softmax_distribution(width: int, shift: float) -> None:
    info = [ColumnSpans("c", (SpanInfo(width, "softmax"),), discrete=True,
                        categories=tuple(str(i) for i in range(width)))]
    act = SpanActivation(info, CPU)
    probs = torch.arange(1, width + 1, dtype=torch.float32)
    probs = probs / probs.sum()
    logits = (torch.log(probs) + shift).expand(20000, width)
    freq = act(logits, torch.Generator().manual_seed(0), hard=True).mean(dim=0)
    torch.testing.assert_close(freq, probs, atol=0.015, rtol=0)


def test_condition_loss_matches_per_column_cross_entropy() -> None:
    layout = ConditionalLayout.from_output_info(OUTPUT_INFO, _matrix())
    sampler = ConditionalSampler(layout, CPU)
    gen = torch.Generator().manual_seed(3)
    raw = torch.randn(50, DATA_DIM, generator=gen)
    column, category = sampler.sample_train(50, gen)
    expected = torch.zeros(())
    for i in range(50):
        start = int(layout.data_starts[column[i]])
        width = int(layout.n_categories[column[i]])
        expected += torch.nn.functional.cross_entropy(raw[i:i + 1, start:start + width], category[i:i + 1])
    got = condition_loss(raw, column, category, sampler.span_index, sampler.span_pad)
    torch.testing.assert_close(got, expected / 50)


def test_gradient_penalty_of_a_linear_critic() -> None:
    class Linear(torch.nn.Module):
        def __init__(self, weight: torch.Tensor) -> None:
            super().__init__()
            self.weight = weight

        def input_gradient(self, first: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
            return self.weight.expand(first.shape[0], -1)

    gen = torch.Generator().manual_seed(0)
    real, fake = torch.randn(4, 3, generator=gen), torch.randn(4, 3, generator=gen)
    unit = torch.ones(6) / 6 ** 0.5
    assert gradient_penalty(Linear(unit), real, fake, generator=gen).item() == pytest.approx(0, abs=1e-6)
    # gradient norm 3 -> penalty 10 * (3 - 1)^2
    assert gradient_penalty(Linear(3 * unit), real, fake, generator=gen).item() == pytest.approx(40.0)


# A critic row: data (3), one-hot condition (2), context (2); 5 rows per pac group.
ROW, DATA, COND, PAC = 7, 3, 2, 5


def _reference_critic(state: dict[str, torch.Tensor], rows: torch.Tensor, generator: torch.Generator | None,
                      n_hidden: int) -> torch.Tensor:
    """The paper's PacGAN critic, written out: Linear over whole packed rows, LeakyReLU, dropout."""
    h = rows.reshape(-1, PAC * ROW)
    for k in range(n_hidden):
        h = torch.nn.functional.leaky_relu(
            torch.nn.functional.linear(h, state[f"hidden.{k}.weight"], state[f"hidden.{k}.bias"]), 0.2)
        if generator is not None:
            h = h * (torch.rand(h.shape, generator=generator) < 0.5).float() * 2.0
    return torch.nn.functional.linear(h, state["head.weight"], state["head.bias"])


def _critic_rows(seed: int, groups: int = 8) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(dense [data, context], hot, whole rows [data, one-hot, context])``."""
    rng = torch.Generator().manual_seed(seed)
    dense = torch.randn(groups * PAC, ROW - COND, generator=rng) * 2
    hot = torch.randint(0, COND, (groups * PAC,), generator=rng)
    whole = torch.cat([dense[:, :DATA], torch.nn.functional.one_hot(hot, COND).float(), dense[:, DATA:]], dim=1)
    return dense, hot, whole


def _critic() -> Discriminator:
    return build(Discriminator, ROW, (16, 12), PAC, condition_dim=COND, condition_offset=DATA, device=CPU,
                 generator=torch.Generator().manual_seed(0))


def _split_reference_grad(grad: torch.Tensor) -> torch.Tensor:
    """Reference-form input columns regrouped as ``input_gradient`` returns them (dense, then condition)."""
    rows = grad.reshape(grad.shape[0], PAC, ROW)
    dense = torch.cat([rows[:, :, :DATA], rows[:, :, DATA + COND:]], dim=2).reshape(grad.shape[0], -1)
    return torch.cat([dense, rows[:, :, DATA:DATA + COND].reshape(grad.shape[0], -1)], dim=1)


def test_critic_computes_the_reference_network() -> None:
    critic = _critic()
    dense, hot, whole = _critic_rows(1)
    state = critic.reference_state_dict()
    assert state["hidden.0.weight"].shape == (16, PAC * ROW)
    torch.testing.assert_close(critic(dense, hot, torch.Generator().manual_seed(3)),
                               _reference_critic(state, whole, torch.Generator().manual_seed(3), 2))
    other = build(Discriminator, ROW, (16, 12), PAC, condition_dim=COND, condition_offset=DATA, device=CPU)
    other.load_reference_state_dict(state)
    for key, value in other.state_dict().items():
        assert torch.equal(value, critic.state_dict()[key]), key
    with pytest.raises(RuntimeError, match="hidden.0.weight"):
        other.load_reference_state_dict({**state, "hidden.0.weight": state["hidden.0.weight"][:, 1:]})


@pytest.mark.parametrize("training", [True, False])
def test_gradient_penalty_matches_autograd_double_backward(training: bool) -> None:
    """Same penalty and same parameter gradients as differentiating the reference critic twice."""
    critic = _critic()
    critic.train(training)
    real_dense, real_hot, real_whole = _critic_rows(1)
    fake_dense, fake_hot, fake_whole = _critic_rows(2)
    state = {k: v.clone().requires_grad_(True) for k, v in critic.reference_state_dict().items()}

    rng = torch.Generator().manual_seed(5)
    alpha = torch.rand((8, 1), generator=rng).repeat_interleave(PAC, dim=0)
    mixed = (alpha * real_whole + (1 - alpha) * fake_whole).requires_grad_(True)
    scores = _reference_critic(state, mixed, rng if training else None, 2)
    (grad,) = torch.autograd.grad(scores.sum(), mixed, create_graph=True)
    expected = 10.0 * ((grad.reshape(8, -1).norm(2, dim=1) - 1) ** 2).mean()
    expected.backward()

    first = critic.first_layer(torch.cat([real_dense, fake_dense]), torch.cat([real_hot, fake_hot]))
    real_first, fake_first = first.split(8)
    got = gradient_penalty(critic, real_first, fake_first, generator=torch.Generator().manual_seed(5))
    torch.testing.assert_close(got, expected.detach())
    got.backward()
    reference_grads = {k: v.grad if v.grad is not None else torch.zeros_like(v) for k, v in state.items()}
    weight_grad = reference_grads["hidden.0.weight"].reshape(16, PAC, ROW)
    torch.testing.assert_close(critic.hidden[0].weight.grad,
                               torch.cat([weight_grad[:, :, :DATA], weight_grad[:, :, DATA + COND:]], 2).reshape(16, -1))
    torch.testing.assert_close(critic.condition.grad,
                               weight_grad[:, :, DATA:DATA + COND].permute(1, 2, 0).reshape(-1, 16))
    for name in ("hidden.1.weight", "head.weight"):
        torch.testing.assert_close(dict(critic.named_parameters())[name].grad, reference_grads[name], msg=name)
    # Biases: the penalty depends on them only through piecewise-constant slopes.
    for name in ("hidden.0.bias", "hidden.1.bias"):
        assert dict(critic.named_parameters())[name].grad is None and not reference_grads[name].any()


def test_critic_input_gradient_is_the_reference_input_gradient() -> None:
    critic = _critic()
    dense, hot, whole = _critic_rows(3)
    rows = whole.clone().requires_grad_(True)
    (expected,) = torch.autograd.grad(
        _reference_critic(critic.reference_state_dict(), rows, torch.Generator().manual_seed(4), 2).sum(), rows)
    got = critic.input_gradient(critic.first_layer(dense, hot), torch.Generator().manual_seed(4))
    torch.testing.assert_close(got, _split_reference_grad(expected.reshape(8, -1)))


def test_networks_are_seeded_locally_without_global_rng() -> None:
    state = torch.random.get_rng_state().clone()
    a = build(Generator, 10, (16, 16), DATA_DIM, device=CPU, generator=torch.Generator().manual_seed(4))
    b = build(Generator, 10, (16, 16), DATA_DIM, device=CPU, generator=torch.Generator().manual_seed(4))
    c = build(Generator, 10, (16, 16), DATA_DIM, device=CPU, generator=torch.Generator().manual_seed(5))
    assert torch.equal(torch.random.get_rng_state(), state)
    for key, value in a.state_dict().items():
        assert torch.equal(value, b.state_dict()[key])
    assert not torch.equal(a.head.weight, c.head.weight)
    out = a(torch.randn(6, 10, generator=torch.Generator().manual_seed(0)))
    assert out.shape == (6, DATA_DIM)
    # residual blocks see their input: block 2 and the head take [h_k, ..., h_1, x]
    residual = a.reference_state_dict()
    assert residual["body.1.fc.weight"].shape == (16, 26)
    assert residual["head.weight"].shape == (DATA_DIM, 42)


def _concatenating_forward(state: dict[str, torch.Tensor], x: torch.Tensor, n_blocks: int) -> torch.Tensor:
    """The paper's residual generator, written out: each block's output concatenated to its input."""
    h = x
    for k in range(n_blocks):
        z = torch.nn.functional.linear(h, state[f"body.{k}.fc.weight"], state[f"body.{k}.fc.bias"])
        z = torch.nn.functional.batch_norm(z, None, None, state[f"body.{k}.bn.weight"],
                                           state[f"body.{k}.bn.bias"], training=True)
        h = torch.cat([z.relu(), h], dim=1)
    return torch.nn.functional.linear(h, state["head.weight"], state["head.bias"])


@pytest.mark.parametrize("context_dim", [0, 3])
def test_generator_computes_the_concatenating_residual_network(context_dim: int) -> None:
    noise_dim, cond_dim, batch = 5, 6, 32
    gen = build(Generator, noise_dim + context_dim, (16, 8, 12), DATA_DIM, condition_dim=cond_dim,
                condition_offset=noise_dim, device=CPU, generator=torch.Generator().manual_seed(1))
    rng = torch.Generator().manual_seed(2)
    noise = torch.randn(batch, noise_dim, generator=rng)
    ctx = torch.randn(batch, context_dim, generator=rng)
    hot = torch.randint(0, cond_dim, (batch,), generator=rng)
    onehot = torch.nn.functional.one_hot(hot, cond_dim).float()
    state = gen.reference_state_dict()
    expected = _concatenating_forward(state, torch.cat([noise, onehot, ctx], dim=1), 3)
    got = gen(torch.cat([noise, ctx], dim=1), hot)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # Loading the concatenating form back gives the very same parameters.
    other = build(Generator, noise_dim + context_dim, (16, 8, 12), DATA_DIM, condition_dim=cond_dim,
                  condition_offset=noise_dim, device=CPU)
    other.load_reference_state_dict(state)
    for key, value in other.reference_state_dict().items():
        assert torch.equal(value, state[key]), key
    with pytest.raises(RuntimeError, match="head.weight"):
        other.load_reference_state_dict({**state, "head.weight": state["head.weight"][:, 1:]})
    with pytest.raises(RuntimeError, match="missing"):
        other.load_reference_state_dict({k: v for k, v in state.items() if k != "body.1.fc.bias"})


@pytest.mark.parametrize("cond_dim, hidden", [(6, (16, 8, 12)), (0, (16,)), (6, (9, 7))])
def test_folded_generator_is_the_eval_mode_network(cond_dim: int, hidden: tuple[int, ...]) -> None:
    """Generation's folded form computes ``eval()`` + ``forward``: batch norms with running statistics."""
    dense_dim, batch = 8, 64
    gen = build(Generator, dense_dim, hidden, DATA_DIM, condition_dim=cond_dim, condition_offset=5, device=CPU,
                generator=torch.Generator().manual_seed(1))
    rng = torch.Generator().manual_seed(2)
    with torch.no_grad():  # non-trivial batch-norm statistics and affine parameters
        for norm in gen.norms:
            norm.running_mean.normal_(generator=rng)
            norm.running_var.uniform_(0.5, 2.0, generator=rng)
            norm.weight.uniform_(0.5, 1.5, generator=rng)
            norm.bias.normal_(generator=rng)
    x = torch.randn(batch, dense_dim, generator=rng)
    hot = torch.randint(0, cond_dim, (batch,), generator=rng) if cond_dim else None
    gen.eval()
    with torch.no_grad():
        expected = gen(x, hot)
    with torch.inference_mode():
        got = gen.inference()(x, hot)
        low = gen.inference(torch.bfloat16)(x, hot)
    assert got.dtype == low.dtype == torch.float32
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    # bfloat16 blocks: 8-bit mantissa, so only close
    torch.testing.assert_close(low, expected, rtol=0.05, atol=0.05 * float(expected.abs().max()))
    assert not torch.equal(low, got)
    # ... but not on bfloat16's grid: the float32 part of the head keeps the outputs continuous
    # (a bfloat16 output would make every numerical column's scalar take few distinct values).
    assert float((low.bfloat16().float() != low).float().mean()) > 0.9
    # Columns in another order (repeats allowed), some of them masked to -inf.
    order = torch.tensor([3, 0, 0, DATA_DIM - 1, 5])
    masked = torch.tensor([False, False, True, False, True])
    with torch.inference_mode():
        for dtype, reference, tol in ((torch.float32, got, 1e-5), (torch.bfloat16, low, 1e-6)):
            picked = gen.inference(dtype, output_order=order, masked_columns=masked)(x, hot)
            assert picked.shape == (batch, len(order))
            assert bool(torch.isneginf(picked[:, masked]).all())
            torch.testing.assert_close(picked[:, ~masked], reference[:, order[~masked]], rtol=tol, atol=tol)
    # Dense part in float32 for the first two outputs only: those are as before (continuous), the
    # others are bfloat16 products throughout (still within bfloat16's rounding of the reference).
    with torch.inference_mode():
        part = gen.inference(torch.bfloat16, exact_columns=2)(x, hot)
        assert gen.inference(torch.float32, exact_columns=2)(x, hot).equal(got)  # float32 ignores it
    torch.testing.assert_close(part[:, :2], low[:, :2], rtol=1e-6, atol=1e-6)
    torch.testing.assert_close(part, expected, rtol=0.05, atol=0.05 * float(expected.abs().max()))
    assert float((part[:, :2].bfloat16().float() != part[:, :2]).float().mean()) > 0.9


def test_generator_starts_from_pytorch_linear_initialisation() -> None:
    """The concatenating form's layers are drawn as ``nn.Linear`` draws them, layer after layer."""
    gen = build(Generator, 7, (16, 16), DATA_DIM, condition_dim=4, condition_offset=5, device=CPU,
                generator=torch.Generator().manual_seed(3))
    state = gen.reference_state_dict()
    draw = torch.Generator().manual_seed(3)
    for prefix, (out_f, in_f) in (("body.0.fc", (16, 11)), ("body.1.fc", (16, 27)), ("head", (DATA_DIM, 43))):
        weight = torch.empty(out_f, in_f)
        torch.nn.init.kaiming_uniform_(weight, a=5 ** 0.5, generator=draw)
        bias = torch.empty(out_f).uniform_(-in_f ** -0.5, in_f ** -0.5, generator=draw)
        assert torch.equal(state[f"{prefix}.weight"], weight)
        assert torch.equal(state[f"{prefix}.bias"], bias)


def test_critic_packs_rows_and_seeds_its_dropout() -> None:
    critic = build(Discriminator, 7, (16,), 5, device=CPU, generator=torch.Generator().manual_seed(0))
    x = torch.randn(20, 7, generator=torch.Generator().manual_seed(1))
    assert critic(x).shape == (4, 1)
    first = critic(x, generator=torch.Generator().manual_seed(9))
    assert torch.equal(first, critic(x, generator=torch.Generator().manual_seed(9)))
    assert not torch.equal(first, critic(x, generator=torch.Generator().manual_seed(10)))
    critic.eval()
    assert torch.equal(critic(x, generator=torch.Generator().manual_seed(9)), critic(x))
