"""``tunebook plan``: the playbook's procedures as ready experiment specs, each choice explained."""

from __future__ import annotations

from typing import Any, Callable

import click

from tunebook.cli.options import existing_store, store_option

TRIAL_HELP = "TRIAL: EXPERIMENT (its best trial), EXPERIMENT/STUDY, EXPERIMENT/NUMBER or EXPERIMENT/STUDY/NUMBER."


def _output_options(function: Callable[..., Any]) -> Callable[..., Any]:
    function = click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")(function)
    function = click.option("--name", default=None, help="Experiment name (default: derived from the source).")(function)
    return click.option("--out", "out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
                        help="Where to write the spec [default: NAME.yaml here].")(function)


def _write(plan: Any, out: str | None, force: bool, store_url: str | None = None) -> None:
    """Write the plan's spec and say what is next; ``store_url``: the store its source trial came from.

    The next command names that store, so the new round's trials land beside
    the ones it builds on (TUNEBOOK_STORE, when that named it, applies as is).
    """
    import os
    import shlex

    from tunebook.plans import write_plan
    from tunebook.storage.url import ENV_VAR

    path = write_plan(plan, out or f"{plan.name}.yaml", force=force)
    click.echo(f"wrote {path} (experiment {plan.name}, tunebook plan {plan.kind})")
    for reason in plan.reasons:
        click.echo(f"  - {reason.render()}")
    named = store_url is not None and store_url != os.environ.get(ENV_VAR)
    click.echo(f"next: tunebook run {shlex.quote(str(path))}" + (f" --store {shlex.quote(store_url)}" if named else ""))


@click.group("plan")
def plan_group() -> None:
    """Write a ready experiment spec for one of the playbook's procedures, saying why for each choice."""


@plan_group.command("adam")
@click.option("--trials", type=int, required=True, help="Trials per study: decides which of Adam's hyperparameters to tune.")
@click.option("--from", "spec", type=click.Path(exists=True, dir_okay=False), default=None, metavar="SPEC",
              help="Add Adam's hyperparameters to this spec (kept: its scientific and fixed hyperparameters, run).")
@click.option("--objective", default="valid/loss:min", show_default=True, help="Without --from: METRIC[:min|max].")
@click.option("--function", default="train:train", show_default=True, help="Without --from: the trial function.")
@_output_options
def adam_command(trials: int, spec: str | None, objective: str, function: str, out: str | None, name: str | None,
                 force: bool) -> None:
    """Tune Adam for a budget: < 10 trials the learning rate; 10-25 + beta1; 25+ + eps; 50+ + beta2."""
    from tunebook.plans import adam

    _write(adam(trials, spec, name=name, objective=objective, function=function), out, force)


@plan_group.command("lr-sweep")
@click.argument("spec", type=click.Path(exists=True, dir_okay=False))
@click.option("--low", type=float, default=None, help="Lowest learning rate [default: the spec's range].")
@click.option("--high", type=float, default=None, help="Highest learning rate [default: the spec's range].")
@click.option("--points", type=int, default=None, help="Grid points [default: half a decade apart, at least 5].")
@click.option("--max-steps", "max_steps", type=int, default=None, help="N, the steps of each trial [default: the spec's].")
@click.option("--pin", "pins", multiple=True, metavar="NAME=VALUE", help="Pin a searched hyperparameter (repeatable).")
@_output_options
def lr_sweep_command(spec: str, low: float | None, high: float | None, points: int | None, max_steps: int | None,
                     pins: tuple[str, ...], out: str | None, name: str | None, force: bool) -> None:
    """A constant learning rate grid sweep without regularization, to find an initial max_train_steps."""
    from tunebook.plans import lr_sweep

    plan = lr_sweep(spec, low=low, high=high, points=points, max_train_steps=max_steps, pins=_pins(pins), name=name)
    _write(plan, out, force)


def _pins(pins: tuple[str, ...]) -> dict[str, Any]:
    from tunebook.core.errors import SpecError
    from tunebook.core.yaml_loader import load_yaml

    out = {}
    for text in pins:
        key, sep, value = text.partition("=")
        if not sep or not key.strip():
            raise SpecError([("--pin", f"must be NAME=VALUE, got {text!r}")])
        out[key.strip()] = load_yaml(value)
    return out


@plan_group.command("instability")
@click.argument("trial")
@click.option("--early-out", type=click.Path(dir_okay=False), default=None, metavar="FILE",
              help="Where to write the early-instability check [default: NAME.yaml here].")
