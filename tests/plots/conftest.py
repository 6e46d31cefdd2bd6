import numpy as np
import pytest

from tests.analysis import curve_cases as cc
from tests.analysis import synthetic as syn


@pytest.fixture(scope="session")
def two_studies():
    """Scientific act (relu worse by 0.05), nuisance log lr and linear wd; lr > 0.5 diverges."""
    exp = syn.experiment(nuisance={"lr": syn.LR, "wd": {"low": 0.0, "high": 0.1}},
                         scientific={"act": ["relu", "gelu"]}, trials=20)
    f = syn.quadratic(0.8)
    return syn.sweep(exp, lambda p: None if p["lr"] > 0.5 else f(p) + (0.05 if p["act"] == "relu" else 0.0))


@pytest.fixture(scope="session")
def curve_data():
    """Two depths x 4 trials with train/loss, valid/loss and grad_norm; trial j of a depth is j-th best."""
    rng = np.random.default_rng(0)
    trials = []
    for depth in (1, 2):
        for j in range(4):
            trials.append({"depth": depth, "lr": 10.0 ** -(j + 1), "curves": {
                "train/loss": cc.decay(20, floor=0.2 + 0.1 * j),
                "valid/loss": cc.u_shape(20, floor=0.3 + 0.1 * j + 0.01 * depth),
                "grad_norm": np.abs(cc.noisy(np.full(20, 1.0 + j), 0.3, rng))}})
    trials.append({"depth": 1, "lr": 0.5, "state": "infeasible", "curves": {"valid/loss": np.array([5.0, 9.0])}})
    return cc.make_data(trials)
