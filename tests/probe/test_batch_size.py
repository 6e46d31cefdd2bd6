"""probe_batch_size on real processes: fake_train.py sleeps a controlled time per step
and runs out of memory above a chosen batch size, the way a device would."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tunebook.probe import ProbeError, judge_batch_sizes, probe_batch_size
from tunebook.probe.records import CRASH, OK, OUT_OF_MEMORY, STEP_LINES, TIMEOUT, WALL_TIME

FAKE = str(Path(__file__).with_name("fake_train.py"))
TRAIN = [sys.executable, FAKE, "--batch-size", "{batch_size}", "--steps", "{steps}"]
FAST = dict(steps=8, skip_steps=2, timeout=30)
TIMED = dict(steps=12, skip_steps=2, timeout=30)   # more timed steps where the test judges the timing


def outcomes(probe) -> list[tuple[int, str]]:
    return [(run.batch_size, run.outcome) for run in probe.runs]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_constant_time_per_step_up_to_the_memory_limit():
    probe = probe_batch_size(TRAIN + ["--base", "0.03", "--fits", "8"], **TIMED)
    assert outcomes(probe) == [(1, OK), (2, OK), (4, OK), (8, OK), (16, OUT_OF_MEMORY)]
    for run in probe.runs[:-1]:
        assert run.timing == STEP_LINES and len(run.step_times) == 9
        assert run.time_per_step == pytest.approx(0.03, rel=0.3)
    assert "MemoryError: cannot allocate activations for batch size 16" in probe.runs[-1].output_tail
    judgement = judge_batch_sizes(probe.runs)
    assert judgement.scaling == "ideal" and judgement.recommended == 8 and judgement.limit == 16


def test_time_per_step_proportional_to_the_batch_size_is_a_bottleneck():
    probe = probe_batch_size(TRAIN + ["--base", "0", "--per-example", "0.005"], start=2, max_batch_size=8, **TIMED)
    assert outcomes(probe) == [(2, OK), (4, OK), (8, OK)]
    times = [run.time_per_step for run in probe.runs]
    assert times[1] / times[0] == pytest.approx(2, rel=0.2) and times[2] / times[1] == pytest.approx(2, rel=0.2)
    judgement = judge_batch_sizes(probe.runs)
    assert judgement.bottleneck and judgement.time_grows_from == 2 and judgement.recommended == 2
    assert judgement.stopped_by == "max_batch_size"


@pytest.mark.parametrize("style, exit_code, message", [
    ("cuda", 1, "CUDA out of memory"),
    ("xla", 1, "RESOURCE_EXHAUSTED"),
    ("sigkill", -signal.SIGKILL, ""),
])
def test_framework_messages_and_sigkill_are_out_of_memory(style, exit_code, message):
    probe = probe_batch_size(TRAIN + ["--fits", "1", "--oom", style], **FAST)
    assert outcomes(probe) == [(1, OK), (2, OUT_OF_MEMORY)]
    assert probe.runs[-1].exit_code == exit_code and message in probe.runs[-1].output_tail


def test_any_other_crash_stops_the_probe_as_a_crash_with_its_output():
    probe = probe_batch_size(TRAIN + ["--fits", "2", "--oom", "crash"], **FAST)
    assert outcomes(probe) == [(1, OK), (2, OK), (4, CRASH)]
    assert probe.runs[-1].exit_code == 1
    assert "ValueError: shapes (4,4) and (3,) not aligned" in probe.runs[-1].output_tail


def test_a_program_reading_the_environment_gets_each_batch_size():
    probe = probe_batch_size([sys.executable, FAKE, "--steps", "8", "--fits", "2"], from_env=True, **FAST)
    assert outcomes(probe) == [(1, OK), (2, OK), (4, OUT_OF_MEMORY)]


def test_a_program_that_ignores_steps_is_stopped_once_it_is_past_them():
    started = time.monotonic()
    probe = probe_batch_size([sys.executable, FAKE, "--batch-size", "{batch_size}", "--steps", "100000"],
                             max_batch_size=2, **FAST)
    assert outcomes(probe) == [(1, OK), (2, OK)]
    assert all(run.step_lines == 9 and run.exit_code == -signal.SIGTERM for run in probe.runs)
    assert time.monotonic() - started < 10


def test_text_step_lines_through_a_metrics_regex():
    probe = probe_batch_size(TRAIN + ["--text", "--base", "0.02"], max_batch_size=2,
                             metrics=[r"step (?P<step>\d+) loss: (?P<loss>\S+)"], **FAST)
    assert [run.timing for run in probe.runs] == [STEP_LINES, STEP_LINES]
    assert probe.runs[0].time_per_step == pytest.approx(0.02, rel=0.3)


def test_without_step_lines_the_wall_time_is_used_and_said():
    probe = probe_batch_size(TRAIN + ["--quiet"], max_batch_size=1, **FAST)
    run = probe.runs[0]
    assert run.outcome == OK and run.timing == WALL_TIME and run.step_lines == 0
    assert run.time_per_step == pytest.approx(run.wall_time / 8)
    assert "no step lines" in run.timing_note


def test_a_run_past_its_timeout_is_stopped_with_its_whole_process_group(tmp_path: Path):
    pid_file = tmp_path / "sleeper.pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait  # {{batch_size}}"
    started = time.monotonic()
    probe = probe_batch_size(["sh", "-c", script], steps=8, skip_steps=2, timeout=1)
    assert outcomes(probe) == [(1, TIMEOUT)]
    assert time.monotonic() - started < 10
    sleeper = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while alive(sleeper) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(sleeper)


def test_ctrl_c_stops_the_program(tmp_path: Path):
    pid_file = tmp_path / "train.pid"
    code = textwrap.dedent(f"""
        import sys
        from tunebook.probe import probe_batch_size
        probe_batch_size({TRAIN!r} + ["--startup", "60", "--pid-file", {str(pid_file)!r}], timeout=120)
    """)
    probe = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    train = int(pid_file.read_text())
    assert alive(train)
    probe.send_signal(signal.SIGINT)
    _, stderr = probe.communicate(timeout=15)
    assert "KeyboardInterrupt" in stderr
    deadline = time.monotonic() + 5
    while alive(train) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(train)


def test_a_command_that_cannot_start_is_a_clear_error():
    with pytest.raises(ProbeError, match="cannot start the command 'no-such-trainer'"):
        probe_batch_size(["no-such-trainer", "{batch_size}"], **FAST)


@pytest.mark.parametrize("pattern, message", [
    ("step (?P<step>\\d+", "is not a valid regex"),
    ("step (?P<step>\\d+)", "needs a named group for a number besides 'step'"),
])
def test_bad_metrics_regexes_are_refused_before_running(pattern, message):
    with pytest.raises(ProbeError, match=message):
        probe_batch_size(TRAIN, metrics=[pattern], **FAST)


def test_bad_timeout_is_refused():
    with pytest.raises(ProbeError, match="--timeout must be > 0 seconds, got 0"):
        probe_batch_size(TRAIN, steps=8, skip_steps=2, timeout=0)


def test_a_second_ctrl_c_during_the_grace_period_still_kills_a_program_that_ignores_sigterm(tmp_path: Path):
    pid_file = tmp_path / "train.pid"
    stubborn = ("import os, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "open(sys.argv[1], 'w').write(str(os.getpid())); time.sleep(60)")
    code = textwrap.dedent(f"""
        import sys
        from tunebook.probe import probe_batch_size
        probe_batch_size([sys.executable, "-c", {stubborn!r}, {str(pid_file)!r}, "{{batch_size}}"], timeout=120)
    """)
    probe = subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.05)
    train = int(pid_file.read_text())
    probe.send_signal(signal.SIGINT)
    time.sleep(1.0)   # inside the probe's grace period: the program ignores the SIGTERM
    assert alive(train) and probe.poll() is None
    probe.send_signal(signal.SIGINT)
    probe.communicate(timeout=15)
    deadline = time.monotonic() + 5
    while alive(train) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(train)


def test_a_nan_timeout_is_refused():
    with pytest.raises(ProbeError, match="--timeout must be > 0 seconds, got nan"):
        probe_batch_size(TRAIN, steps=8, skip_steps=2, timeout=float("nan"))
