"""The one noise model per curve that every curve check asks (analysis/checks/noise.py)."""

from __future__ import annotations

import numpy as np
import pytest

from tunebook.analysis.checks.noise import SCALE, measure_scale, noise_model

from .curve_cases import decay


def test_it_reads_the_noise_of_independent_points_around_a_falling_trend():
    rng = np.random.default_rng(0)
    reads = [noise_model(decay(200) + 0.05 * rng.normal(size=200)).measured() for _ in range(200)]
    assert np.mean(reads) == pytest.approx(0.05, rel=0.05)  # unbiased, the trend cancelled
    assert measure_scale(seed=3) == pytest.approx(SCALE, rel=0.01)


def test_each_stretch_reads_its_own_noise():
    rng = np.random.default_rng(1)
    sigma = np.r_[np.full(100, 0.002), np.full(100, 0.05)]  # quiet early, noisy late
    model = noise_model(decay(200) + sigma * rng.normal(size=200))
    assert model.measured(0, 100) == pytest.approx(0.002, rel=0.5)
    assert model.measured(100) == pytest.approx(0.05, rel=0.3)
    assert model.measured(100) > 10 * model.measured(0, 100)


def test_spikes_and_divergence_do_not_move_it():
    rng = np.random.default_rng(2)
    clean = decay(300) + 0.02 * rng.normal(size=300)
    spiky = clean.copy()
    spiky[::15] += 5.0  # one point in 15 is a hard batch
    spiky[-20:] = np.geomspace(1, 1e6, 20)  # and the run diverges at the end
    plain, hit = noise_model(clean).measured(0, 280), noise_model(spiky).measured(0, 280)
    assert hit == pytest.approx(plain, rel=0.35)


def test_before_is_the_same_number_as_asking_about_that_stretch():
    rng = np.random.default_rng(3)
    model = noise_model(decay(200) + 0.03 * rng.normal(size=200))
    before = model.before(20)
    for t in (40, 100, 180):
        assert before[t] == pytest.approx(model.sigma(t - 20, t), rel=1e-9)


def test_a_quantized_metric_never_reads_less_than_its_quantum_and_sticky_noise_shows_in_scatter():
    error = np.round((decay(100, start=0.9, floor=0.05) + 0.02 * np.random.default_rng(4).normal(size=100)) * 100) / 100
    model = noise_model(error)
    assert model.sigma() >= 0.01 - 1e-12 and model.quantum == pytest.approx(0.01)
    flat = noise_model(np.full(50, 0.3))
    assert flat.measured() == 0.0  # no movement, no noise
    sticky = np.repeat(0.1 + 0.03 * np.random.default_rng(5).normal(size=30), 10)  # levels held 10 evaluations
    assert noise_model(sticky).scatter() > 3 * noise_model(sticky).measured()
