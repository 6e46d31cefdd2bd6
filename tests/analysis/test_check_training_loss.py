"""check_training_loss_increasing and check_instability on the training-loss curve."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tunebook.analysis.checks.training_loss import (
    check_instability, check_training_loss_increasing, rise_evidence, spike_evidence,
)
from tunebook.analysis.checks.curves import Curve
from tunebook.analysis.findings import Severity

from .curve_cases import MAX_STEPS, decay, fire_rate, make_data, steps, train_digits

STEPS = 2000  # a training loss logged every few steps


def falling(rng: np.random.Generator, spread: float = 0.2) -> np.ndarray:
    """2.3 down to 0.1, with per-batch noise: multiplicative and right-skewed (log-normal)."""
    return decay(STEPS, start=2.3, floor=0.1, tau=0.2) * np.exp(rng.normal(0.0, spread, STEPS))


def spiked(rng: np.random.Generator, at: float = 0.6, height: float = 1.0) -> np.ndarray:
    """``falling``, then at ``at`` of training a jump of ``height`` that decays away over ~5 % of training."""
    t = steps(STEPS) / steps(STEPS)[-1]
    bump = np.where(t >= at, height * np.exp(-(t - at) / 0.05), 0.0)
    return falling(rng) + bump


def rising(rng: np.random.Generator) -> np.ndarray:
    """Down from 2.3 to ~0.3 in the first fifth, then steadily back up to ~1.3: a pipeline bug."""
    t = steps(STEPS) / steps(STEPS)[-1]
    return (decay(STEPS, start=2.3, floor=0.3, tau=0.05) + 1.0 * np.clip((t - 0.2) / 0.8, 0, None)) \
        * np.exp(rng.normal(0.0, 0.2, STEPS))


def study(rng: np.random.Generator, *losses) -> object:
    """One trial per loss maker, alternating depth 1 and 2; valid/loss ranks them in order (first is best)."""
    return make_data([
        {"depth": 1 + k % 2, "curves": {"train/loss": make(rng), "valid/loss": decay(20, floor=0.2 + 0.1 * k)}}
        for k, make in enumerate(losses)
    ])


def test_rising_training_loss_in_a_best_trial_is_a_likely_bug():
    data = study(np.random.default_rng(0), rising, falling, falling)
    [finding] = check_training_loss_increasing(data)
    assert finding.severity is Severity.PROBLEM and finding.id == "training_loss_increasing"
    assert "bug in the training pipeline" in finding.message and "depth=1" in finding.message
    [evidence] = finding.evidence["trials"]
    assert evidence["trial"] == data.trial_name(1) and evidence["lowest_step"] < 0.3 * MAX_STEPS
    assert f"depth=1 ({data.trial_name(1)})" in finding.message
    assert evidence["end"] > 3 * evidence["lowest"]
    json.dumps(finding.to_dict())


def test_rising_loss_in_one_other_trial_is_a_warning_only():
    [finding] = check_training_loss_increasing(study(np.random.default_rng(1), falling, falling, falling, rising))
    assert finding.severity is Severity.WARNING and "1 of 4 complete trials" in finding.message
    assert "learning rate too high" in finding.message


@pytest.mark.parametrize("spread", [0.05, 0.2, 0.5])
def test_noisy_falling_training_loss_stays_silent(spread):
    clean = lambda rng: study(rng, *[lambda r: falling(r, spread)] * 4)  # noqa: E731
    assert fire_rate(check_training_loss_increasing, clean) <= 0.05
    assert fire_rate(check_instability, clean) <= 0.05


def test_heavy_tailed_batches_are_not_spikes():
    def hard_batches(rng: np.random.Generator) -> np.ndarray:
        loss = falling(rng, 0.1)
        return loss * np.where(rng.random(STEPS) < 0.02, 3.0, 1.0)  # one batch in 50 is 3x harder
    clean = lambda rng: study(rng, *[hard_batches] * 4)  # noqa: E731
    assert fire_rate(check_instability, clean) <= 0.05
    assert fire_rate(check_training_loss_increasing, clean) <= 0.05


def test_rising_training_loss_fires_over_seeds():
    assert fire_rate(check_training_loss_increasing, lambda rng: study(rng, rising, falling)) >= 0.95


def test_spike_after_a_steady_decline_is_instability():
    data = study(np.random.default_rng(0), spiked, falling)
    [finding] = check_instability(data)
    assert finding.severity is Severity.WARNING and finding.id == "instability"
    assert "after a steady decline" in finding.message and finding.section == "Identifying unstable workloads"
    assert "warmup" in finding.action and "clipping" in finding.action
    [evidence] = finding.evidence["trials"]
    assert evidence["trial"] == data.trial_name(1) and abs(evidence["step"] - 0.6 * MAX_STEPS) <= 50
    assert data.trial_name(1) in finding.message and "trial 1 " not in finding.message
    assert evidence["level_after"] > 3 * evidence["floor"] and evidence["noise_units"] > 10
    json.dumps(finding.to_dict())  # evidence is plain data


@pytest.mark.parametrize("height", [0.5, 1.0, 2.0])
def test_planted_spikes_fire_over_seeds(height):
    planted = lambda rng: study(rng, lambda r: spiked(r, height=height), falling)  # noqa: E731
    assert fire_rate(check_instability, planted) >= 0.95
    assert fire_rate(check_training_loss_increasing, planted) <= 0.05  # it recovers: not a rising loss


def test_spike_in_another_trial_is_info():
    [finding] = check_instability(study(np.random.default_rng(2), falling, falling, spiked))
    assert finding.severity is Severity.INFO and finding.evidence["best_trials"] == []


def test_loss_that_never_declined_or_is_logged_rarely_is_not_judged():
    rng = np.random.default_rng(3)
    flat_then_jump = np.r_[np.full(1000, 2.3), np.full(1000, 4.0)] * np.exp(rng.normal(0, 0.05, 2000))
    assert spike_evidence(Curve(1, np.arange(1, 2001), flat_then_jump)) is None  # no decline came first
    sparse = decay(20, start=2.3, floor=0.1)
    sparse[12] = 2.0
    assert spike_evidence(Curve(1, steps(20), sparse)) is None  # too few points to call anything sudden
    assert rise_evidence(Curve(1, steps(5), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))) is None


def test_other_training_loss_names_are_found():
    rng = np.random.default_rng(4)
    data = make_data([{"depth": 1, "curves": {"loss": rising(rng), "valid/loss": decay(20)}}])
    [finding] = check_training_loss_increasing(data)
    assert finding.evidence["metric"] == "loss"
    assert check_instability(make_data([{"depth": 1, "curves": {"valid/loss": decay(20)}}])) == []


def test_real_digits_mlp_with_a_sane_learning_rate_is_silent():
    for seed in (0, 1):
        curves = train_digits(400, lr=1e-3, seed=seed)
        data = make_data([{"depth": 2, "curves": curves}])
        assert check_training_loss_increasing(data) == []
        assert check_instability(data) == []


def test_real_digits_mlp_whose_learning_rate_jumps_mid_training_is_unstable():
    # Adam at 1e-3 for 400 steps, then 0.1: the loss shoots back up from ~0.05 after a steady decline
    curves = train_digits(600, lr=1e-3, lr_from=(400, 0.1))
    [finding] = check_instability(make_data([{"depth": 2, "curves": curves}]))
    assert finding.severity is Severity.WARNING
    assert 400 <= finding.evidence["trials"][0]["step"] <= 410


def smooth_rise(rng: np.random.Generator, spread: float = 0.01) -> np.ndarray:
    """Issue 13's case: a steady decline, then a smooth, steady rise with little noise (a pipeline bug)."""
    t = steps(STEPS) / steps(STEPS)[-1]
    clean = decay(STEPS, start=2.3, floor=0.3, tau=0.08) + 0.8 * np.clip((t - 0.4) / 0.6, 0, None)
    return clean * np.exp(rng.normal(0.0, spread, STEPS))


