"""``tunebook advise``: what finished trials say to do next, with the numbers behind it."""

from __future__ import annotations

import json
from typing import Any

import click

from tunebook.cli.options import existing_store, store_option

format_option = click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
                             show_default=True)


def _show(advice: Any, fmt: str) -> None:
    if fmt == "json":
        click.echo(json.dumps(advice.to_dict(), indent=2, default=str))
        return
    click.echo(f"{advice.topic}: {advice.subject}  [{advice.section}]")
    for line in advice.lines:
        click.echo(f"  {line}")
    for warning in advice.warnings:
        click.echo(f"warning: {warning}")
    if advice.next_command:
        click.echo(f"next: {advice.next_command}")


@click.group("advise")
def advise_group() -> None:
    """Read finished trials and say what the playbook does next."""


@advise_group.command("clipping")
@click.argument("trial")
@click.option("--threshold", type=float, default=None, help="Judge this clipping threshold [default: the trial's "
              "grad_clip_norm, else the 90th percentile].")
@store_option
@format_option
def clipping_command(trial: str, threshold: float | None, store_url: str | None, fmt: str) -> None:
    """The p90 gradient clipping threshold of TRIAL's grad_norm, and how many updates a threshold clips.

    TRIAL: EXPERIMENT (its best trial), EXPERIMENT/STUDY, EXPERIMENT/NUMBER or EXPERIMENT/STUDY/NUMBER.
    """
    from tunebook.plans import clipping

    _show(clipping(trial, existing_store(store_url), threshold=threshold), fmt)


@advise_group.command("max-steps")
@click.argument("experiment")
@click.option("--fit", required=True, metavar="METRIC<=VALUE",
              help="When the training set counts as perfectly fit, e.g. train/error<=0 or train/loss<=0.01.")
@store_option
@format_option
def max_steps_command(experiment: str, fit: str, store_url: str | None, fmt: str) -> None:
    """The initial max_train_steps from a finished learning rate sweep, with the boundary check.

    EXPERIMENT must be a sweep of one configuration: only learning_rate (and seed) may vary; anything else
    varying is refused, naming it.
    """
    from tunebook.plans import max_steps

    _show(max_steps(experiment, fit, existing_store(store_url)), fmt)


@advise_group.command("instability")
@click.argument("experiment")
@store_option
@format_option
def instability_command(experiment: str, store_url: str | None, fmt: str) -> None:
    """Which learning rates of EXPERIMENT trained unstably, and the --unstable-lr for tunebook plan warmup.

    lr* is the trial the plan was made from, else the best stable trial by the objective. EXPERIMENT must be a
    sweep of one configuration: only learning_rate (and seed) may vary; anything else varying is refused,
    naming it. Says "too few trials to tell" without a stable lr* or a rate above it.
    """
    from tunebook.plans import instability_advice

    _show(instability_advice(experiment, existing_store(store_url)), fmt)


@advise_group.command("warmup")
@click.argument("experiment")
@click.option("--max-steps", "max_steps", type=int, default=None,
              help="The baseline's max_train_steps [default: the one the warmup plan recorded].")
@store_option
@format_option
def warmup_command(experiment: str, max_steps: int | None, store_url: str | None, fmt: str) -> None:
    """The shortest warmup_steps that trained stably, and how to prepend it to the baseline."""
    from tunebook.plans import warmup_advice

    _show(warmup_advice(experiment, existing_store(store_url), max_train_steps=max_steps), fmt)
