"""write_plan: reasons as comments, the program's folder relative to the file, never an overwrite without force."""

from __future__ import annotations

from pathlib import Path

import pytest

from tunebook.plans import PlanFileExists, adam, write_plan
from tunebook.plans.records import plan_note, read_plan_note


def test_a_written_plan_is_never_overwritten_without_force(tmp_path: Path):
    path = tmp_path / "a.yaml"
    path.write_text("mine")
    with pytest.raises(PlanFileExists, match="a.yaml already exists; pass --force"):
        write_plan(adam(trials=3), path)
    assert path.read_text() == "mine"
    write_plan(adam(trials=3), path, force=True)
    text = path.read_text()
    assert text.startswith("# tunebook plan adam") and "[How should Adam's hyperparameters be tuned?]" in text


def test_a_plan_note_reads_back():
    notes = "free text\n" + plan_note("warmup", unstable_lr=0.05, max_train_steps=10000, base="e/default/3")
    assert read_plan_note(notes, "warmup") == {"unstable_lr": 0.05, "max_train_steps": 10000, "base": "e/default/3"}
    assert read_plan_note(notes, "instability") == {}
