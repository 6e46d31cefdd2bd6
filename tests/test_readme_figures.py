"""The figures the READMEs quote, recomputed from the code: fails when a quoted figure drifts beyond its noise.

Each test reads the figure out of the README sentence that quotes it (so
editing one without the other fails too), recomputes it the way a user
would (the README's own commands), and compares within the tolerance stated
next to it. About 2 minutes on 2 idle cores (the digits demo's 24 trials, the
probe's 11 runs), hence ``slow``. Left out, being machine-dependent: the
benchmark ratios and timings (README "Benchmarks"), the probe's throughput
figures, and the charlm walk-through (5 minutes of trials; its warmup claim
has its own slow test in tests/examples/test_charlm.py).

Run: ``pytest -m slow tests/test_readme_figures.py -s`` prints every figure measured.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DIGITS_README = ROOT / "examples" / "digits" / "README.md"
VALID_IMAGES = 540  # the digits validation split: error rates move in steps of 1/540
ERROR_TOLERANCE = 2 / VALID_IMAGES  # trials are seeded; torch's threaded kernels can still move an image or two


def quoted(path: Path, pattern: str) -> re.Match:
    """The README sentence matching ``pattern`` (whitespace and line breaks collapsed); fails when it is gone."""
    text = re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))
    found = re.search(pattern, text)
    assert found, f"{path.relative_to(ROOT)} no longer quotes /{pattern}/: update this test with the README"
    return found


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TUNEBOOK_")}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # `python` is this one
    return env


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """The digits demo's experiment, run as the README runs it (tunebook run examples/digits/spec.yaml)."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from tunebook.analysis import load

    home = tmp_path_factory.mktemp("digits")
    url = f"sqlite:///{home / 'tunebook.db'}"
    done = subprocess.run([sys.executable, "-m", "tunebook.cli.main", "run", str(ROOT / "examples/digits/spec.yaml"),
                           "--store", url, "--runs", str(home / "runs")],
                          cwd=home, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return load("digits-depth", url)


def test_the_digits_best_validation_error_per_depth(digits):
    found = quoted(DIGITS_README, r"The best validation error is (\d+\.\d) %, (\d+\.\d) % and (\d+\.\d) % for 1, 2 "
                                  r"and 3 hidden layers \((\d+), (\d+) and (\d+) of the 540 validation images\)")
    best = digits.trials[digits.trials["state"] == "complete"].groupby("study")["objective"].min()
    measured = [best[f"num_layers={depth}"] for depth in (1, 2, 3)]
    print(f"\ndigits best valid/error per depth: {[f'{m:.2%}' for m in measured]}")
    for depth, (percent, images, value) in enumerate(zip(found.groups()[:3], found.groups()[3:], measured), 1):
        assert abs(value - float(percent) / 100) <= 0.0005 + ERROR_TOLERANCE, (depth, percent, value)
        assert abs(round(value * VALID_IMAGES) - int(images)) <= 2, (depth, images, value)


def test_the_digits_divergence_story(digits):
    found = quoted(DIGITS_README, r"2 of each study's 8 trials diverge: Adam at learning rate (\S+) and SGD at (\S+), "
                                  r"both stopped within (\d+) steps")
    adam_lr, sgd_lr, within = float(found[1]), float(found[2]), int(found[3])
    trials = digits.trials
    for study, rows in trials.groupby("study"):
        diverged = rows[rows["state"] == "infeasible"]
        print(f"{study}: diverged {list(zip(diverged['optimizer'], diverged['learning_rate'].round(3), diverged['reason']))}")
        assert sorted(zip(diverged["optimizer"], diverged["learning_rate"].map(lambda v: float(f"{v:.3g}")))) == \
            [("adam", adam_lr), ("sgd", sgd_lr)], study
        steps = [int(re.search(r"at step (\d+)", reason)[1]) for reason in diverged["reason"]]
        assert max(steps) <= within, (study, steps)
    slow = quoted(DIGITS_README, r"SGD at (\S+) stays above (\d+) % error")
    rows = trials[(trials["learning_rate"].map(lambda v: float(f"{v:.2g}")) == float(slow[1]))]
    assert len(rows) == 3 and (rows["objective"] > int(slow[2]) / 100).all(), rows["objective"].tolist()


def test_the_probe_recommendation_on_the_digits_mlp():
    pytest.importorskip("torch")
    found = quoted(README, r"On this 2-core CPU the digits MLP recommended (\d+)")
    block = re.search(r"```sh\n(tunebook probe batch-size .*?)\n```", README.read_text(encoding="utf-8"), re.S)
    assert block, "README no longer shows the probe command"
    args = shlex.split(block[1].replace("\\\n", " "))
    done = subprocess.run([sys.executable, "-m", "tunebook.cli.main", *args[1:3], "--format", "json", *args[3:]],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    recommended = json.loads(done.stdout)["judgement"]["recommended"]
    print(f"probe recommends batch size {recommended} (README: {found[1]})")
    # time per step on a shared CPU is noisy: within one doubling of the quoted batch size
    assert int(found[1]) / 2 <= recommended <= int(found[1]) * 2


def test_the_labeled_sweeps_precision_and_recall(tmp_path: Path):
    from tests.plans.test_instability_labeled import calls, scores

    found = quoted(README, r"On (\d+) labeled sweeps .*? with precision (\d\.\d\d) and recall (\d\.\d\d) \(without the "
                           r"blip margins: (\d\.\d\d) and (\d\.\d\d)\)")
    results = calls(tmp_path)
    precision, recall, _ = scores(results)
    assert len(results) == int(found[1])
    assert (round(precision, 2), round(recall, 2)) == (float(found[2]), float(found[3]))  # deterministic: exact
    import tunebook.plans.stability as stability

    saved = stability.ABS_SHARE, stability.REL_SHARE
    stability.ABS_SHARE = stability.REL_SHARE = 0.0
    try:
        (tmp_path / "bare").mkdir()
        bare = scores(calls(tmp_path / "bare"))
    finally:
        stability.ABS_SHARE, stability.REL_SHARE = saved
    assert (round(bare[0], 2), round(bare[1], 2)) == (float(found[4]), float(found[5]))