def level_jump(rng: np.random.Generator) -> np.ndarray:
    """A jump that stays: at 60 % of training the loss steps up by 0.5 within a few steps and remains."""
    t = steps(STEPS) / steps(STEPS)[-1]
    return falling(rng, 0.05) + 0.5 * (t >= 0.6)


@pytest.mark.parametrize("spread", [0.001, 0.01, 0.05])
def test_a_smooth_sustained_rise_is_increasing_loss_not_instability(spread):
    # the false alarm: with little noise any rise is "many noise units"; against the curve's own
    # pace a steady rise is not sudden, and it is training_loss_increasing alone
    planted = lambda rng: study(rng, lambda r: smooth_rise(r, spread), falling)  # noqa: E731
    assert fire_rate(check_instability, planted, seeds=20) == 0.0
    assert fire_rate(check_training_loss_increasing, planted, seeds=20) == 1.0


def test_a_jump_that_stays_is_instability():
    planted = lambda rng: study(rng, level_jump, falling)  # noqa: E731
    assert fire_rate(check_instability, planted, seeds=20) >= 0.95
    [evidence] = check_instability(planted(np.random.default_rng(0)))[0].evidence["trials"]
    assert abs(evidence["step"] - 0.6 * MAX_STEPS) <= 50 and evidence["pace_units"] > 3


def test_noise_alone_never_looks_sudden():
    assert fire_rate(check_instability, lambda rng: study(rng, falling, falling), seeds=40) <= 0.05
