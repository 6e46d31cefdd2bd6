"""Regenerate ``corpus.json.gz``: train every case of ``cases.CASES`` and store its curves and labels.

Run from the repository root (about 15 CPU-minutes on one core)::

    PYTHONPATH=src python -m tests.analysis.corpus.make_corpus [--only SUBSTRING] [--jobs N]

Every run is seeded, so the curves are reproducible on one machine and torch
version (another version can move a spike by some steps: look at the curves
again, ``python -m tests.analysis.corpus.view``, before trusting the labels).
Values are stored with ``DIGITS`` significant digits.
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import time
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Mapping

from tests.analysis.corpus.cases import CASES, Case
from tests.analysis.corpus.harness import CORPUS
from tests.analysis.corpus.runs import DEFAULTS, train_run

DIGITS = 5
SPEC_NAMES = {"lr": "learning_rate", "steps": "max_train_steps"}  # the playbook's names in the spec
LR_RANGE = {"low": 1e-4, "high": 1.0, "scale": "log"}


def encode(steps: Any, values: Any) -> dict[str, Any]:
    """A curve logged at ``every, 2 * every, ...`` as ``{"every", "values"}`` rounded to ``DIGITS``."""
    every = int(steps[0])
    if any(int(s) != every * (i + 1) for i, s in enumerate(steps)):
        raise ValueError(f"curve steps are not every {every} steps from {every}")
    return {"every": every, "values": [float(f"{v:.{DIGITS}g}") for v in values]}


def _spec_value(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def sections(case: Case) -> tuple[dict[str, Any], dict[str, Any]]:
    """(nuisance, fixed) of a case: the learning rate and whatever varies between its trials
    (other than the scientific hyperparameter) are nuisance; the other run settings are fixed."""
    configs = [{**DEFAULTS, **run} for run in case.runs]
    scientific = set(case.scientific or {})
    nuisance: dict[str, Any] = {"learning_rate": LR_RANGE}
    fixed: dict[str, Any] = {}
    for key in DEFAULTS:
        name = SPEC_NAMES.get(key, key)
        seen = list(dict.fromkeys(json.dumps(_spec_value(c[key])) for c in configs))
        if key in scientific or key == "lr":
            continue
        if len(seen) > 1:
            nuisance[name] = [json.loads(v) for v in seen]
        elif configs[0][key] is not None:
            fixed[name] = _spec_value(configs[0][key])
    return nuisance, fixed


def build_entry(case: Case, curves: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The stored entry of a case from its runs' curves."""
    nuisance, fixed = sections(case)
    varying = [k for k in DEFAULTS if SPEC_NAMES.get(k, k) in nuisance or k in (case.scientific or {})]
    trials = []
    for run, run_curves in zip(case.runs, curves):
        config = {**DEFAULTS, **run}
        params = {SPEC_NAMES.get(k, k): _spec_value(config[k]) for k in varying}
        trials.append({"params": params, "curves": {m: encode(*sv) for m, sv in run_curves.items()
                                                    if m in case.metrics}})
    return {
        "id": case.id, "case": case.case, "model": case.runs[0].get("model", DEFAULTS["model"]), "note": case.note,
        "objective": {"metric": case.metric, "mode": "min"}, "scientific": case.scientific, "nuisance": nuisance,
        "fixed": fixed, "labels": dict(case.labels), "trials": trials,
    }


def _train(run: Mapping[str, Any]) -> dict[str, Any]:
    return train_run(run)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="regenerate only the cases whose id contains this (others kept as stored)")
    parser.add_argument("--jobs", type=int, default=1, help="training processes side by side")
    parser.add_argument("--relabel", action="store_true",
                        help="train only the cases not stored yet; copy cases.py's labels and notes onto the others")
    args = parser.parse_args(argv)
    kept: dict[str, Any] = {}
    if (args.only or args.relabel) and CORPUS.exists():
        from tests.analysis.corpus.harness import load_corpus

        kept = {e["id"]: e for e in load_corpus()}
    chosen = [c for c in CASES if (not args.only or args.only in c.id) and not (args.relabel and c.id in kept)]
    if args.relabel:
        for case in CASES:
            if case.id in kept:
                kept[case.id].update(labels=dict(case.labels), note=case.note)
    began = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = {c.id: [pool.submit(_train, run) for run in c.runs] for c in chosen}
        for case in chosen:
            kept[case.id] = build_entry(case, [f.result() for f in futures[case.id]])
            print(f"{case.id}: {len(case.runs)} run(s), {time.perf_counter() - began:.0f} s", flush=True)
    ordered = [kept[c.id] for c in CASES if c.id in kept]
    text = json.dumps({"version": 1, "entries": ordered}, separators=(",", ":"))
    with gzip.GzipFile(CORPUS, "wb", compresslevel=9, mtime=0) as handle:  # mtime 0: same bytes every time
        handle.write(text.encode("utf-8"))
    cpu = sum(resource.getrusage(who).ru_utime for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(f"wrote {len(ordered)} entries to {CORPUS} ({CORPUS.stat().st_size / 1024:.0f} KiB); "
          f"trained {len(chosen)} case(s) in {cpu / 60:.1f} CPU-minutes")


if __name__ == "__main__":
    main()
