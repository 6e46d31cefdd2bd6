"""The search benchmark's printed tables: regret, wins and losses, targets, divergence, timing."""

from __future__ import annotations

import argparse
import math
import os
import platform
from search_methods import Run
from search_score import (
    best_known, by_cell, diverged_after_initial, end_of_run_seconds, label, normalized, quantiles,
    random_search_regret_scale, wilson_interval, wins_losses,
)

ORDER = ("tunebook-bayesian", "tunebook-quasi-random", "optuna-tpe", "optuna-gp")


def scores(runs: list[Run], references: dict[str, list]) -> dict[str, tuple[float, float]]:
    """Per task: (best known, median regret of random search with 50 trials)."""
    result = {}
    for task, reference in references.items():
        known = best_known(task, runs, reference)
        result[task] = (known, random_search_regret_scale(reference, known))
    return result


def labels(runs: list[Run]) -> list[str]:
    present = {label(r): r for r in runs}
    return sorted(present, key=lambda name: (ORDER.index(present[name].method), present[name].trials))


def fmt(value: float) -> str:
    return "inf" if math.isinf(value) else ("nan" if math.isnan(value) else f"{value:.3f}")


def print_regret(runs: list[Run], scores_: dict[str, tuple[float, float]]) -> None:
    names = labels(runs)
    tasks = list(scores_)
    table = by_cell(runs)
    print("\nNormalized regret (1 = random search's median with 50 trials, 0 = best known), over the cells:")
    print(f"  {'method':<28} {'median':>8} {'q25':>8} {'q75':>8} {'no feasible':>12}")
    for name in names:
        values = [normalized(run, *scores_[task]) for (task, _), run in table[name].items()]
        q25, q50, q75 = quantiles(values)
        print(f"  {name:<28} {fmt(q50):>8} {fmt(q25):>8} {fmt(q75):>8} {sum(map(math.isinf, values)):>12}")
    print("\nMedian normalized regret per task (best known error %, random-50 median regret in points):")
    print("  " + f"{'task':<8} {'best':>6} {'scale':>6} " + " ".join(f"{n:>25}" for n in names))
    for task in tasks:
        known, scale = scores_[task]
        cells = [quantiles([normalized(run, known, scale) for (t, _), run in table[n].items() if t == task])[1]
                 for n in names]
        print("  " + f"{task:<8} {known:6.2f} {scale:6.2f} " + " ".join(f"{fmt(c):>25}" for c in cells))


def print_wins(runs: list[Run]) -> None:
    names = labels(runs)
    table = by_cell(runs)
    print("\nWins / losses / ties per (task, seed) cell, row method against column method:")
    print("  " + f"{'':<28}" + "".join(f"{n[:26]:>27}" for n in names[1:]))
    for i, row in enumerate(names[:-1]):
        cells = [f"{'/'.join(map(str, wins_losses(table[row], table[col])))}" if j > i else ""
                 for j, col in enumerate(names[1:], start=1)]
        print("  " + f"{row:<28}" + "".join(f"{c:>27}" for c in cells))


def win_share(runs: list[Run], a: str, b: str) -> tuple[int, int] | None:
    table = by_cell(runs)
    if a not in table or b not in table:
        return None
    wins, losses, ties = wins_losses(table[a], table[b])
    return wins, wins + losses + ties


def divergence_shares(runs: list[Run]) -> dict[str, tuple[int, int]]:
    table = by_cell(runs)
    return {name: diverged_after_initial(table[name].values()) for name in labels(runs)}


def rivals(base: int) -> tuple[str, str, str, str]:
    """The labels the targets name: bayesian, TPE and GP at ``base`` trials, quasi-random at 4 x ``base``."""
    return (f"tunebook-bayesian-{base}", f"optuna-tpe-{base}", f"optuna-gp-{base}",
            f"tunebook-quasi-random-{4 * base}")


def print_targets(runs: list[Run], diverge: float | None, base: int) -> None:
    bayes, tpe, gp, qr = rivals(base)
    print(f"\nTargets (issue 9): tunebook bayesian with {base} trials (a win share is measured on this grid's "
          "cells; its Wilson interval says how far the true rate may lie)")
    for rival, goal in ((qr, 0.9), (tpe, 0.7)):
        share = win_share(runs, bayes, rival)
        if share is None:
            print(f"  beats {rival} on >= {goal:.0%} of cells: not measured (a method was not run)")
            continue
        wins, cells = share
        verdict = "met" if wins >= goal * cells else f"missed by {math.ceil(goal * cells) - wins} cell(s)"
        low, high = wilson_interval(wins, cells)
        print(f"  beats {rival} on >= {goal:.0%} of cells: {wins}/{cells} = {wins / cells:.0%} "
              f"(95 % interval {low:.0%}-{high:.0%}), {verdict}")
    if diverge is None:
        return
    shares = divergence_shares(runs)
    for rival in (tpe, gp):
        if bayes not in shares or rival not in shares:
            print(f"  diverges at most half as often as {rival}: not measured (a method was not run)")
            continue
        mine, theirs = (d / n if n else math.nan for d, n in (shares[bayes], shares[rival]))
        verdict = "met" if mine <= theirs / 2 else f"missed: {mine:.1%} > half of {theirs:.1%}"
        print(f"  diverges at most half as often as {rival} after the initial design: "
              f"{mine:.1%} against {theirs:.1%}, {verdict}")


def print_divergence(runs: list[Run], references: dict[str, list], diverge: float) -> None:
    reference = [e for errors in references.values() for e in errors]
    share = sum(e is None for e in reference) / len(reference)
    print(f"\nDivergence: learning_rate / (1 - momentum) > {diverge} covers {share:.1%} of the space "
          f"({len(reference)} uniform points)")
    print("  share of each method's trials after its initial design that diverged:")
    for name, (diverged, counted) in divergence_shares(runs).items():
        rate = diverged / counted if counted else math.nan
        print(f"  {name:<28} {diverged:>6}/{counted:<6} = {rate:6.1%}")


def print_timing(runs: list[Run], base: int) -> None:
    table = by_cell(runs)
    print(f"\nSeconds per suggestion, median over the last 10 suggestions of each {base}-trial run:")
    for name in rivals(base)[:3]:
        if name in table:
            seconds = end_of_run_seconds(table[name].values())
            print(f"  {name:<28} {seconds:.3f} s")


def print_all(runs: list[Run], references: dict[str, list], scores_: dict[str, tuple[float, float]],
              args: argparse.Namespace, seconds: float, resumed: int = 0) -> None:
    """Every table; the first line's seconds are this process's (runs taken from --resume not included)."""
    cells = len(args.tasks) * len(args.seeds)
    print(f"\n{args.surrogate} surrogate, tasks {' '.join(args.tasks)} x seeds "
          f"{' '.join(map(str, args.seeds))} = {cells} cells; diverge: {args.diverge}; "
          f"{seconds:.0f} s with {args.jobs} job(s) on {os.cpu_count()} cores ({platform.processor() or platform.machine()})"
          + (f", {resumed} runs resumed from earlier processes" if resumed else ""))
    print_regret(runs, scores_)
    print_wins(runs)
    print_targets(runs, args.diverge, args.trials)
    if args.diverge is not None:
        print_divergence(runs, references, args.diverge)
    print_timing(runs, args.trials)
