"""The store's disk fills up, or the store turns read-only: the run stops with a message
saying what happened and what to do, keeps every acknowledged point, and a rerun
once the disk is fixed finishes every study at exactly its budget.

Both mount a tmpfs (``mount -t tmpfs``), which needs root: skipped otherwise.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.execution.harness import all_trials, run_cli
from tests.faults.harness import check_after, faulty_spec, no_traceback, write_faulty

pytestmark = pytest.mark.slow


def _mount(*args: str) -> None:
    done = subprocess.run(["mount", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"mount {' '.join(args)}: {done.stderr.strip()}")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs at ``tmp_path/disk``, unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk))
    except RuntimeError as exc:
        pytest.skip(f"cannot mount a tmpfs here: {exc}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def test_a_full_disk_stops_the_run_with_advice_and_a_rerun_finishes(tmp_path, small_disk, figures):
    row = figures("store disk full (2 MiB tmpfs)")
    # 4 trials x 40,000 steps x 2 metrics x 16 bytes: ~5 MiB of points for a 2 MiB disk
    acks = write_faulty(tmp_path, steps=40_000, per_flush=2_000, pause=0.0)
    spec, url = faulty_spec(tmp_path, 2), f"sqlite:///{small_disk / 'tunebook.db'}"
    full = run_cli("run", str(spec), "--store", url, cwd=tmp_path, timeout=300)
    said = full.stdout + full.stderr
    row.faults += 1
    assert full.returncode == 1, said
    no_traceback(said)
    assert "the disk holding the store is full" in said and "run the same command again" in said, said
    row.messages += 1
    _mount("-o", "remount,size=64m", str(small_disk))
    rerun = run_cli("run", str(spec), "--store", url, cwd=tmp_path, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    check_after(url, acks, 2, row)
    assert [t.attempt for t in all_trials(url)] == [0] * 4  # the full disk spent no trial's retries


def test_a_read_only_store_is_refused_untouched_and_a_rerun_finishes(tmp_path, small_disk, figures):
    row = figures("store read-only (ro remount)")
    _mount("-o", "remount,size=64m", str(small_disk))
    acks = write_faulty(tmp_path, steps=10, pause=0.0)
    spec, url = faulty_spec(tmp_path, 1), f"sqlite:///{small_disk / 'tunebook.db'}"
    first = run_cli("run", str(spec), "--store", url, cwd=tmp_path, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    before = sorted((t.id, t.state.value) for t in all_trials(url))
    _mount("-o", "remount,ro", str(small_disk))
    refused = run_cli("run", str(spec), "--store", url, "--trials", "2", cwd=tmp_path, timeout=120)
    said = refused.stdout + refused.stderr
    row.faults += 1
    assert refused.returncode == 1, said
    no_traceback(said)
    assert "the store cannot be written" in said and "make it writable" in said, said
    row.messages += 1
    _mount("-o", "remount,rw", str(small_disk))
    assert sorted((t.id, t.state.value) for t in all_trials(url)) == before  # untouched
    rerun = run_cli("run", str(spec), "--store", url, "--trials", "2", cwd=tmp_path, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    check_after(url, acks, 2, row)
