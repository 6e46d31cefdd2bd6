"""The playbook optimizers, step by step, against a numpy transcription of the FAQ's update rules.

The reference functions below are written from the playbook FAQ "What are the
update rules for all the popular optimization algorithms?", one line per
formula, independent of the torch code under test. Runs use float64, a real
loss with real gradients (a random quadratic), several steps, and a learning
rate schedule driven through ``lr_scheduler`` so ``lr`` changes every step.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch

from tunebook.train import Adam, Momentum, NAdam, Nesterov, RMSProp, SGD, lr_scheduler
from tunebook.train.optimizers import OptimizerError, optimizer_from_params
from tunebook.train.schedules import Constant, LinearDecay, Warmup

DIM, STEPS = 5, 6
SCHEDULE = Warmup(LinearDecay(0.05, decay_steps=4, constant_steps=1), warmup_steps=2)  # 7 steps, lr(0) = 0


def problem(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(DIM, DIM))
    return a @ a.T / DIM + np.eye(DIM), rng.normal(size=DIM), rng.normal(size=DIM)  # H, b, theta0


def grad(h, b, theta):  # l(theta) = 0.5 theta' H theta - b' theta
    return h @ theta - b


# --- the FAQ, transcribed -------------------------------------------------------------------------

def ref_sgd(theta, g, s, t, eta):
    return theta - eta * g


def ref_momentum(theta, g, s, t, eta, gamma=0.9):
    s["v"] = gamma * s.get("v", 0.0) + g
    return theta - eta * s["v"]


def ref_nesterov(theta, g, s, t, eta, gamma=0.9):
    s["v"] = gamma * s.get("v", 0.0) + g
    return theta - eta * (gamma * s["v"] + g)


def ref_rmsprop(theta, g, s, t, eta, rho=0.9, gamma=0.0, eps=1e-8):
    s["v"] = rho * s.get("v", 1.0) + (1 - rho) * g**2
    s["m"] = gamma * s.get("m", 0.0) + eta / np.sqrt(s["v"] + eps) * g
    return theta - s["m"]


def ref_adam(theta, g, s, t, alpha, beta1=0.9, beta2=0.999, eps=1e-8):
    s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
    s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g**2
    b = np.sqrt(1 - beta2 ** (t + 1)) / (1 - beta1 ** (t + 1))
    return theta - alpha * s["m"] / (np.sqrt(s["v"]) + eps) * b


def ref_nadam(theta, g, s, t, alpha, beta1=0.9, beta2=0.999, eps=1e-8):
    s["m"] = beta1 * s.get("m", 0.0) + (1 - beta1) * g
    s["v"] = beta2 * s.get("v", 0.0) + (1 - beta2) * g**2
    b = np.sqrt(1 - beta2 ** (t + 1)) / (1 - beta1 ** (t + 1))
    return theta - alpha * (beta1 * s["m"] + (1 - beta1) * g) / (np.sqrt(s["v"]) + eps) * b


def run_reference(update, steps=STEPS, schedule=SCHEDULE, **hyper):
    h, b, theta = problem()
    state, path = {}, [theta]
    for t in range(steps):
        theta = update(theta, grad(h, b, theta), state, t, schedule(t), **hyper)
        path.append(theta)
    return np.array(path)


def run_torch(make, steps=STEPS, schedule=SCHEDULE):
    """Train the same quadratic with a torch optimizer ``make([theta])``, lr driven by ``schedule``."""
    h, b, theta0 = (torch.tensor(x, dtype=torch.float64) for x in problem())
    theta = torch.nn.Parameter(theta0.clone())
    optimizer = make([theta])
    scheduler = lr_scheduler(optimizer, schedule)
    path = [theta.detach().clone()]
    for _ in range(steps):
        loss = 0.5 * theta @ h @ theta - b @ theta
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        path.append(theta.detach().clone())
    return torch.stack(path).numpy()


CASES = {
    "sgd": (lambda p: SGD(p, lr=1.0), ref_sgd, {}),
    "momentum": (lambda p: Momentum(p, lr=1.0, momentum=0.8), ref_momentum, {"gamma": 0.8}),
    "nesterov": (lambda p: Nesterov(p, lr=1.0, momentum=0.8), ref_nesterov, {"gamma": 0.8}),
    "rmsprop": (lambda p: RMSProp(p, lr=1.0, rho=0.7, momentum=0.5, eps=1e-3), ref_rmsprop,
                {"rho": 0.7, "gamma": 0.5, "eps": 1e-3}),
    "adam": (lambda p: Adam(p, lr=1.0, beta1=0.8, beta2=0.99, eps=1e-2), ref_adam,
             {"beta1": 0.8, "beta2": 0.99, "eps": 1e-2}),
    "nadam": (lambda p: NAdam(p, lr=1.0, beta1=0.8, beta2=0.99, eps=1e-2), ref_nadam,
              {"beta1": 0.8, "beta2": 0.99, "eps": 1e-2}),
}


@pytest.mark.parametrize("name", CASES)
def test_each_optimizer_follows_the_faq_step_by_step(name):
    make, reference, hyper = CASES[name]
    ours, expected = run_torch(make), run_reference(reference, **hyper)
    assert not np.allclose(ours[-1], ours[0])  # it trained
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", CASES)
def test_the_first_update_of_a_warmup_moves_nothing_and_the_rest_follow_the_schedule(name):
    path = run_torch(CASES[name][0], steps=2)
    assert np.array_equal(path[1], path[0])  # lr(0) = 0
    assert not np.array_equal(path[2], path[1])


# --- where the playbook's rule and torch's built-in coincide ---------------------------------------

@pytest.mark.parametrize("ours, theirs", [
    (lambda p: SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda p: Momentum(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda p: Nesterov(p, lr=0.1, momentum=0.9),
     lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    (lambda p: Adam(p, lr=0.1, beta1=0.9, beta2=0.999, eps=0.0),
     lambda p: torch.optim.Adam(p, lr=0.1, betas=(0.9, 0.999), eps=0.0)),
], ids=["sgd", "momentum", "nesterov", "adam-eps0"])
def test_coincides_with_torch_where_the_rules_agree(ours, theirs):
    schedule = Constant(0.1, STEPS)
    np.testing.assert_allclose(run_torch(ours, schedule=schedule), run_torch(theirs, schedule=schedule),
                               rtol=1e-12, atol=1e-12)


def test_momentum_matches_torch_even_under_a_schedule_because_neither_velocity_holds_lr():
    np.testing.assert_allclose(run_torch(lambda p: Momentum(p, lr=1.0, momentum=0.9)),
                               run_torch(lambda p: torch.optim.SGD(p, lr=1.0, momentum=0.9)), rtol=1e-12)


# --- where they differ, as documented ------------------------------------------------------------------

def first_step(make, g):
    theta = torch.nn.Parameter(torch.zeros_like(g))
    optimizer = make([theta])
    theta.grad = g.clone()
    optimizer.step()
    return -theta.detach()


def test_rmsprop_first_step_differs_from_torch_because_v_starts_at_one():
    g = torch.tensor([0.01, 1.0, -2.0], dtype=torch.float64)
    ours = first_step(lambda p: RMSProp(p, lr=0.1, rho=0.9, eps=0.0), g)
    theirs = first_step(lambda p: torch.optim.RMSprop(p, lr=0.1, alpha=0.9, eps=0.0), g)
    np.testing.assert_allclose(ours, 0.1 * g / torch.sqrt(0.9 + 0.1 * g**2))  # v_1 = 0.9 * 1 + 0.1 g^2
    np.testing.assert_allclose(theirs, 0.1 * torch.sign(g) * np.sqrt(10))     # v_1 = 0.1 g^2
    assert abs(ours[0]) < 0.002 and abs(theirs[0]) > 0.3  # a tiny gradient takes a tiny step here only


def test_adam_with_eps_differs_from_torch_most_in_the_first_steps():
    g = torch.tensor([1e-3, 0.5], dtype=torch.float64)
    ours = first_step(lambda p: Adam(p, lr=0.1, eps=1e-3), g)
    theirs = first_step(lambda p: torch.optim.Adam(p, lr=0.1, eps=1e-3), g)
    # first step: m = 0.1 g, sqrt(v) = sqrt(0.001)|g|, b = sqrt(0.001) / 0.1
    np.testing.assert_allclose(ours, 0.1 * g / (np.sqrt(1e-3) * g.abs() + 1e-3) * np.sqrt(1e-3))
    np.testing.assert_allclose(theirs, 0.1 * g / (g.abs() + 1e-3))  # eps after bias correction
    assert ours[0] < 0.6 * theirs[0]


def test_nadam_is_not_torchs_nadam():
    make = lambda p: NAdam(p, lr=0.1)  # noqa: E731
    ours = run_torch(make, schedule=Constant(0.1, STEPS))
    theirs = run_torch(lambda p: torch.optim.NAdam(p, lr=0.1), schedule=Constant(0.1, STEPS))
    np.testing.assert_allclose(ours, run_reference(ref_nadam, schedule=Constant(0.1, STEPS)), rtol=1e-12)
    assert not np.allclose(ours[1:], theirs[1:], rtol=1e-3)


# --- state, groups and params ------------------------------------------------------------------------

@pytest.mark.parametrize("name", CASES)
def test_state_dict_resumes_exactly_through_a_weights_only_checkpoint(name):
    make = CASES[name][0]
    straight = run_torch(make, steps=6)
    h, b, theta0 = (torch.tensor(x, dtype=torch.float64) for x in problem())
    theta = torch.nn.Parameter(theta0.clone())

    def train(optimizer, scheduler, steps):
        for _ in range(steps):
            optimizer.zero_grad()
            (0.5 * theta @ h @ theta - b @ theta).backward()
            optimizer.step()
            scheduler.step()

    optimizer = make([theta])
    scheduler = lr_scheduler(optimizer, SCHEDULE)
    train(optimizer, scheduler, 3)
    buffer = io.BytesIO()
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    optimizer = make([theta])
    optimizer.load_state_dict(saved["optimizer"])
    scheduler = lr_scheduler(optimizer, SCHEDULE)
    scheduler.load_state_dict(saved["scheduler"])
    train(optimizer, scheduler, 3)
    np.testing.assert_allclose(theta.detach().numpy(), straight[-1], rtol=1e-12)


def test_parameters_without_gradients_are_left_alone():
    used, unused = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    optimizer = Momentum([used, unused], lr=0.1)
    used.grad = torch.ones(2)
    optimizer.step()
    assert torch.equal(unused, torch.ones(2)) and not torch.equal(used, torch.ones(2))
    assert unused not in optimizer.state


@pytest.mark.parametrize("make, field, value", [
    (lambda p: SGD(p, lr=-0.1), "lr", "-0.1"),
    (lambda p: Momentum(p, lr=0.1, momentum=1.0), "momentum", "1.0"),
    (lambda p: RMSProp(p, lr=0.1, rho=float("nan")), "rho", "nan"),
    (lambda p: Adam(p, lr=0.1, beta2=1.5), "beta2", "1.5"),
    (lambda p: NAdam(p, lr=0.1, eps=-1e-8), "eps", "-1e-08"),
    (lambda p: Adam([{"params": p, "beta1": -0.5}], lr=0.1), "beta1", "-0.5"),
])
def test_bad_hyperparameters_name_the_field_and_value(make, field, value):
    with pytest.raises(OptimizerError, match=f"{field}: must be a number in .*, got {value}"):
        make([torch.nn.Parameter(torch.zeros(1))])


def test_optimizer_from_params_reads_the_shared_vocabulary():
    p = [torch.nn.Parameter(torch.zeros(1))]
    optimizer = optimizer_from_params(p, {"optimizer": "adam", "learning_rate": 0.01, "beta1": 0.8, "eps": None,
                                          "momentum": 0.5, "batch_size": 32})
    assert isinstance(optimizer, Adam)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["beta1"], group["beta2"], group["eps"]) == (0.01, 0.8, 0.999, 1e-8)
    assert isinstance(optimizer_from_params(p, {"optimizer": "rmsprop", "learning_rate": 0.1, "rho": 0.5}), RMSProp)


def test_optimizer_from_params_names_bad_params():
    p = [torch.nn.Parameter(torch.zeros(1))]
    with pytest.raises(OptimizerError, match="optimizer: must be one of sgd, momentum, .*got 'adamw'"):
        optimizer_from_params(p, {"optimizer": "adamw", "learning_rate": 0.1})
    with pytest.raises(OptimizerError, match="learning_rate: must be a number in .*got -1"):
        optimizer_from_params(p, {"optimizer": "sgd", "learning_rate": -1})
    with pytest.raises(OptimizerError, match="learning_rate: is required"):
        optimizer_from_params(p, {"optimizer": "sgd"})
