"""Bring runs done before tunebook into a store, so that ``tunebook report`` works on history::

    runs = read_runs("old-sweep/", "hparams.json", "eval.csv", step_column="global_step")
    plan = build_plan(runs, name="old-sweep", objective="eval_loss:min", scientific=["depth"])
    with open_store("tunebook.db") as store:
        record_import(store, plan)

Everything is read and validated first (``read_runs``, ``build_plan``):
a bad run raises ImportInputError naming its folder and file, and nothing is
written. ``read_tensorboard_runs`` reads TensorBoard event files instead,
and ``tunebook.importing.mlflow.read_mlflow_runs`` an MLflow experiment
(kept out of this package's imports: it needs the mlflow extra).
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

from tunebook.core.experiment import Experiment
from tunebook.importing.errors import ImportInputError
from tunebook.importing.plan import ImportedTrial, ImportPlan, fit_run, infer_spec, plan_import
from tunebook.importing.record import Outcome, check_absent, outcome, record_import
from tunebook.importing.runs import ImportedRun, LeftOut, read_runs
from tunebook.importing.tensorboard import read_tensorboard_runs

__all__ = [
    "ImportInputError", "ImportPlan", "ImportedRun", "ImportedTrial", "LeftOut", "Outcome", "build_plan", "check_absent",
    "fit_run", "infer_spec", "outcome", "plan_import", "read_runs", "read_tensorboard_runs", "record_import",
]


def build_plan(runs: Sequence[ImportedRun], *, name: str | None, objective: str | None,
               scientific: Sequence[str] = (), fixed: Sequence[str] = (), spec: str | None = None,
               source: str | None = None) -> ImportPlan:
    """The experiment and trials an import writes; ImportInputError/SpecError if the runs do not fit.

    Without ``spec``, roles and domains are inferred from the runs (``name``
    and ``objective`` are then required). With ``spec`` (a YAML file), its
    roles, domains and objective stand; ``name`` and ``objective`` override
    the spec's when given.
    """
    if spec is None:
        if not name or not objective:
            raise ImportInputError("--name and --objective are required without --spec")
        experiment = Experiment.from_dict(infer_spec(name, runs, objective, scientific, fixed, source))
    else:
        if scientific or fixed:
            raise ImportInputError("--scientific/--fixed cannot be combined with --spec: the spec gives the roles")
        experiment = _spec_experiment(spec, name, objective)
    return plan_import(experiment, runs, source)


def _spec_experiment(path: str, name: str | None, objective: str | None) -> Experiment:
    """The spec file's experiment with name/objective overridden, validated except its search.

    The spec's ``search`` (say quasi_random with a budget) described trials
    tunebook would sample; imported trials were not, so only its study layout
    is kept. The real explicit points are known once each run is placed in
    its study (``plan_import``, which validates the whole spec again).
    """
    from pathlib import Path

    from tunebook.core.errors import SpecError
    from tunebook.core.spec import parse_experiment
    from tunebook.core.yaml_loader import load_yaml

    source = str(Path(path).resolve())
    try:
        data = load_yaml(Path(path).read_text(encoding="utf-8"), path)
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"cannot read spec file: {exc}", path) from None
    if not isinstance(data, dict):
        raise SpecError(f"the spec must be a mapping of fields, got {type(data).__name__}", path)
    search = data.get("search") if isinstance(data.get("search"), dict) else {}
    data = dict(data, name=name or data.get("name"), objective=objective or data.get("objective"),
                search={"algorithm": "random", "trials": 1, "studies": search.get("studies", "per_scientific_value")})
    checked = parse_experiment(data, path)
    explicit = dataclasses.replace(checked.search, algorithm="explicit", trials=None)
    return dataclasses.replace(checked, search=explicit, source=source)
