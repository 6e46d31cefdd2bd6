"""``tunebook importance EXPERIMENT``: which hyperparameters mattered, which interact, which decide divergence."""

from __future__ import annotations

import json

import click

from tunebook.cli.options import store_option


def _top(value: float) -> float:
    from tunebook.core.errors import SpecError

    if not 0 < value <= 1:
        raise SpecError([("--top", f"must be in (0, 1], the share of best trials, got {value!r}")])
    return value


@click.command("importance")
@click.argument("experiment")
@click.option("--top", type=float, default=0.2, show_default=True,
              help="The good region: this share of the best trials.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the forests and the bootstrap.")
@store_option
def importance_command(experiment: str, top: float, fmt: str, seed: int, store_url: str | None) -> None:
    """Each hyperparameter's share of the objective's variance (fANOVA of a random forest), with 90 % bootstrap
    intervals, over all trials and over the best --top share; pairwise interactions; and which hyperparameters
    decide divergence."""
    from tunebook.analysis.importance import importance
    from tunebook.cli.options import open_cli_store
    from tunebook.plans.reference import load_experiment
    from tunebook.report.importance_section import importance_lines

    _top(top)
    with open_cli_store(store_url) as store:
        _, data = load_experiment(experiment, store, metrics=[])  # trials only: no curve is read
    found = importance(data, top, seed)
    if fmt == "json":
        click.echo(json.dumps(found.to_dict(), indent=2))
        return
    click.echo("\n".join(importance_lines(found)))
    click.echo(f"next: tunebook plan next {experiment}")
