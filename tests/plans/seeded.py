"""Stores whose configurations were run with several seeds, written as run folders and brought in by
``tunebook import runs`` (the real CLI, a real SQLite file).

Experiment ``lrs`` (objective ``valid_loss``, min; one study ``default``;
trial numbers follow the folders' sorted names):

- ``lrs/default/0..9``: config A (lr 0.1), seeds 0-9, valid_loss ~ N(0.300, 0.005);
- ``lrs/default/10..19``: config B (lr 0.2), seeds 0-9, ~ N(0.280, 0.005): 4 seed sd better than A;
- ``lrs/default/20..29``: config C (lr 0.05), seeds 0-9, like A, but seed 3 diverged (NaN: infeasible);
- ``lrs/default/30..32``: a search's other points (lr 0.01, 0.5, 1.0), seed 0 only, all worse.

Experiment ``wide`` (same objective): a search of 6 learning rates, seed 0
only. Experiment ``acc`` (objective ``valid_acc``, max): two runs.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tunebook.cli.main import main
from tunebook.storage import SQLStore

SEEDS = 10
MEANS = {"a": (0.1, 0.300), "b": (0.2, 0.280), "c": (0.05, 0.300)}
SD = 0.005
A, B, C = "lrs/default/0", "lrs/default/10", "lrs/default/20"


def write_run(root: Path, name: str, params: dict, curves: dict[str, list[float]]) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "hparams.json").write_text(json.dumps(params))
    metrics = list(curves)
    rows = [",".join(["step", *metrics])]
    for i in range(len(curves[metrics[0]])):
        rows.append(",".join([str(100 * i), *(repr(float(curves[m][i])) for m in metrics)]))
    (folder / "eval.csv").write_text("\n".join(rows) + "\n")


def seeded_store(tmp_path: Path, url: str | None = None) -> str:
    """The URL of a store (default: a SQLite file in ``tmp_path``) holding ``lrs``, ``wide`` and ``acc``
    (see the module docstring); the run folders are written under ``tmp_path``."""
    rng = np.random.default_rng(7)
    url = url or f"sqlite:///{tmp_path / 'seeded.db'}"
    lrs, wide, acc = (tmp_path / name for name in ("lrs", "wide", "acc"))
    for config, (lr, mean) in MEANS.items():
        for seed in range(SEEDS):
            final = float("nan") if config == "c" and seed == 3 else float(rng.normal(mean, SD))
            write_run(lrs, f"{config}-s{seed:02d}", {"lr": lr, "seed": seed}, {"valid_loss": [1.0, 0.5, final]})
    for i, (lr, value) in enumerate(((0.01, 0.41), (0.5, 0.35), (1.0, 0.39))):
        write_run(lrs, f"s-{i}", {"lr": lr, "seed": 0}, {"valid_loss": [1.0, 0.6, value]})
    for i, lr in enumerate((0.01, 0.03, 0.1, 0.2, 0.3, 0.6)):
        write_run(wide, f"w-{i}", {"lr": lr, "seed": 0}, {"valid_loss": [1.0, 0.6, 0.3 + abs(np.log10(lr / 0.2)) / 10]})
    for i, lr in enumerate((0.1, 0.2)):
        write_run(acc, f"r-{i}", {"lr": lr, "seed": 0}, {"valid_acc": [0.5, 0.8, 0.9 + i / 100]})
    with SQLStore(url):  # opening creates the store: `tunebook import` on main refuses one that is not there
        pass
    for name, folder, objective in (("lrs", lrs, "valid_loss"), ("wide", wide, "valid_loss"),
                                    ("acc", acc, "valid_acc:max")):
        code = main(["import", "runs", str(folder), "--params", "hparams.json", "--metrics", "eval.csv",
                     "--name", name, "--objective", objective, "--store", url])
        assert code == 0, f"import of {name} failed"
    return url
