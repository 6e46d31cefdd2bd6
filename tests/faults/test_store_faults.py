"""The store's disk fills up, or the store turns read-only (before a run, or in the middle of one):
the run stops with a message saying what happened and what to do, keeps every acknowledged point,
and a rerun once the disk is fixed finishes every study at exactly its budget.

The disk tests mount a tmpfs (``mount -t tmpfs``), which needs root: skipped otherwise. The
mid-run test chmods the store's file and folder; root writes through file modes, so its runner
runs without the capabilities that let it (``setpriv``), or as an ordinary user.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.execution.harness import TUNEBOOK, all_trials, clean_env, run_cli
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


# root ignores file modes through these capabilities; a runner without them meets chmod as a user does
_FILE_MODE_CAPS = "-dac_override,-dac_read_search,-fowner"


def _as_a_user(argv: list[str]) -> list[str]:
    """``argv`` bound by file modes: as is for a user; for root, without the capabilities that bypass them."""
    if os.geteuid() != 0:
        return argv
    if shutil.which("setpriv") is None:
        pytest.skip("root writes through chmod; dropping that needs setpriv (util-linux)")
    return ["setpriv", "--bounding-set", _FILE_MODE_CAPS, *argv]


def _make_read_only(folder: Path) -> None:
    """chmod a-w on the store's files (database, -wal, -shm) and on their folder."""
    for path in [*folder.iterdir(), folder]:
        path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


def _make_writable(folder: Path) -> None:
    for path in [folder, *folder.iterdir()]:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def _wait_for_acks(acks: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(path.stat().st_size for path in acks.glob("*.acks")):
        assert process.poll() is None, "the run ended before any point was acknowledged"
        assert time.monotonic() < deadline, "no point acknowledged within a minute"
        time.sleep(0.05)


def test_a_store_made_read_only_mid_run_stops_it_with_advice_and_a_rerun_finishes(tmp_path, figures):
    row = figures("store made read-only mid-run (chmod)")
    # 2 studies x 4 trials, 2 at once, each ~2 s of logging: the chmod lands while trials are writing
    acks = write_faulty(tmp_path, steps=200, per_flush=10, pause=0.01)
    spec, folder = faulty_spec(tmp_path, 4), tmp_path / "store"
    folder.mkdir()
    url = f"sqlite:///{folder / 'tunebook.db'}"
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        run = subprocess.Popen(_as_a_user([str(TUNEBOOK), "run", str(spec), "--store", url]), cwd=tmp_path,
                               env=clean_env(), stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        _wait_for_acks(acks, run)
        _make_read_only(folder)
        row.faults += 1
        returncode = run.wait(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
        _make_writable(folder)
    said = log.read_text()
    assert returncode == 1, said
    no_traceback(said)
    assert "the store cannot be written" in said and "make it writable" in said, said
    row.messages += 1
    rerun = run_cli("run", str(spec), "--store", url, cwd=tmp_path, timeout=120)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    check_after(url, acks, 4, row)
    assert all(t.attempt == 0 for t in all_trials(url))  # a read-only store spent no trial's retries
