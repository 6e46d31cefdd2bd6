"""One torch thread per test process: the tiny tensors here gain nothing from more, and on
shared cores extra threads only contend (a 60-step model went from 0.1 s to 10 s)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    try:
        import torch
    except ImportError:  # the pure-Python tests (schedules, seeds) still run
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
