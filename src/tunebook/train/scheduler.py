"""Drive a torch optimizer's learning rate from a tunebook schedule.

    scheduler = lr_scheduler(optimizer, schedule)   # every group's lr = schedule(0) now
    for step in range(schedule.total_steps):
        ...; optimizer.step(); scheduler.step()     # update `step` used schedule(step)

The update with 0-based index ``k`` runs at ``schedule(k)``, the convention of
``tunebook.train.schedules``. The schedule is not part of ``state_dict()``
(only the step count is), so checkpoints load with ``torch.load(...,
weights_only=True)``; rebuild the scheduler from the trial's params and then
``load_state_dict`` to resume at the saved step (which also sets every
group's ``lr`` to the schedule's rate there, whatever order the optimizer and
scheduler were restored in).
"""

from __future__ import annotations

from typing import Any, Callable

from tunebook.core.imports import require

torch = require("torch", "train", "tunebook.train.lr_scheduler")

__all__ = ["ScheduleLR", "lr_scheduler"]


class ScheduleLR(torch.optim.lr_scheduler.LRScheduler):
    """Sets every param group's ``lr`` to ``schedule(self.last_epoch)`` (``last_epoch`` counts steps)."""

    def __init__(self, optimizer: "torch.optim.Optimizer", schedule: Callable[[int], float],
                 last_epoch: int = -1) -> None:
        self.schedule = schedule
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        rate = float(self.schedule(self.last_epoch))
        return [rate for _ in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """The step count and torch's bookkeeping, without the schedule (rebuilt from params)."""
        return {key: value for key, value in super().state_dict().items() if key != "schedule"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Resume at the saved step: every group's ``lr`` becomes ``schedule(saved step)`` at once."""
        super().load_state_dict(state_dict)
        rates = self.get_lr()
        for group, rate in zip(self.optimizer.param_groups, rates):
            group["lr"] = rate
        self._last_lr = rates


def lr_scheduler(optimizer: "torch.optim.Optimizer", schedule: Callable[[int], float]) -> ScheduleLR:
    """A scheduler that makes each param group's ``lr`` equal ``schedule(step)``; call ``step()`` after each update."""
    return ScheduleLR(optimizer, schedule)