@store_option
@_output_options
def instability_command(trial: str, early_out: str | None, store_url: str | None, out: str | None,
                        name: str | None, force: bool) -> None:
    """Runs at 2x, 5x, 10x lr* (TRIAL's learning rate), and ~500 steps at 2x lr* evaluating every step.

    TRIAL: EXPERIMENT (its best trial), EXPERIMENT/STUDY, EXPERIMENT/NUMBER or EXPERIMENT/STUDY/NUMBER.
    """
    from tunebook.plans import early_instability, instability, resolve_trial
    from tunebook.plans.records import check_free

    found = resolve_trial(trial, existing_store(store_url))  # both plans start from this trial: read the store once
    main = instability(found, name=name)
    early = early_instability(found, name=f"{name}-early" if name else None)
    for plan, path in ((main, out), (early, early_out)):  # neither file is written unless both may be
        check_free(path or f"{plan.name}.yaml", force)
    _write(main, out, force, store_url)
    _write(early, early_out, force, store_url)


@plan_group.command("warmup")
@click.option("--unstable-lr", "unstable_lr", type=float, required=True, help="unstable_base_learning_rate.")
@click.option("--from", "base", required=True, metavar="TRIAL", help="The configuration to warm up. " + TRIAL_HELP)
@click.option("--max-steps", "max_steps", type=int, default=None,
              help="The baseline's max_train_steps [default: TRIAL's].")
@click.option("--base-factor", type=float, default=10.0, show_default=True,
              help="base_learning_rate = this x the unstable rate: the playbook says at least 10; any factor > 1 is "
                   "planned, below 10 with a warning.")
@store_option
@_output_options
def warmup_command(unstable_lr: float, base: str, max_steps: int | None, base_factor: float, store_url: str | None,
                   out: str | None, name: str | None, force: bool) -> None:
    """Sweep warmup_steps (10, 100, ... up to 10 % of max_train_steps) at 10x the unstable learning rate
    (--base-factor times it)."""
    from tunebook.plans import warmup
    from tunebook.plans.warmup import BASE_FACTOR, small_factor_warning

    _write(warmup(unstable_lr, max_steps, base, store_url, base_factor=base_factor, name=name), out, force, store_url)
    if base_factor < BASE_FACTOR:
        click.echo(f"warning: {small_factor_warning(base_factor)}", err=True)


@plan_group.command("round2")
@click.argument("trial")
@click.option("--steps", type=int, required=True, help="max_train_steps of the Round 2 run.")
@click.option("--schedule", type=click.Choice(["constant", "linear", "cosine"]), default=None,
              help="The Round 1 schedule, when TRIAL's params do not name it.")
@store_option
@_output_options
def round2_command(trial: str, steps: int, schedule: str | None, store_url: str | None, out: str | None,
                   name: str | None, force: bool) -> None:
    """The best Round 1 configuration trained longer: linear keeps its decay, cosine keeps its base rate.

    TRIAL: EXPERIMENT (its best trial), EXPERIMENT/STUDY, EXPERIMENT/NUMBER or EXPERIMENT/STUDY/NUMBER.
    """
    from tunebook.plans import round2

    _write(round2(trial, steps, existing_store(store_url), schedule=schedule, name=name), out, force, store_url)


@plan_group.command("next")
@click.argument("experiment")
@click.option("--exploit", is_flag=True, help="Switch to algorithm: bayesian, warm-started from EXPERIMENT.")
@click.option("--expand", "expand_by", type=float, default=2.0, show_default=True,
              help="How far past a crowded edge: log ranges x this factor, linear ones by (factor - 1) x width.")
@click.option("--top", type=float, default=0.2, show_default=True, help="The good region: this share of the best trials.")
@click.option("--line", default="main", show_default=True, metavar="NAME",
              help="The launch line whose current baseline (tunebook baseline) gives the fixed values, if any.")
@store_option
@_output_options
def next_command(experiment: str, exploit: bool, expand_by: float, top: float, line: str, store_url: str | None,
                 out: str | None, name: str | None, force: bool) -> None:
    """The next round's spec after EXPERIMENT: ranges expanded, cut or narrowed, insensitive nuisance
    hyperparameters fixed, interacting pairs kept together, each change explained."""
    from tunebook.cli.options import open_cli_store
    from tunebook.plans.base import run_section
    from tunebook.plans.baseline import current_baseline
    from tunebook.plans.next_round import next_round
    from tunebook.plans.reference import load_experiment

    with open_cli_store(store_url) as store:
        record, data = load_experiment(experiment, store, metrics=[])  # trials only: no curve is read
        launched = current_baseline(store, line)
    plan = next_round(data, run=run_section(record.spec.get("run") or {}, record.source), exploit=exploit,
                      expand_by=expand_by, top=top, name=name,
                      baseline=None if launched is None else launched.entry.get("configuration"),
                      baseline_name=None if launched is None else f"{launched.entry.get('trial')}, line {line!r}")
    _write(plan, out, force, store_url)
