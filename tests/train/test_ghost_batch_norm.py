"""Ghost batch norm against torch.nn.BatchNorm applied to each virtual batch on its own."""

from __future__ import annotations

import pytest
import torch

from tunebook.train import GhostBatchNorm, GhostBatchNorm1d, GhostBatchNorm2d
from tunebook.train.ghost_batch_norm import GhostBatchNormError

TORCH_BN = {1: torch.nn.BatchNorm1d, 2: torch.nn.BatchNorm2d, 3: torch.nn.BatchNorm3d}


def inputs(shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=generator, dtype=torch.float64) * 3 + 1
    return x.requires_grad_()


def ghost_and_reference(channels, virtual, dims, momentum=0.1):
    """A ghost batch norm and a torch BatchNorm with the same (non-trivial) affine parameters."""
    ghost = GhostBatchNorm(channels, virtual, spatial_dims=dims, momentum=momentum).double()
    reference = TORCH_BN[dims](channels, momentum=momentum).double()
    with torch.no_grad():
        ghost.weight.copy_(torch.linspace(0.5, 2.0, channels))
        ghost.bias.copy_(torch.linspace(-1.0, 1.0, channels))
    reference.load_state_dict(ghost.state_dict())  # same names: state dicts are interchangeable
    return ghost, reference


def per_chunk_reference(reference, x, sizes):
    """torch BatchNorm, training mode, run on each virtual batch alone (fresh running stats each time)."""
    outs = []
    for chunk in torch.split(x, sizes):
        bn = type(reference)(reference.num_features, momentum=1.0).double()
        bn.load_state_dict({k: v for k, v in reference.state_dict().items()
                            if k in ("weight", "bias")}, strict=False)
        outs.append(bn(chunk))
    return torch.cat(outs)


@pytest.mark.parametrize("shape, dims", [((12, 3), 1), ((12, 3, 5), 1), ((12, 3, 4, 4), 2), ((12, 2, 2, 3, 3), 3)])
def test_each_virtual_batch_is_normalized_as_batch_norm_would_normalize_it_alone(shape, dims):
    ghost, reference = ghost_and_reference(shape[1], 4, dims)
    x = inputs(shape)
    out = ghost(x)
    expected = per_chunk_reference(reference, x, [4, 4, 4])
    torch.testing.assert_close(out, expected)
    assert not torch.allclose(out, reference(x))  # not the statistics of the whole device batch

    grad = torch.randn_like(out)
    torch.testing.assert_close(torch.autograd.grad(out, x, grad)[0], torch.autograd.grad(expected, x, grad)[0])


@pytest.mark.parametrize("batch, virtual, sizes", [
    (10, 4, [5, 5]),        # 4 does not divide 10: two virtual batches of 5, never one of 2
    (11, 4, [6, 5]),        # sizes differ by at most one
    (15, 4, [5, 5, 5]),
    (3, 4, [3]),            # smaller than a virtual batch: the whole batch
    (64, 64, [64]),
])
def test_uneven_batches_spread_the_remainder_so_every_virtual_batch_has_at_least_the_virtual_size(
        batch, virtual, sizes):
    ghost, reference = ghost_and_reference(3, virtual, 1)
    assert ghost.virtual_batches(batch) == len(sizes)
    x = inputs((batch, 3))
    torch.testing.assert_close(ghost(x), per_chunk_reference(reference, x, sizes))


def test_a_device_batch_larger_than_the_virtual_batch_uses_the_virtual_batch_statistics():
    # Two virtual batches from very different distributions: each is standardized on its own.
    x = torch.cat([torch.randn(8, 2) + 100.0, torch.randn(8, 2) - 100.0]).double()
    ghost = GhostBatchNorm1d(2, virtual_batch_size=8, affine=False).double()
    out = ghost(x)
    for half in (out[:8], out[8:]):
        torch.testing.assert_close(half.mean(dim=0), torch.zeros(2, dtype=torch.float64), atol=1e-6, rtol=0)
        torch.testing.assert_close(half.var(dim=0, unbiased=False), torch.ones(2, dtype=torch.float64), atol=1e-3,
                                   rtol=0)


def test_running_statistics_move_once_per_step_toward_the_average_over_virtual_batches():
    ghost, reference = ghost_and_reference(3, 4, 2, momentum=0.25)
    expected_mean, expected_var = torch.zeros(3, dtype=torch.float64), torch.ones(3, dtype=torch.float64)
    for step in range(3):
        x = inputs((12, 3, 2, 2), seed=step)
        ghost(x)
        chunk_stats = []
        for chunk in torch.split(x.detach(), 4):  # torch's BatchNorm with momentum 1 keeps one chunk's stats
            bn = torch.nn.BatchNorm2d(3, momentum=1.0).double()
            bn(chunk)
            chunk_stats.append((bn.running_mean, bn.running_var))
        batch_mean = torch.stack([m for m, _ in chunk_stats]).mean(dim=0)
        batch_var = torch.stack([v for _, v in chunk_stats]).mean(dim=0)
        expected_mean = 0.75 * expected_mean + 0.25 * batch_mean
        expected_var = 0.75 * expected_var + 0.25 * batch_var
    torch.testing.assert_close(ghost.running_mean, expected_mean)
    torch.testing.assert_close(ghost.running_var, expected_var)
    assert int(ghost.num_batches_tracked) == 3


def test_eval_uses_the_running_statistics_like_batch_norm():
    ghost, reference = ghost_and_reference(3, 4, 1)
    for seed in range(3):
        ghost(inputs((12, 3), seed=seed))
    reference.load_state_dict(ghost.state_dict())
    ghost.eval(), reference.eval()
    x = inputs((5, 3), seed=9)
    torch.testing.assert_close(ghost(x), reference(x))
    before = ghost.running_mean.clone()
    ghost(x)
    assert torch.equal(ghost.running_mean, before)  # eval does not move the statistics


def test_classes_for_each_input_rank_and_clear_errors():
    assert GhostBatchNorm2d(4, 8).spatial_dims == 2 and GhostBatchNorm1d(4, 8).spatial_dims == 1
    assert "virtual_batch_size=8" in repr(GhostBatchNorm2d(4, 8))
    with pytest.raises(ValueError, match=r"expects inputs with 4 dimensions, got shape \(2, 4\)"):
        GhostBatchNorm2d(4, 8)(torch.randn(2, 4))
    with pytest.raises(GhostBatchNormError) as caught:
        GhostBatchNorm(0, 1, spatial_dims=4, momentum=2.0)
    assert [field for field, _ in caught.value.problems] == ["num_features", "virtual_batch_size", "spatial_dims",
                                                            "momentum"]
    assert "virtual_batch_size: must be an integer >= 2, got 1" in str(caught.value)


def test_trains_a_small_model():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), GhostBatchNorm1d(16, 8), torch.nn.ReLU(),
                                torch.nn.Linear(16, 1))
    x = torch.randn(64, 4)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]])
    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        loss = torch.nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    model.eval()
    assert losses[-1] < 0.1 * losses[0]
    assert torch.nn.functional.mse_loss(model(x), y).item() < 0.2 * losses[0]
