"""Write run folders the way hand-rolled sweeps leave them, and run the import CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

from tunebook.cli.import_runs import import_group
from tunebook.cli.main import cli, main

STEPS = (0, 100, 200, 300, 400, 500)


def tunebook(*args: str) -> int:
    """Run ``tunebook ARGS`` in process (the import group registered if main.py lacks it)."""
    if "import" not in cli.commands:
        cli.add_command(import_group)
    return main(list(args))


def write_run(root: Path, name: str, params: Any, header: Sequence[str], rows: Sequence[Sequence[Any]],
              params_file: str = "hparams.json", metrics_file: str = "eval.csv") -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / params_file).write_text(json.dumps(params))
    lines = [",".join(header)] + [",".join("" if c is None else str(c) for c in row) for row in rows]
    (folder / metrics_file).write_text("\n".join(lines) + "\n")
    return folder


def planted_loss(lr: float, step: int) -> float:
    """Quadratic in log10(lr) with its optimum at lr = 0.1, improving over training."""
    return (math.log10(lr) + 1.0) ** 2 + 1.0 / (1 + step / 100)


def planted_sweep(root: Path, n: int = 12, depths: Sequence[int] = (4,)) -> list[dict[str, Any]]:
    """``n`` runs per depth: lr log-spread over [1e-4, 1e-2] (below the optimum), an idle weight decay."""
    written = []
    for depth in depths:
        for i in range(n):
            lr = 10 ** (-4 + 2 * ((i * 5) % n) / (n - 1))
            params = {"learning_rate": lr, "weight_decay": 0.1 * ((i * 7) % n) / n + 0.001,
                      "depth": depth, "batch_size": 128, "optimizer": "adam"}
            rows = [(s, planted_loss(lr, s), None if s % 200 else 2.0 - s / 1000) for s in STEPS]
            write_run(root, f"d{depth}-run-{i:02d}", params, ("global_step", "eval_loss", "train_loss"), rows)
            written.append(params)
    return written
