"""judge_batch_sizes and advise on synthetic measurements: the playbook's cases by construction."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tunebook.probe import advise, judge_batch_sizes
from tunebook.probe.advice import BOTTLENECK, RETUNE
from tunebook.probe.records import CRASH, OK, OUT_OF_MEMORY, STEP_LINES, TIMEOUT, WALL_TIME, BatchSizeRun


def measured(time_per_step, sizes, end: str | None = None, exit_code: int = 1) -> list[BatchSizeRun]:
    """Runs at ``sizes`` with ``time_per_step(b)`` seconds, then one more size ending in ``end``."""
    runs = [BatchSizeRun(b, OK, time_per_step(b), STEP_LINES) for b in sizes]
    if end is not None:
        runs.append(BatchSizeRun(sizes[-1] * 2, end, exit_code=exit_code, output_tail="boom"))
    return runs


POWERS = [1, 2, 4, 8, 16, 32, 64]


def test_flat_time_per_step_is_ideal_scaling_and_recommends_the_largest_that_fits():
    runs = measured(lambda b: 0.010, POWERS, end=OUT_OF_MEMORY)
    j = judge_batch_sizes(runs)
    assert (j.recommended, j.feasible_max, j.limit, j.stopped_by) == (64, 64, 128, OUT_OF_MEMORY)
    assert j.scaling == "ideal" and not j.bottleneck
    assert [r.scaling for r in j.rows[1:-1]] == ["ideal"] * 6
    assert j.rows[1].gain == pytest.approx(1.0)
    assert j.rows[-1].time_per_step is None and j.rows[-1].outcome == OUT_OF_MEMORY
    words = "\n".join(advise(j, runs))
    assert "Recommended batch size: 64" in words
    assert "128 ran out of memory" in words
    assert "Gradient accumulation" in words
    assert RETUNE in words


def test_linear_time_per_step_flags_a_bottleneck_from_the_smallest_size():
    runs = measured(lambda b: 0.002 * b, POWERS, end=OUT_OF_MEMORY)
    j = judge_batch_sizes(runs)
    assert j.recommended == 1 and j.feasible_max == 64
    assert j.scaling == "linear" and j.bottleneck and j.time_grows_from == 1
    assert all(r.gain == pytest.approx(0.0) for r in j.rows[1:-1])
    words = "\n".join(advise(j, runs))
    assert BOTTLENECK in words and "Optimizing the input pipeline" in words
    assert "Only consider batch sizes up to 1, even though 64 fits" in words


def test_saturating_time_per_step_recommends_where_throughput_stops_rising():
    runs = measured(lambda b: 0.010 * max(1.0, b / 16), POWERS, end=OUT_OF_MEMORY)
    j = judge_batch_sizes(runs)
    assert j.recommended == 16 and j.feasible_max == 64
    assert j.scaling == "saturating" and j.time_grows_from == 16 and j.bottleneck
    assert [r.scaling for r in j.rows[1:-1]] == ["ideal"] * 4 + ["none"] * 2
    words = "\n".join(advise(j, runs))
    assert "Throughput rises up to 16, then the " + BOTTLENECK in words


def test_overhead_that_grows_with_the_batch_is_diminishing_returns_down_to_the_threshold():
    time = lambda b: 0.005 + 0.0002 * b  # noqa: E731  throughput gain per doubling shrinks: 16 % at 64 -> 128
    runs = measured(time, POWERS + [128])
    j = judge_batch_sizes(runs)
    assert j.recommended == 128 and j.scaling == "diminishing" and not j.bottleneck
    assert "Throughput rises from 1 to 128, though by less than double" in "\n".join(advise(j, runs))
    # one more doubling gains under 10 %: no longer recommended, and time grows from 128 on
    j = judge_batch_sizes(measured(time, POWERS + [128, 256]))
    assert j.recommended == 128 and j.time_grows_from == 128
    assert j.stopped_by == "max_batch_size"


def test_gains_under_the_threshold_past_the_recommendation_are_said():
    # throughput 100, 200, 400, then 370 (-7.5 %) and 425: +15 % over 8's, but only +6 % over 4's
    times = {1: 0.010, 2: 0.010, 4: 0.010, 8: 8 / 370, 16: 16 / 425}
    runs = measured(times.get, [1, 2, 4, 8, 16])
    j = judge_batch_sizes(runs)
    assert j.recommended == 4 and j.scaling == "diminishing"
    assert "Throughput rises up to 4; past it, larger batch sizes raise it by less than 10%" in "\n".join(advise(j, runs))


def test_min_gain_is_the_threshold_for_a_meaningful_gain():
    time = lambda b: 0.005 + 0.0002 * b  # noqa: E731
    runs = measured(time, POWERS + [128])
    assert judge_batch_sizes(runs, min_gain=0.10).recommended == 128
    assert judge_batch_sizes(runs, min_gain=0.20).recommended == 64   # 64 -> 128 gains 16 %
    with pytest.raises(ValueError, match="min_gain"):
        judge_batch_sizes(runs, min_gain=0)


def test_a_noisy_plateau_does_not_move_the_recommendation_but_a_real_jump_does():
    plateau = {32: 0.0200, 64: 0.0380, 128: 0.0800}   # after 16: throughput flat, +5 %, back to flat
    runs = measured(lambda b: plateau.get(b, 0.010 * max(1.0, b / 16)), [1, 2, 4, 8, 16, 32, 64, 128])
    assert judge_batch_sizes(runs).recommended == 16
    jump = {**plateau, 128: 0.060}                        # 128 beats every smaller size by > 10 %
    runs = measured(lambda b: jump.get(b, 0.010 * max(1.0, b / 16)), [1, 2, 4, 8, 16, 32, 64, 128])
    assert judge_batch_sizes(runs).recommended == 128


def test_throughput_that_falls_is_called_noisy():
    times = {1: 0.002, 2: 0.002, 4: 0.008, 8: 0.004}       # 4 took four times as long as 2
    runs = measured(times.get, [1, 2, 4, 8])
    j = judge_batch_sizes(runs)
    assert j.drops == (4,) and j.recommended == 8
    assert "Noisy? The throughput fell by more than 10% at batch size 4" in "\n".join(advise(j, runs))
    assert judge_batch_sizes(measured(lambda b: 0.002, [1, 2, 4, 8])).drops == ()


def test_a_crash_is_not_the_memory_limit():
    runs = measured(lambda b: 0.01, [1, 2, 4], end=CRASH)
    j = judge_batch_sizes(runs)
    assert j.stopped_by == CRASH and j.limit is None and j.feasible_max == 4
    words = "\n".join(advise(j, runs))
    assert "8 crashed (exit code 1) without an out-of-memory message" in words
    assert "ran out of memory" not in words


def test_sigkill_is_reported_as_the_oom_killer_and_a_timeout_as_a_timeout():
    runs = measured(lambda b: 0.01, [1, 2], end=OUT_OF_MEMORY, exit_code=-9)
    assert "killed (SIGKILL, most likely the kernel's OOM killer)" in "\n".join(advise(judge_batch_sizes(runs), runs))
    runs = measured(lambda b: 0.01, [1, 2], end=TIMEOUT, exit_code=-15)
    j = judge_batch_sizes(runs)
    assert j.stopped_by == TIMEOUT and j.limit is None
    assert "4 ran past the timeout" in "\n".join(advise(j, runs))


def test_nothing_fits_means_nothing_to_recommend():
    runs = [BatchSizeRun(1, OUT_OF_MEMORY, exit_code=1)]
    j = judge_batch_sizes(runs)
    assert j.recommended is None and j.feasible_max is None and j.limit == 1
    words = advise(j, runs)
    assert words[0] == "No batch size ran to the end, so there is nothing to recommend."
    assert RETUNE not in words


def test_one_feasible_size_cannot_judge_scaling():
    runs = measured(lambda b: 0.01, [1], end=OUT_OF_MEMORY)
    j = judge_batch_sizes(runs)
    assert j.scaling == "too_few" and j.recommended == 1
    assert "Only one batch size ran" in "\n".join(advise(j, runs))


def test_wall_time_measurements_are_named_in_the_advice():
    note = "no step lines: time per step is the wall time over 20 steps, start-up included (an overestimate)"
    runs = [BatchSizeRun(b, OK, 0.5, WALL_TIME, timing_note=note) for b in (1, 2)]
    words = "\n".join(advise(judge_batch_sizes(runs), runs))
    assert f"Batch size 1, 2: {note}" in words
    assert "--metrics" in words


def test_judgement_is_plain_json():
    runs = measured(lambda b: 0.01, [1, 2, 4], end=OUT_OF_MEMORY)
    data = json.loads(json.dumps(judge_batch_sizes(runs).to_dict()))
    assert data["recommended"] == 4 and data["bottleneck"] is False
    assert [row["batch_size"] for row in data["rows"]] == [1, 2, 4, 8]


@given(st.lists(st.floats(min_value=1e-4, max_value=10.0), min_size=1, max_size=10))
def test_the_recommendation_is_a_feasible_size_at_least_as_fast_as_every_smaller_one(times):
    sizes = [2**k for k in range(len(times))]
    runs = [BatchSizeRun(b, OK, t, STEP_LINES) for b, t in zip(sizes, times)]
    j = judge_batch_sizes(runs)
    chosen = next(r for r in runs if r.batch_size == j.recommended)
    smaller = [r.examples_per_second for r in runs if r.batch_size < j.recommended]
    assert all(chosen.examples_per_second >= 1.1 * s for s in smaller)
    larger = [r for r in runs if r.batch_size > j.recommended]
    assert all(r.examples_per_second < 1.1 * max(x.examples_per_second for x in runs if x.batch_size < r.batch_size)
               for r in larger)


def test_a_nan_min_gain_is_refused():
    with pytest.raises(ValueError, match="min_gain must be > 0, got nan"):
        judge_batch_sizes(measured(lambda b: 0.01, [1, 2]), min_gain=float("nan"))
