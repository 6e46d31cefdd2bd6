"""clip_grad_norm: returns the unclipped global norm; clips to exactly max_norm; leaves NaN/inf visible."""

from __future__ import annotations

import math

import pytest
import torch

from tunebook.train import clip_grad_norm
from tunebook.train.gradients import ClippingError


def model_with_grads(seed=0, scale=1.0):
    torch.manual_seed(seed)
    model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3))
    x, y = torch.randn(16, 6), torch.randint(0, 3, (16,))
    (scale * torch.nn.functional.cross_entropy(model(x), y)).backward()
    return model


def global_norm(model):
    return math.sqrt(sum(float((p.grad.double() ** 2).sum()) for p in model.parameters()))


def grads(model):
    return [p.grad.clone() for p in model.parameters()]


def test_without_a_threshold_it_measures_and_changes_nothing():
    model = model_with_grads()
    before = grads(model)
    assert clip_grad_norm(model.parameters()) == pytest.approx(global_norm(model), rel=1e-12)
    assert clip_grad_norm(model.parameters(), 0) == pytest.approx(global_norm(model), rel=1e-12)  # 0: no clipping
    assert all(torch.equal(a, b) for a, b in zip(before, grads(model)))


def test_above_the_threshold_it_rescales_to_exactly_the_threshold_and_returns_the_unclipped_norm():
    model = model_with_grads(scale=50.0)
    before, norm = grads(model), global_norm(model)
    returned = clip_grad_norm(model.parameters(), max_norm=0.5)
    assert returned == pytest.approx(norm, rel=1e-12) and norm > 0.5
    assert global_norm(model) == pytest.approx(0.5, rel=1e-6)
    for old, new in zip(before, grads(model)):  # g' = lambda * g / ||g||: same direction
        torch.testing.assert_close(new, old * (0.5 / norm))


def test_below_the_threshold_the_gradients_are_untouched():
    model = model_with_grads()
    before = grads(model)
    clip_grad_norm(model.parameters(), max_norm=global_norm(model) * 1.01)
    assert all(torch.equal(a, b) for a, b in zip(before, grads(model)))


def test_agrees_with_torch_up_to_torchs_1e6_guard():
    ours, theirs = model_with_grads(scale=20.0), model_with_grads(scale=20.0)
    norm = clip_grad_norm(ours.parameters(), 1.0)
    torch_norm = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
    assert norm == pytest.approx(float(torch_norm), rel=1e-6)
    for a, b in zip(grads(ours), grads(theirs)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-8)


def test_parameters_without_gradients_are_skipped_and_none_at_all_is_zero():
    model = model_with_grads()
    frozen = torch.nn.Parameter(torch.ones(3))
    assert clip_grad_norm([*model.parameters(), frozen]) == pytest.approx(global_norm(model), rel=1e-12)
    assert clip_grad_norm([frozen]) == 0.0
    single = torch.nn.Parameter(torch.zeros(2))
    single.grad = torch.tensor([3.0, 4.0])
    assert clip_grad_norm(single, 1.0) == 5.0 and torch.allclose(single.grad, torch.tensor([0.6, 0.8]))


def test_large_finite_float16_gradients_do_not_overflow_the_norm():
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float16))
    p.grad = torch.full((4,), 60000.0, dtype=torch.float16)  # 60000**2 overflows float16
    assert clip_grad_norm(p, 1.0) == pytest.approx(120000.0)
    assert torch.isfinite(p.grad).all() and float(p.grad.float().norm()) == pytest.approx(1.0, rel=1e-2)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_a_non_finite_norm_is_returned_and_the_gradients_are_left_as_they_are(bad):
    model = model_with_grads()
    first = next(model.parameters())
    first.grad[0, 0] = bad
    before = grads(model)
    norm = clip_grad_norm(model.parameters(), max_norm=1.0)
    assert not math.isfinite(norm)
    assert math.isnan(norm) if math.isnan(bad) else norm == math.inf
    for a, b in zip(before, grads(model)):
        assert torch.equal(a.nan_to_num(), b.nan_to_num())  # not zeroed, not rescaled


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), "1.0", True])
def test_a_bad_threshold_names_grad_clip_norm_and_the_value(bad):
    model = model_with_grads()
    with pytest.raises(ClippingError, match=r"grad_clip_norm: must be a finite number >= 0 .*got " + repr(bad)):
        clip_grad_norm(model.parameters(), bad)
