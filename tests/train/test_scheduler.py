"""lr_scheduler: each param group's lr is schedule(step), also after a resume."""

from __future__ import annotations

import io

import pytest
import torch

from tunebook.train import lr_scheduler
from tunebook.train.schedules import LinearDecay, Warmup

SCHEDULE = Warmup(LinearDecay(0.05, decay_steps=4, constant_steps=1), warmup_steps=2)


def test_every_param_group_follows_the_schedule_whatever_its_own_lr():
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 5.0}], lr=1.0)
    scheduler = lr_scheduler(optimizer, SCHEDULE)
    seen = []
    for _ in range(SCHEDULE.total_steps + 1):  # one step past the end stays at the final rate
        seen.append([group["lr"] for group in optimizer.param_groups])
        optimizer.step()
        scheduler.step()
    assert seen == [[pytest.approx(SCHEDULE(k))] * 2 for k in range(SCHEDULE.total_steps + 1)]
    assert seen[0] == [0.0, 0.0] and seen[3] == [0.05, 0.05]


@pytest.mark.parametrize("scheduler_first", [False, True])
def test_loading_a_checkpoint_resumes_at_the_saved_step_in_either_order(scheduler_first):
    p = torch.nn.Parameter(torch.zeros(2))
    optimizer = torch.optim.SGD([p], lr=1.0)
    scheduler = lr_scheduler(optimizer, SCHEDULE)
    for _ in range(4):
        optimizer.step()
        scheduler.step()
    buffer = io.BytesIO()
    torch.save({"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)  # the schedule object is not in the checkpoint

    optimizer = torch.optim.SGD([p], lr=1.0)
    if not scheduler_first:
        optimizer.load_state_dict(saved["optimizer"])
    scheduler = lr_scheduler(optimizer, SCHEDULE)
    scheduler.load_state_dict(saved["scheduler"])
    if scheduler_first:
        optimizer.load_state_dict(saved["optimizer"])
    assert optimizer.param_groups[0]["lr"] == pytest.approx(SCHEDULE(4))
    optimizer.step()
    scheduler.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(SCHEDULE(5))
    assert scheduler.get_last_lr() == [pytest.approx(SCHEDULE(5))]
